"""Rate limits shared through the state store by every process talking to one account.

A helpdesk's API budget and its ``Retry-After`` belong to the *account*, not to a process:
two webhook workers, a replica and a concurrent ``sync`` spend one budget. Each sender
(:class:`~empathy_firewall.connectors.http.PolicySender`) therefore asks the store before
every request:

* a **hold**: no request before ``not_before`` (set from a 429's ``Retry-After`` or a
  vendor's "remaining 0" header by whichever process saw it);
* a **budget**: a fixed window per budget (``limit`` credits per ``period`` seconds),
  counted in one row and reserved in a transaction, so the processes together stay under
  the limit.

Times are the senders' wall clocks (tests inject a fake clock). Table ``ef_rate_gates``
arrives with schema migration 3.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from empathy_firewall.errors import EmpathyFirewallError
from empathy_firewall.state.rate_tables import metadata, rate_gates
from empathy_firewall.state.sql import upsert
from empathy_firewall.state.store import StateStore

__all__ = ["StoreRateLimits", "metadata", "rate_gates", "share_rate_limits"]


class StoreRateLimits:
    """One account's shared hold and budgets (see the module docstring).

    ``account`` names the account (``zendesk:acme``); budget keys are appended to it.
    """

    #: how long a read of the shared hold is reused (real seconds): one store read per
    #: sender per interval instead of one per vendor request
    HOLD_CACHE_SECONDS = 0.5

    def __init__(self, store: StateStore, account: str) -> None:
        self.store = store
        self.account = account
        self._hold_read: tuple[float, datetime | None] | None = None

    def __repr__(self) -> str:
        return f"StoreRateLimits({self.account!r})"

    def _hold_key(self) -> str:
        return f"{self.account}|hold"

    def hold(self, until: datetime) -> None:
        """Share "send nothing before ``until``" with every process on this account."""
        self._hold_read = None
        key = self._hold_key()
        with self.store.engine.begin() as conn:
            current = conn.execute(
                select(rate_gates.c.not_before).where(rate_gates.c.key == key)
            ).scalar_one_or_none()
            if current is None:
                stmt = upsert(conn, rate_gates, ("key",), ("not_before",))
                conn.execute(stmt, {"key": key, "not_before": until, "used": 0})
            elif current < until:
                conn.execute(
                    rate_gates.update().where(rate_gates.c.key == key).values(not_before=until)
                )

    def wait(
        self, now: datetime, budgets: Sequence[tuple[str, int, float]], cost: int = 1
    ) -> float:
        """Seconds to wait before sending; 0.0 means the credits are reserved now.

        ``budgets`` are ``(name, limit, period seconds)`` the request counts against.
        """
        if not budgets:  # only the shared hold: a (cached) read, no write lock
            cached = self._hold_read
            if cached is not None and time.monotonic() - cached[0] < self.HOLD_CACHE_SECONDS:
                held = cached[1]
            else:
                with self.store.engine.connect() as conn:
                    held = conn.execute(
                        select(rate_gates.c.not_before).where(rate_gates.c.key == self._hold_key())
                    ).scalar_one_or_none()
                self._hold_read = (time.monotonic(), held)
            return float((held - now).total_seconds()) if held is not None and held > now else 0.0
        # BEGIN IMMEDIATE on SQLite: the read-check-write is one writer at a time
        with self.store.engine.execution_options(ef_immediate=True).begin() as conn:
            held = conn.execute(
                select(rate_gates.c.not_before).where(rate_gates.c.key == self._hold_key())
            ).scalar_one_or_none()
            if held is not None and held > now:
                return float((held - now).total_seconds())
            keys = [f"{self.account}|{name}" for name, _, _ in budgets]
            rows = {
                row[0]: (row[1], row[2])
                for row in conn.execute(
                    select(rate_gates.c.key, rate_gates.c.window_start, rate_gates.c.used)
                    .where(rate_gates.c.key.in_(keys))
                    .with_for_update()
                )
            }
            updates: list[tuple[str, datetime, int]] = []
            longest = 0.0
            for key, (_, limit, period) in zip(keys, budgets, strict=True):
                start, used = rows.get(key, (None, 0))
                if start is None or now - start >= timedelta(seconds=period):
                    start, used = now, 0
                take = max(1, min(cost, limit))
                if used + take > limit:
                    longest = max(
                        longest, (start + timedelta(seconds=period) - now).total_seconds()
                    )
                updates.append((key, start, used + take))
            if longest > 0:
                return longest
            for key, start, used in updates:
                stmt = upsert(conn, rate_gates, ("key",), ("window_start", "used"))
                conn.execute(stmt, {"key": key, "window_start": start, "used": used})
        return 0.0


def share_rate_limits(connector: object, store: StateStore, account: str) -> bool:
    """Make ``connector``'s HTTP sender honour the account's shared hold and budgets.

    Returns False for connectors without a :class:`PolicySender` (the file source).
    """
    name = getattr(connector, "name", "connector")
    holders: list[object] = [connector]
    for attribute in ("client", "_client"):
        try:  # a lazily built client may need credentials: without them, nothing to share
            holders.append(getattr(connector, attribute, None))
        except EmpathyFirewallError:
            return False
    for holder in holders:
        sender = getattr(holder, "sender", None)
        if sender is not None and hasattr(sender, "shared"):
            current = sender.shared
            key = f"{name}:{account}"
            if not (
                isinstance(current, StoreRateLimits)
                and current.store is store
                and current.account == key
            ):
                sender.shared = StoreRateLimits(store, key)
            return True
    return False
