"""Once means once: replicas, crashes, quiet hours and the per-shift limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channel_support import KEY, NOW, channel_settings, queued_rows, sample_sync, smtp_server

from empathy_firewall.channels import outbox
from empathy_firewall.channels.email import EmailChannel
from empathy_firewall.channels.sender import DigestOutcome, DigestRun
from empathy_firewall.state import StateStore, acquire_lock

LATER = NOW + timedelta(hours=1)
AGENTS = {"agt-01": {"email": "maya@example.com"}}


def _run(store: StateStore, port: int, now: datetime = LATER, **extra: Any) -> list[DigestOutcome]:
    settings = channel_settings(port, agents=AGENTS, **extra)
    return DigestRun(
        store, settings, {"email": EmailChannel.from_settings(settings, {})}, KEY, now=now
    ).run()


def _mine(outcomes: list[DigestOutcome]) -> DigestOutcome:
    """agt-01's outcome; an agent with no work at all is not visited (``nothing``)."""
    found = [o for o in outcomes if o.agent.agent_id == "agt-01"]
    return found[0] if found else DigestOutcome(outbox.AgentRef("", "", "agt-01"), "nothing")


def test_a_replica_holding_the_agent_sends_nothing(store: StateStore, tmp_path: Path) -> None:
    sample_sync(store, tmp_path)
    account = queued_rows(store)[0]["account"]
    held = acquire_lock(store, f"digest:file:{account}:agt-01")
    try:
        with smtp_server() as (port, inbox):
            assert _mine(_run(store, port)).status == "busy"
            assert inbox.messages == []
    finally:
        held.release()
    with smtp_server() as (port, inbox):
        assert _mine(_run(store, port)).status == "sent"
        assert len(inbox.messages) == 1


def test_email_crash_between_send_and_mark_resends_with_the_same_message_id(
    lite: StateStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMTP cannot tell whether a message arrived: the documented at-least-once case."""
    sample_sync(lite, tmp_path)
    real = outbox.mark_sent

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt("killed between send and mark")

    with smtp_server() as (port, inbox):
        monkeypatch.setattr(outbox, "mark_sent", crash)
        with pytest.raises(KeyboardInterrupt):
            _run(lite, port)
        monkeypatch.setattr(outbox, "mark_sent", real)
        again = _mine(_run(lite, port))
        assert again.status == "resent"
        assert _mine(_run(lite, port)).status == "nothing"
    first, second = inbox.to("maya@example.com")
    assert first["Message-ID"] == second["Message-ID"]
    assert first.get_content() == second.get_content()


def test_a_refused_address_releases_the_moments(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path)
    with smtp_server() as (port, _):
        outcome = _mine(
            _run(lite, port + 1 if port < 65535 else port - 1)  # nobody listens there
        )
    assert outcome.status == "not-sent"
    assert "cannot reach the SMTP server" in outcome.detail
    assert outbox.unfinished(lite, outcome.agent) is None
    assert {r["status"] for r in queued_rows(lite) if r["agent_id"] == "agt-01"} == {"queued"}


def test_quiet_hours_and_shift_limit(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path)
    moments = len([r for r in queued_rows(lite) if r["agent_id"] == "agt-01"])
    assert moments > 3, "the sample must give this agent more than one digest's worth"
    night = datetime(2026, 9, 20, 21, 30, tzinfo=UTC)
    digest = {"quiet_hours": "20:00-08:00", "max_per_shift": 1, "max_moments": 3}
    with smtp_server() as (port, inbox):
        assert _mine(_run(lite, port, now=night, digest=digest)).status == "quiet"
        assert inbox.messages == []
        assert _mine(_run(lite, port, digest=digest)).status == "sent"
        # moments are left, but one digest per shift is the limit
        assert _mine(_run(lite, port, now=LATER + timedelta(hours=1), digest=digest)).status == (
            "limit"
        )
        # the next shift, after the quiet hours: the next three moments
        next_shift = datetime(2026, 9, 21, 8, 30, tzinfo=UTC)  # after quiet hours
        assert _mine(_run(lite, port, now=next_shift, digest=digest)).status == "sent"
    first, second = (m.get_content() for m in inbox.to("maya@example.com"))
    assert first.count("\n- ") == 3
    assert second.count("\n- ") == min(3, moments - 3)  # the next ones, at most three
    assert not set(first.splitlines()[4:7]) & set(second.splitlines()[4:7])


def test_stale_moments_are_dropped_not_sent_late(lite: StateStore, tmp_path: Path) -> None:
    sample_sync(lite, tmp_path)
    with smtp_server() as (port, inbox):
        outcome = _mine(_run(lite, port, now=NOW + timedelta(hours=30)))
    assert outcome.status == "nothing"
    assert inbox.messages == []
    assert "agt-01" not in {r["agent_id"] for r in queued_rows(lite)}


def test_an_opt_out_after_a_crash_stops_the_resend(
    store: StateStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathy_firewall.state.agents import set_choices

    sample_sync(store, tmp_path)
    account = queued_rows(store)[0]["account"]

    def crash(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt("killed between send and mark")

    with smtp_server() as (port, inbox):
        with monkeypatch.context() as patched:
            patched.setattr(outbox, "mark_sent", crash)
            with pytest.raises(KeyboardInterrupt):
                _run(store, port)
        agent = outbox.AgentRef("file", account, "agt-01")
        assert outbox.unfinished(store, agent) is not None
        set_choices(store, "file", account, "agt-01", {"recognition": False}, via="link")
        assert outbox.unfinished(store, agent) is None
        assert _mine(_run(store, port)).status == "nothing"
    assert len(inbox.to("maya@example.com")) == 1  # the one before the crash, no resend
    assert "agt-01" not in {r["agent_id"] for r in queued_rows(store)}
