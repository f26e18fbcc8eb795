"""Note templates: a sandbox admins write in and customers' words flow through.

The sandbox must hold against attribute tricks and mutation, refuse unbounded ranges,
render customers' words as text (never as template source), and cap the output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _engine_support import comment, load_pack, stub_context, ticket

from empathy_firewall.engine import builtins as _builtins  # noqa: F401  (registers paths)
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.registry import default_registry
from empathy_firewall.engine.template_context import sample_context
from empathy_firewall.engine.templates import (
    MAX_OUTPUT_CHARS,
    CompiledTemplate,
    TemplateProblem,
    compile_template,
)
from empathy_firewall.models import Role


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return sample_context(default_registry)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ticket.__class__ }}",
        "{{ ticket.subject.__class__.__mro__ }}",
        "{{ customer.name.__class__.__base__.__subclasses__() }}",
        "{{ quotes.__class__.__init__.__globals__ }}",
        "{{ ticket.items.__self__ }}",
        "{{ rule.__getitem__.__self__ }}",
        "{{ '{0.__class__}'.format(ticket) }}",
        "{{ quotes.append(1) }}",
        "{% set x = quotes.pop() %}{{ x }}",
        "{{ ticket.update({'id': 1}) }}",
        "{{ recap.explained.clear() }}",
    ],
)
def test_attribute_escapes_and_mutation_are_refused(source: str, sample: dict[str, Any]) -> None:
    with pytest.raises(TemplateProblem):
        compile_template(source, sample)


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10**9) %}{{ i }}{% endfor %}",
        "{{ range(10**9) | list | length }}",
        "{{ lipsum() }}",
        "{{ cycler(1, 2) }}",
        "{{ config }}",
        "{{ request }}",
        "{{ __builtins__ }}",
    ],
)
def test_globals_are_gone_so_range_and_friends_are_refused(
    source: str, sample: dict[str, Any]
) -> None:
    with pytest.raises(TemplateProblem, match=r"unknown name|failed to render"):
        compile_template(source, sample)


def test_output_is_capped(sample: dict[str, Any]) -> None:
    template = compile_template("{{ ticket.subject }}", sample)
    text = template.render({**sample, "ticket": {"subject": "word " * 5000}})
    assert len(text) == MAX_OUTPUT_CHARS
    assert text.endswith("…")
    short = template.render({**sample, "ticket": {"subject": "  Refund  "}})
    assert short == "Refund"


def test_a_loop_is_capped_in_output_too(sample: dict[str, Any]) -> None:
    template = compile_template(
        "{% for q in quotes %}{% for s in recap.explained %}{{ q.text }} {{ s }}{% endfor %}"
        "{% endfor %}",
        sample,
    )
    many = {
        **sample,
        "quotes": [{"text": "x" * 100, "cue": "waiting", "comment_id": "1"}] * 100,
        "recap": {"explained": ["y" * 100] * 100, "tried": [], "provided": []},
    }
    assert len(template.render(many)) == MAX_OUTPUT_CHARS


def test_syntax_errors_carry_the_template_line(sample: dict[str, Any]) -> None:
    with pytest.raises(TemplateProblem) as caught:
        compile_template("line one\nline two {% if %}\n", sample)
    assert caught.value.line == 2
    assert str(caught.value).startswith("template syntax")


def test_unknown_filter_is_a_template_problem(sample: dict[str, Any]) -> None:
    with pytest.raises(TemplateProblem, match="No filter named 'shout'"):
        compile_template("{{ ticket.subject | shout }}", sample)
    with pytest.raises(TemplateProblem, match="No test named 'shouty'") as caught:
        compile_template("one\n{{ ticket.subject is shouty }}", sample)
    assert caught.value.line == 2


def test_strain_only_in_private_texts(sample: dict[str, Any]) -> None:
    with pytest.raises(TemplateProblem, match="'strain' is private"):
        compile_template("{{ strain.load }}", sample)
    private = compile_template("{{ strain.hard_interactions }}", sample, private=True)
    assert private.render(sample) == str(sample["strain"]["hard_interactions"])


@pytest.mark.parametrize("source", ["", "   \n", None, 42, ["a"]])
def test_empty_or_non_text_templates(source: object, sample: dict[str, Any]) -> None:
    with pytest.raises(TemplateProblem, match="expects a non-empty text template"):
        compile_template(source, sample)


def test_filters() -> None:
    def render(source: str, **values: Any) -> str:
        return CompiledTemplate(source).render({"rule": values})

    assert render("{{ rule.v | minutes }}", v=15) == "15 min"
    assert render("{{ rule.v | minutes }}", v=260) == "4 h 20 min"
    assert render("{{ rule.v | minutes }}", v=3060) == "2 d 3 h"
    assert render("{{ rule.v | minutes }}", v=None) == "an unknown time"
    assert render("{{ rule.v | money('EUR') }}", v=1840) == "1,840 EUR"
    assert render("{{ rule.v | money('EUR') }}", v=12.5) == "12.5 EUR"
    assert render("{{ rule.v | percent }}", v=0.75) == "75%"
    assert render("{{ rule.v | signed }}", v=-0.5) == "-0.50"
    assert render("{{ rule.v | signed }}", v=True) == "-"


# -- customers' words are values, never template source ------------------------------------

_ECHO_PACK = """\
pack: echo
rules:
  - id: echo
    when: {sentiment.customer_messages: {gte: 1}}
    actions:
      - internal_note: |
          Said:
          {% for s in recap.explained %}
          - {{ s }}
          {% endfor %}
          {% for q in quotes %}
          > {{ q.text }}
          {% endfor %}
          Subject: {{ ticket.subject }}
