"""Benchmark: time to poll 10,000 changed tickets from the fake Freshdesk at 200 credits/min.

Run: ``python benchmarks/freshdesk_poll.py`` (needs empathy-firewall-freshdesk installed).

The fake enforces a Growth plan: 200 credits per rolling minute account-wide, 20 calls
per minute on the ticket list, includes priced at 2 credits each on the list; it answers
429 with ``Retry-After`` beyond that. Time is the fake clock's (the connector sleeps on
it), so the figure is what a real run would wait, not CPU time.

The lower bound the budget sets: the credits the poll cannot avoid (one list call per 100
tickets with ``include=stats,requester,description`` = 7 credits, one conversations call
per changed ticket, one agents and one groups call), sent at 200 per minute from a fresh
window: the last credit cannot leave before ``floor((credits - 1) / 200)`` minutes. The
list sub-limit gives its own bound (``floor((lists - 1) / 20)`` minutes); the larger wins.
Target: at most 1.15 x that bound, with no 429 and nothing sent before a Retry-After.
"""

from __future__ import annotations

import math
import sys
import time

from empathy_firewall.connectors import load
from empathy_firewall_freshdesk.testing import FakeFreshdesk

#: through the registry, as the CLI finds it (needs empathy-firewall-freshdesk installed)
FreshdeskConnector = load("freshdesk")

TICKETS = 10_000
PER_MINUTE = 200
LIST_PER_MINUTE = 20
SPACING_SECONDS = 6  # tickets changed over the last ~17 hours
INCLUDES = ("stats", "requester", "description")  # the connector's default


def lower_bound_seconds(list_cost: int) -> tuple[float, int]:
    lists = math.ceil(TICKETS / 100)
    credits = lists * list_cost + TICKETS + 2
    by_credits = math.floor((credits - 1) / PER_MINUTE) * 60.0
    by_lists = math.floor((lists - 1) / LIST_PER_MINUTE) * 60.0
    return max(by_credits, by_lists), credits


def main() -> int:
    fake = FakeFreshdesk(requests_per_minute=PER_MINUTE, list_per_minute=LIST_PER_MINUTE)
    agent = fake.add_agent(name="Dana")
    group = fake.add_group("Billing")
    ages = [(TICKETS - n) * SPACING_SECONDS for n in range(TICKETS)]
    for n, age in enumerate(ages):
        fake.add_ticket(
            subject=f"ticket {n}",
            age_seconds=age,
            responder_id=agent if n % 2 else None,
            group_id=group if n % 3 else None,
        )
    connector = fake.connect(
        FreshdeskConnector, initial_lookback_minutes=24 * 60, includes=list(INCLUDES)
    )
    started, wall = fake.clock.now(), time.perf_counter()
    seen: set[str] = set()
    pages = 0
    for page in connector.poll(None):
        pages += 1
        seen.update(t.source.external_id for t in page.tickets)
    elapsed = fake.clock.now() - started
    cpu = time.perf_counter() - wall
    bound, credits_needed = lower_bound_seconds(1 + 2 * len(INCLUDES))
    ratio = elapsed / bound
    lists = sum(1 for r in fake.log if r.path == "/api/v2/tickets")
    print(
        f"poll of {TICKETS} changed tickets at {PER_MINUTE} credits/min "
        f"({LIST_PER_MINUTE} list calls/min)"
    )
    print(f"  tickets normalized:               {len(seen)}/{TICKETS} in {pages} pages")
    print(
        f"  HTTP calls:                       {len(fake.log)} ({lists} list, "
        f"{fake.count('/conversations')} conversations)"
    )
    print(f"  credits spent / unavoidable:      {fake.credits_spent} / {credits_needed}")
    print(f"  simulated time:                   {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    print(f"  lower bound set by the budget:    {bound:.0f} s ({bound / 60:.1f} min)")
    print(f"  ratio time/lower bound:           {ratio:.3f}  (target <= 1.15)")
    print(f"  429 answers (budget exceeded):    {fake.over_budget}")
    print(f"  requests before Retry-After:      {len(fake.violations)}")
    print(f"  CPU time:                         {cpu:.1f} s")
    ok = len(seen) == TICKETS and ratio <= 1.15 and fake.over_budget == 0 and not fake.violations
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
