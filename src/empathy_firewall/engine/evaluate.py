"""Evaluation: a ticket, its signals and the rules become one deterministic :class:`Plan`.

For each enabled rule, in order (priority high first, then pack, then id): test its
conditions, check its cooldown / once-per-ticket / episode gates against the history,
and produce its actions. Then merge, so the helpdesk sees one coherent change:

- tags: one ``add_tags`` (only tags not already there) and one ``remove_tags`` (only
  tags that are there and not being added);
- internal notes: one combined note, sections in rule order, ending with why each rule
  acted and how to switch it off;
- customer-facing text: at most one, from the highest rule; ``public_reply`` becomes a
  draft unless the admin allowed public replies (for that rule);
- priority, routing: the highest rule wins; macros: each once; agent prompts: one per agent.

Every planned action carries the matches that explain it and an idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from empathy_firewall.actions import (
    Action,
    ActionPart,
    AddTags,
    AgentPrompt,
    DraftReply,
    Evidence,
    EvidenceValue,
    InternalNote,
    Plan,
    PlannedAction,
    PublicReply,
    Quote,
    RemoveTags,
    RuleMatch,
    Suppressed,
    action_key,
)
from empathy_firewall.connectors.base import note_marker
from empathy_firewall.context import EvaluationContext
from empathy_firewall.engine.conditions import PathView
from empathy_firewall.engine.durations import format_duration
from empathy_firewall.engine.languages import normalize_language
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.narrative import sentence_around
from empathy_firewall.engine.registry import default_registry
from empathy_firewall.engine.rules import Rule, RuleSet
from empathy_firewall.engine.template_context import TemplateContext, path_groups
from empathy_firewall.engine.templates import TemplateProblem
from empathy_firewall.models import Ticket
from empathy_firewall.signals.cues import FRUSTRATION_KINDS, CueKind
from empathy_firewall.signals.enrich import Signals, agent_key, enrich
from empathy_firewall.signals.history import Firing, MemoryHistory
from empathy_firewall.signals.memory import customer_key

__all__ = [
    "NOTE_SEPARATOR",
    "SWITCH_OFF_PREFIX",
    "WHY_HEADING",
    "Engine",
    "default_engine",
    "evaluate",
    "record_plan",
    "scope_carrier",
    "section_key",
    "tag_part_key",
]

_KIND_ORDER = (
    "remove_tags",
    "add_tags",
    "set_priority",
    "apply_macro",
    "internal_note",
    "public_reply",
    "draft_reply",
    "routing_suggestion",
    "agent_prompt",
)
_EMOTION_GROUPS = ("sentiment.", "frustration.", "cues.", "recovery.")
_MAX_QUOTES = 3
_NOTE_SEPARATOR = "\n\n---\n\n"
#: the line that starts the footer of a merged note (one "- rule (pack): ..." line per rule)
WHY_HEADING = "Why empathy-firewall added this:"
#: how the one switch-off line of a note's "why" footer starts
SWITCH_OFF_PREFIX = "To switch "
NOTE_SEPARATOR = _NOTE_SEPARATOR


@dataclass
class _Fired:
    rule: Rule
    match: RuleMatch
    anchor: str
    actions: list[Action] = field(default_factory=list)


def _round(value: Any) -> EvidenceValue:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return value  # type: ignore[no-any-return]


_EVIDENCE_CACHE: dict[tuple[str, EvidenceValue, bool], Evidence] = {}
_EVIDENCE_CACHE_MAX = 8192


def _evidence(path: str, value: EvidenceValue, private: bool) -> Evidence:
    """Evidence records are immutable and their values repeat a lot: share them."""
    key = (path, value, private)
    found = _EVIDENCE_CACHE.get(key)
    if found is None:
        if len(_EVIDENCE_CACHE) >= _EVIDENCE_CACHE_MAX:
            _EVIDENCE_CACHE.clear()
        found = _EVIDENCE_CACHE[key] = Evidence(path=path, value=value, private=private)
    return found


def _quote_kinds(rule: Rule) -> frozenset[CueKind]:
    """Which cue kinds a rule's explanation should quote."""
    paths = rule.condition.paths if rule.condition else ()
    named = {
        CueKind(p.split(".", 1)[1])
        for p in paths
        if p.split(".", 1)[1] in set(CueKind) and p.startswith("cues.")
    }
    operands = _strings_in(rule.raw.get("when"))
    named |= {CueKind(s) for s in operands if s in set(CueKind)}
    if named:
        return frozenset(named)
    if any(p.startswith(_EMOTION_GROUPS) for p in paths):
        return FRUSTRATION_KINDS
    return frozenset()


