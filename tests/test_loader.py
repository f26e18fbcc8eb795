"""Rule pack loading: every class of mistake is reported with its file, line and field,
nothing loads while any file is bad, and no input, however strange, escapes as anything
but a :class:`RulePackError`.
"""

from __future__ import annotations

import math
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empathy_firewall.engine.durations import format_duration, parse_duration
from empathy_firewall.engine.loader import load_rule_packs, parse_rule_pack
from empathy_firewall.engine.registry import default_registry
from empathy_firewall.engine.rules import RuleSet
from empathy_firewall.errors import Problem, RulePackError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACK = ROOT / "rules" / "default" / "empathy.yaml"

# Line numbers in the comments: each case below edits one line of this pack.
BASE = """\
pack: acme
description: A small pack for the loader tests.
rules:
  - id: calm-tag
    description: Tag calm tickets.
    priority: 40
    cooldown: 2h
    when:
      all:
        - ticket.is_open: true
        - frustration.score: {lt: 0.2}
    actions:
      - add_tags: [acme_calm]
      - internal_note: |
          Calm customer {{ customer.first_name }}.
          Frustration {{ frustration.level }}.
"""
#   1 pack / 4 - id / 6 priority / 7 cooldown / 8 when / 10, 11 conditions / 12 actions /
#   13 add_tags / 14 internal_note (its text starts on line 15)


def _problems(tmp_path: Path, text: str, name: str = "acme.yaml") -> list[Problem]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        load_rule_packs([path], include_python_rules=False)
    problems = list(caught.value.problems)
    assert all(p.file == str(path) for p in problems)
    return problems


