"""Benchmark: enrich + evaluate throughput, the engine's overhead over text analysis, memory.

Run from the repository root::

    python benchmarks/engine_throughput.py            # 10,000 tickets (about 6 comments each)
    python benchmarks/engine_throughput.py --count 2000 --repeat 1   # a quicker look

What it measures, side by side in one process (machines are noisy: compare ratios):

1. *text analysis alone*: the default analyzer over every public customer message, cold;
2. *first pass*: the pipeline (enrich + evaluate + record history) over every ticket with
   a cold per-comment cache, so it includes the text analysis; the engine's overhead is
   first pass / analysis alone - 1;
3. *re-evaluation*: the same tickets evaluated again, text cache warm and the history of
   the first pass in place, as when ``sync`` sees tickets change again: cooldown and
   episode gates hold, so texts already planned are not rendered again. Also shown:
   re-evaluation with an empty history, where every firing rule renders its texts anew;
4. *peak memory* of streaming ``simulate`` over files of N/5 and N tickets, each in a
   fresh subprocess; flat means the ratio stays near 1.

Targets (issue 2): overhead <= 25 %, re-evaluation >= 20,000 tickets/s on one core,
memory flat in the number of tickets.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from empathy_firewall import EvaluationContext, FirewallSettings, Role, Ticket
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.pipeline import Pipeline
from empathy_firewall.signals.analysis import default_text_analyzer
from empathy_firewall.signals.text import CommentCache
from empathy_firewall.ticketfile import iter_tickets, scan_ticket_file

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "examples" / "generate_sample.py"

_MEMORY_PROBE = """
import sys
from pathlib import Path
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.pipeline import Pipeline, simulate_file
pipeline = Pipeline(Engine())
count, at, results = simulate_file(Path(sys.argv[1]), pipeline)
for _ in results:
    pass
# VmHWM, not ru_maxrss: ru_maxrss survives exec and would report the parent's size.
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def _generate(count: int, out: Path) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--count", str(count), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _best_of(repeat: int, run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _customer_texts(tickets: list[Ticket]) -> list[str]:
    return [
        c.text
        for t in tickets
        for c in t.comments
        if c.author_role is Role.CUSTOMER and c.public and c.text
    ]


def _peak_rss_mb(path: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.jsonl"
        small = Path(tmp) / "small.jsonl"
        _generate(args.count, big)
        _generate(max(1, args.count // 5), small)
        summary = scan_ticket_file(big)
        now: datetime = summary.latest_activity  # type: ignore[assignment]
        tickets = list(iter_tickets(big))
        comments = sum(len(t.comments) for t in tickets)
        texts = _customer_texts(tickets)
        engine = Engine()
        settings = FirewallSettings()
        analyzer = default_text_analyzer()
        analyzer.analyze("warm up the analyzer")

        def analysis_alone() -> None:
            for text in texts:
                analyzer.analyze(text)

        pipelines: list[Pipeline] = []

        def first_pass() -> None:
            pipeline = Pipeline(engine, settings, texts=CommentCache(analyzer))
            for ticket in tickets:
                pipeline.process(ticket, now)
            pipelines.append(pipeline)

        t_alone = _best_of(args.repeat, analysis_alone)
        t_first = _best_of(args.repeat, first_pass)
        done = pipelines[-1]
        with_history = EvaluationContext(
            now=now, settings=settings, history=done.history, texts=done.texts
        )
        no_history = EvaluationContext(now=now, settings=settings, texts=done.texts)

        def re_evaluation() -> None:
            for ticket in tickets:
                engine.evaluate(ticket, with_history)

        def re_evaluation_no_history() -> None:
            for ticket in tickets:
                engine.evaluate(ticket, no_history)

        t_again = _best_of(args.repeat, re_evaluation)
        t_again_cold = _best_of(args.repeat, re_evaluation_no_history)
        rss_small = _peak_rss_mb(small)
        rss_big = _peak_rss_mb(big)

    n = len(tickets)
    overhead = t_first / t_alone - 1.0
    print(
        f"tickets: {n}, comments: {comments} ({comments / n:.1f} per ticket), "
        f"customer messages analysed: {len(texts)}"
    )
    print(f"text analysis alone:        {t_alone:8.3f} s  ({len(texts) / t_alone:10,.0f} texts/s)")
    print(f"first pass (enrich+eval):   {t_first:8.3f} s  ({n / t_first:10,.0f} tickets/s)")
    print(f"engine overhead over text analysis: {overhead:6.1%}   (target <= 25%)")
    print(f"share of first pass outside text analysis: {1 - t_alone / t_first:6.1%}")
    print(
        f"re-evaluation, cache warm:  {t_again:8.3f} s  ({n / t_again:10,.0f} tickets/s; "
        "target >= 20,000)"
    )
    print(
        f"  same, empty history (all texts re-rendered): {t_again_cold:8.3f} s  "
        f"({n / t_again_cold:10,.0f} tickets/s)"
    )
    print(
        f"peak RSS streaming simulate: {rss_small:.1f} MB for {max(1, n // 5)} tickets, "
        f"{rss_big:.1f} MB for {n} tickets (ratio {rss_big / rss_small:.2f}; flat is ~1)"
    )


if __name__ == "__main__":
    main()
