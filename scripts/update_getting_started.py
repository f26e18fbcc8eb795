"""Regenerate the command output shown in docs/getting-started.md, so it cannot drift.

Each output block in the page is preceded by a marker line
``<!-- generated: NAME -->``; this script runs the commands the page describes (in
process, on the shipped sample and example files) and rewrites each marked block.
``--check`` changes nothing and exits 1 when the page is stale (the test suite runs it).

    python scripts/update_getting_started.py          # rewrite the page
    python scripts/update_getting_started.py --check  # is it up to date?
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from empathy_firewall import __version__
from empathy_firewall.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "getting-started.md"
SAMPLE = "examples/sample_helpdesk.jsonl"
RULE = "examples/rules/vip-waiting.yaml"
CONFIG = "examples/getting-started.toml"
NOW = "2026-11-20T15:00:00+00:00"
_MARKER = re.compile(r"^<!-- generated: ([a-z0-9-]+) -->$")


def run(*args: str) -> str:
    """The output of one ``empathy-firewall`` command, run from the checkout's root."""
    import os

    here = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(here)
    return result.output


def block_of(output: str, ticket: str, limit: int) -> str:
    """The first ``limit`` lines of one ticket's block in ``simulate`` output."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"ticket {ticket} "))
    block: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line.rstrip())
    return "\n".join(block[:limit])


def summary(output: str) -> str:
    """The closing summary of ``simulate``."""
    lines = output.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("as of "))
    return "\n".join(lines[start:])


def why(output: str) -> str:
    """The "why" footer of the first note in ``--full`` output, first item only."""
    lines = [line.strip().removeprefix("|").strip() for line in output.splitlines()]
    start = lines.index("Why empathy-firewall added this:")
    return "\n".join(lines[start : start + 2])


def lint_typo() -> str:
    """``rules lint`` on the rule with ``friction.wait_minutes`` misspelt."""
    text = (ROOT / RULE).read_text().replace("friction.waiting_minutes", "friction.wait_minutes")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "vip-waiting.yaml"
        copy.write_text(text)
        out = run("rules", "lint", str(copy))
    return out.splitlines()[0].replace(str(copy), RULE)


BLOCKS: dict[str, Callable[[], str]] = {
    "version": lambda: f"$ empathy-firewall --version\nempathy-firewall, version {__version__}",
    "ticket": lambda: block_of(run("simulate", SAMPLE), "40095", 20),
    "why": lambda: why(run("simulate", SAMPLE, "--full")),
    "summary": lambda: summary(run("simulate", SAMPLE)),
    "lint-ok": lambda: (
        f"$ empathy-firewall rules lint {RULE}\n" + run("rules", "lint", RULE).strip()
    ),
    "lint-typo": lint_typo,
    "explain": lambda: (
        f"$ empathy-firewall rules explain vip-waiting --rules {RULE}\n"
        + run("rules", "explain", "vip-waiting", "--rules", RULE).rstrip()
    ),
    "config-ticket": lambda: block_of(
        run("simulate", SAMPLE, "--config", CONFIG, "--now", NOW, "--quiet-empty"), "40222", 5
    ),
    "config-fired": lambda: next(
        line
        for line in run("simulate", SAMPLE, "--config", CONFIG, "--now", NOW).splitlines()
        if line.startswith("rules fired:")
    ),
}


def render(page: str) -> str:
    """The page with every marked block regenerated."""
    lines = page.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        found = _MARKER.match(lines[i])
        i += 1
        if not found:
            continue
        name = found.group(1)
        if name not in BLOCKS:
            raise SystemExit(f"{PAGE}: unknown generated block {name!r}")
        fence = lines[i]
        if not fence.startswith("```"):
            raise SystemExit(f"{PAGE}: marker {name!r} must be followed by a code fence")
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        out.append(fence)
        out.extend(BLOCKS[name]().split("\n"))
        out.append(lines[end])
        i = end + 1
    return "\n".join(out)


def main(argv: list[str]) -> int:
    """Rewrite the page, or with ``--check`` report whether it is stale."""
    page = PAGE.read_text(encoding="utf-8")
    fresh = render(page)
    if "--check" in argv:
        if fresh != page:
            print(f"{PAGE} is stale: run python scripts/update_getting_started.py")
            return 1
        return 0
    PAGE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
