"""Conditions: ``all`` / ``any`` / ``not`` over typed path tests and named conditions.

Forms a rule pack may use::

    when:
      all:
        - friction.waiting: true                    # shorthand for {is: true} / {eq: ...}
        - friction.sla_used_ratio: {gte: 0.8}        # one or more operators, all must hold
        - any:
            - cues.kinds: {contains_any: [threat_cancel, threat_legal]}
            - not: {customer.tier: {in: [standard]}}
        - condition: sla_at_risk                    # a registered Python condition
        - condition: {name: sla_at_risk, args: {ratio: 0.9}}

Compilation checks every path, operator and operand against the registry and returns a
closure; any problem is reported with its location and nothing is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from empathy_firewall.engine.registry import Registry
from empathy_firewall.engine.types import PathSpec, Value, ValueType
from empathy_firewall.signals.enrich import Signals

__all__ = ["CompiledCondition", "ConditionError", "PathView", "compile_condition"]

Loc = tuple[str | int, ...]
_MAX_DEPTH = 32


class PathView:
    """Lazily reads path values from :class:`Signals`, each at most once."""

    __slots__ = ("_cache", "_paths", "signals")

    def __init__(self, signals: Signals, paths: dict[str, PathSpec]) -> None:
        self.signals = signals
        self._paths = paths
        self._cache: dict[str, Value] = {}

    def get(self, path: str) -> Value:
        """The value of a registered path."""
        cache = self._cache
        if path in cache:
            return cache[path]
        value = cache[path] = self._paths[path].get(self.signals)
        return value


Test = Callable[[PathView], bool]


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A checked condition: ``test(view)`` and the paths it reads (for evidence)."""

    test: Test
    paths: tuple[str, ...]


class ConditionError(ValueError):
    """A problem at a location inside the condition tree; ``others`` holds the further
    problems found in the same tree (every bad item of an ``all``/``any`` list)."""

    def __init__(self, loc: Loc, message: str) -> None:
        self.loc = loc
        self.others: list[ConditionError] = []
        super().__init__(message)

    @property
    def every(self) -> list[ConditionError]:
        """This problem and the others."""
        return [self, *self.others]


def compile_condition(node: object, registry: Registry, loc: Loc = ()) -> CompiledCondition:
    """Compile a condition tree; raise :class:`ConditionError` (with ``others``) listing
    every problem found."""
    paths: list[str] = []
    test = _compile(node, registry, loc, paths, 0)
    return CompiledCondition(test, tuple(dict.fromkeys(paths)))


def _single_key(node: object, loc: Loc) -> tuple[str, object]:
    if not isinstance(node, dict) or len(node) != 1:
        raise ConditionError(
            loc,
            "a condition is a mapping with exactly one key: all, any, not, condition, "
            "or a signal path",
        )
    key, value = next(iter(node.items()))
    if not isinstance(key, str):
        raise ConditionError(loc, f"condition keys are strings, got {key!r}")
    return key, value


def _compile(node: object, reg: Registry, loc: Loc, paths: list[str], depth: int) -> Test:
    if depth > _MAX_DEPTH:
        raise ConditionError(loc, f"conditions nest deeper than {_MAX_DEPTH} levels")
    key, value = _single_key(node, loc)
    here = (*loc, key)
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ConditionError(here, f"'{key}' expects a non-empty list of conditions")
        compiled: list[Test] = []
        errors: list[ConditionError] = []
        for i, item in enumerate(value):
            try:
                compiled.append(_compile(item, reg, (*here, i), paths, depth + 1))
            except ConditionError as exc:  # go on: report every bad item at once
                errors.extend(exc.every)
        if errors:
            first = errors[0]
            first.others = errors[1:]
            raise first
        parts = tuple(compiled)
        if key == "all":

            def all_of(view: PathView) -> bool:
                for part in parts:  # noqa: SIM110 - no generator per call on the hot path
                    if not part(view):
                        return False
                return True

            return all_of

        def any_of(view: PathView) -> bool:
            for part in parts:  # noqa: SIM110 - no generator per call on the hot path
                if part(view):
                    return True
            return False

        return any_of
    if key == "not":
        inner = _compile(value, reg, here, paths, depth + 1)
        return lambda view: not inner(view)
    if key == "condition":
        return _named(value, reg, here)
    return _leaf(key, value, reg, here, paths)


def _named(value: object, reg: Registry, loc: Loc) -> Test:
    args: dict[str, Any] = {}
    if isinstance(value, dict):
        extra = set(value) - {"name", "args"}
        if extra or "name" not in value:
            raise ConditionError(loc, "expects {name: ..., args: {...}}")
        name = value["name"]
        raw_args = value.get("args", {})
        if not isinstance(raw_args, dict):
            raise ConditionError((*loc, "args"), "args must be a mapping")
        args = dict(raw_args)
    else:
        name = value
    if not isinstance(name, str):
        raise ConditionError(loc, f"a condition name is a string, got {name!r}")
    spec = reg.conditions.get(name)
    if spec is None:
        known = ", ".join(sorted(reg.conditions)) or "none registered"
        raise ConditionError(loc, f"unknown condition {name!r} (known: {known})")
    for arg, arg_value in args.items():
        expected = spec.params.get(arg)
        if expected is None:
            raise ConditionError(
                (*loc, "args", arg), f"condition {name!r} takes no argument {arg!r}"
            )
        if not _fits(arg_value, expected):
            raise ConditionError(
                (*loc, "args", arg), f"expects {expected.__name__}, got {arg_value!r}"
            )
    fn = spec.fn
    return lambda view: bool(fn(view.signals, **args))


def _fits(value: object, expected: type) -> bool:
    if expected is object:
        return True
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _leaf(path: str, value: object, reg: Registry, loc: Loc, paths: list[str]) -> Test:
    spec = reg.paths.get(path)
    if spec is None:
        raise ConditionError(loc, f"unknown signal path {path!r}{_suggest(path, reg)}")
    if not isinstance(value, dict):
        value = {"is" if spec.type is ValueType.BOOLEAN else "eq": value}
    if not value:
        raise ConditionError(loc, "expects at least one operator, e.g. {gte: 3}")
    checks: list[tuple[Callable[[Any, Any], bool], Any, bool]] = []
    for op_name, operand in value.items():
        op = reg.operators.get(op_name) if isinstance(op_name, str) else None
        if op is None:
            known = ", ".join(sorted(reg.operators))
            raise ConditionError((*loc, str(op_name)), f"unknown operator {op_name!r} ({known})")
        if spec.type not in op.types:
            raise ConditionError(
                (*loc, op_name), f"operator {op_name!r} does not apply to {path} ({spec.type})"
            )
        try:
            parsed = op.parse(operand, spec)
        except ValueError as exc:
            raise ConditionError((*loc, op_name), str(exc)) from None
        checks.append((op.test, parsed, op_name == "exists"))
    paths.append(path)

    def test(view: PathView) -> bool:
        actual = view.get(path)
        for fn, operand, is_exists in checks:
            if is_exists:
                if (actual is not None) is not operand:
                    return False
            elif actual is None or not fn(actual, operand):
                return False
        return True

    return test


def _suggest(path: str, reg: Registry) -> str:
    group = path.split(".", 1)[0]
    near = sorted(p for p in reg.paths if p.startswith(group + "."))
    if near:
        return f"; paths under '{group}': {', '.join(near)}"
    groups = sorted({p.split(".", 1)[0] for p in reg.paths})
    return f"; known groups: {', '.join(groups)}"
