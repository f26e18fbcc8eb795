"""RT reads TicketSQL dates in its user's timezone: the connector writes them in the
configured one and refuses to poll when RT would read them differently (real RT 5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rt_server import RtAdmin, connector, require_rt, settle

from empathy_firewall.errors import ConfigError


@pytest.fixture
def tokyo_admin() -> Iterator[RtAdmin]:
    """RT with root's timezone preference set to Asia/Tokyo (UTC+9), reset afterwards."""
    admin = RtAdmin(require_rt())
    admin.ensure_tags_field()
    admin.call("PUT", "/user/root", {"Timezone": "Asia/Tokyo"})
    try:
        yield admin
    finally:
        admin.call("PUT", "/user/root", {"Timezone": ""})


def test_wrong_timezone_stops_the_poll_and_the_right_one_finds_each_ticket_once(
    tokyo_admin: RtAdmin,
) -> None:
    queue = tokyo_admin.new_queue()
    ticket = tokyo_admin.new_ticket(queue, "Where is my parcel?")
    settle()
    with pytest.raises(ConfigError, match="timezone"):
        list(connector(tokyo_admin.url, queue).poll(None))  # UTC literals, read as Tokyo time

    tokyo = connector(tokyo_admin.url, queue, timezone="Asia/Tokyo")
    tokyo.check()
    pages = list(tokyo.poll(None))
    assert [t.source.external_id for p in pages for t in p.tickets] == [ticket]
    assert [t for p in tokyo.poll(pages[-1].bookmark) for t in p.tickets] == []