def _strings_in(node: object) -> set[str]:
    if isinstance(node, str):
        return {node}
    if isinstance(node, dict):
        return set().union(*(_strings_in(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_strings_in(v) for v in node)) if node else set()
    return set()


def _quotes(signals: Signals, kinds: frozenset[CueKind]) -> tuple[Quote, ...]:
    """The latest cues of the given kinds, newest first, one per sentence."""
    if not kinds:
        return ()
    texts: dict[str, str] | None = None
    language = normalize_language(signals.ticket.requester.language)
    found: list[Quote] = []
    sentences: set[str] = set()
    for item in reversed(signals.emotion.evidence):
        cue = item.cue
        if cue.kind not in kinds:
            continue
        if texts is None:
            texts = {c.id: c.text for c in signals.ticket.comments}
        context = sentence_around(
            texts.get(item.comment_id, cue.quote), cue.start, cue.end, language
        )
        if context in sentences:
            continue
        sentences.add(context)
        found.append(
            Quote(
                comment_id=item.comment_id,
                cue=cue.kind.value,
                text=cue.quote,
                start=cue.start,
                end=cue.end,
                context=context,
            )
        )
        if len(found) == _MAX_QUOTES:
            break
    return tuple(found)


class Engine:
    """Evaluates tickets against a :class:`RuleSet`. Stateless: safe to share."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rules = rules if rules is not None else load_rule_packs()
        registry = self.rules.registry
        self._groups = path_groups(registry)
        self._active = tuple(r for r in self.rules.rules if r.enabled)
        # Per rule, computed once: which cues to quote, which template names to build,
        # and which evidence paths are agent-private.
        self._quote_kinds = {r.id: _quote_kinds(r) for r in self._active}
        self._names = {
            r.id: frozenset().union(*(spec.names for spec in r.actions if spec.needs_context))
            for r in self._active
        }
        self._evidence_paths = {
            r.id: tuple(
                (p, registry.paths[p].private) for p in (r.condition.paths if r.condition else ())
            )
            for r in self._active
        }

    def evaluate(self, ticket: Ticket, context: EvaluationContext) -> Plan:
        """Enrich the ticket and evaluate every rule: the plan for this ticket now."""
        return self.evaluate_signals(enrich(ticket, context), context)

    def evaluate_signals(self, signals: Signals, context: EvaluationContext) -> Plan:
        """Evaluate already-computed signals (lets callers reuse them)."""
        ticket = signals.ticket
        view = PathView(signals, self.rules.registry.paths)
        texts = TemplateContext(signals, self._groups, context.settings)
        fired: list[_Fired] = []
        suppressed: list[Suppressed] = []
        latest_anchor = ticket.comments[-1].id if ticket.comments else ticket.updated_at.isoformat()
        for rule in self._active:
            outcome = self._run_rule(rule, signals, view, texts, context, latest_anchor, suppressed)
            if outcome is not None and outcome.actions:
                fired.append(outcome)
        return _merge(ticket, context, fired, suppressed, latest_anchor)

    def _run_rule(
        self,
        rule: Rule,
        signals: Signals,
        view: PathView,
        texts: TemplateContext,
        context: EvaluationContext,
        latest_anchor: str,
        suppressed: list[Suppressed],
    ) -> _Fired | None:
        python_actions: list[Action] = []
        if rule.python is not None:
            python_actions = list(rule.python.fn(signals) or ())
            if not python_actions:
                return None
        elif rule.condition is None or not rule.condition.test(view):
            return None
        episode = None
        if rule.episode is not None:
            value = view.get(rule.episode)
            episode = None if value is None else str(value)
        scope = _scope_key(rule, signals)
        gate = _gate(rule, scope, signals.ticket, context, episode)
        if gate is not None:
            suppressed.append(Suppressed(rule_id=rule.id, pack=rule.pack, reason=gate))
            return None
        # Internal records built from checked values: constructed without re-validation.
        evidence = tuple(
            _evidence(p, _round(view.get(p)), private)
            for p, private in self._evidence_paths[rule.id]
        )
        match = RuleMatch(
            rule_id=rule.id,
            pack=rule.pack,
            description=rule.description,
            evidence=evidence,
            quotes=texts.quotes(self._quote_kinds[rule.id], _quotes),
            episode=episode,
            scope=scope,
        )
        anchor = (
            episode if episode is not None else ("once" if rule.once_per_ticket else latest_anchor)
        )
        fired = _Fired(rule, match, anchor, python_actions)
        if rule.python is not None:
            return fired
        context_cache: dict[str, Any] = {}
        for spec in rule.actions:
            if spec.needs_context and not context_cache:
                info = {"id": rule.id, "pack": rule.pack, "description": rule.description}
                context_cache = texts.build(self._names[rule.id], match.quotes, info)
            try:
                action = spec.produce(signals, context_cache)
            except TemplateProblem as exc:
                suppressed.append(Suppressed(rule_id=rule.id, pack=rule.pack, reason=str(exc)))
                return None
            if action is not None:
                fired.actions.append(action)
        return fired


def _scope_key(rule: Rule, signals: Signals) -> str:
    """Whose history a rule's gates read: the ticket's, the assignee's or the customer's."""
    ticket = signals.ticket
    if rule.cooldown_per == "agent" and ticket.assignee is not None:
        return "agent:" + agent_key(ticket, ticket.assignee.id)
    if rule.cooldown_per == "customer":
        return "customer:" + customer_key(ticket)
    return ticket.key


def scope_carrier(scope: str, context: EvaluationContext) -> str | None:
    """The ticket that carries a rule gated per agent or per customer, by the data alone.

    For ``agent:KEY``: the ticket of the agent's latest reply in the history (by the reply's
    time, then its key), up to ``context.now`` within the strain window, among the tickets
    still assigned to that agent as last observed
    (:meth:`~empathy_firewall.signals.history.History.current_assignees`; a ticket reassigned
    since is evaluated for its new assignee, so it can no longer carry this agent's rule);
    for ``customer:KEY``: the customer's latest conversation (by its newest message, then
    its key). None when the history names no such ticket (an agent not opted in to strain
    tracking leaves no replies in it): then any matching ticket may carry the rule.
    """
    now = context.now
    history = context.history
    if scope.startswith("agent:"):
        agent = scope[6:]
        since = now - timedelta(hours=context.settings.agent_care.window_hours)
        replies = [i for i in history.interactions(agent, since) if i.at <= now]
        if replies:
            assigned = history.current_assignees({_ticket_of(i.comment_key) for i in replies})
            replies = [
                i for i in replies if assigned.get(_ticket_of(i.comment_key), agent) == agent
            ]
        if not replies:
            return None
        latest = max(replies, key=lambda i: (i.at, i.comment_key))
        return _ticket_of(latest.comment_key) or None  # a key naming no ticket (golden cases)
    if scope.startswith("customer:"):
        tickets = [p for p in history.past_tickets(scope[9:]) if p.at <= now]
        if not tickets:
            return None
        return max(tickets, key=lambda p: (p.at, p.ticket_key)).ticket_key
    return None


def _ticket_of(comment_key: str) -> str:
    """The ticket key of an interaction's ``TICKET#COMMENT`` key ("" when it names none)."""
    ticket_key, mark, _ = comment_key.rpartition("#")
    return ticket_key if mark else ""


