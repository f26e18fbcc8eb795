"""Compiled rules and their actions, ready for evaluation.

An :class:`ActionSpec` is one action line of a rule pack, checked and with its templates
compiled; :meth:`ActionSpec.produce` turns it into an :data:`~empathy_firewall.actions.Action`
for one ticket. A :class:`Rule` is a whole checked rule; a :class:`RuleSet` the rules of
all loaded packs in evaluation order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from empathy_firewall.actions import (
    Action,
    AddTags,
    AgentPrompt,
    ApplyMacro,
    DraftReply,
    InternalNote,
    PublicReply,
    RemoveTags,
    RoutingSuggestion,
    SetPriority,
)
from empathy_firewall.engine.conditions import CompiledCondition
from empathy_firewall.engine.languages import customer_language
from empathy_firewall.engine.registry import Registry
from empathy_firewall.engine.templates import CompiledTemplate, TemplateProblem, compile_template
from empathy_firewall.engine.types import PythonRule
from empathy_firewall.models import Priority
from empathy_firewall.signals.enrich import Signals

__all__ = ["ACTION_KINDS", "ActionSpec", "Rule", "RuleSet", "compile_action"]

_TAG = re.compile(r"^[\w:./-]{1,80}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}$")
ACTION_KINDS = (
    "add_tags",
    "remove_tags",
    "internal_note",
    "draft_reply",
    "public_reply",
    "apply_macro",
    "set_priority",
    "routing_suggestion",
    "agent_prompt",
)
_ROUTING_KEYS = frozenset({"reason", "prefer_group", "prefer_headroom", "avoid_assignee"})


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One checked action of a rule."""

    kind: str
    static: Action | None = None
    template: CompiledTemplate | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    by_language: Mapping[str, CompiledTemplate] = field(default_factory=dict)
    """Customer-facing texts given per language: the one in the customer's language is
    used, and a customer whose language has none gets no text at all."""

    @property
    def needs_context(self) -> bool:
        """True when producing the action renders a template."""
        return self.template is not None or bool(self.by_language)

    @property
    def names(self) -> frozenset[str]:
        """The top-level context names the action's templates read."""
        found = frozenset().union(*(t.names for t in self.by_language.values()))
        return found | (self.template.names if self.template is not None else frozenset())

    def produce(self, signals: Signals, context: Mapping[str, Any]) -> Action | None:
        """The concrete action for one ticket, or None if it does not apply to it."""
        if self.static is not None:
            return self.static
        template = self.template
        if self.by_language:
            template = self.by_language.get(customer_language(signals) or "")
            if template is None:
                return None
        assert template is not None
        text = template.render(context)
        if not text:
            return None
        if self.kind == "internal_note":
            return InternalNote(body=text)
        if self.kind == "draft_reply":
            return DraftReply(body=text)
        if self.kind == "public_reply":
            return PublicReply(body=text)
        if self.kind == "agent_prompt":
            assignee = signals.ticket.assignee
            return AgentPrompt(agent_id=assignee.id, body=text) if assignee else None
        assert self.kind == "routing_suggestion"
        avoid: tuple[str, ...] = ()
        if self.options.get("avoid_assignee", True) and signals.ticket.assignee is not None:
            avoid = (signals.ticket.assignee.id,)
        prefer: tuple[str, ...] = ()
        if self.options.get("prefer_headroom", True):
            if signals.teammates:
                prefer = tuple(agent.id for agent in signals.teammates)
            else:
                prefer = tuple(key.rsplit(":", 1)[-1] for key in signals.headroom)
            prefer = tuple(a for a in prefer if not avoid or a != avoid[0])
        return RoutingSuggestion(
            reason=text,
            avoid_agent_ids=avoid,
            prefer_agent_ids=prefer,
            prefer_group=self.options.get("prefer_group"),
        )


