"""One story, three histories: a Zendesk audit list, an RT transaction list and a
Freshdesk ticket read after every step (the core's snapshot derivation) give the same
history events, because all three go through the core's one rule set
(``signals/transitions.py``).

The story: created in billing, unassigned; Ann (5) takes it (a first take: no event);
Ann hands it to Bo (6) in returns while raising the priority (one reassignment that is a
group hop, one priority change); solved; reopened (a status change and a reopen); Bo
drops it (a handoff to nobody); Cy (7) takes it (no event); Cy moves it back to billing
(a group hop, same agent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from empathy_firewall_rt import RtConfig
from empathy_firewall_rt.parse import normalize_ticket as rt_ticket

from empathy_firewall.models import EventType, Priority, TicketEvent, TicketStatus
from empathy_firewall.signals.derived import derive_events
from empathy_firewall_freshdesk.parse import PRIORITY_CODES
from empathy_firewall_freshdesk.parse import ParseContext as FreshdeskContext
from empathy_firewall_freshdesk.parse import normalize_ticket as freshdesk_ticket
from empathy_firewall_zendesk.parse import ParseContext as ZendeskContext
from empathy_firewall_zendesk.parse import parse_audits

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HISTORY = frozenset(
    {
        EventType.REASSIGNED,
        EventType.STATUS_CHANGED,
        EventType.REOPENED,
        EventType.PRIORITY_CHANGED,
    }
)
GROUP_IDS = {"billing": 10, "returns": 20}


@dataclass(frozen=True)
class Step:
    status: TicketStatus
    priority: Priority
    assignee: str | None
    group: str


_O, _S = TicketStatus.OPEN, TicketStatus.SOLVED
_N, _H = Priority.NORMAL, Priority.HIGH
STORY = [
    Step(_O, _N, None, "billing"),
    Step(_O, _N, "5", "billing"),
    Step(_O, _H, "6", "returns"),
    Step(_S, _H, "6", "returns"),
    Step(_O, _H, "6", "returns"),
    Step(_O, _H, None, "returns"),
    Step(_O, _H, "7", "returns"),
    Step(_O, _H, "7", "billing"),
]
EXPECTED = [
    (EventType.REASSIGNED, 2, "5", "6", "billing", "returns", None),
    (EventType.PRIORITY_CHANGED, 2, None, None, None, None, "normal -> high"),
    (EventType.STATUS_CHANGED, 3, None, None, None, None, None),
    (EventType.STATUS_CHANGED, 4, None, None, None, None, None),
    (EventType.REOPENED, 4, None, None, None, None, None),
    (EventType.REASSIGNED, 5, "6", None, "returns", "returns", None),
    (EventType.REASSIGNED, 7, "7", "7", "returns", "billing", None),
]


def at(step: int) -> datetime:
    return T0 + timedelta(hours=step)


def stamp(step: int) -> str:
    return at(step).isoformat().replace("+00:00", "Z")


def history_of(events: tuple[TicketEvent, ...]) -> list[TicketEvent]:
    """The history events, without the actor (a snapshot does not say who)."""
    return [e.model_copy(update={"actor_id": None}) for e in events if e.type in HISTORY]


def summary(events: list[TicketEvent]) -> list[tuple[object, ...]]:
    step = {at(i): i for i in range(len(STORY))}
    return [
        (e.type, step[e.at], e.from_assignee, e.to_assignee, e.from_group, e.to_group, e.detail)
        for e in events
    ]


# -- Zendesk: one audit per step ---------------------------------------------------------


def zendesk_audits() -> list[dict[str, Any]]:
    first = STORY[0]
    values = {
        "status": lambda s: s.status.value,
        "priority": lambda s: s.priority.value,
        "assignee_id": lambda s: int(s.assignee) if s.assignee else None,
        "group_id": lambda s: GROUP_IDS[s.group],
    }
    audits = [
        {
            "id": 1,
            "created_at": stamp(0),
            "author_id": 900,
            "events": [
                {"type": "Create", "field_name": name, "value": value(first)}
                for name, value in values.items()
            ],
        }
    ]
    for i, (before, after) in enumerate(pairwise(STORY), start=1):
        changes = [
            {
                "type": "Change",
                "field_name": name,
                "previous_value": value(before),
                "value": value(after),
            }
            for name, value in values.items()
            if value(before) != value(after)
        ]
        audits.append({"id": i + 1, "created_at": stamp(i), "author_id": 5, "events": changes})
    return audits


def test_zendesk_audits_tell_the_story() -> None:
    ctx = ZendeskContext(groups={str(v): {"id": v, "name": k} for k, v in GROUP_IDS.items()})
    _, events = parse_audits(zendesk_audits(), requester_id="900", ctx=ctx)
    assert summary(history_of(events)) == EXPECTED


# -- RT: one transaction per changed field ----------------------------------------------

RT_USERS = {"1": "Nobody", "105": "5", "106": "6", "107": "7"}
RT_QUEUES = {"1": "billing", "3": "returns"}
RT_STATUS = {TicketStatus.OPEN: "open", TicketStatus.SOLVED: "resolved"}
LEVELS = RtConfig(base_url="http://rt.test").priorities


def _rt_names(kind: str, ident: str) -> str:
    return (RT_USERS if kind == "user" else RT_QUEUES).get(ident, ident)


def rt_history() -> list[dict[str, Any]]:
    user = {v: k for k, v in RT_USERS.items()}
    queue = {v: k for k, v in RT_QUEUES.items()}
    fields: Mapping[str, Any] = {
        "Owner": ("Set", lambda s: user[s.assignee or "Nobody"]),
        "Queue": ("Set", lambda s: queue[s.group]),
        "Status": ("Status", lambda s: RT_STATUS[s.status]),
        "Priority": ("Set", lambda s: str(LEVELS[s.priority])),
    }
    txns: list[dict[str, Any]] = [
        {"id": "1", "Type": "Create", "Created": stamp(0), "Creator": "customer@example.com"}
    ]
    for i, (before, after) in enumerate(pairwise(STORY), start=1):
        for name, (kind, value) in fields.items():  # one transaction per field, same second
            if value(before) != value(after):
                txns.append(
                    {
                        "id": str(len(txns) + 1),
                        "Type": kind,
                        "Field": name,
                        "OldValue": value(before),
                        "NewValue": value(after),
                        "Created": stamp(i),
                        "Creator": {"id": "root", "type": "user"},
                    }
                )
    return txns


def test_rt_transactions_tell_the_story() -> None:
    last = STORY[-1]
    record = {
        "id": 77,
        "Subject": "Refund",
        "Status": RT_STATUS[last.status],
        "Priority": LEVELS[last.priority],
        "Created": stamp(0),
        "LastUpdated": stamp(len(STORY) - 1),
        "Queue": {"id": "1", "Name": last.group},
        "Owner": {"id": last.assignee or "Nobody"},
        "Requestor": [{"id": "customer@example.com"}],
    }
    ticket = rt_ticket(
        record,
        rt_history(),
        [],
        account="rt.test",
        web_url="http://rt.test",
        tags_field="Tags",
        levels=LEVELS,
        names=_rt_names,
    )
    assert summary(history_of(ticket.events)) == EXPECTED


# -- Freshdesk: no history API; a read after every step, derived by the core ----------

FD_STATUS = {TicketStatus.OPEN: 2, TicketStatus.SOLVED: 4}


def test_freshdesk_snapshots_tell_the_story() -> None:
    ctx = FreshdeskContext(groups={str(v): {"id": v, "name": k} for k, v in GROUP_IDS.items()})
    reads = [
        freshdesk_ticket(
            {
                "id": 77,
                "subject": "Refund",
                "description_text": "Where is my refund?",
                "requester_id": 900,
                "created_at": stamp(0),
                "updated_at": stamp(i),
                "status": FD_STATUS[s.status],
                "priority": PRIORITY_CODES[s.priority],
                "responder_id": int(s.assignee) if s.assignee else None,
                "group_id": GROUP_IDS[s.group],
            },
            ctx=ctx,
        )
        for i, s in enumerate(STORY)
    ]
    events: list[TicketEvent] = []
    for before, now in pairwise(reads):
        assignee = before.assignee.id if before.assignee is not None else None
        events += derive_events(
            before.status.value, before.priority.value, assignee, before.group, now
        )
    assert summary(history_of(tuple(events))) == EXPECTED


def test_the_three_histories_are_the_same_events() -> None:
    """Not only the same summary: the same TicketEvent values (actor aside)."""
    ctx = ZendeskContext(groups={str(v): {"id": v, "name": k} for k, v in GROUP_IDS.items()})
    _, zendesk = parse_audits(zendesk_audits(), requester_id="900", ctx=ctx)
    record = {
        "id": 77,
        "Status": "open",
        "Priority": 75,
        "Created": stamp(0),
        "LastUpdated": stamp(7),
        "Queue": {"id": "1", "Name": "billing"},
        "Owner": {"id": "7"},
    }
    rt = rt_ticket(
        record,
        rt_history(),
        [],
        account="rt.test",
        web_url="http://rt.test",
        tags_field="Tags",
        levels=LEVELS,
        names=_rt_names,
    ).events
    assert history_of(zendesk) == history_of(rt)
