"""Plugins register Python conditions before packs load; config switches single rules off."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from empathy_firewall import load_rule_packs
from empathy_firewall.cli import main
from empathy_firewall.config import load_config
from empathy_firewall.engine.evaluate import default_engine
from empathy_firewall.engine.registry import default_registry
from empathy_firewall.engine.template_context import sample_context
from empathy_firewall.engine.templates import TemplateProblem, compile_template
from empathy_firewall.errors import ConfigError, RulePackError
from empathy_firewall.plugins import load_plugins

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_helpdesk.jsonl"

PACK = """\
pack: plugged
rules:
  - id: plugged-rule
    when:
      condition: {name: "%s", args: {minimum: 1}}
    actions:
      - add_tags: [plugged]
"""


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway plugin module registering a condition under a unique name."""
    name = f"ef_test_plugin_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            from empathy_firewall import condition

            @condition("{name}_has_messages")
            def has_messages(signals, minimum: int = 1) -> bool:
                return signals.emotion.customer_messages >= minimum
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)
    default_registry.conditions.pop(f"{name}_has_messages", None)


def test_a_pack_using_an_unloaded_condition_does_not_lint(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK % "nobody_registered_this", encoding="utf-8")
    with pytest.raises(RulePackError, match="unknown condition"):
        load_rule_packs([pack])


def test_plugin_option_loads_conditions_before_linting(tmp_path: Path, plugin_module: str) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK % f"{plugin_module}_has_messages", encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "lint", str(pack), "--plugin", plugin_module])
    assert result.exit_code == 0, result.output


def test_config_plugins_feed_simulate(tmp_path: Path, plugin_module: str) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK % f"{plugin_module}_has_messages", encoding="utf-8")
    config = tmp_path / "firewall.toml"
    config.write_text(f'plugins = ["{plugin_module}"]\nrules = ["pack.yaml"]\n', encoding="utf-8")
    tickets = tmp_path / "t.jsonl"
    with SAMPLE.open(encoding="utf-8") as handle:
        tickets.write_text("".join(next(handle) for _ in range(5)), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(tickets), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "plugged-rule" in result.output


def test_unknown_plugin_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no_such_module_xyz"):
        load_plugins(["no_such_module_xyz"], installed=False)


def test_disabled_rules_switch_single_rules_off(tmp_path: Path) -> None:
    rules = load_rule_packs(None, disabled=["positive-moment"])
    rule = rules.get("positive-moment")
    assert rule is not None
    assert rule.enabled is False
    assert all(r.enabled for r in rules.rules if r.id != "positive-moment")


def test_disabling_an_unknown_rule_is_a_problem() -> None:
    with pytest.raises(RulePackError, match="no rule 'no-such-rule' to disable"):
        load_rule_packs(None, disabled=["no-such-rule"])


def test_config_reads_disabled_rules_and_rejects_bad_types(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('disabled_rules = ["risk-tags"]\n', encoding="utf-8")
    assert load_config(good).disabled_rules == ("risk-tags",)
    bad = tmp_path / "bad.toml"
    bad.write_text("disabled_rules = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'disabled_rules' expects a list"):
        load_config(bad)


def test_default_engine_reloads_after_a_new_registration() -> None:
    first = default_engine()
    assert default_engine() is first
    registry_rules = default_registry.rules

    @default_registry.rule("ef-test-late-rule", pack="tests")
    def late_rule(signals: object) -> None:
        """Never acts."""

    try:
        second = default_engine()
        assert second is not first
        assert second.rules.get("ef-test-late-rule") is not None
    finally:
        registry_rules.pop("ef-test-late-rule", None)
        default_registry.version += 1


def test_a_misspelt_path_inside_a_filter_is_a_load_error() -> None:
    with pytest.raises(TemplateProblem, match="wait_minutes"):
        compile_template("{{ friction.wait_minutes | minutes }}", sample_context(default_registry))
