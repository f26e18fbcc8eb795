"""Issue 11 item 8: an unreachable base_url fails fast, names the host and the reason, and
is not reported as rate-limit wait."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from empathy_firewall.connectors.http import ConnectError
from empathy_firewall.errors import RetryableError
from empathy_firewall_freshdesk.testing import FakeFreshdesk
from empathy_firewall_zendesk.testing import FakeZendesk


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here now: connections are refused


def _sender_stats(connector: Any) -> dict[str, float]:
    client = getattr(connector, "_client", None) or getattr(connector, "client", None)
    sender = getattr(client, "sender", None)
    assert sender is not None, "the connector exposes its HTTP client"
    stats: dict[str, float] = sender.stats
    return stats


@pytest.mark.parametrize("make", [FakeZendesk, FakeFreshdesk], ids=["zendesk", "freshdesk"])
def test_a_refused_connection_fails_fast_naming_the_host(make: Any) -> None:
    from empathy_firewall_freshdesk import FreshdeskConnector
    from empathy_firewall_zendesk import ZendeskConnector

    fake = make()
    port = _closed_port()
    cls = ZendeskConnector if make is FakeZendesk else FreshdeskConnector
    config = fake.connector_config(base_url=f"http://127.0.0.1:{port}")
    connector = cls.from_config(config, env=fake.env)
    started = time.monotonic()
    with pytest.raises(RetryableError) as caught:
        connector.check()
    elapsed = time.monotonic() - started
    assert elapsed < 8, elapsed
    assert isinstance(caught.value, ConnectError)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "refused" in str(caught.value)
    stats = _sender_stats(connector)
    assert stats["waited"] == 0.0
    assert stats["connect_wait"] > 0
