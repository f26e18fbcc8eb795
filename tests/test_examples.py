"""The examples and the code in the docs run, and say what the docs say they say.

Each script in ``examples/`` runs as a subprocess from the repository root (as a reader
would run it) and must exit 0 with a meaningful line. The code blocks of ``docs/`` are
checked too: Python blocks run in order, rule packs lint, TOML loads, the JSONL example
validates, every ``empathy-firewall`` command shown succeeds, and the path table in
``docs/signals.md`` matches the catalogue.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from empathy_firewall import Ticket, default_registry
from empathy_firewall.config import load_config
from empathy_firewall.engine.loader import parse_rule_pack

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MY_DOCS = (
    "index.md",
    "getting-started.md",
    "rule-packs.md",
    "signals.md",
    "python-api.md",
    "ticket-file.md",
    "configuration.md",
)
CLI = [sys.executable, "-c", "from empathy_firewall.cli import main; main()"]


def run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def blocks(doc: str, lang: str) -> list[str]:
    text = (DOCS / doc).read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


# -- the example scripts -----------------------------------------------------------------

SCRIPTS = {
    "evaluate_one_ticket.py": r"^- draft_reply <- delay-acknowledgement$",
    "custom_rule.py": r"^ticket silver: add_tags <- acme-refund-request$",
    "pipeline_sample.py": r"^second pass, same time: \d+ rule firings, [1-9]\d* held back$",
    "swap_analyzer.py": r"^with the textblob analyzer the plan adds tags: ",
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_script_runs(script: str) -> None:
    result = run([sys.executable, f"examples/{script}"])
    assert result.returncode == 0, result.stderr
    assert re.search(SCRIPTS[script], result.stdout, re.M), result.stdout


def test_getting_started_rule_lints_and_fires() -> None:
    lint = run([*CLI, "rules", "lint", "examples/rules/vip-waiting.yaml"])
    assert lint.returncode == 0, lint.stderr
    assert lint.stdout.strip() == "ok: 1 rules in 1 file(s)"
    sim = run(
        [
            *CLI,
            "simulate",
            "examples/sample_helpdesk.jsonl",
            "--config",
            "examples/getting-started.toml",
            "--now",
            "2026-11-20T15:00:00+00:00",
            "--quiet-empty",
        ]
    )
    assert sim.returncode == 0, sim.stderr
    assert "+ tags acme_vip_waiting" in sim.stdout
    assert re.search(r"^rules fired: .*vip-waiting \d+", sim.stdout, re.M)


# -- the code in the docs ------------------------------------------------------------------


def test_python_api_blocks_run_in_order() -> None:
    code = "\n\n".join(blocks("python-api.md", "python"))
    result = run([sys.executable, "-c", code])
    assert result.returncode == 0, result.stderr
    assert "example::1001" in result.stdout


@pytest.mark.parametrize("doc", MY_DOCS)
def test_rule_packs_in_docs_lint(doc: str) -> None:
    for block in blocks(doc, "yaml"):
        if not block.startswith(("pack:", "# A first rule pack")):
            continue
        rules, problems = parse_rule_pack(block, f"{doc} block", default_registry)
        assert not problems, [str(p) for p in problems]
        assert rules


def test_getting_started_shows_the_shipped_files() -> None:
    yaml_blocks = blocks("getting-started.md", "yaml")
    toml_blocks = blocks("getting-started.md", "toml")
    shipped_pack = (ROOT / "examples/rules/vip-waiting.yaml").read_text(encoding="utf-8")
    shipped_toml = (ROOT / "examples/getting-started.toml").read_text(encoding="utf-8")
    assert shipped_pack in yaml_blocks
    assert shipped_toml in toml_blocks


@pytest.mark.parametrize("doc", MY_DOCS)
def test_toml_in_docs_loads(doc: str, tmp_path: Path) -> None:
    for i, block in enumerate(blocks(doc, "toml")):
        path = tmp_path / f"{i}.toml"
        path.write_text(block, encoding="utf-8")
        load_config(path)


def test_ticket_file_example_line_validates() -> None:
    lines = [line for block in blocks("ticket-file.md", "jsonl") for line in block.splitlines()]
    assert lines
    for line in lines:
        Ticket.model_validate_json(line)


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for doc in MY_DOCS:
        for block in blocks(doc, "console"):
            for line in block.splitlines():
                if line.startswith("$ empathy-firewall "):
                    found.append((doc, shlex.split(line[len("$ empathy-firewall ") :])))
    return found


@pytest.mark.parametrize(("doc", "args"), _commands(), ids=lambda v: str(v)[:60])
def test_commands_in_docs_succeed(doc: str, args: list[str]) -> None:
    missing = [
        a for a in args if a.endswith((".yaml", ".jsonl", ".toml")) and not (ROOT / a).exists()
    ]
    if missing:
        pytest.skip(f"illustrates an error with a file that is not shipped: {missing}")
    result = run([*CLI, *args])
    assert result.returncode == 0, f"{doc}: {args}: {result.stderr}"


def test_signals_path_table_is_current() -> None:
    result = run([*CLI, "rules", "paths", "--markdown"])
    assert result.returncode == 0, result.stderr
    text = (DOCS / "signals.md").read_text(encoding="utf-8")
    assert result.stdout in text, "regenerate with: empathy-firewall rules paths --markdown"


def test_links_between_docs_resolve() -> None:
    others = {"connectors.md", "zendesk.md", "sentiment.md"}  # written elsewhere
    for doc in MY_DOCS:
        text = (DOCS / doc).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([\w-]+\.md)(?:#[\w-]+)?\)", text):
            assert target in others or (DOCS / target).is_file(), f"{doc} links to {target}"
