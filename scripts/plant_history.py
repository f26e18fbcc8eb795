"""Write a ticket history with planted effects into a state store, to check the report.

Usage (from the repository root)::

    python scripts/plant_history.py --url sqlite:///planted.db --tickets 3000 \\
        --effect group_hop=-0.3 --effect sla_breach=-0.2 --effect reopen=0 --seed 7
    empathy-firewall report --config planted.toml --json   # [state] url = "sqlite:///planted.db"

Effects not given keep the generator's defaults (see empathy_firewall.insights.planted);
``--intervention delay-acknowledgement=0.1`` plants an intervention's effect by rule id.
The history ends at ``--now`` (default: now) and spans ``--days`` (default 28).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from empathy_firewall.insights.planted import (
    DEFAULT_EFFECTS,
    DEFAULT_INTERVENTION_EFFECTS,
    plant,
)
from empathy_firewall.insights.tables import DISRUPTIONS
from empathy_firewall.state import StateStore


def _pairs(values: list[str], known: set[str] | None, what: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep:
            raise SystemExit(f"--{what} expects NAME=NUMBER, got {value!r}")
        if known is not None and name not in known:
            raise SystemExit(f"--{what}: unknown kind {name!r} (one of {', '.join(sorted(known))})")
        try:
            out[name] = float(number)
        except ValueError:
            raise SystemExit(f"--{what}: {number!r} is not a number") from None
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, help="state store URL (sqlite:///... or postgresql+psycopg://...)"
    )
    parser.add_argument("--schema", help="PostgreSQL schema")
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=float, default=28.0)
    parser.add_argument("--now", help="ISO 8601 end of the history (default: now)")
    parser.add_argument("--prefix", default="planted", help="ticket key prefix")
    parser.add_argument("--effect", action="append", default=[], metavar="KIND=NUMBER")
    parser.add_argument("--intervention", action="append", default=[], metavar="RULE=NUMBER")
    args = parser.parse_args()
    effects = {**DEFAULT_EFFECTS, **_pairs(args.effect, set(DISRUPTIONS), "effect")}
    helped = {**DEFAULT_INTERVENTION_EFFECTS, **_pairs(args.intervention, None, "intervention")}
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    if now.tzinfo is None:
        raise SystemExit("--now needs a time zone, e.g. 2026-11-30T00:00:00+00:00")
    with StateStore(args.url, schema=args.schema) as store:
        planted = plant(
            store.engine,
            tickets=args.tickets,
            effects=effects,
            interventions=helped,
            seed=args.seed,
            now=now,
            days=args.days,
            prefix=args.prefix,
        )
    print(f"planted {planted.tickets} tickets, {planted.rows} timeline rows; effects: {effects}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