def _gate(
    rule: Rule, scope: str, ticket: Ticket, context: EvaluationContext, episode: str | None
) -> str | None:
    """Why the rule may not act now on ``ticket``, or None if it may.

    Only a gated rule (once per ticket, cooldown, episode) is ever held back: first by the
    scope's carrier (a rule gated per agent or customer acts on one ticket of the scope),
    then by its last firing in the scope.
    """
    if not (rule.once_per_ticket or rule.cooldown or rule.episode):
        return None
    return _carrier_gate(scope, ticket, context) or _firing_gate(rule, scope, context, episode)


def _carrier_gate(scope: str, ticket: Ticket, context: EvaluationContext) -> str | None:
    """Why a gated rule of an agent's or customer's scope leaves this ticket to another.

    Only when the history was observed first (a sync run, a webhook batch): otherwise the
    tickets read later are not in it yet, and the latest conversation so far may already
    be done.
    """
    if not context.observed_first or scope == ticket.key:
        return None
    carrier = scope_carrier(scope, context)
    if carrier is None or carrier == ticket.key:
        return None
    whose = "agent's latest reply" if scope.startswith("agent:") else "customer's latest message"
    return f"acts on the ticket with the {whose} ({carrier})"


def _firing_gate(
    rule: Rule, scope: str, context: EvaluationContext, episode: str | None
) -> str | None:
    """Why the rule's last firing in ``scope`` holds it back now, or None."""
    last = context.history.last_firing(scope, rule.id)
    if last is None:
        return None
    if rule.once_per_ticket:
        return f"acts once per ticket; already acted at {last.at.isoformat()}"
    if rule.episode is not None and episode is not None and last.episode == episode:
        return f"already acted for this episode ({rule.episode} = {episode})"
    if rule.cooldown is not None and context.now - last.at < rule.cooldown:
        until = last.at + rule.cooldown
        return f"cooling down ({format_duration(rule.cooldown)}) until {until.isoformat()}"
    return None