def test_the_base_pack_loads(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(BASE, encoding="utf-8")
    loaded = load_rule_packs([path], include_python_rules=False)
    [rule] = loaded.rules
    assert (rule.id, rule.pack, rule.priority, rule.line) == ("calm-tag", "acme", 40, 4)
    assert rule.cooldown == timedelta(hours=2)
    assert rule.condition is not None
    assert rule.condition.paths == ("ticket.is_open", "frustration.score")


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        pytest.param(
            "frustration.score: {lt: 0.2}",
            "frustration.scor: {lt: 0.2}",
            11,
            "rules[0].when.all[1].frustration.scor",
            "unknown signal path 'frustration.scor'; paths under 'frustration': "
            "frustration.level, frustration.score",
            id="unknown path with suggestion",
        ),
        pytest.param(
            "frustration.score: {lt: 0.2}",
            "frustraton.score: {lt: 0.2}",
            11,
            "rules[0].when.all[1].frustraton.score",
            "; known groups: agent, cues, customer,",
            id="unknown group lists the groups",
        ),
        pytest.param(
            "{lt: 0.2}",
            "{lt: high}",
            11,
            "rules[0].when.all[1].frustration.score.lt",
            "expects a number for frustration.score (number), got 'high'",
            id="wrong operand type",
        ),
        pytest.param(
            "{lt: 0.2}",
            "{lesser: 0.2}",
            11,
            "rules[0].when.all[1].frustration.score.lesser",
            "unknown operator 'lesser'",
            id="unknown operator",
        ),
        pytest.param(
            "- ticket.is_open: true",
            "- ticket.is_open: {gte: 1}",
            10,
            "rules[0].when.all[0].ticket.is_open.gte",
            "operator 'gte' does not apply to ticket.is_open (boolean)",
            id="operator not valid for the type",
        ),
        pytest.param(
            "- ticket.is_open: true",
            "- ticket.status: {eq: shut}",
            10,
            "rules[0].when.all[0].ticket.status.eq",
            "'shut' is not one of new, open, pending, on_hold, solved, closed",
            id="value outside the choices",
        ),
        pytest.param(
            "cooldown: 2h",
            "cooldown: 2 hours",
            7,
            "rules[0].cooldown",
            "expects a duration such as 30m, 4h, 2d or 1h30m, got '2 hours'",
            id="bad duration",
        ),
        pytest.param(
            "cooldown: 2h",
            "cooldown: .inf",
            7,
            "rules[0].cooldown",
            "a duration cannot exceed 10 years",
            id="infinite duration",
        ),
        pytest.param(
            "    priority: 40\n",
            "    priority: 40\n    priority: 45\n",
            7,
            "rules[0].priority",
            "duplicate key 'priority'",
            id="duplicate YAML key",
        ),
        pytest.param(
            "        - ticket.is_open: true",
            "        - ticket.is_open: [true",
            11,
            "",
            "invalid YAML",
            id="YAML syntax error",
        ),
        pytest.param(
            "Frustration {{ frustration.level }}.",
            "Frustration {% if frustration.level %}.",
            16,
            "rules[0].actions[1].internal_note",
            "template syntax",
            id="template syntax error on the template's line",
        ),
        pytest.param(
            "Frustration {{ frustration.level }}.",
            "Frustration {{ frustration.level | shout }}.",
            16,
            "rules[0].actions[1].internal_note",
            "template syntax: No filter named 'shout'",
            id="unknown filter on the template's line",
        ),
        pytest.param(
            "{{ customer.first_name }}",
            "{{ customr.first_name }}",
            14,
            "rules[0].actions[1].internal_note",
            "unknown name(s) customr; available:",
            id="unknown template name",
        ),
        pytest.param(
            "{{ customer.first_name }}",
            "{{ customer.frist_name }}",
            14,
            "rules[0].actions[1].internal_note",
            "'customer' has no attribute 'frist_name'; did you mean customer.first_name?",
            id="misspelt attribute named with the known ones",
        ),
        pytest.param(
            "{{ customer.first_name }}",
            "{{ strain.load }}",
            14,
            "rules[0].actions[1].internal_note",
            "'strain' is private to the agent: use it only in agent_prompt texts",
            id="private strain outside agent_prompt",
        ),
        pytest.param(
            "add_tags: [acme_calm]",
            "add_tags: [acme calm!]",
            13,
            "rules[0].actions[0].add_tags",
            "'acme calm!' is not a valid tag",
            id="bad tag",
        ),
        pytest.param(
            "add_tags: [acme_calm]",
            "send_email: boss@example.com",
            13,
            "rules[0].actions[0].send_email",
            "unknown action 'send_email' (known: add_tags,",
            id="unknown action",
        ),
        pytest.param(
            "add_tags: [acme_calm]",
            "set_priority: critical",
            13,
            "rules[0].actions[0].set_priority",
            "expects one of low, normal, high, urgent, got 'critical'",
            id="bad priority",
        ),
        pytest.param(
            "    cooldown: 2h\n",
            "    cooldwn: 2h\n",
            7,
            "rules[0].cooldwn",
            "unknown key 'cooldwn' (allowed:",
            id="unknown rule key",
        ),
        pytest.param(
            "description: A small pack for the loader tests.",
            "descripton: A small pack for the loader tests.",
            2,
            "descripton",
            "unknown key 'descripton' (allowed: pack, description, rules)",
            id="unknown pack key",
        ),
        pytest.param(
            "  - id: calm-tag",
            "  - id: Calm Tag",
            4,
            "rules[0].id",
            "expects a rule id",
            id="bad rule id",
        ),
        pytest.param(
            "    priority: 40",
            "    priority: true",
            6,
            "rules[0].priority",
            "expects a whole number from 0 to 1000",
            id="boolean priority",
        ),
        pytest.param(
            "    cooldown: 2h",
            "    cooldown: 2h\n    episode: handoff.when",
            8,
            "rules[0].episode",
            "expects a signal path, got 'handoff.when'",
            id="episode not a path",
        ),
        pytest.param(
            "        - ticket.is_open: true",
            "        - condition: {name: sla_at_risk, args: {ratio: high}}",
            10,
            "rules[0].when.all[0].condition.args.ratio",
            "expects float, got 'high'",
            id="named condition argument of the wrong type",
        ),
        pytest.param(
            "        - ticket.is_open: true",
            "        - condition: weekend",
            10,
            "rules[0].when.all[0].condition",
            "unknown condition 'weekend' (known: cue_in_latest, sla_at_risk",
            id="unknown named condition",
        ),
    ],
)
def test_each_mistake_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in BASE
    problems = _problems(tmp_path, BASE.replace(old, new, 1))
    assert len(problems) == 1, problems
    [problem] = problems
    assert (problem.line, problem.field) == (line, field), problem
    assert message in problem.message, problem
    assert str(problem).startswith(f"{tmp_path / 'acme.yaml'}:{line}")


