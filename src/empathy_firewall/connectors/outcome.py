"""The outcome bookkeeping of one plan while it is applied, the same for every connector."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from empathy_firewall.connectors.base import ActionOutcome, ApplyResult
from empathy_firewall.models import SourceRef

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """Keys applied, found already applied, and skipped with a reason, for one plan.

    A key is settled once: :meth:`skip` leaves keys already applied, already present or
    skipped alone, and :meth:`result` drops from ``already`` what was applied now.
    """

    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    skipped: list[ActionOutcome] = field(default_factory=list)

    @property
    def settled(self) -> set[str]:
        """Every key with an outcome so far."""
        return {*self.applied, *self.already, *(o.key for o in self.skipped)}

    def skip(self, keys: Iterable[str], reason: str) -> None:
        """Skip the keys not settled yet, with ``reason``."""
        settled = self.settled
        self.skipped.extend(ActionOutcome(k, reason) for k in keys if k not in settled)

    def result(self, ticket: SourceRef) -> ApplyResult:
        """The :class:`ApplyResult` of the plan (each key once, in order)."""
        applied = tuple(dict.fromkeys(self.applied))
        return ApplyResult(
            ticket=ticket,
            applied=applied,
            already=tuple(k for k in dict.fromkeys(self.already) if k not in applied),
            skipped=tuple(self.skipped),
        )