def _planned(
    ticket: Ticket, action: Action, sources: Sequence[_Fired], anchor: str | None = None
) -> PlannedAction:
    # the one place sources are deduplicated; by identity, since hashing a RuleMatch
    # hashes all its evidence and quotes (fired rules are distinct objects)
    unique = _unique(sources)
    matches = tuple(f.match for f in unique)
    rule_ids = tuple(f.rule.id for f in unique)
    if anchor is None:
        anchor = "|".join(dict.fromkeys(f.anchor for f in unique))
    return PlannedAction(
        action=action, because=matches, key=action_key(ticket.key, action.kind, rule_ids, anchor)
    )


def tag_part_key(ticket_key: str, tag: str, anchor: str) -> str:
    """The idempotency key of one tag added while the conversation ends at ``anchor``."""
    return action_key(ticket_key, "tag", (), f"{tag}@{anchor}")


def section_key(ticket_key: str, rule_id: str, anchor: str) -> str:
    """The idempotency key of one rule's section of a merged internal note."""
    return action_key(ticket_key, "note_section", (rule_id,), anchor)


_PRIVATE_ONLY_KINDS = frozenset({"agent_prompt", "routing_suggestion"})


def _shared(item: _Fired) -> bool:
    """Whether a fired rule may be named in the note every colleague reads."""
    kinds = {a.kind for a in item.actions}
    if kinds <= {"agent_prompt"}:
        return False
    private = any(e.private for e in item.match.evidence)
    return not (private and kinds <= _PRIVATE_ONLY_KINDS)