def test_missing_when_and_actions(tmp_path: Path) -> None:
    text = "pack: acme\nrules:\n  - id: lonely\n    description: Nothing to do.\n"
    problems = _problems(tmp_path, text)
    by_field = {p.field: p for p in problems}
    assert by_field["rules[0]"].message.startswith("missing 'when'")
    assert by_field["rules[0]"].line == 3
    assert by_field["rules[0].actions"].message == "expects a non-empty list of actions"
    assert by_field["rules[0].actions"].line == 3


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("", "", "a rule pack is a mapping"),
        ("- a\n- b\n", "", "a rule pack is a mapping"),
        ("pack: acme\n", "rules", "expects a non-empty list of rules"),
        ("pack: acme\nrules: []\n", "rules", "expects a non-empty list of rules"),
        ("pack: acme\nrules: [3]\n", "rules[0]", "a rule is a mapping"),
        ("pack: ACME!\nrules: [3]\n", "pack", "expects a pack name"),
    ],
)
def test_pack_shape_problems(tmp_path: Path, text: str, field: str, message: str) -> None:
    problems = _problems(tmp_path, text)
    assert any(p.field == field and message in p.message for p in problems), problems


def test_several_problems_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = BASE.replace("cooldown: 2h", "cooldown: soon").replace("[acme_calm]", "[a b]")
    problems = _problems(tmp_path, text)
    assert [(p.line, p.field) for p in problems] == [
        (7, "rules[0].cooldown"),
        (13, "rules[0].actions[0].add_tags"),
    ]


def test_duplicate_rule_id_across_two_files(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(BASE, encoding="utf-8")
    second.write_text(BASE.replace("pack: acme", "pack: other"), encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        load_rule_packs([first, second], include_python_rules=False)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(second), 4, "id")
    assert problem.message == f"rule id 'calm-tag' already used at {first}:4"


def test_nothing_loads_when_any_file_is_bad(tmp_path: Path) -> None:
    (tmp_path / "a_good.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b_bad.yaml").write_text(
        BASE.replace("calm-tag", "other-tag").replace("{lt: 0.2}", "{lt: low}"), encoding="utf-8"
    )
    with pytest.raises(RulePackError) as caught:
        load_rule_packs([tmp_path], include_python_rules=False)
    assert {Path(p.file).name for p in caught.value.problems} == {"b_bad.yaml"}
    assert "1 problem(s) in rule packs" in str(caught.value)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("pack: café\n".encode("latin-1"))
    missing = tmp_path / "missing.yaml"
    with pytest.raises(RulePackError) as caught:
        load_rule_packs([latin, missing], include_python_rules=False)
    messages = {Path(p.file).name: p.message for p in caught.value.problems}
    assert messages["latin.yaml"] == "not UTF-8 text"
    assert messages["missing.yaml"].startswith("cannot read")


_DEFAULT_RULE_IDS = {
    "handoff-baton",
    "delay-acknowledgement",
    "frustration-tag-high",
    "frustration-tag-medium",
    "frustration-tag-low",
    "frustration-tag-clear",
    "risk-tags",
    "service-recovery",
    "service-recovery-priority",
    "agent-care-routing",
    "agent-care-break",
    "positive-moment",
}


def test_the_default_pack_loads_with_its_rules() -> None:
    loaded = load_rule_packs([DEFAULT_PACK], include_python_rules=False)
    assert {r.id for r in loaded.rules} >= _DEFAULT_RULE_IDS
    priorities = [r.priority for r in loaded.rules]
    assert priorities == sorted(priorities, reverse=True)


# -- properties: nothing but RulePackError, always located ---------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "ticket.is_open",
            "frustration.level",
            "cues.latest_kinds",
            "all",
            "any",
            "not",
            "condition",
            "gte",
            "in",
            "contains_any",
            "high",
            "{{ customer.name }}",
            "{% for x in range(10) %}{{ x }}{% endfor %}",
            "{{",
            "2h",
            "-3m",
            "1h30m",
        ]
    ),
)
_keys = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        ["pack", "rules", "id", "when", "actions", "all", "any", "not", "add_tags", "internal_note"]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=20,
)


def _check_outcome(text: str, file: str) -> None:
    try:
        rules, problems = parse_rule_pack(text, file, default_registry)
    except Exception as exc:  # pragma: no cover - a failure shows the exception
        raise AssertionError(f"parse_rule_pack raised {exc!r}") from exc
    for problem in problems:
        assert problem.file == file
        assert problem.message
    if not problems:
        assert rules


def _load_outcome(text: str) -> RuleSet | RulePackError:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_rule_packs([path], include_python_rules=False)
        except RulePackError as exc:
            error = exc
        assert error.problems
        for problem in error.problems:
            assert problem.file == str(path)
            assert problem.message
        return error


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_rules_or_problems(text: str) -> None:
    _check_outcome(text, "any.yaml")


