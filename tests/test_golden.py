"""Every golden case of every shipped rule pack, one test per case, plus the runner itself.

A golden file sits in ``rules/<pack>/golden/`` and runs against the pack files of
``rules/<pack>/`` (see :mod:`empathy_firewall.engine.golden`).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest

from empathy_firewall.engine.golden import (
    GoldenCase,
    GoldenFileError,
    check_case,
    coverage_gaps,
    format_results,
    load_golden,
    pack_paths_for,
    parse_golden,
    run_golden,
    run_golden_paths,
)
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.rules import RuleSet

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
DEFAULT_GOLDEN = RULES / "default" / "golden"
GOLDEN_DIRS = sorted(p for p in RULES.rglob("golden") if p.is_dir())


@cache
def _rules_for(golden_dir: Path) -> RuleSet:
    return load_rule_packs(pack_paths_for(golden_dir), include_python_rules=False)


def _all_cases() -> list[tuple[Path, GoldenCase]]:
    return [(d, case) for d in GOLDEN_DIRS for case in load_golden(d)]


CASES = _all_cases()


def test_golden_cases_were_found() -> None:
    assert DEFAULT_GOLDEN in GOLDEN_DIRS
    assert len(CASES) >= 24


@pytest.mark.parametrize(
    ("golden_dir", "case"),
    CASES,
    ids=[f"{Path(c.file).parent.parent.name}/{Path(c.file).stem}::{c.name}" for _, c in CASES],
)
def test_golden_case(golden_dir: Path, case: GoldenCase) -> None:
    result = check_case(case, _rules_for(golden_dir))
    assert result.ok, result.message


def test_every_default_rule_fires_in_one_case_and_is_held_in_another() -> None:
    rules = _rules_for(DEFAULT_GOLDEN)
    results = run_golden(DEFAULT_GOLDEN, rules)
    assert coverage_gaps(results, rules) == []
    # and each rule has its own file
    stems = {p.stem for p in DEFAULT_GOLDEN.glob("*.yaml")}
    assert {r.id for r in rules.rules} <= stems


# -- the runner --------------------------------------------------------------------------

_GOOD = """\
defaults:
  now: 2026-11-20T15:00:00Z
  ticket:
    source: {connector: t, external_id: "1"}
    created_at: 2026-11-20T09:00:00Z
    updated_at: 2026-11-20T09:00:00Z
    requester: {id: c1, name: Ana Costa}
    tags: [ef_frustration_high]
cases:
  - name: calm customer
    ticket:
      comments:
        - {id: "1", author_role: customer, created_at: 2026-11-20T14:50:00Z,
           text: "Hi, which plan includes the reporting module?"}
    expect:
      fires: [frustration-tag-clear]
      actions:
        remove_tags: [ef_frustration_high]