def _why_footer(fired: Sequence[_Fired]) -> str:
    """One "why" line per rule, then how to switch them off, said once for the note."""
    lines = []
    packs: dict[str, set[str]] = {}
    python: list[str] = []
    for item in fired:
        rule = item.rule
        shown = [e for e in item.match.evidence if not e.private]
        facts = "; ".join(f"{e.path} = {_show(e.value)}" for e in shown) or (
            "Python rule"
            if rule.python is not None
            # private to the agent: neither the values nor that they are private are told
            else "conditions not shown"
        )
        lines.append(f"- {rule.id} ({rule.pack}): {facts}.")
        if rule.python is not None:
            python.append(f"unregister Python rule '{rule.id}'")
        else:
            file = rule.source.replace("\\", "/").rsplit("/", 1)[-1]
            packs.setdefault(rule.pack, set()).add(file)
    hints = [
        f"in pack '{pack}' ({', '.join(sorted(files))})" for pack, files in sorted(packs.items())
    ]
    ways = []
    if hints:
        ways.append("set `enabled: false` on it " + "; or ".join(hints))
    ways.extend(python)
    one = "this" if len(fired) == 1 else "one of these"
    lines.append(f"{SWITCH_OFF_PREFIX}{one} off: {'; '.join(ways)}.")
    return WHY_HEADING + "\n" + "\n".join(lines)


def _show(value: EvidenceValue) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    if value is None:
        return "unknown"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _merge(
    ticket: Ticket,
    context: EvaluationContext,
    fired: Sequence[_Fired],
    suppressed: list[Suppressed],
    latest_anchor: str = "",
) -> Plan:
    by_kind: dict[str, list[tuple[Action, _Fired]]] = {}
    for item in fired:
        for action in item.actions:
            by_kind.setdefault(action.kind, []).append((action, item))
    planned: list[PlannedAction] = []
    on_ticket = set(ticket.tags)

    adds: dict[str, list[_Fired]] = {}
    for action, item in by_kind.get("add_tags", []):
        assert isinstance(action, AddTags)
        for tag in action.tags:
            adds.setdefault(tag, []).append(item)
    new_tags = [t for t in adds if t not in on_ticket]
    if new_tags:
        sources = [f for t in new_tags for f in adds[t]]
        tagged = _planned(
            ticket, AddTags(tags=tuple(new_tags)), sources, "+".join(sorted(new_tags))
        )
        tag_parts = tuple(
            ActionPart(key=tag_part_key(ticket.key, t, latest_anchor)) for t in new_tags
        )
        planned.append(tagged.model_copy(update={"parts": tag_parts}))
    removes: dict[str, list[_Fired]] = {}
    for action, item in by_kind.get("remove_tags", []):
        assert isinstance(action, RemoveTags)
        for tag in action.tags:
            if tag in on_ticket and tag not in adds:
                removes.setdefault(tag, []).append(item)
    if removes:
        sources = [f for fs in removes.values() for f in fs]
        planned.append(
            _planned(ticket, RemoveTags(tags=tuple(removes)), sources, "-".join(sorted(removes)))
        )

    priority_requests = [
        (a, f)
        for a, f in by_kind.get("set_priority", [])
        if getattr(a, "priority", None) != ticket.priority
    ]
    _first_wins(ticket, priority_requests, planned, suppressed, "the priority")
    seen_macros: dict[str, list[_Fired]] = {}
    for action, item in by_kind.get("apply_macro", []):
        seen_macros.setdefault(action.model_dump_json(), []).append(item)
    for action, _item in by_kind.get("apply_macro", []):
        sources = seen_macros.pop(action.model_dump_json(), [])
        if sources:
            planned.append(_planned(ticket, action, sources))

    notes = by_kind.get("internal_note", [])
    if notes:
        bodies: list[str] = []
        parts: list[ActionPart] = []
        numbers: dict[int, int] = {}
        for action, item in notes:
            assert isinstance(action, InternalNote)
            number = numbers[id(item)] = numbers.get(id(item), 0) + 1
            part = section_key(ticket.key, item.rule.id, f"{item.anchor}#{number}")
            parts.append(ActionPart(key=part, rule_id=item.rule.id))
            bodies.append(f"{action.body}\n{note_marker(part)}")
        sources = [f for _, f in notes]
        # Rules that only spoke privately to an agent (break prompts, recognition) stay out
        # of a note colleagues read: naming them would reveal the agent's strain or opt-ins.
        # So do rules that read agent-private values and only suggest routing: "agent-care-
        # routing acted" on the ticket would tell every colleague the assignee is strained.
        shared = [f for f in fired if _shared(f)]
        body = _NOTE_SEPARATOR.join(bodies) + "\n\n" + _why_footer(shared)
        note = _planned(ticket, InternalNote(body=body), sources)
        planned.append(note.model_copy(update={"parts": tuple(parts)}))

    replies = _customer_facing(by_kind, context)
    _first_wins(ticket, replies, planned, suppressed, "the customer-facing text")
    _first_wins(
        ticket, by_kind.get("routing_suggestion", []), planned, suppressed, "the routing suggestion"
    )

    prompts: dict[str, list[tuple[AgentPrompt, _Fired]]] = {}
    for action, item in by_kind.get("agent_prompt", []):
        assert isinstance(action, AgentPrompt)
        prompts.setdefault(action.agent_id, []).append((action, item))
    for agent_id, items in prompts.items():
        body = "\n\n".join(a.body for a, _ in items)
        planned.append(
            _planned(ticket, AgentPrompt(agent_id=agent_id, body=body), [f for _, f in items])
        )

    planned.sort(key=lambda p: _KIND_ORDER.index(p.action.kind))
    return Plan(
        ticket=ticket.source,
        evaluated_at=context.now,
        actions=tuple(planned),
        matches=tuple(f.match for f in fired),
        suppressed=tuple(suppressed),
    )


