"""The pure parts: opt-in merge, signed links, digest text, quiet hours and limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.actions import AgentPrompt, InternalNote, Plan, PlannedAction, RuleMatch
from empathy_firewall.channels.base import Moment
from empathy_firewall.channels.digest import (
    digest_id,
    in_quiet_hours,
    one_line,
    render,
    shift_allows,
)
from empathy_firewall.channels.links import OptOutToken, sign, verify
from empathy_firewall.channels.queue import hold_prompts
from empathy_firewall.channels.settings import DigestSettings, parse_channel_settings
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import Agent, AgentOptIns, SourceRef
from empathy_firewall.optins import FEATURES, merge_opt_ins

NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
KEY = b"k" * 32

choices = st.dictionaries(st.sampled_from(FEATURES), st.booleans())
opt_ins = st.builds(
    AgentOptIns,
    strain_tracking=st.booleans(),
    break_prompts=st.booleans(),
    recognition=st.booleans(),
)


@given(opt_ins, choices)
def test_a_stored_choice_always_wins(delivered: AgentOptIns, stored: dict[str, bool]) -> None:
    merged = merge_opt_ins(delivered, stored)
    fields = {"strain": "strain_tracking", "breaks": "break_prompts", "recognition": "recognition"}
    for feature, field in fields.items():
        expected = stored.get(feature, getattr(delivered, field))
        assert getattr(merged, field) is expected


tokens = st.builds(
    OptOutToken,
    connector=st.text(min_size=1, max_size=20),
    account=st.text(max_size=40),
    agent_id=st.text(min_size=1, max_size=30),
    features=st.just(FEATURES),
    expires=st.integers(1, 10**6).map(lambda s: NOW.replace(microsecond=0) + timedelta(seconds=s)),
)


@given(tokens)
def test_a_signed_link_verifies_to_itself(token: OptOutToken) -> None:
    assert verify(sign(token, KEY), KEY, NOW) == token


@given(tokens, st.integers(0, 200), st.characters(codec="ascii"))
def test_no_change_to_a_link_opts_out_anyone_else(token: OptOutToken, at: int, char: str) -> None:
    text = sign(token, KEY)
    position = at % len(text)
    changed = text[:position] + char + text[position + 1 :]
    if changed == text:
        return
    try:
        result = verify(changed, KEY, NOW)
    except InputError:
        return
    # only a change base64 decoding ignores (trailing padding bits) can still verify, and
    # then it names the very same token: a change never yields another agent or feature
    assert result == token


@given(st.text(max_size=3000))
def test_garbage_is_refused_with_an_input_error(text: str) -> None:
    with pytest.raises(InputError):
        verify(text, KEY, NOW)


def test_links_expire_and_need_the_key() -> None:
    token = OptOutToken("zendesk", "acme", "5", FEATURES, NOW + timedelta(days=1))
    text = sign(token, KEY)
    with pytest.raises(InputError, match="expired"):
        verify(text, KEY, NOW + timedelta(days=2))
    with pytest.raises(InputError, match="not valid"):
        verify(text, b"another key of enough length!!", NOW)


@given(st.text(max_size=2000))
def test_one_line_is_one_bounded_line(body: str) -> None:
    line = one_line(body)
    assert "\n" not in line
    assert "\r" not in line
    assert len(line) <= 300


@pytest.mark.parametrize(
    ("hours", "local", "quiet"),
    [
        ("20:00-08:00", "21:30", True),
        ("20:00-08:00", "07:59", True),
        ("20:00-08:00", "08:00", False),
        ("20:00-08:00", "12:00", False),
        ("12:00-13:00", "12:30", True),
        ("12:00-13:00", "13:00", False),
        ("", "03:00", False),
    ],
)
def test_quiet_hours_wrap_midnight(hours: str, local: str, quiet: bool) -> None:
    settings = DigestSettings(quiet_hours=hours, timezone="Europe/Berlin")
    h, m = map(int, local.split(":"))
    # 2026-09-20 is summer time in Berlin: local = UTC + 2
    at = datetime(2026, 9, 20, h, m, tzinfo=UTC) - timedelta(hours=2)
    assert in_quiet_hours(at, settings) is quiet


def test_shift_limit_counts_only_the_last_shift() -> None:
    settings = DigestSettings(max_per_shift=2, shift_hours=8)
    assert shift_allows([NOW - timedelta(hours=9), NOW - timedelta(hours=1)], NOW, settings)
    assert not shift_allows([NOW - timedelta(hours=2), NOW - timedelta(hours=1)], NOW, settings)


def test_digest_text_says_why_and_carries_only_the_prompt() -> None:
    moments = [
        Moment(
            2,
            "41",
            None,
            NOW,
            "recognition",
            ("positive-moment-recognition",),
            'Sam, a customer thanked you:\n- "Thanks!"\nOnly you see this.',
        ),
        Moment(
            1,
            "40",
            None,
            NOW - timedelta(hours=1),
            "breaks",
            ("agent-care-break",),
            "Take ten minutes.",
        ),
    ]
    subject, text = render(
        moments, name="Sam", opt_out_url="https://x/agents/opt-out?t=a.b", timezone="UTC"
    )
    assert subject == "2 moments for you from the empathy firewall"
    lines = text.splitlines()
    assert (
        lines[4]
        == '- 12:00 · ticket 41: Sam, a customer thanked you: - "Thanks!" Only you see this.'
    )
    assert lines[5] == "- 11:00 · ticket 40: Take ten minutes."
    assert "you opted in to break prompts and recognition of good moments" in text
    assert "(rules: agent-care-break, positive-moment-recognition)" in text
    assert text.rstrip().endswith("https://x/agents/opt-out?t=a.b")


def test_digest_ids_are_stable_and_order_free() -> None:
    assert digest_id("z", "a", "5", [3, 1, 2]) == digest_id("z", "a", "5", [1, 2, 3])
    assert digest_id("z", "a", "5", [1, 2]) != digest_id("z", "a", "6", [1, 2])


def _match(rule: str) -> RuleMatch:
    return RuleMatch(rule_id=rule, pack="empathy")


def test_hold_prompts_keeps_the_rest_of_the_plan() -> None:
    ref = SourceRef(connector="zendesk", external_id="7", account="acme")
    plan = Plan(
        ticket=ref,
        evaluated_at=NOW,
        actions=(
            PlannedAction(action=InternalNote(body="note"), because=(_match("r1"),), key="k1"),
            PlannedAction(
                action=AgentPrompt(agent_id="5", body="Breathe"),
                because=(_match("agent-care-break"),),
                key="k2",
            ),
        ),
    )
    only_prompt = plan.model_copy(
        update={"actions": plan.actions[1:], "ticket": ref.model_copy(update={"external_id": "8"})}
    )
    agent = Agent(id="5", email="sam@example.com")
    kept, held = hold_prompts(
        [plan, only_prompt],
        connector="zendesk",
        account="acme",
        assignees={plan.ticket.key: agent},
        rules=None,
    )
    assert [p.ticket.external_id for p in kept] == ["7"]
    assert [a.action.kind for a in kept[0].actions] == ["internal_note"]
    assert [(h.ticket_id, h.email, h.feature, h.body) for h in held] == [
        ("7", "sam@example.com", "breaks", "Breathe"),
        ("8", None, "breaks", "Breathe"),
    ]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"digest": {"quiet_hours": "25:00-08:00"}}, "channels.digest.quiet_hours"),
        ({"digest": {"timezone": "Mars/Olympus"}}, "channels.digest.timezone"),
        ({"digest": {"max_per_shift": 0}}, "channels.digest.max_per_shift"),
        ({"emial": {}}, "channels.emial"),
    ],
)
def test_bad_channel_settings_name_the_key(raw: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        parse_channel_settings(raw, "firewall.toml")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sam@example.com", "sam@example.com"),
        (" sam@example.com ", "sam@example.com"),
        ("sam", None),
        ("a@b.c, eve@evil.example", None),
        ("sam@example.com\r\nBcc: eve@evil.example", None),
        ("Sam <sam@example.com>", None),
        (None, None),
    ],
)
def test_email_addresses_are_plain_or_nothing(given: str | None, expected: str | None) -> None:
    from empathy_firewall.channels.base import Recipient
    from empathy_firewall.channels.email import EmailChannel

    settings = parse_channel_settings(
        {"email": {"host": "127.0.0.1", "sender": "care@example.com", "security": "none"}}, "t"
    )
    channel = EmailChannel.from_settings(settings, {})
    assert channel.address(Recipient("z", "a", "5", email=given)) == expected
