"""The engine's extension points, as plain typed records.

A :class:`PathSpec` names a value rules can test (``friction.waiting_minutes``), an
:class:`OperatorSpec` a typed comparison (``gte``), a :class:`ConditionSpec` a named
Python predicate, and a :class:`PythonRule` a rule written in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from empathy_firewall.actions import Action
from empathy_firewall.signals.enrich import Signals

__all__ = [
    "ConditionFn",
    "ConditionSpec",
    "OperatorSpec",
    "PathSpec",
    "PythonRule",
    "RuleFn",
    "Value",
    "ValueType",
]

#: a value a path yields
Value = float | int | bool | str | tuple[str, ...] | None


class ValueType(StrEnum):
    """The types a path can have; operators declare which they accept."""

    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    STRING = "string"
    STRINGS = "list of strings"


@dataclass(frozen=True, slots=True)
class PathSpec:
    """A documented value that rule conditions may test."""

    path: str
    type: ValueType
    doc: str
    get: Callable[[Signals], Value]
    unit: str = ""
    nullable: bool = False
    private: bool = False
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A typed comparison. ``parse`` checks and converts the rule's operand at load time
    (raising ``ValueError`` with a message); ``test`` compares at evaluation time and is
    only called with a non-null actual value."""

    name: str
    types: frozenset[ValueType]
    doc: str
    parse: Callable[[object, PathSpec], Any]
    test: Callable[[Any, Any], bool]


ConditionFn = Callable[..., bool]


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """A named predicate written in Python: ``fn(signals, **args) -> bool``."""

    name: str
    doc: str
    fn: ConditionFn
    params: Mapping[str, type] = field(default_factory=dict)


RuleFn = Callable[[Signals], Iterable[Action] | None]


@dataclass(frozen=True, slots=True)
class PythonRule:
    """A rule written in Python: returns the actions to take, or nothing."""

    id: str
    pack: str
    description: str
    fn: RuleFn
    priority: int = 50
    cooldown: timedelta | None = None
    once_per_ticket: bool = False
