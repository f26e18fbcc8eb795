"""A fake clock for retry and rate-limit tests: sleeping advances time instantly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """Implements :class:`empathy_firewall.connectors.http.Clock` without real waiting.

    ``now()`` starts at 0; ``wall()`` starts at ``start`` and moves with it. Every sleep is
    recorded in ``sleeps``.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        """Seconds since the clock was made."""
        return self._elapsed

    def sleep(self, seconds: float) -> None:
        """Advance time by ``seconds`` (negative values are ignored)."""
        if seconds > 0:
            self.sleeps.append(seconds)
            self._elapsed += seconds

    def advance(self, seconds: float) -> None:
        """Let time pass without recording a sleep (time spent elsewhere)."""
        self._elapsed += max(0.0, seconds)

    def wall(self) -> datetime:
        """The simulated wall-clock time."""
        return self._start + timedelta(seconds=self._elapsed)
