"""Benchmark: HTTP calls to write back plans for 1,000 changed Zendesk tickets.

Run: ``python benchmarks/zendesk_writeback.py`` (needs empathy-firewall-zendesk installed).

Each ticket gets a typical plan (two tags, a private note with a draft reply, a priority
change). The fake Zendesk counts every request. The minimum the API allows is one
``update_many`` job per 100 tickets plus a status poll per job; the connector polls all
pending jobs with one ``job_statuses/show_many`` call, so it can beat that figure.

A second run injects 429s with ``Retry-After`` (on bulk submissions and a job poll) and
checks, on the fake clock, that no request reached Zendesk before a Retry-After expired.
"""

from __future__ import annotations

import math
import sys
import time

from empathy_firewall.actions import AddTags, DraftReply, InternalNote, Plan, SetPriority
from empathy_firewall.models import Priority, SourceRef
from empathy_firewall.testing.plans import make_plan
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk

TICKETS = 1000


def plans_for(ids: list[int]) -> list[Plan]:
    actions = (
        AddTags(tags=("ef_frustrated", "ef_repeat_contact")),
        InternalNote(body="Third contact about the same refund; customer is angry."),
        DraftReply(body="I am sorry you had to ask again. Here is where your refund is."),
        SetPriority(priority=Priority.HIGH),
    )
    return [
        make_plan(SourceRef(connector="zendesk", external_id=str(tid), account="bench"), actions)
        for tid in ids
    ]


def run(inject_429: bool) -> dict[str, float]:
    fake = FakeZendesk()
    ids = [fake.add_ticket(subject=f"ticket {n}") for n in range(TICKETS)]
    connector = fake.connect(ZendeskConnector)
    plans = plans_for(ids)
    if inject_429:
        fake.fail_next(429, retry_after=30, path="update_many", times=2)
        fake.fail_next(
            429,
            retry_after="17",
            path="job_statuses",
            body="Number of allowed API requests per minute exceeded",
            content_type="text/plain",
        )
    started_log, started_clock, wall = len(fake.log), fake.clock.now(), time.perf_counter()
    results = connector.apply(plans)
    elapsed = time.perf_counter() - wall
    calls = len(fake.log) - started_log
    complete = sum(1 for r, p in zip(results, plans, strict=True) if len(r.done) == len(p.actions))
    once = all(fake.marker_count(t, p.actions[1].key) == 1 for t, p in zip(ids, plans, strict=True))
    return {
        "calls": calls,
        "update_many": fake.count("update_many"),
        "job_polls": fake.count("job_statuses"),
        "complete": complete,
        "notes_once": float(once),
        "violations": len(fake.violations),
        "fake_seconds": fake.clock.now() - started_clock,
        "cpu_seconds": elapsed,
        "429s": sum(1 for r in fake.log if r.status == 429),
    }


def main() -> int:
    jobs = math.ceil(TICKETS / 100)
    minimum = jobs + jobs  # bulk jobs of 100 + one status poll per job
    floor = jobs + 1  # bulk jobs + a single show_many poll (what the API allows at best)
    clean = run(inject_429=False)
    ratio = clean["calls"] / minimum
    print(f"write-back of plans for {TICKETS} changed tickets (4 actions each)")
    print(f"  HTTP calls used:                  {clean['calls']:.0f}")
    print(f"    update_many jobs:               {clean['update_many']:.0f}")
    print(f"    job status polls:               {clean['job_polls']:.0f}")
    print(f"  minimum (jobs of 100 + polls):    {minimum}  ({jobs} jobs + {jobs} polls)")
    print(f"  ratio calls/minimum:              {ratio:.2f}  (target <= 1.2)")
    print(f"  absolute floor (jobs + 1 poll):   {floor}")
    print(f"  tickets fully applied:            {clean['complete']:.0f}/{TICKETS}")
    print(f"  each note present exactly once:   {'yes' if clean['notes_once'] else 'NO'}")
    print(f"  CPU time:                         {clean['cpu_seconds']:.2f} s")
    limited = run(inject_429=True)
    print("with injected 429s (2 on update_many, Retry-After 30; 1 plain-text on a job poll, 17):")
    print(f"  429 answers:                      {limited['429s']:.0f}")
    print(f"  HTTP calls used:                  {limited['calls']:.0f}")
    print(f"  simulated time:                   {limited['fake_seconds']:.1f} s")
    print(f"  tickets fully applied:            {limited['complete']:.0f}/{TICKETS}")
    print(f"  requests sent before Retry-After expired: {limited['violations']:.0f}")
    ok = (
        ratio <= 1.2
        and clean["complete"] == TICKETS
        and clean["notes_once"]
        and limited["violations"] == 0
        and limited["complete"] == TICKETS
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