@settings(max_examples=150, deadline=None)
@given(_values)
def test_any_yaml_document_gives_rules_or_problems(document: Any) -> None:
    _check_outcome(yaml.safe_dump(document, allow_unicode=True), "doc.yaml")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "priority", "cooldown", "episode", "when", "actions", "x"]),
            _values,
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_pack_shaped_documents_give_rules_or_problems(rules: list[dict[str, Any]]) -> None:
    _check_outcome(yaml.safe_dump({"pack": "fuzz", "rules": rules}), "shaped.yaml")


_DEFAULT_DATA = yaml.safe_load(DEFAULT_PACK.read_text(encoding="utf-8"))


def _locations(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_locations(value, (*here, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_locations(value, (*here, index)))
    return found


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    where = draw(st.sampled_from(_locations(data)[1:]))
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    last = where[-1]
    how = draw(st.sampled_from(["drop", "replace", "wrap", "nest", "duplicate"]))
    if how == "drop":
        del parent[last]
    elif how == "replace":
        parent[last] = draw(_values)
    elif how == "wrap":
        parent[last] = [parent[last]]
    elif how == "nest":
        parent[last] = {draw(_keys): parent[last]}
    elif isinstance(parent, list):
        parent.append(parent[last])
    else:
        parent[draw(_keys)] = parent[last]
    return data


@st.composite
def _mutated_default_pack(draw: st.DrawFn) -> str:
    data = yaml.safe_load(yaml.safe_dump(_DEFAULT_DATA))  # a deep copy
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not isinstance(data, dict | list) or not _locations(data)[1:]:
            break
        data = _mutate(data, draw)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_default_pack())
def test_mutations_of_the_default_pack_load_or_raise_rule_pack_error(text: str) -> None:
    outcome = _load_outcome(text)
    assert isinstance(outcome, RuleSet | RulePackError)


def test_an_unmutated_round_trip_of_the_default_pack_loads() -> None:
    outcome = _load_outcome(yaml.safe_dump(_DEFAULT_DATA, sort_keys=False))
    assert isinstance(outcome, RuleSet)
    assert {r.id for r in outcome.rules} >= _DEFAULT_RULE_IDS


# -- durations -------------------------------------------------------------------------------

_TEN_YEARS_MINUTES = 3650 * 1440


@given(st.integers(min_value=0, max_value=_TEN_YEARS_MINUTES))
def test_a_number_is_minutes(minutes: int) -> None:
    assert parse_duration(minutes) == timedelta(minutes=minutes)


@given(st.integers(min_value=0, max_value=_TEN_YEARS_MINUTES))
def test_format_then_parse_round_trips_whole_minutes(minutes: int) -> None:
    delta = timedelta(minutes=minutes)
    assert parse_duration(format_duration(delta)) == delta


@given(
    st.integers(0, 99), st.integers(0, 99), st.integers(0, 999), st.sampled_from(["", " ", "  "])
)
def test_units_add_up_in_any_case(days: int, hours: int, minutes: int, gap: str) -> None:
    text = f"{days}d{gap}{hours}H{gap}{minutes}m"
    assert parse_duration(text) == timedelta(days=days, hours=hours, minutes=minutes)


@given(
    st.one_of(
        st.integers(max_value=-1),
        st.floats(max_value=-1e-9, allow_infinity=True),
        st.integers(min_value=_TEN_YEARS_MINUTES + 1),
        st.floats(min_value=_TEN_YEARS_MINUTES + 1, allow_infinity=True),
        st.just(float("nan")),
        st.booleans(),
        st.none(),
        st.lists(st.integers(0, 9), max_size=2),
    )
)
def test_out_of_range_and_wrong_types_raise_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(value)


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        result = parse_duration(text)
    except ValueError as exc:
        message = str(exc)
        result = None
    if result is None:
        assert "duration" in message
    else:
        assert timedelta(0) <= result <= timedelta(days=3650)
        assert not math.isnan(result.total_seconds())


def test_duration_examples() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration("45s") == timedelta(seconds=45)
    assert parse_duration(1.5) == timedelta(seconds=90)
    assert parse_duration("3650d") == timedelta(days=3650)
    assert format_duration(timedelta(days=2, hours=3)) == "2d 3h"
    assert format_duration(timedelta(seconds=20)) == "0m"
