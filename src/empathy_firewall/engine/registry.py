"""The registry of paths, operators, named conditions and Python rules.

The built-ins are registered with the same decorators a user calls::

    from empathy_firewall.engine import registry

    @registry.condition("weekend")
    def weekend(signals):
        return signals.now.weekday() >= 5

    @registry.rule("vip-hello", pack="acme")
    def vip_hello(signals):
        if signals.memory.tier == "platinum":
            return [AddTags(tags=("vip",))]
        return None

Rule packs are validated against a registry, so a path or condition registered here is
usable from YAML (``- condition: weekend``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from empathy_firewall.engine.types import (
    ConditionFn,
    ConditionSpec,
    OperatorSpec,
    PathSpec,
    PythonRule,
    RuleFn,
    Value,
    ValueType,
)
from empathy_firewall.signals.enrich import Signals

__all__ = ["Registry", "condition", "default_registry", "operator", "rule", "signal_path"]

F = TypeVar("F", bound=Callable[..., Any])


class Registry:
    """Holds what rule packs may refer to. Use :meth:`copy` to extend it in isolation."""

    def __init__(self) -> None:
        self.paths: dict[str, PathSpec] = {}
        self.operators: dict[str, OperatorSpec] = {}
        self.conditions: dict[str, ConditionSpec] = {}
        self.rules: dict[str, PythonRule] = {}
        #: incremented on every registration, so cached engines know to reload
        self.version = 0

    def copy(self) -> Registry:
        """A new registry holding everything this one holds."""
        other = Registry()
        other.paths = dict(self.paths)
        other.operators = dict(self.operators)
        other.conditions = dict(self.conditions)
        other.rules = dict(self.rules)
        other.version = self.version
        return other

    @staticmethod
    def _unique(table: dict[str, Any], name: str, what: str) -> None:
        if name in table:
            raise ValueError(f"{what} {name!r} is already registered")

    def signal_path(
        self,
        path: str,
        type: ValueType,
        doc: str,
        *,
        unit: str = "",
        nullable: bool = False,
        private: bool = False,
        choices: tuple[str, ...] | None = None,
    ) -> Callable[[Callable[[Signals], Value]], Callable[[Signals], Value]]:
        """Register a path; decorate its getter ``fn(signals) -> value``."""

        def register(getter: Callable[[Signals], Value]) -> Callable[[Signals], Value]:
            self._unique(self.paths, path, "path")
            self.version += 1
            self.paths[path] = PathSpec(path, type, doc, getter, unit, nullable, private, choices)
            return getter

        return register

    def operator(
        self,
        name: str,
        types: frozenset[ValueType],
        doc: str,
        parse: Callable[[object, PathSpec], Any],
    ) -> Callable[[Callable[[Any, Any], bool]], Callable[[Any, Any], bool]]:
        """Register an operator; decorate its ``test(actual, expected) -> bool``."""

        def register(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
            self._unique(self.operators, name, "operator")
            self.version += 1
            self.operators[name] = OperatorSpec(name, types, doc, parse, test)
            return test

        return register

    def condition(self, name: str) -> Callable[[ConditionFn], ConditionFn]:
        """Register a named condition ``fn(signals, **args) -> bool``.

        Keyword parameters after ``signals`` become the arguments a rule pack may pass;
        their annotations (``int``, ``float``, ``str``, ``bool``) are checked at load time.
        """

        def register(fn: ConditionFn) -> ConditionFn:
            self._unique(self.conditions, name, "condition")
            params: dict[str, type] = {}
            hints = inspect.get_annotations(fn, eval_str=True)
            for param in list(inspect.signature(fn).parameters)[1:]:
                hint = hints.get(param, object)
                params[param] = hint if isinstance(hint, type) else object
            doc = inspect.getdoc(fn) or ""
            self.version += 1
            self.conditions[name] = ConditionSpec(name, doc, fn, params)
            return fn

        return register

    def rule(
        self,
        rule_id: str,
        *,
        pack: str = "python",
        priority: int = 50,
        cooldown: timedelta | None = None,
        once_per_ticket: bool = False,
    ) -> Callable[[RuleFn], RuleFn]:
        """Register a Python rule ``fn(signals) -> actions or None``; its docstring explains it."""

        def register(fn: RuleFn) -> RuleFn:
            self._unique(self.rules, rule_id, "rule")
            doc = (inspect.getdoc(fn) or rule_id).splitlines()[0]
            self.version += 1
            self.rules[rule_id] = PythonRule(
                rule_id, pack, doc, fn, priority, cooldown, once_per_ticket
            )
            return fn

        return register


#: the registry rule packs are validated against unless another is given
default_registry = Registry()
signal_path = default_registry.signal_path
operator = default_registry.operator
condition = default_registry.condition
rule = default_registry.rule
