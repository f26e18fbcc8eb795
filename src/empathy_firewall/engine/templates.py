"""Note and reply texts: Jinja2 templates rendered in a sandbox.

Admins write the templates and customers' words flow into them, so:

- templates run in Jinja2's immutable sandbox: no attribute tricks, no code execution,
  no mutation, ranges capped;
- the context holds only plain dicts, lists, strings and numbers built for the purpose,
  never live objects, so there is nothing to reach outside it;
- customers' words are values, never template source, so they cannot inject markup;
- every name a template uses is checked against the context at load time, and each
  template is test-rendered against a sample context, so typos fail at load, not at 3 a.m.;
- output is capped in length.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from empathy_firewall.engine.units import duration_words, hours_words

__all__ = [
    "PRIVATE_TEMPLATE_NAMES",
    "TEMPLATE_NAMES",
    "CompiledTemplate",
    "TemplateProblem",
    "compile_template",
]

#: top-level names available to templates (see docs/rule-packs.md)
TEMPLATE_NAMES = frozenset(
    {
        "ticket",
        "customer",
        "agent",
        "sentiment",
        "frustration",
        "cues",
        "friction",
        "handoff",
        "recovery",
        "quotes",
        "recap",
        "expectation",
        "reply",
        "routing",
        "rule",
    }
)
#: extra names only private, agent-only texts may use: the agent's own strain figures
PRIVATE_TEMPLATE_NAMES = frozenset({"strain"})
MAX_OUTPUT_CHARS = 6000


class TemplateProblem(ValueError):
    """A template that cannot be used; ``line`` is relative to the template's first line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


def _minutes(value: object) -> str:
    """Format minutes as ``2 d 3 h``, ``4 h 20 min`` or ``15 min``."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return "an unknown time"
    total = max(0, round(value))
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _duration(value: object, language: str = "en") -> str:
    """Minutes in plain words for customers, in their language: ``40 minutes``,
    ``about 3 hours``, ``2 days`` (``duration("es")``: ``unas 3 horas``)."""
    return duration_words(value, language)


def _hours(value: object, language: str = "en") -> str:
    """A whole number of hours, at least 1, in the customer's language."""
    return hours_words(value, language)


def _money(value: object, currency: str = "") -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {currency}".strip()


def _percent(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{round(value * 100)}%"


def _signed(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:+.2f}"


def _when(value: object) -> str:
    if not isinstance(value, str):
        return "-"
    try:
        return datetime.fromisoformat(value).strftime("%a %d %b %H:%M %Z").strip()
    except ValueError:
        return value


def _strict(fn: Callable[..., str]) -> Callable[..., str]:
    """Make a filter fail on an undefined value, as ``{{ typo }}`` does, instead of
    quietly formatting it (``{{ friction.wait_minutes | minutes }}`` must not lint clean)."""

    @functools.wraps(fn)
    def checked(value: object, *args: object) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        return fn(value, *args)

    return checked


_MAX_EXPONENT = 64
_MAX_REPEAT = 10_000


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on ``**`` and ``*``.

    Intercepting them also stops Jinja from folding constants at compile time, so
    ``{{ 9**9**9 }}`` in a pack cannot hang ``rules lint``, and ``{{ "x" * 10**9 }}``
    cannot exhaust memory while rendering.
    """

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
                raise SecurityError(f"exponent above {_MAX_EXPONENT} is not allowed")
            return left**right
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                repeats = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if repeats and (count > _MAX_REPEAT or len(seq) * count > MAX_OUTPUT_CHARS * 10):
                    raise SecurityError("repetition too large")
            return left * right
        return super().call_binop(context, operator, left, right)


def _environment() -> ImmutableSandboxedEnvironment:
    env = _BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals.clear()
    env.filters.update(
        {
            "minutes": _strict(_minutes),
            "duration": _strict(_duration),
            "hours": _strict(_hours),
            "money": _strict(_money),
            "percent": _strict(_percent),
            "signed": _strict(_signed),
            "when": _strict(_when),
        }
    )
    return env


_ENV = _environment()


class CompiledTemplate:
    """A checked template, ready to render against a context of plain values."""

    def __init__(self, source: str, names: frozenset[str] = TEMPLATE_NAMES) -> None:
        self.source = source
        #: the top-level context names the template reads
        self.names = names
        self._template = _ENV.from_string(source)

    def render(self, context: Mapping[str, Any]) -> str:
        """Render; raises :class:`TemplateProblem` on any template error."""
        try:
            text = self._template.render(dict(context))
        except (TemplateError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
            raise TemplateProblem(f"template failed to render: {exc}") from None
        text = text.strip()
        if len(text) > MAX_OUTPUT_CHARS:
            text = text[: MAX_OUTPUT_CHARS - 1].rstrip() + "…"
        return text


def compile_template(
    source: object, sample: Mapping[str, Any], *, private: bool = False
) -> CompiledTemplate:
    """Compile and check a template; raise :class:`TemplateProblem` saying what is wrong.

    ``sample`` is a representative context: the template is rendered against it once, so
    a misspelt attribute (``friction.wait_minutes``) is caught now. Only ``private``
    texts (seen by one agent alone) may use the agent's strain figures.
    """
    if not isinstance(source, str) or not source.strip():
        raise TemplateProblem("expects a non-empty text template")
    try:
        parsed = _ENV.parse(source)
        # compiles the template, so unknown filters and tests surface here
        used = meta.find_undeclared_variables(parsed)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax: {exc.message}", exc.lineno) from None
    names = TEMPLATE_NAMES | PRIVATE_TEMPLATE_NAMES if private else TEMPLATE_NAMES
    if not private and used & PRIVATE_TEMPLATE_NAMES:
        raise TemplateProblem("'strain' is private to the agent: use it only in agent_prompt texts")
    unknown = sorted(used - names)
    if unknown:
        allowed = ", ".join(sorted(names))
        raise TemplateProblem(f"unknown name(s) {', '.join(unknown)}; available: {allowed}")
    missing = _missing_attributes(parsed, sample)
    if missing:
        raise TemplateProblem("; ".join(missing))
    try:
        compiled = CompiledTemplate(source, frozenset(used))
    except TemplateSyntaxError as exc:  # unknown filters and tests surface when compiling
        raise TemplateProblem(f"template: {exc.message}", exc.lineno) from None
    compiled.render(sample)
    return compiled


def _missing_attributes(parsed: nodes.Template, sample: Mapping[str, Any]) -> list[str]:
    """``ticket.subjct``-style typos on the context's names, with the known attributes."""
    import difflib

    found: list[str] = []
    for node in parsed.find_all(nodes.Getattr):
        base = node.node
        if not isinstance(base, nodes.Name) or base.ctx != "load":
            continue
        value = sample.get(base.name)
        if not isinstance(value, Mapping) or node.attr in value:
            continue
        known = sorted(str(k) for k in value)
        close = difflib.get_close_matches(node.attr, known, n=1)
        hint = f"; did you mean {base.name}.{close[0]}?" if close else ""
        message = (
            f"{base.name}.{node.attr}: {base.name!r} has no attribute {node.attr!r}{hint} "
            f"(known: {', '.join(known)})"
        )
        if message not in found:
            found.append(message)
    return found
