"""Benchmark: HTTP calls per changed ticket to write back plans into Freshdesk.

Run: ``python benchmarks/freshdesk_writeback.py`` (needs empathy-firewall-freshdesk installed).

1,000 changed tickets on the fake Freshdesk, with the plan mix the default rule pack
produces: 600 get tags + a note with a draft reply + a priority change, 300 only a note,
100 only a priority change. The API's minimum, per plan shape:

* tags (+ priority): 2 calls (Freshdesk has no add-tag endpoint and ``tags`` on update
  replaces the list: one read, one full write; the priority rides on the same write);
* note sections: 1 call (all sections in one private note);
* priority only, many tickets: 1 ``bulk_update`` call per priority value.

The connector also re-checks every tag write, to catch another integration that
overwrote the list meanwhile (``recheck_tags``, on by default): one ticket-list call per
100 written tickets, not one read per ticket. Both figures are printed. A second run injects
429s with ``Retry-After`` and a lost note answer, and checks that nothing was written twice
and nothing reached Freshdesk before a Retry-After expired.
"""

from __future__ import annotations

import sys
import time

from empathy_firewall.actions import (
    Action,
    AddTags,
    DraftReply,
    InternalNote,
    Plan,
    SetPriority,
)
from empathy_firewall.connectors import load
from empathy_firewall.models import Priority, SourceRef
from empathy_firewall.testing.plans import make_plan
from empathy_firewall_freshdesk.testing import FakeFreshdesk

#: through the registry, as the CLI finds it (needs empathy-firewall-freshdesk installed)
FreshdeskConnector = load("freshdesk")

FULL, NOTE_ONLY, PRIORITY_ONLY = 600, 300, 100
TICKETS = FULL + NOTE_ONLY + PRIORITY_ONLY


def plan_for(tid: int, actions: tuple[Action, ...]) -> Plan:
    return make_plan(
        SourceRef(connector="freshdesk", external_id=str(tid), account="bench"), actions
    )


def plans_for(ids: list[int]) -> list[Plan]:
    plans = []
    for n, tid in enumerate(ids):
        if n < FULL:
            actions: tuple[Action, ...] = (
                AddTags(tags=("ef_frustrated", "ef_repeat_contact")),
                InternalNote(body="Third contact about the same refund; customer is angry."),
                DraftReply(body="I am sorry you had to ask again. Here is where your refund is."),
                SetPriority(priority=Priority.HIGH),
            )
        elif n < FULL + NOTE_ONLY:
            actions = (InternalNote(body="Waiting 3 days: past the reply target."),)
        else:
            actions = (SetPriority(priority=Priority.URGENT),)
        plans.append(plan_for(tid, actions))
    return plans


def minimum_calls() -> int:
    return FULL * 3 + NOTE_ONLY * 1 + 1


def run(*, recheck: bool, faults: bool) -> dict[str, float]:
    fake = FakeFreshdesk(requests_per_minute=100_000, list_per_minute=None)
    ids = [fake.add_ticket(subject=f"ticket {n}", tags=("customer_tag",)) for n in range(TICKETS)]
    connector = fake.connect(FreshdeskConnector, recheck_tags=recheck)
    plans = plans_for(ids)
    if faults:
        fake.fail_next(429, retry_after=35, path="/notes", times=2)
        fake.fail_next(429, retry_after="31", method="PUT")
        fake.timeout_next(processed=True, path="/notes")
    wall = time.perf_counter()
    results = connector.apply(plans)
    elapsed = time.perf_counter() - wall
    complete = sum(1 for r, p in zip(results, plans, strict=True) if len(r.done) == len(p.actions))
    notes_once = all(
        fake.marker_count(tid, a.key) == 1
        for tid, p in zip(ids, plans, strict=True)
        for a in p.actions
        if a.action.kind in ("internal_note", "draft_reply")
    )
    tags_kept = all("customer_tag" in fake.tags(tid) for tid in ids)
    return {
        "calls": len(fake.log),
        "reads": fake.count(method="GET"),
        "writes": fake.count(method="PUT"),
        "posts": fake.count(method="POST"),
        "bulk": fake.count("/bulk_update"),
        "complete": complete,
        "notes_once": float(notes_once),
        "tags_kept": float(tags_kept),
        "violations": len(fake.violations),
        "429s": sum(1 for r in fake.log if r.status == 429),
        "cpu": elapsed,
    }


def main() -> int:
    minimum = minimum_calls()
    default = run(recheck=True, faults=False)
    lean = run(recheck=False, faults=False)
    print(
        f"write-back for {TICKETS} changed tickets ({FULL} tags+note+draft+priority, "
        f"{NOTE_ONLY} note only, {PRIORITY_ONLY} priority only)"
    )
    print(
        f"  API minimum:                      {minimum} calls "
        f"({minimum / TICKETS:.2f} per changed ticket)"
    )
    for label, figures in (("default (re-check tags)", default), ("recheck_tags: false", lean)):
        print(f"  {label}:")
        print(
            f"    HTTP calls:                     {figures['calls']:.0f} "
            f"({figures['calls'] / TICKETS:.2f} per changed ticket; "
            f"{figures['reads']:.0f} GET, {figures['writes']:.0f} PUT, "
            f"{figures['posts']:.0f} POST, {figures['bulk']:.0f} bulk job)"
        )
        print(f"    ratio calls/minimum:            {figures['calls'] / minimum:.3f}")
        print(f"    plans fully applied:            {figures['complete']:.0f}/{TICKETS}")
        print(f"    each note exactly once:         {'yes' if figures['notes_once'] else 'NO'}")
        print(f"    the customer's own tag kept:    {'yes' if figures['tags_kept'] else 'NO'}")
        print(f"    CPU time:                       {figures['cpu']:.2f} s")
    faulty = run(recheck=True, faults=True)
    print("with injected faults (3 x 429 with Retry-After 31-35 s, one lost note answer):")
    print(f"  429 answers:                      {faulty['429s']:.0f}")
    print(f"  plans fully applied:              {faulty['complete']:.0f}/{TICKETS}")
    print(f"  each note exactly once:           {'yes' if faulty['notes_once'] else 'NO'}")
    print(f"  requests before Retry-After expired: {faulty['violations']:.0f}")
    ok = (
        all(
            f["complete"] == TICKETS and f["notes_once"] and f["tags_kept"]
            for f in (default, lean, faulty)
        )
        and faulty["violations"] == 0
        and lean["calls"] / minimum <= 1.05
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
