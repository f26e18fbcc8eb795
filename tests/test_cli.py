"""The command line as a user meets it: simulate, rules lint/explain/paths, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from empathy_firewall.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"


def _lines(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [next(handle) for _ in range(n)]


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    target = tmp_path / "tickets.jsonl"
    target.write_text("# a comment line\n\n" + "".join(_lines(SAMPLE, 25)), encoding="utf-8")
    return target


def test_simulate_prints_plans_and_a_summary(small_file: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", str(small_file)])
    assert result.exit_code == 0, result.output
    assert "25 tickets evaluated" in result.output
    assert "<- " in result.output  # every action names the rules behind it
    assert "as of " in result.output


def test_simulate_json_gives_one_valid_plan_per_ticket(small_file: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", str(small_file), "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 25
    for record in records:
        plan = record["plan"]
        assert plan["ticket"]["connector"] == "file"
        for planned in plan["actions"]:
            assert planned["because"], "every action must be explained"
            assert planned["key"].startswith("ef1-")


def test_simulate_is_deterministic(small_file: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["simulate", str(small_file), "--json"]).output
    second = runner.invoke(main, ["simulate", str(small_file), "--json"]).output
    assert first == second


def test_a_bad_line_stops_the_run_before_any_plan_with_its_number(
    small_file: Path, tmp_path: Path
) -> None:
    lines = small_file.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(10, '{"source": {"connector": "file", "external_id": "x"}, "subject": 3}\n')
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(lines), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(broken)])
    assert result.exit_code == 3
    assert f"{broken}:11:" in result.output
    assert "created_at" in result.output  # names the missing field
    assert "ticket " not in result.output.split("error:")[0]  # nothing evaluated before


def test_invalid_json_line_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_lines(SAMPLE, 1)[0] + "{not json\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(bad)])
    assert result.exit_code == 3
    assert ":2:" in result.output


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 3
    assert "cannot read ticket file" in result.output


def test_now_option_must_carry_a_time_zone(small_file: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", str(small_file), "--now", "2026-11-20T15:00"])
    assert result.exit_code == 2
    assert "time zone" in result.output


def test_rules_lint_accepts_the_default_pack() -> None:
    result = CliRunner().invoke(main, ["rules", "lint", str(ROOT / "rules" / "default")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_rules_lint_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    pack = tmp_path / "broken.yaml"
    pack.write_text(
        "pack: mine\n"
        "rules:\n"
        "  - id: one\n"
        "    when:\n"
        "      friction.wait_minutes: {gte: 10}\n"
        "    actions:\n"
        "      - add_tags: [ok]\n"
        "  - id: two\n"
        "    when: {ticket.is_open: true}\n"
        "    actions:\n"
        "      - set_priority: extreme\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["rules", "lint", str(pack)])
    assert result.exit_code == 2
    assert f"{pack}:5" in result.output
    assert "friction.wait_minutes" in result.output
    assert f"{pack}:11" in result.output
    assert "extreme" in result.output
    assert "2 problem(s)" in result.output


def test_simulate_refuses_to_run_with_a_broken_pack(small_file: Path, tmp_path: Path) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text("pack: x\nrules: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(small_file), "--rules", str(pack)])
    assert result.exit_code == 2
    assert "ticket " not in result.output


def test_rules_explain_shows_gates_reads_and_how_to_switch_off() -> None:
    result = CliRunner().invoke(main, ["rules", "explain", "delay-acknowledgement"])
    assert result.exit_code == 0, result.output
    assert "once per distinct friction.waiting_since" in result.output
    assert "cooldown" in result.output
    assert "friction.waiting" in result.output
    assert "enabled: false" in result.output


def test_rules_explain_says_which_ticket_carries_a_rule_gated_per_agent() -> None:
    """A rule gated per agent acts on one ticket of the agent: explain names which, and the
    reason its other tickets show when they leave it to that one."""
    result = CliRunner().invoke(main, ["rules", "explain", "agent-care-break"])
    assert result.exit_code == 0, result.output
    assert "gates: cooldown 2h per agent" in result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("  carrier: ")]
    assert "the ticket of the agent's latest reply" in line
    assert "still assigned to them" in line
    assert "acts on the ticket with the agent's latest reply (KEY)" in line
    # a rule gated per ticket has no carrier to explain
    other = CliRunner().invoke(main, ["rules", "explain", "delay-acknowledgement"])
    assert "carrier:" not in other.output


def test_rules_explain_unknown_rule_lists_known_ones() -> None:
    result = CliRunner().invoke(main, ["rules", "explain", "no-such-rule"])
    assert result.exit_code != 0
    assert "handoff-baton" in result.output


def test_rules_paths_markdown_lists_the_catalogue() -> None:
    result = CliRunner().invoke(main, ["rules", "paths", "--markdown"])
    assert result.exit_code == 0
    assert "| `friction.waiting_minutes` | number or null | minutes |" in result.output
    assert "Private to the agent." in result.output


def test_config_errors_name_the_key(small_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "firewall.toml"
    config.write_text("[settings.friction]\ndefault_capacity = 0\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(small_file), "--config", str(config)])
    assert result.exit_code == 2
    assert "settings.friction.default_capacity" in result.output
