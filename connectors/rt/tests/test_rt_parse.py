"""Pure parts of the RT connector: normalization from a recorded REST 2 history, TicketSQL,
bookmarks, priority levels, the tag merge and rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from empathy_firewall_rt import RtConfig, RtConnector
from empathy_firewall_rt.apply import merge_tags, ticket_change
from empathy_firewall_rt.parse import normalize_ticket, priority_level
from empathy_firewall_rt.poll import encode, start_position, ticket_query
from hypothesis import given, settings
from hypothesis import strategies as st

from empathy_firewall.actions import (
    AddTags,
    InternalNote,
    Plan,
    PlannedAction,
    PublicReply,
    RemoveTags,
    RuleMatch,
    SetPriority,
)
from empathy_firewall.connectors import Bookmark, HttpRequest, HttpResponse, markers_in
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import EventType, Priority, Role, SourceRef, TicketStatus

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "ticket_history.json").read_text())
LEVELS = RtConfig(base_url="http://rt.test").priorities
MATCH = RuleMatch(rule_id="r.one", pack="p")


def names(kind: str, ident: str) -> str:
    return str(FIXTURE["names"].get(f"{kind}:{ident}", ident))


def normalize(history: list[dict[str, Any]] | None = None) -> Any:
    return normalize_ticket(
        FIXTURE["record"],
        FIXTURE["history"] if history is None else history,
        FIXTURE["attachments"],
        account="rt.test",
        web_url="http://rt.test",
        tags_field="Tags",
        levels=LEVELS,
        names=names,
    )


def test_recorded_ticket_normalizes_messages_events_tags_and_priority() -> None:
    ticket = normalize()
    assert ticket.source.external_id == "1"
    assert ticket.status is TicketStatus.OPEN
    assert ticket.priority is Priority.NORMAL  # RT priority 50
    assert ticket.group == "Support"
    assert ticket.assignee is not None
    assert ticket.assignee.id == "root"
    assert ticket.tags == ("hardware", "ef_x")
    assert ticket.requester.email == "alice@example.com"
    # the request (Create) and the internal comment; autoreply email records are ignored
    assert [(c.author_role, c.public) for c in ticket.comments] == [
        (Role.CUSTOMER, True),
        (Role.AGENT, False),
    ]
    assert "fire" in ticket.comments[0].text
    assert markers_in(ticket.comments[1].text) == {"abc"}
    kinds = [e.type for e in ticket.events]
    # Nobody -> root is a first take, not a reassignment; General -> Support is a group hop
    # (root keeps it); resolved and reopened in the same second are two steps, and the
    # reopen is also a status change (the core's one rule set)
    assert kinds == [
        EventType.CREATED,
        EventType.REASSIGNED,
        EventType.STATUS_CHANGED,
        EventType.PRIORITY_CHANGED,
        EventType.STATUS_CHANGED,
        EventType.REOPENED,
    ]
    hop = ticket.events[1]
    assert (hop.from_group, hop.to_group) == ("General", "Support")
    assert (hop.from_assignee, hop.to_assignee) == ("root", "root")
    assert ticket.events[3].detail == "low -> normal"  # RT priority 0 -> 50
    reopen = ticket.events[5]
    assert (reopen.from_status, reopen.to_status) == (TicketStatus.SOLVED, TicketStatus.OPEN)


def test_owner_change_between_agents_is_a_reassignment() -> None:
    give = {
        "id": "90",
        "Type": "Set",
        "Field": "Owner",
        "OldValue": "14",
        "NewValue": "15",
        "Created": "2026-12-07T13:00:00Z",
        "Creator": {"id": "root", "type": "user"},
    }
    ticket = normalize([*FIXTURE["history"], give])
    moved = [e for e in ticket.events if e.from_assignee != e.to_assignee]
    assert [(e.from_assignee, e.to_assignee) for e in moved] == [("root", "15")]


def test_correspondence_by_a_requestor_is_the_customer_and_by_others_an_agent() -> None:
    base = {"Type": "Correspond", "Created": "2026-12-07T13:00:00Z", "Field": ""}
    history = [
        {**base, "id": "91", "Creator": {"id": "alice@example.com"}},
        {**base, "id": "92", "Creator": {"id": "root"}},
    ]
    roles = {c.id: c.author_role for c in normalize(history).comments}
    assert roles == {"91": Role.CUSTOMER, "92": Role.AGENT}


def test_ticketsql_keyset_window_and_queue_filter() -> None:
    since = datetime(2026, 12, 7, 12, 0, 5, tzinfo=UTC)
    until = datetime(2026, 12, 7, 13, 0, 0, tzinfo=UTC)
    first = ticket_query(("Support", "O'Neil"), (since, None), until, ZoneInfo("UTC"))
    assert first == (
        "(Queue = 'Support' OR Queue = 'O\\'Neil') AND LastUpdated >= '2026-12-07 12:00:05'"
        " AND LastUpdated < '2026-12-07 13:00:00'"
    )
    resumed = ticket_query((), (since, 41), until, ZoneInfo("UTC"))
    assert resumed == (
        "(LastUpdated >= '2026-12-07 12:00:06' OR (LastUpdated >= '2026-12-07 12:00:05'"
        " AND LastUpdated < '2026-12-07 12:00:06' AND id > 41))"
        " AND LastUpdated < '2026-12-07 13:00:00'"
    )
    # RT reads literals as wall-clock times in its (or the user's) timezone
    tokyo = ticket_query((), (since, None), until, ZoneInfo("Asia/Tokyo"))
    assert tokyo.startswith("LastUpdated >= '2026-12-07 21:00:05'")


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.none() | st.integers(min_value=1, max_value=10**9),
)
def test_bookmark_round_trips(moment: datetime, after: int | None) -> None:
    position = (moment.replace(tzinfo=UTC, microsecond=0), after)
    decoded = start_position(Bookmark(encode(position).value), datetime.now(UTC))
    assert decoded == position


def test_bookmark_from_a_backfill_and_a_broken_bookmark() -> None:
    start = start_position(Bookmark.of({"start_time": 0}), datetime.now(UTC))
    assert start == (datetime(1970, 1, 1, tzinfo=UTC), None)
    with pytest.raises(InputError):
        start_position(Bookmark.of({"since": "yesterday"}), datetime.now(UTC))


@given(st.integers(min_value=-1000, max_value=1000))
def test_priority_level_is_monotonic_and_round_trips(number: int) -> None:
    level = priority_level(number, LEVELS)
    assert priority_level(number + 1, LEVELS).rank >= level.rank
    assert priority_level(LEVELS[level], LEVELS) is level


tag = st.text(alphabet="abcdef_", min_size=1, max_size=4)


@given(st.lists(tag), st.lists(tag), st.lists(tag))
def test_tag_merge_keeps_others_adds_ours_and_is_idempotent(
    current: list[str], add: list[str], remove: list[str]
) -> None:
    merged = merge_tags(current, add, remove)
    assert len(merged) == len(set(merged))
    assert set(merged) == (set(current) | set(add)) - set(remove)
    assert merge_tags(merged, add, remove) == merged


def planned(action: Any, key: str) -> PlannedAction:
    return PlannedAction(action=action, because=(MATCH,), key=key)


def test_plan_becomes_a_read_a_put_and_one_internal_comment() -> None:
    ref = SourceRef(connector="rt", external_id="7", account="rt.test")
    plan = Plan(
        ticket=ref,
        evaluated_at=datetime.now(UTC),
        actions=(
            planned(AddTags(tags=("ef_a",)), "k1"),
            planned(RemoveTags(tags=("ef_b",)), "k2"),
            planned(SetPriority(priority=Priority.HIGH), "k3"),
            planned(InternalNote(body="first"), "k4"),
            planned(InternalNote(body="second"), "k5"),
            planned(PublicReply(body="hello"), "k6"),
        ),
    )
    change = ticket_change(plan)
    assert change.priority is Priority.HIGH
    assert [o.key for o in change.unsupported] == ["k6"]
    reads: list[str] = []

    def rt(request: HttpRequest) -> HttpResponse:  # an RT that only answers reads
        assert request.method == "GET", "the dry run must not send a write"
        reads.append(request.path)
        record = {
            "id": 7,
            "Priority": 0,
            "CustomFields": [{"name": "Tags", "values": ["x", "ef_b"]}],
        }
        return HttpResponse(200, body=json.dumps(record).encode())

    connector = RtConnector.from_config(
        {"base_url": "http://rt.test"}, transport=rt, env={"RT_USER": "u", "RT_PASSWORD": "p"}
    )
    requests = connector.render([plan])
    assert reads == ["/REST/2.0/ticket/7"]
    assert [(r.method, r.path) for r in requests] == [
        ("PUT", "/REST/2.0/ticket/7"),
        ("POST", "/REST/2.0/ticket/7/comment"),
    ]
    assert requests[0].json_body == {"CustomFields": {"Tags": ["x", "ef_a"]}, "Priority": 75}
    content = requests[1].json_body["Content"]
    assert markers_in(content) == {"k4", "k5"}
    assert all(not r.headers for r in requests)


def test_config_refuses_secrets_in_the_file_and_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="password_env"):
        RtConnector.from_config({"base_url": "http://rt.test", "password": "x"})
    with pytest.raises(ConfigError, match="base_url"):
        RtConnector.from_config({})
    with pytest.raises(ConfigError, match="timezone"):
        RtConnector.from_config({"base_url": "http://rt.test", "timezone": "Mars/Olympus"})


def test_missing_credentials_name_the_variable_not_a_value() -> None:
    connector = RtConnector.from_config({"base_url": "http://rt.test"}, env={"RT_USER": "root"})
    with pytest.raises(ConfigError, match="RT_PASSWORD"):
        connector.check()


def test_shipped_example_config_builds_the_connector() -> None:
    from empathy_firewall.connectors import create
    from empathy_firewall.sync.settings import load_sync_config

    example = Path(__file__).parents[3] / "examples" / "sync-rt.toml"
    config = load_sync_config(example)
    made = create(config.connector_name, config.connector)
    assert isinstance(made, RtConnector)
    assert made.config.api == "http://127.0.0.1:8080/REST/2.0"


ids = st.one_of(st.just(""), st.from_regex(r"[0-9]{1,3}", fullmatch=True), st.text(max_size=8))
transaction = st.fixed_dictionaries(
    {
        "id": ids,
        "Type": st.sampled_from(
            ["Create", "Correspond", "Comment", "Set", "Status", "EmailRecord", "CustomField"]
        ),
        "Field": st.sampled_from(["", "Queue", "Owner", "Status", "Priority"]),
        "OldValue": st.one_of(st.none(), ids, st.sampled_from(["new", "resolved", "open"])),
        "NewValue": st.one_of(st.none(), ids, st.sampled_from(["open", "rejected", "stalled"])),
        "Created": st.one_of(
            st.just("2026-12-07T12:00:00Z"), st.text(max_size=12), st.none(), st.integers()
        ),
        "Creator": st.one_of(st.none(), st.fixed_dictionaries({"id": ids}), ids),
    }
)


@settings(max_examples=60)
@given(st.lists(transaction, max_size=10, unique_by=lambda t: str(t["id"])))
def test_any_history_normalizes_with_events_in_order(history: list[dict[str, Any]]) -> None:
    """Whatever the history holds, the ticket normalizes (entries it cannot read are left
    out) and internal comments stay internal."""
    ticket = normalize(history)
    assert [e.at for e in ticket.events] == sorted(e.at for e in ticket.events)
    internal = {str(h["id"]) for h in history if h["Type"] == "Comment"}
    assert all(not c.public for c in ticket.comments if c.id in internal)