def _customer_facing(
    by_kind: dict[str, list[tuple[Action, _Fired]]], context: EvaluationContext
) -> list[tuple[Action, _Fired]]:
    replies = context.settings.replies
    out: list[tuple[Action, _Fired]] = []
    for action, item in by_kind.get("public_reply", []) + by_kind.get("draft_reply", []):
        if isinstance(action, PublicReply):
            allowed = replies.allow_public_replies and (
                not replies.public_reply_rules or item.rule.id in replies.public_reply_rules
            )
            if not allowed:
                action = DraftReply(body=action.body)
        out.append((action, item))
    out.sort(key=lambda pair: (-pair[1].rule.priority, pair[1].rule.pack, pair[1].rule.id))
    return out


def _first_wins(
    ticket: Ticket,
    candidates: Sequence[tuple[Action, _Fired]],
    planned: list[PlannedAction],
    suppressed: list[Suppressed],
    what: str,
) -> None:
    if not candidates:
        return
    action, winner = candidates[0]
    planned.append(_planned(ticket, action, [winner]))
    for _, loser in candidates[1:]:
        if loser is winner:
            continue
        suppressed.append(
            Suppressed(
                rule_id=loser.rule.id,
                pack=loser.rule.pack,
                reason=f"{winner.rule.id} (higher priority) already sets {what}",
            )
        )


def _unique(items: Iterable[_Fired]) -> list[_Fired]:
    seen: dict[int, _Fired] = {}
    for item in items:
        seen.setdefault(id(item), item)
    return list(seen.values())


_DEFAULT: list[tuple[int, Engine]] = []


def default_engine() -> Engine:
    """An engine with the default rule packs and the registered Python rules.

    Loaded once, and again whenever something new is registered in the default registry.
    """
    version = default_registry.version
    if not _DEFAULT or _DEFAULT[0][0] != version:
        _DEFAULT[:] = [(version, Engine())]
    return _DEFAULT[0][1]


def evaluate(ticket: Ticket, context: EvaluationContext, *, rules: RuleSet | None = None) -> Plan:
    """The plan for ``ticket`` at ``context.now``: pure and deterministic.

    Uses the default rule packs unless ``rules`` is given (see :func:`load_rule_packs`).
    """
    engine = default_engine() if rules is None else Engine(rules)
    return engine.evaluate(ticket, context)


def record_plan(history: MemoryHistory, plan: Plan) -> None:
    """Remember which rules acted, so cooldowns and once-per-ticket hold next time."""
    for match in plan.matches:
        history.record_firing(
            match.scope or plan.ticket.key,
            Firing(rule_id=match.rule_id, at=plan.evaluated_at, episode=match.episode),
        )
