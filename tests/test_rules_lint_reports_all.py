"""Issue 11 item 10: `rules lint` reports every bad path of a list and a duplicate id even
when that rule has other errors; a template typo names the attribute and the known ones;
`rules test rules/default` runs the pack's golden cases."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from empathy_firewall.cli import main

ROOT = Path(__file__).resolve().parents[1]

BAD = """\
pack: badpack
rules:
  - id: dup.one
    description: first
    when:
      all:
        - customer.nope: {gt: 1}
        - ticket.nada: {eq: 2}
    actions:
      - add_tags: [x]
  - id: dup.one
    description: second
    when:
      any:
        - customer.tier: {eq: "vip"}
    actions:
      - internal_note: "hello {{ ticket.subjct }}"
"""


def test_lint_reports_every_bad_path_the_duplicate_id_and_the_template_attribute(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text(BAD)
    result = CliRunner().invoke(main, ["rules", "lint", str(pack)])
    assert result.exit_code == 2
    out = result.output
    assert "customer.nope" in out
    assert "ticket.nada" in out
    assert "rule id 'dup.one' already used" in out
    assert "'ticket' has no attribute 'subjct'; did you mean ticket.subject?" in out
    assert "known: " in out
    assert "4 problem(s)" in out


def test_rules_test_accepts_the_pack_directory() -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(ROOT / "rules" / "default")])
    assert "no rule pack beside it" not in result.output
    assert " passed, " in result.output
