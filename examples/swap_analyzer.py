"""Compare the default text analyzer with plain TextBlob polarity, and evaluate with either.

Run from the repository root::

    python examples/swap_analyzer.py

The default analyzer (``analyze_text``) is the fitted support-domain scorer. Any object
with ``score(text) -> float`` in [-1, 1] can replace its polarity part: wrap it in a
``LexiconTextAnalyzer`` (which adds the cue lexicon and derives frustration) and hand it to
the engine through a ``CommentCache`` in the ``EvaluationContext``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from empathy_firewall import (
    Comment,
    Customer,
    EvaluationContext,
    Role,
    SourceRef,
    Ticket,
    analyze_text,
    evaluate,
)
from empathy_firewall.signals.sentiment import TextBlobAnalyzer
from empathy_firewall.signals.text import CommentCache, LexiconTextAnalyzer

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TEXTS = (
    "My parcel never arrived and I was charged twice.",
    "Great, another week without my order. Fantastic service.",
    "Thank you so much, that fixed it!",
)


def main() -> None:
    textblob = LexiconTextAnalyzer(TextBlobAnalyzer())
    print(f"{'default':>8} {'textblob':>8}  text")
    for text in TEXTS:
        default, plain = analyze_text(text), textblob.analyze(text)
        print(f"{default.sentiment:+8.2f} {plain.sentiment:+8.2f}  {text}")

    ticket = Ticket(
        source=SourceRef(connector="example", external_id="7"),
        created_at=NOW - timedelta(hours=3),
        updated_at=NOW - timedelta(hours=3),
        requester=Customer(id="c-7"),
        comments=(
            Comment(
                id="1",
                author_role=Role.CUSTOMER,
                created_at=NOW - timedelta(hours=3),
                text=TEXTS[0],
            ),
        ),
    )
    for name, context in (
        ("default", EvaluationContext(now=NOW)),
        ("textblob", EvaluationContext(now=NOW, texts=CommentCache(textblob))),
    ):
        plan = evaluate(ticket, context)
        tags = [tag for p in plan.of_kind("add_tags") for tag in getattr(p.action, "tags", ())]
        print(f"with the {name} analyzer the plan adds tags: {tags or 'none'}")


if __name__ == "__main__":
    main()