"""


@pytest.mark.parametrize(
    "payload",
    [
        "{{ 7*7 }}",
        "{% for i in range(3) %}x{% endfor %}",
        "{{ lipsum() }}{{ customer['name'] }}",
        "{# comment #} <script>alert(1)</script>",
    ],
)
def test_customer_text_with_template_syntax_is_rendered_literally(
    tmp_path: Path, payload: str
) -> None:
    rules = load_pack(tmp_path, _ECHO_PACK)
    text = f"I paid twice {payload} and nobody has answered."
    item = ticket(
        [comment("1", 30, text)],
        subject=f"Refund {payload}",
    )
    plan = Engine(rules).evaluate(item, stub_context({text: (-0.6, 0.6)}))
    [note] = plan.of_kind("internal_note")
    body = note.action.body  # type: ignore[union-attr]
    assert f"- I paid twice {payload} and nobody has answered." in body
    assert f"Subject: Refund {payload}" in body
    assert "49" not in body
    assert "xxx" not in body


def test_agent_words_are_not_quoted_as_customer_words(tmp_path: Path) -> None:
    rules = load_pack(tmp_path, _ECHO_PACK)
    item = ticket(
        [
            comment("1", 60, "Hello, where is my parcel?"),
            comment("2", 30, "Internal: {{ 7*7 }}", role=Role.AGENT, public=False),
        ]
    )
    plan = Engine(rules).evaluate(item, stub_context())
    [note] = plan.of_kind("internal_note")
    assert "Internal" not in note.action.body  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "source",
    ["{{ 2 ** 1000 }}", "{{ 10 ** 100 ** 2 }}", '{{ "x" * 1000000000 }}', "{{ [1] * 100000 }}"],
)
def test_arithmetic_that_could_hang_or_exhaust_memory_is_refused(
    source: str, sample: dict[str, Any]
) -> None:
    with pytest.raises(TemplateProblem):
        compile_template(source, sample)


def test_ordinary_arithmetic_still_works(sample: dict[str, Any]) -> None:
    assert compile_template("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 3 * 4 }}", sample).render(sample) == (
        "1024 ababab 12"
    )
