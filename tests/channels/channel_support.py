"""A real SMTP server (aiosmtpd) on a free loopback port, and a sample sync that queues
agent prompts in a store."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ci_support import dev_import
from sqlalchemy import select

from empathy_firewall.channels.settings import ChannelSettings, parse_channel_settings
from empathy_firewall.connectors.registry import create
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import prompts
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.summary import SyncSummary

__all__ = [
    "ENGINE",
    "KEY",
    "NOW",
    "SAMPLE",
    "Inbox",
    "channel_settings",
    "queued_rows",
    "sample_sync",
    "smtp_server",
]

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_helpdesk.jsonl"
ENGINE = Engine(load_rule_packs(None))
#: the evaluation time of the sample (as in examples/sync-file.toml)
NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
KEY = b"test-link-key-0123456789abcdef"


def free_port() -> int:
    """A port nobody listens on at this moment (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Inbox:
    """What the SMTP server received, in arrival order."""

    messages: list[tuple[str, tuple[str, ...], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address``."""
        return [m for _, rcpts, m in self.messages if address in rcpts]


@contextmanager
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, stopped afterwards.

    aiosmtpd is a dev dependency, so the server always runs; if it is missing, the test
    skips outside CI and fails under CI (:func:`ci_support.dev_import`).
    """
    controller_module = dev_import("aiosmtpd.controller", "the digest tests' SMTP server")
    inbox = Inbox()
    port = free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def channel_settings(port: int | None = None, **extra: Any) -> ChannelSettings:
    """``[channels]`` for the tests: e-mail through the local server, UTC, no quiet hours."""
    raw: dict[str, Any] = {
        "public_url": "http://127.0.0.1:8080",
        "order": ["slack", "email"],
        "digest": {"quiet_hours": "", "timezone": "UTC", "max_per_shift": 2},
    }
    if port is not None:
        raw["email"] = {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "Empathy Firewall <care@example.com>",
            "timeout_seconds": 10,
        }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return parse_channel_settings(raw, "test")


def sample_sync(
    store: StateStore, folder: Path, *, now: datetime = NOW, count: int | None = None
) -> SyncSummary:
    """Sync the sample file (the built-in ``file`` source) into ``store``."""
    connector = create(
        "file", {"path": str(SAMPLE), "output": str(folder / "plans.jsonl"), "page_size": 50}
    )
    options = SyncOptions(now=now, max_tickets=count)
    return SyncJob(store, connector, ENGINE, options=options).run()


def queued_rows(store: StateStore) -> list[dict[str, Any]]:
    """Every outbox row, in id order."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(prompts).order_by(prompts.c.id)).mappings().all()
    return [dict(r) for r in rows]
