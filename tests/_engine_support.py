"""Shared helpers for the engine, signal and golden tests: a stub text analyzer, tickets
built from a few keywords, and rule packs written to a temporary directory.

The stub makes signal and merge tests independent of the fitted sentiment scorer: a text
is analysed exactly as the test says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.registry import Registry
from empathy_firewall.engine.rules import RuleSet
from empathy_firewall.models import Comment, Customer, Role, SourceRef, Ticket
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.cues import detect_cues
from empathy_firewall.signals.history import EMPTY_HISTORY, History
from empathy_firewall.signals.text import CommentCache, TextSignals

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


class StubAnalyzer:
    """Returns fixed signals per text: ``{text: (sentiment, frustration)}``; cues are the
    real cue detector's (pure regexes, independent of the scorer); unknown texts are neutral."""

    def __init__(self, scores: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.scores = dict(scores or {})

    def analyze(self, text: str) -> TextSignals:
        sentiment, frustration = self.scores.get(text, (0.0, 0.0))
        return TextSignals(sentiment, frustration, detect_cues(text))


def stub_context(
    scores: Mapping[str, tuple[float, float]] | None = None,
    *,
    now: datetime = NOW,
    settings: FirewallSettings | None = None,
    history: History = EMPTY_HISTORY,
) -> EvaluationContext:
    """An evaluation context whose texts are analysed by a :class:`StubAnalyzer`."""
    return EvaluationContext(
        now=now,
        settings=settings or FirewallSettings(),
        history=history,
        texts=CommentCache(StubAnalyzer(scores)),
    )


def comment(
    cid: str,
    minutes_ago: float,
    text: str = "Hello",
    *,
    role: Role = Role.CUSTOMER,
    public: bool = True,
    author: str | None = None,
    now: datetime = NOW,
) -> Comment:
    """A comment ``minutes_ago`` before ``now``."""
    return Comment(
        id=cid,
        author_role=role,
        author_id=author,
        public=public,
        created_at=now - timedelta(minutes=minutes_ago),
        text=text,
    )


def ticket(
    comments: Sequence[Comment] = (),
    *,
    external_id: str = "1",
    requester: str | Customer = "c1",
    now: datetime = NOW,
    **fields: Any,
) -> Ticket:
    """A ticket created a day before ``now``; ``fields`` override any Ticket field."""
    data: dict[str, Any] = {
        "source": SourceRef(connector="test", external_id=external_id),
        "created_at": now - timedelta(days=1),
        "updated_at": now - timedelta(minutes=5),
        "requester": (
            requester
            if isinstance(requester, Customer)
            else Customer(id=requester, name="Dana Whitfield")
        ),
        "comments": tuple(comments),
    }
    data.update(fields)
    return Ticket(**data)


def write_pack(directory: Path, text: str, name: str = "pack.yaml") -> Path:
    """Write a rule pack file and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_pack(
    directory: Path, text: str, *, registry: Registry | None = None, name: str = "pack.yaml"
) -> RuleSet:
    """Write and load one pack (with the registry's Python rules)."""
    return load_rule_packs([write_pack(directory, text, name)], registry=registry)
