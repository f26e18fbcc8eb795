"""`report --json` recovers planted effects; strain stays aggregated; `rules suggest` diffs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from empathy_firewall.cli import main
from empathy_firewall.insights.planted import plant
from empathy_firewall.state import StateStore

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _config(folder: Path, extra: str = "") -> Path:
    path = folder / "ef.toml"
    path.write_text(
        '[state]\nurl = "sqlite:///state.db"\n[connector]\nname = "file"\n'
        'path = "tickets.jsonl"\n' + extra
    )
    return path


def _report(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        main,
        ["report", "--config", str(config), "--now", NOW.isoformat(), "--json", *args],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("planted")
    store = StateStore(f"sqlite:///{folder / 'state.db'}")
    plant(store.engine, tickets=2500, seed=11, now=NOW)
    store.close()
    return _config(folder)


def _by_kind(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["kind"]: e for e in items}


def test_planted_effects_are_ranked_right_and_the_null_interval_holds_zero(
    planted: Path,
) -> None:
    data = _report(planted, "--since", "30d")
    disruptions = data["insights"]["disruptions"]
    assert {e["kind"] for e in disruptions} == {
        "sla_breach",
        "group_hop",
        "reassignment",
        "reopen",
        "assignee_overloaded",
        "long_wait",
    }
    assert all(set(e) >= {"kind", "n", "effect", "ci95"} for e in disruptions)
    order = [e["kind"] for e in disruptions]
    assert order.index("group_hop") < order.index("sla_breach") < order.index("reopen")
    found = _by_kind(disruptions)
    lo, hi = found["reopen"]["ci95"]
    assert lo < 0 < hi
    assert found["group_hop"]["ci95"][1] < found["sla_breach"]["ci95"][0] + 0.05
    assert -0.36 < found["group_hop"]["effect"] < -0.22
    assert -0.26 < found["sla_breach"]["effect"] < -0.14
    helped = _by_kind(data["insights"]["interventions"])
    assert helped["delay_acknowledgement"]["ci95"][0] > 0
    assert helped["recovery"]["ci95"][0] < 0 < helped["recovery"]["ci95"][1]


def test_a_small_window_is_too_thin_to_tell(planted: Path) -> None:
    data = _report(planted, "--since", "6h")
    assert any(e["verdict"] == "too thin to tell" for e in data["insights"]["disruptions"])
    for e in data["insights"]["disruptions"]:
        if e["verdict"] == "too thin to tell":
            assert e["effect"] is None
            assert e["ci95"] is None


def test_strain_is_per_group_and_hides_small_groups(planted: Path) -> None:
    data = _report(planted)
    groups = {g["group"]: g for g in data["strain"]["groups"]}
    assert set(groups) == {"support", "billing"}  # escalations has 3 agents
    assert data["strain"]["hidden_groups"] == 1
    assert all(
        "agent" not in k or k == "agents" for g in groups.values() for k in g if "per" not in k
    )
    text = json.dumps(data)
    assert "planted::support-" not in text  # no agent identity anywhere


def test_the_privacy_floor_is_configurable(planted: Path, tmp_path: Path) -> None:
    config = _config(planted.parent, "[report]\nmin_group_agents = 10\n")
    try:
        data = _report(config)
    finally:
        _config(planted.parent)
    assert [g["group"] for g in data["strain"]["groups"]] == ["support"]


def test_group_filter_and_sections(planted: Path) -> None:
    data = _report(planted, "--group", "billing")
    assert data["period"]["group"] == "billing"
    assert set(data["sentiment"]["by_group"]) <= {"billing", "support", "escalations"}
    assert "billing" in data["sentiment"]["by_group"]
    assert data["moments"]
    assert all(m["quote"] and m["url"] for m in data["moments"])
    health = {r["rule"]: r for r in data["rule_health"]}
    assert 0.8 < health["delay-acknowledgement"]["precision"] < 1.0


def test_rules_suggest_prints_a_diff_and_changes_nothing(planted: Path, tmp_path: Path) -> None:
    pack = Path(__file__).resolve().parents[2] / "rules" / "default" / "empathy.yaml"
    copy = tmp_path / "empathy.yaml"
    copy.write_text(pack.read_text())
    before = copy.read_text()
    result = CliRunner().invoke(
        main,
        [
            "rules",
            "suggest",
            "--config",
            str(planted),
            "--now",
            NOW.isoformat(),
            "--pack",
            str(copy),
        ],
    )
    assert result.exit_code == 0, result.output
    assert copy.read_text() == before
    assert "+                - friction.group_hops: {gte: 1}" in result.output
    assert "-                - friction.group_hops: {gte: 2}" in result.output
    assert "group hop changes the next customer message by" in result.output


def test_bad_since_is_a_one_line_error(planted: Path) -> None:
    result = CliRunner().invoke(
        main, ["report", "--config", str(planted), "--since", "yesterday", "--json"]
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") <= 1


def test_an_empty_store_reports_too_thin_everywhere_and_still_renders(tmp_path: Path) -> None:
    config = _config(tmp_path)
    out = tmp_path / "report.html"
    data = _report(config, "--out", str(out))
    assert {e["verdict"] for e in data["insights"]["disruptions"]} == {"too thin to tell"}
    assert data["strain"]["groups"] == []
    page = out.read_text()
    assert "Too little data to estimate any effect yet." in page
    assert "<script" not in page


def test_other_planted_effects_are_recovered_too(tmp_path: Path) -> None:
    """Different effects and seed than the fixture: the ranking follows the data."""
    effects = {
        "reopen": -0.25,
        "group_hop": 0.0,
        "sla_breach": -0.1,
        "reassignment": 0.0,
        "assignee_overloaded": -0.4,
        "long_wait": 0.0,
    }
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    plant(store.engine, tickets=2500, seed=23, now=NOW, effects=effects)
    store.close()
    data = _report(_config(tmp_path))
    order = [e["kind"] for e in data["insights"]["disruptions"]]
    assert order[:3] == ["assignee_overloaded", "reopen", "sla_breach"]
    found = _by_kind(data["insights"]["disruptions"])
    for kind in ("group_hop", "reassignment", "long_wait"):
        lo, hi = found[kind]["ci95"]
        assert lo < 0.02
        assert hi > -0.02
        assert abs(found[kind]["effect"]) < 0.05