def _tags(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError("expects a tag or a non-empty list of tags")
    tags = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise ValueError(
                f"{tag!r} is not a valid tag (letters, digits, _ : . / -, at most 80 chars)"
            )
        tags.append(tag)
    return tuple(dict.fromkeys(tags))


def _by_language(value: Mapping[Any, Any], sample: Mapping[str, Any]) -> dict[str, Any]:
    if not value:
        raise ValueError("expects a text, or texts by language ({en: ..., es: ...})")
    out = {}
    for code, text in value.items():
        if not isinstance(code, str) or not _LANGUAGE.match(code):
            raise ValueError(f"{code!r} is not a language code (two or three letters, e.g. es)")
        try:
            out[code.lower()] = compile_template(
                text, {**sample, "reply": {**sample["reply"], "language": code.lower()}}
            )
        except TemplateProblem as exc:
            raise TemplateProblem(f"{code}: {exc}", exc.line) from None
    return out


def compile_action(kind: str, value: object, sample: Mapping[str, Any]) -> ActionSpec:
    """Check one action line; raise ``ValueError`` (or :class:`TemplateProblem`) if invalid."""
    if kind == "add_tags":
        return ActionSpec(kind, static=AddTags(tags=_tags(value)))
    if kind == "remove_tags":
        return ActionSpec(kind, static=RemoveTags(tags=_tags(value)))
    if kind == "apply_macro":
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise ValueError("expects a macro name or id")
        return ActionSpec(kind, static=ApplyMacro(macro=str(value).strip()))
    if kind == "set_priority":
        choices = ", ".join(p.value for p in Priority)
        if not isinstance(value, str) or value not in {p.value for p in Priority}:
            raise ValueError(f"expects one of {choices}, got {value!r}")
        return ActionSpec(kind, static=SetPriority(priority=Priority(value)))
    if kind in ("draft_reply", "public_reply") and isinstance(value, dict):
        return ActionSpec(kind, by_language=_by_language(value, sample))
    if kind in ("internal_note", "draft_reply", "public_reply", "agent_prompt"):
        private = kind == "agent_prompt"
        return ActionSpec(kind, template=compile_template(value, sample, private=private))
    if kind == "routing_suggestion":
        if isinstance(value, str):
            value = {"reason": value}
        if not isinstance(value, dict) or "reason" not in value:
            raise ValueError(
                "expects {reason: text, prefer_group?, prefer_headroom?, avoid_assignee?}"
            )
        extra = set(value) - _ROUTING_KEYS
        if extra:
            raise ValueError(f"unknown key(s) {', '.join(sorted(map(str, extra)))}")
        for flag in ("prefer_headroom", "avoid_assignee"):
            if flag in value and not isinstance(value[flag], bool):
                raise ValueError(f"{flag} expects true or false")
        group = value.get("prefer_group")
        if group is not None and not isinstance(group, str):
            raise ValueError("prefer_group expects a group name")
        options = {k: v for k, v in value.items() if k != "reason"}
        return ActionSpec(kind, template=compile_template(value["reason"], sample), options=options)
    raise ValueError(f"unknown action {kind!r} (known: {', '.join(ACTION_KINDS)})")


@dataclass(frozen=True, slots=True)
class Rule:
    """A checked rule from a pack (or a registered Python rule)."""

    id: str
    pack: str
    description: str
    priority: int
    enabled: bool
    cooldown: timedelta | None
    once_per_ticket: bool
    episode: str | None
    condition: CompiledCondition | None
    actions: tuple[ActionSpec, ...]
    source: str
    line: int | None
    python: PythonRule | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    cooldown_per: str = "ticket"
    """Whose history gates the rule: ``ticket`` (default), ``agent`` or ``customer``."""

    @property
    def disable_hint(self) -> str:
        """How an admin switches this rule off."""
        if self.python is not None:
            return f"unregister Python rule '{self.id}'"
        file = self.source.replace("\\", "/").rsplit("/", 1)[-1]
        return f"set `enabled: false` on rule '{self.id}' of pack '{self.pack}' ({file})"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """All loaded rules, in evaluation order: priority (high first), then pack, then id."""

    rules: tuple[Rule, ...]
    registry: Registry
    sources: tuple[str, ...] = ()

    @staticmethod
    def ordered(rules: Sequence[Rule]) -> tuple[Rule, ...]:
        """Sort rules into evaluation order."""
        return tuple(sorted(rules, key=lambda r: (-r.priority, r.pack, r.id)))

    def get(self, rule_id: str) -> Rule | None:
        """Find a rule by id."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None