"""


def _default_rules() -> RuleSet:
    return _rules_for(DEFAULT_GOLDEN)


def test_a_passing_case_from_text(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(_GOOD, encoding="utf-8")
    [result] = run_golden(path, _default_rules())
    assert result.ok, result.message
    assert result.plan is not None
    assert result.message.endswith(": ok")


def test_a_wrong_expectation_names_file_case_and_difference(tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(
        _GOOD.replace("fires: [frustration-tag-clear]", "fires: [frustration-tag-high]").replace(
            "remove_tags: [ef_frustration_high]", "remove_tags: {absent: true}"
        ),
        encoding="utf-8",
    )
    [result] = run_golden(path, _default_rules())
    assert not result.ok
    message = result.message
    assert message.startswith(f"{path}:10: case 'calm customer'")
    assert (
        "fires: expected [frustration-tag-high], got [frustration-tag-clear] "
        "(missing [frustration-tag-high]; unexpected [frustration-tag-clear])"
    ) in message
    assert "actions.remove_tags: expected none, got 1" in message
    assert "plan: fired frustration-tag-clear" in message
    assert "1 failed" in format_results([result])


def test_text_expectations_and_unknown_rule_ids_fail(tmp_path: Path) -> None:
    text = _GOOD.replace(
        "remove_tags: [ef_frustration_high]",
        "remove_tags: [ef_frustration_high]\n        internal_note: {contains: [hello]}",
    ).replace(
        "fires: [frustration-tag-clear]",
        "fires: [frustration-tag-clear]\n      not_fires: [no-such-rule]",
    )
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    [result] = run_golden(path, _default_rules())
    assert "expect names unknown rule id(s) [no-such-rule]" in result.failures
    assert "actions.internal_note: expected one, got none" in result.failures


def test_suppressed_reason_is_checked(tmp_path: Path) -> None:
    text = _GOOD.replace(
        "    expect:",
        "    history:\n      firings: [{rule_id: x, at: 2026-11-20T14:00:00Z}]\n    expect:",
    ).replace(
        "      actions:\n        remove_tags: [ef_frustration_high]\n", "      suppressed: []\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    [result] = run_golden(path, _default_rules())
    assert result.ok, result.message

    bad = text.replace("suppressed: []", "suppressed: {frustration-tag-clear: cooling}")
    path.write_text(bad, encoding="utf-8")
    [result] = run_golden(path, _default_rules())
    assert any(
        f.startswith("suppressed: expected [frustration-tag-clear], got []")
        for f in result.failures
    )


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("cases: [", 1, "", "invalid YAML"),
        ("- just a list\n", 1, "", "a golden file is a mapping"),
        ("cases: []\n", 1, "cases", "expects a non-empty list of cases"),
        ("casez: []\n", 1, "casez", "unknown key 'casez'"),
        (
            _GOOD.replace("  - name: calm customer\n", "  - name: ''\n"),
            10,
            "cases[0].name",
            "at least 1",
        ),
        (
            _GOOD.replace("created_at: 2026-11-20T14:50:00Z", "created_at: soon"),
            13,
            "cases[0].ticket.comments[0].created_at",
            "datetime",
        ),
        (
            _GOOD.replace("requester: {id: c1, name: Ana Costa}", "requester: {name: Ana Costa}"),
            7,
            "cases[0].ticket.requester.id",
            "Field required",
        ),
        (
            _GOOD.replace("now: 2026-11-20T15:00:00Z", "now: 2026-11-20T15:00:00"),
            2,
            "cases[0].now",
            "timezone",
        ),
        (
            _GOOD.replace("remove_tags: [ef_frustration_high]", "remove_tagz: [x]"),
            18,
            "cases[0].expect.actions.remove_tagz",
            "unknown action kind",
        ),
        (
            _GOOD.replace("remove_tags: [ef_frustration_high]", "set_priority: huge"),
            18,
            "cases[0].expect.actions.set_priority",
            "expects one of",
        ),
        (
            _GOOD.replace("remove_tags: [ef_frustration_high]", "internal_note: {absent: false}"),
            18,
            "cases[0].expect.actions.internal_note",
            "'absent' expects true",
        ),
        (
            _GOOD.replace("    expect:\n", "    expect:\n      surprise: 1\n"),
            16,
            "cases[0].expect.surprise",
            "Extra inputs",
        ),
        (
            _GOOD.replace("fires: [frustration-tag-clear]", "not_fires: [a]\n      fires: [a]"),
            15,
            "cases[0].expect",
            "both fires and not_fires: a",
        ),
        (
            _GOOD + "  - name: calm customer\n    expect: {fires: []}\n",
            19,
            "cases[1].name",
            "already used at line 10",
        ),
        (
            _GOOD.replace("    expect:", "    settings: {emotion: {trend_window: 1}}\n    expect:"),
            15,
            "cases[0].settings.emotion.trend_window",
            "greater than or equal to 2",
        ),
        (
            _GOOD.replace(
                "    expect:",
                "    history:\n"
                "      firings: [{rule_id: r, at: 2026-11-20T14:00:00Z, scope: agent}]\n"
                "    expect:",
            ),
            16,
            "cases[0].history.firings[0].scope",
            "needs a ticket assignee",
        ),
    ],
)
def test_golden_file_problems_name_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    _, problems = parse_golden(text, "g.yaml")
    assert problems, "expected a problem"
    first = problems[0]
    assert (first.file, first.line, first.field) == ("g.yaml", line, field), problems
    assert message in first.message


def test_load_golden_checks_every_file_first(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("cases: [", encoding="utf-8")
    with pytest.raises(GoldenFileError) as caught:
        load_golden(tmp_path)
    assert [Path(p.file).name for p in caught.value.problems] == ["b.yaml"]
    assert "problem(s) in golden files" in str(caught.value)


def test_history_scopes_and_defaults_merge(tmp_path: Path) -> None:
    text = _GOOD.replace(
        "    requester: {id: c1, name: Ana Costa}\n",
        "    requester: {id: c1, name: Ana Costa}\n    assignee: {id: a1, name: Sam}\n",
    ).replace(
        "    expect:",
        "    history:\n"
        "      firings:\n"
        "        - {rule_id: r1, at: 2026-11-20T14:00:00Z, scope: agent}\n"
        "        - {rule_id: r2, at: 2026-11-20T14:00:00Z, scope: customer}\n"
        "        - {rule_id: r3, at: 2026-11-20T14:00:00Z}\n"
        "      customer_tickets: [{at: 2026-11-01T00:00:00Z, sentiment: -0.5}]\n"
        "      agent_interactions: [{at: 2026-11-20T14:00:00Z, weight: 0.7}]\n"
        "    expect:",
    )
    [case] = parse_golden(text, "g.yaml")[0]
    assert case.ticket.requester.name == "Ana Costa"  # from defaults
    assert case.ticket.comments[0].id == "1"  # from the case
    history = case.history()
    since = case.now - timedelta(hours=4)
    assert history.last_firing("agent:t::a1", "r1") is not None
    assert history.last_firing("customer:t::c1", "r2") is not None
    assert history.last_firing(case.ticket.key, "r3") is not None
    [past] = history.past_tickets("t::c1")
    assert past.negative is True
    [reply] = history.interactions("t::a1", since)
    assert reply.weight == 0.7


def test_run_golden_paths_finds_the_pack_beside_the_golden_directory() -> None:
    results = run_golden_paths([DEFAULT_GOLDEN / "positive-moment.yaml"])
    assert results
    assert all(r.ok for r in results), format_results(results)
    assert pack_paths_for(DEFAULT_GOLDEN) == [RULES / "default" / "empathy.yaml"]


def test_run_golden_paths_without_a_pack(tmp_path: Path) -> None:
    (tmp_path / "g.yaml").write_text(_GOOD, encoding="utf-8")
    with pytest.raises(GoldenFileError, match="no rule pack beside it"):
        run_golden_paths([tmp_path / "g.yaml"])
    results = run_golden_paths([tmp_path / "g.yaml"], [RULES / "default" / "empathy.yaml"])
    assert [r.ok for r in results] == [True]
