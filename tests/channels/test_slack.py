"""The Slack channel through `responses`: Slack's documented answers, 429s, and a crash
between sending and recording that must not send twice."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from channel_support import KEY, NOW, channel_settings, queued_rows, sample_sync
from responses import matchers

from empathy_firewall.channels import outbox
from empathy_firewall.channels.sender import DigestOutcome, DigestRun
from empathy_firewall.channels.settings import ChannelSettings
from empathy_firewall.channels.slack import EVENT_TYPE, SlackChannel
from empathy_firewall.errors import ConfigError
from empathy_firewall.state import StateStore

API = "https://slack.test/api"
LATER = NOW + timedelta(hours=1)
TOKEN = "xoxb-test-token"


#: lines per digest in these tests; the sample gives agt-07 more than this
MOST = 5


def _settings() -> ChannelSettings:
    return channel_settings(
        slack={"base_url": API, "token_env": "SLACK_T"},
        agents={"agt-07": {"slack": "U07"}},
        digest={"quiet_hours": "", "timezone": "UTC", "max_per_shift": 2, "max_moments": MOST},
    )


def _channel(sleeps: list[float] | None = None) -> SlackChannel:
    settings = _settings()
    channel = SlackChannel.from_settings(settings, {"SLACK_T": TOKEN})
    if sleeps is not None:
        channel._sleep = sleeps.append  # the wait, recorded instead of slept
    return channel


def _run(store: StateStore, channel: SlackChannel) -> list[DigestOutcome]:
    run = DigestRun(store, _settings(), {"slack": channel}, KEY, now=LATER)
    return run.run()


def _open_ok(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{API}/conversations.open",
        json={"ok": True, "channel": {"id": "D07"}},
        match=[
            matchers.json_params_matcher({"users": "U07"}),
            matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
        ],
    )


def _posted(rsps: responses.RequestsMock) -> list[dict[str, Any]]:
    return [
        json.loads(c.request.body or b"{}")
        for c in rsps.calls
        if c.request.url == f"{API}/chat.postMessage"
    ]


def test_a_digest_is_one_dm_with_metadata(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path)
    moments = [r for r in queued_rows(lite) if r["agent_id"] == "agt-07"]
    assert len(moments) > MOST, "the sample must give this agent more than one digest's worth"
    with responses.RequestsMock() as rsps:
        _open_ok(rsps)
        rsps.post(f"{API}/chat.postMessage", json={"ok": True, "channel": "D07", "ts": "1.000100"})
        outcomes = _run(lite, _channel())
        posted = _posted(rsps)
    assert [(o.agent.agent_id, o.status) for o in outcomes if o.status == "sent"] == [
        ("agt-07", "sent")
    ]
    assert len(posted) == 1
    message = posted[0]
    assert message["channel"] == "D07"
    assert message["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {"digest_id": message["metadata"]["event_payload"]["digest_id"]},
    }
    text = str(message["text"])
    assert text.count("\n- ") == MOST  # max_moments lines; the rest waits for the next digest
    assert "/agents/opt-out?t=" in text
    statuses = [r["status"] for r in queued_rows(lite) if r["agent_id"] == "agt-07"]
    assert statuses.count("sent") == MOST
    assert statuses.count("queued") == len(statuses) - MOST


def test_429_waits_for_retry_after_then_sends(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path)
    sleeps: list[float] = []
    with responses.RequestsMock() as rsps:
        _open_ok(rsps)
        rsps.post(f"{API}/chat.postMessage", status=429, headers={"Retry-After": "7"})
        rsps.post(f"{API}/chat.postMessage", json={"ok": True, "channel": "D07", "ts": "2.0"})
        outcomes = _run(lite, _channel(sleeps))
        assert len(_posted(rsps)) == 2
    assert sleeps == [7.0]
    assert {o.status for o in outcomes if o.agent.agent_id == "agt-07"} == {"sent"}


def test_a_long_retry_after_leaves_the_moments_queued(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path)
    before = [r["status"] for r in queued_rows(lite)]
    with responses.RequestsMock() as rsps:
        _open_ok(rsps)
        rsps.post(f"{API}/chat.postMessage", status=429, headers={"Retry-After": "3600"})
        outcomes = _run(lite, _channel([]))
    mine = [o for o in outcomes if o.agent.agent_id == "agt-07"]
    assert mine[0].status == "not-sent"
    assert "rate limited" in mine[0].detail
    assert [r["status"] for r in queued_rows(lite)] == before  # released, nothing lost


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        ("invalid_auth", "refused the bot token"),
        ("missing_scope", "refused the bot token"),
        ("user_not_found", "cannot reach this agent"),
    ],
)
def test_slack_errors_are_reported_and_nothing_is_lost(
    lite: StateStore, tmp_path: Path, error: str, fragment: str
) -> None:
    sample_sync(lite, tmp_path)
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/conversations.open", json={"ok": False, "error": error})
        outcomes = _run(lite, _channel([]))
    mine = next(o for o in outcomes if o.agent.agent_id == "agt-07")
    assert mine.status == "not-sent"
    assert fragment in mine.detail
    assert outbox.unfinished(lite, mine.agent) is None
    assert {r["status"] for r in queued_rows(lite) if r["agent_id"] == "agt-07"} == {"queued"}


def _crash_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the first mark_sent fail, as if the process died between send and record."""
    real = outbox.mark_sent
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt("killed between send and mark")
        real(*args, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent", crashing)


def test_crash_between_send_and_mark_is_found_not_sent_twice(
    lite: StateStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample_sync(lite, tmp_path)
    _crash_once(monkeypatch)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _open_ok(rsps)
        rsps.post(f"{API}/chat.postMessage", json={"ok": True, "channel": "D07", "ts": "3.5"})
        with pytest.raises(KeyboardInterrupt):
            _run(lite, _channel())
        first = _posted(rsps)
        assert len(first) == 1
        digest_id = first[0]["metadata"]["event_payload"]["digest_id"]
    # the digest is left `sending`; Slack's history holds the message with its metadata
    assert outbox.unfinished(
        lite, outbox.AgentRef("file", queued_rows(lite)[0]["account"], "agt-07")
    )
    _expire_locks(lite)
    with responses.RequestsMock() as rsps:
        _open_ok(rsps)
        rsps.get(
            f"{API}/conversations.history",
            json={
                "ok": True,
                "messages": [
                    {"type": "message", "ts": "9.0", "text": "hi"},
                    {
                        "type": "message",
                        "ts": "3.5",
                        "metadata": {
                            "event_type": EVENT_TYPE,
                            "event_payload": {"digest_id": digest_id},
                        },
                    },
                ],
                "has_more": False,
            },
            match=[
                matchers.query_param_matcher({"include_all_metadata": "true"}, strict_match=False)
            ],
        )
        outcomes = _run(lite, _channel())
        assert _posted(rsps) == []  # found, not sent again
    mine = next(o for o in outcomes if o.agent.agent_id == "agt-07")
    assert mine.status == "found"
    assert outbox.unfinished(lite, mine.agent) is None


def test_crash_before_slack_got_it_sends_once_more(
    lite: StateStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample_sync(lite, tmp_path)
    _crash_once(monkeypatch)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _open_ok(rsps)
        rsps.post(f"{API}/chat.postMessage", json={"ok": True, "channel": "D07", "ts": "3.5"})
        with pytest.raises(KeyboardInterrupt):
            _run(lite, _channel())
    _expire_locks(lite)
    with responses.RequestsMock() as rsps:
        _open_ok(rsps)
        rsps.get(f"{API}/conversations.history", json={"ok": True, "messages": []})
        rsps.post(f"{API}/chat.postMessage", json={"ok": True, "channel": "D07", "ts": "4.0"})
        outcomes = _run(lite, _channel())
        assert len(_posted(rsps)) == 1
    mine = next(o for o in outcomes if o.agent.agent_id == "agt-07")
    assert mine.status == "resent"


def _expire_locks(store: StateStore) -> None:
    from empathy_firewall.state.schema import locks

    with store.engine.begin() as conn:
        conn.execute(locks.delete())


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SLACK_T"):
        SlackChannel.from_settings(_settings(), {})
