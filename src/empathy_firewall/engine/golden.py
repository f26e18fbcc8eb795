"""Golden cases for rule packs: a ticket in, the expected plan out.

A golden file is YAML, kept next to the pack it tests (``rules/<pack>/golden/*.yaml``).
It works for any pack, ours or a third party's::

    description: What these cases pin down.      # optional
    defaults:                                      # optional, deep-merged into every case
      now: 2026-11-20T15:00:00Z
      ticket: {source: {connector: golden, external_id: "1"}, ...}
      settings: {...}
    cases:
      - name: furious customer waiting past the SLA
        description: ...                           # optional
        now: 2026-11-20T15:00:00Z                  # the evaluation time, with a time zone
        ticket: {...}                              # a Ticket, validated by the pydantic model
        settings:                                  # optional FirewallSettings overrides
          replies: {allow_public_replies: true}
        history:                                   # optional, fed into a MemoryHistory
          firings:          [{rule_id, at, episode?, scope?}]
          customer_tickets: [{at, sentiment, negative?, ticket?}]
          agent_interactions: [{at, weight, agent?, key?}]
          agents:           [{id, name?, groups?, open_tickets?, capacity?}]  # the roster
        expect:
          fires: [rule-a, rule-b]                  # exactly the rules in plan.matches
          not_fires: [rule-c]                      # none of these in plan.matches
          suppressed: [rule-d]                     # exactly the rules held back, or a
                                                   # mapping rule id -> part of the reason
          actions:                                 # only the kinds listed are checked
            add_tags: [ef_a, ef_b]                 # the exact tag tuple (or {absent: true})
            remove_tags: {absent: true}
            internal_note: {contains: [text], not_contains: [text]}
            draft_reply: {absent: true}
            set_priority: high                     # or {absent: true}
            apply_macro: [macro names]             # or {absent: true}
            agent_prompt: {contains: [text]}
            routing_suggestion: {contains: [text], avoid: [agent ids], prefer: [agent ids]}

Mappings in ``defaults`` and a case merge key by key (recursively); lists and scalars in
the case replace the default. Times are ISO 8601 with a time zone.

History details:

- a firing's ``scope`` is whose history the rule's gate reads: ``ticket`` (the default),
  ``agent`` (the ticket's assignee), ``customer`` (the requester), or a literal scope key;
- a customer ticket is an earlier ticket of the requester; ``negative`` defaults to
  ``sentiment < -0.2`` and ``ticket`` to a made-up key;
- an agent interaction is a public reply by ``agent`` (an agent id; default the assignee)
  weighing ``weight`` (0 for an easy one, up to 1 for a very hard one).

Use :func:`load_golden` to read files (problems name file, line and field, and raise
:class:`GoldenFileError`), :func:`check_case` / :func:`run_golden` to run them against a
:class:`~empathy_firewall.engine.rules.RuleSet`, and :func:`run_golden_paths` for the CLI
(``empathy-firewall rules test rules/default/golden``). Running is pure apart from the
per-comment text cache: each case gets its own fresh history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from empathy_firewall.actions import (
    AddTags,
    AgentPrompt,
    ApplyMacro,
    DraftReply,
    InternalNote,
    Plan,
    PublicReply,
    RemoveTags,
    RoutingSuggestion,
    SetPriority,
)
from empathy_firewall.context import EvaluationContext, default_comment_cache
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.registry import Registry
from empathy_firewall.engine.rules import ACTION_KINDS, RuleSet
from empathy_firewall.engine.yamlsource import Located, load_located, read_source, render_path
from empathy_firewall.errors import ConfigError, Problem
from empathy_firewall.models import Agent, Priority, Ticket
from empathy_firewall.settings import FirewallSettings
from empathy_firewall.signals.enrich import agent_key
from empathy_firewall.signals.history import Firing, MemoryHistory
from empathy_firewall.signals.memory import PastTicket, customer_key
from empathy_firewall.signals.strain import Interaction
from empathy_firewall.signals.text import CommentCache

__all__ = [
    "ActionExpectation",
    "Expectation",
    "GoldenCase",
    "GoldenFileError",
    "GoldenResult",
    "check_case",
    "coverage_gaps",
    "format_results",
    "golden_files",
    "load_golden",
    "pack_paths_for",
    "parse_golden",
    "run_golden",
    "run_golden_paths",
]

_FILE_KEYS = frozenset({"description", "defaults", "cases"})
_DEFAULT_KEYS = frozenset({"now", "ticket", "settings", "history"})
_TAG_KINDS = frozenset({"add_tags", "remove_tags", "apply_macro"})
_TEXT_KINDS = frozenset(
    {"internal_note", "draft_reply", "public_reply", "agent_prompt", "routing_suggestion"}
)
_TEXT_KEYS = frozenset({"contains", "not_contains", "absent", "avoid", "prefer"})
_MAX_FILE_BYTES = 2_000_000

Loc = tuple[str | int, ...]


class GoldenFileError(ConfigError):
    """One or more golden files are invalid; ``problems`` say where and what."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in golden files:\n{lines}")


# -- the parsed form ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionExpectation:
    """What one action kind of the plan must look like.

    ``absent``: no action of this kind. ``items``: the exact tags (add/remove) or macros;
    ``value``: the exact priority. ``contains`` / ``not_contains``: substrings of the
    text (note, reply, prompt body, routing reason). ``avoid`` / ``prefer``: the exact
    agent ids of a routing suggestion. Otherwise the kind must simply be present.
    """

    kind: str
    absent: bool = False
    items: tuple[str, ...] | None = None
    value: str | None = None
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    avoid: tuple[str, ...] | None = None
    prefer: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Expectation:
    """The expected plan: which rules fire, which are held back, what actions look like."""

    fires: frozenset[str] | None = None
    not_fires: frozenset[str] = frozenset()
    suppressed: Mapping[str, str | None] | None = None
    actions: tuple[ActionExpectation, ...] = ()

    @property
    def rule_ids(self) -> frozenset[str]:
        """Every rule id the expectation names (to catch typos against the rule set)."""
        named = set(self.not_fires)
        if self.fires is not None:
            named |= self.fires
        if self.suppressed is not None:
            named |= set(self.suppressed)
        return frozenset(named)


@dataclass(frozen=True, slots=True)
class HistoryFiring:
    """A firing to seed: ``scope`` is ``ticket``, ``agent``, ``customer`` or a literal key."""

    firing: Firing
    scope: str = "ticket"


@dataclass(frozen=True, slots=True)
class HistoryInteraction:
    """An agent interaction to seed; ``agent`` None means the ticket's assignee."""

    interaction: Interaction
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class GoldenCase:
    """One checked golden case, ready to run."""

    file: str
    line: int | None
    name: str
    now: datetime
    ticket: Ticket
    expect: Expectation
    settings: FirewallSettings = field(default_factory=FirewallSettings)
    firings: tuple[HistoryFiring, ...] = ()
    customer_tickets: tuple[PastTicket, ...] = ()
    agent_interactions: tuple[HistoryInteraction, ...] = ()
    description: str = ""
    agents: tuple[Agent, ...] = ()

    @property
    def where(self) -> str:
        """``file:line`` of the case."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def scope_key(self, scope: str) -> str:
        """Resolve a firing scope shorthand against the ticket (see the module docs)."""
        ticket = self.ticket
        if scope == "ticket":
            return ticket.key
        if scope == "customer":
            return "customer:" + customer_key(ticket)
        if scope == "agent":
            if ticket.assignee is None:
                raise ValueError("scope 'agent' needs a ticket with an assignee")
            return "agent:" + agent_key(ticket, ticket.assignee.id)
        return scope

    def history(self) -> MemoryHistory:
        """A fresh :class:`MemoryHistory` holding this case's seeded history."""
        history = MemoryHistory(max_tickets=self.settings.memory.max_tickets)
        ckey = customer_key(self.ticket)
        for past in self.customer_tickets:
            history.record_ticket(ckey, past)
        for item in self.agent_interactions:
            agent_id = item.agent
            if agent_id is None:
                if self.ticket.assignee is None:
                    raise ValueError("an agent interaction without 'agent' needs an assignee")
                agent_id = self.ticket.assignee.id
            history.record_interactions(agent_key(self.ticket, agent_id), [item.interaction])
        for seeded in self.firings:
            history.record_firing(self.scope_key(seeded.scope), seeded.firing)
        return history

    def context(self, texts: CommentCache | None = None) -> EvaluationContext:
        """The evaluation context of this case (a fresh history each call)."""
        roster = {agent.id: agent for agent in self.agents}
        if self.ticket.assignee is not None:
            roster.setdefault(self.ticket.assignee.id, self.ticket.assignee)
        return EvaluationContext(
            now=self.now,
            settings=self.settings,
            history=self.history(),
            texts=texts if texts is not None else default_comment_cache(),
            agents=roster,
        )


@dataclass(frozen=True, slots=True)
class GoldenResult:
    """The outcome of one case: the plan (None if it could not run) and what differed."""

    case: GoldenCase
    plan: Plan | None
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the plan matched every expectation."""
        return not self.failures

    @property
    def message(self) -> str:
        """``file:line: case 'name': ...`` with every difference, and the plan in brief."""
        head = f"{self.case.where}: case {self.case.name!r}"
        if self.ok:
            return f"{head}: ok"
        lines = [f"{head}: {len(self.failures)} difference(s)"]
        lines.extend(f"  - {failure}" for failure in self.failures)
        if self.plan is not None:
            lines.append("  plan: " + _plan_brief(self.plan))
        return "\n".join(lines)


# -- loading -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _FiringModel(_Strict):
    rule_id: str = Field(min_length=1)
    at: AwareDatetime
    episode: str | None = None
    scope: str = Field(default="ticket", min_length=1)


class _PastModel(_Strict):
    at: AwareDatetime
    sentiment: float = Field(ge=-1, le=1)
    negative: bool | None = None
    ticket: str | None = Field(default=None, min_length=1)


class _InteractionModel(_Strict):
    at: AwareDatetime
    weight: float = Field(ge=0, le=1)
    agent: str | None = Field(default=None, min_length=1)
    key: str | None = Field(default=None, min_length=1)


class _HistoryModel(_Strict):
    firings: list[_FiringModel] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)
    customer_tickets: list[_PastModel] = Field(default_factory=list)
    agent_interactions: list[_InteractionModel] = Field(default_factory=list)


class _ExpectModel(_Strict):
    fires: list[str] | None = None
    not_fires: list[str] = Field(default_factory=list)
    suppressed: list[str] | dict[str, str | None] | None = None
    actions: dict[str, Any] = Field(default_factory=dict)


class _CaseModel(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    now: AwareDatetime
    ticket: Ticket
    settings: FirewallSettings = Field(default_factory=FirewallSettings)
    history: _HistoryModel = Field(default_factory=_HistoryModel)
    expect: _ExpectModel


def _merge(base: object, over: object) -> object:
    """Deep-merge mappings; anything else in ``over`` replaces ``base``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return over


def _line(located: Located, case_loc: Loc, rest: Loc) -> int | None:
    """The line of ``rest`` in the case or in ``defaults``, whichever locates it deeper
    (the case wins a tie), else the case's own line."""
    for cut in range(len(rest), 0, -1):
        for base in (case_loc, ("defaults",)):
            found = located.lines.get((*base, *rest[:cut]))
            if found is not None:
                return found
    return located.line_of(case_loc)


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _parse_action(kind: str, spec: object) -> ActionExpectation:
    """Check one ``expect.actions`` entry; raise ``ValueError`` saying what is expected."""
    if kind not in ACTION_KINDS:
        raise ValueError(f"unknown action kind {kind!r} (known: {', '.join(ACTION_KINDS)})")
    if isinstance(spec, dict) and spec.get("absent") is True:
        if len(spec) != 1:
            raise ValueError("'absent: true' cannot be combined with other expectations")
        return ActionExpectation(kind, absent=True)
    if kind in _TAG_KINDS:
        items = _strings(spec)
        if items is None or not items:
            raise ValueError("expects a list of exact values, or {absent: true}")
        return ActionExpectation(kind, items=items)
    if kind == "set_priority":
        choices = {p.value for p in Priority}
        if not isinstance(spec, str) or spec not in choices:
            raise ValueError(f"expects one of {', '.join(sorted(choices))}, or {{absent: true}}")
        return ActionExpectation(kind, value=spec)
    assert kind in _TEXT_KINDS
    if not isinstance(spec, dict):
        raise ValueError("expects {contains: [...], not_contains: [...]} or {absent: true}")
    extra = set(map(str, spec)) - _TEXT_KEYS
    if extra:
        raise ValueError(f"unknown key(s) {', '.join(sorted(extra))}")
    if "absent" in spec:
        raise ValueError("'absent' expects true (omit it when the action must be present)")
    if kind != "routing_suggestion" and ("avoid" in spec or "prefer" in spec):
        raise ValueError("'avoid' and 'prefer' apply to routing_suggestion only")
    parsed: dict[str, tuple[str, ...] | None] = {}
    for key in ("contains", "not_contains", "avoid", "prefer"):
        if key in spec:
            value = _strings(spec[key])
            if value is None:
                raise ValueError(f"{key} expects a list of strings")
            parsed[key] = value
    return ActionExpectation(
        kind,
        contains=parsed.get("contains") or (),
        not_contains=parsed.get("not_contains") or (),
        avoid=parsed.get("avoid"),
        prefer=parsed.get("prefer"),
    )


def parse_golden(text: str, file: str) -> tuple[list[GoldenCase], list[Problem]]:
    """Parse one golden file's text. Returns the cases and the problems found (pure)."""
    located = load_located(text, file)
    if located.problems:
        return [], list(located.problems)
    data = located.data
    if not isinstance(data, dict):
        return [], [located.problem((), "a golden file is a mapping with 'cases'")]
    problems: list[Problem] = []
    for key in sorted(set(map(str, data)) - _FILE_KEYS):
        allowed = ", ".join(sorted(_FILE_KEYS))
        problems.append(located.problem((key,), f"unknown key {key!r} (allowed: {allowed})"))
    if "description" in data and not isinstance(data["description"], str):
        problems.append(located.problem(("description",), "expects text"))
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(located.problem(("defaults",), "expects a mapping"))
        defaults = {}
    for key in sorted(set(map(str, defaults)) - _DEFAULT_KEYS):
        allowed = ", ".join(sorted(_DEFAULT_KEYS))
        problems.append(
            located.problem(("defaults", key), f"unknown key {key!r} (allowed: {allowed})")
        )
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        problems.append(located.problem(("cases",), "expects a non-empty list of cases"))
        return [], problems
    cases: list[GoldenCase] = []
    names: dict[str, int | None] = {}
    for index, raw in enumerate(raw_cases):
        case = _parse_case(raw, ("cases", index), defaults, located, problems)
        if case is None:
            continue
        if case.name in names:
            problems.append(
                Problem(
                    file,
                    case.line,
                    render_path(("cases", index, "name")),
                    f"case name {case.name!r} already used at line {names[case.name]}",
                )
            )
            continue
        names[case.name] = case.line
        cases.append(case)
    return cases, problems


def _parse_case(
    raw: object,
    loc: Loc,
    defaults: Mapping[str, Any],
    located: Located,
    problems: list[Problem],
) -> GoldenCase | None:
    if not isinstance(raw, dict):
        problems.append(located.problem(loc, "a case is a mapping with name, now, ticket, expect"))
        return None
    merged = _merge({k: v for k, v in defaults.items() if k in _DEFAULT_KEYS}, raw)
    assert isinstance(merged, dict)
    try:
        model = _CaseModel.model_validate(merged)
    except ValidationError as exc:
        for error in exc.errors():
            rest = tuple(p for p in error["loc"] if isinstance(p, str | int))
            problems.append(
                Problem(
                    located.file,
                    _line(located, loc, rest),
                    render_path((*loc, *rest)),
                    error["msg"],
                )
            )
        return None
    before = len(problems)
    actions: list[ActionExpectation] = []
    for kind, spec in model.expect.actions.items():
        try:
            actions.append(_parse_action(kind, spec))
        except ValueError as exc:
            problems.append(located.problem((*loc, "expect", "actions", kind), str(exc)))
    suppressed: dict[str, str | None] | None = None
    if isinstance(model.expect.suppressed, list):
        suppressed = dict.fromkeys(model.expect.suppressed)
    elif isinstance(model.expect.suppressed, dict):
        suppressed = dict(model.expect.suppressed)
    expect = Expectation(
        fires=frozenset(model.expect.fires) if model.expect.fires is not None else None,
        not_fires=frozenset(model.expect.not_fires),
        suppressed=suppressed,
        actions=tuple(actions),
    )
    if expect.fires is not None and expect.fires & expect.not_fires:
        both = ", ".join(sorted(expect.fires & expect.not_fires))
        problems.append(located.problem((*loc, "expect"), f"both fires and not_fires: {both}"))
    if expect.fires is None and not (expect.not_fires or expect.suppressed or expect.actions):
        problems.append(located.problem((*loc, "expect"), "expects at least one expectation"))
    ticket = model.ticket
    if ticket.assignee is None:
        for i, firing in enumerate(model.history.firings):
            if firing.scope == "agent":
                here = (*loc, "history", "firings", i, "scope")
                problems.append(located.problem(here, "scope 'agent' needs a ticket assignee"))
        for i, item in enumerate(model.history.agent_interactions):
            if item.agent is None:
                here = (*loc, "history", "agent_interactions", i)
                problems.append(located.problem(here, "names no agent and the ticket has none"))
    if len(problems) > before:
        return None
    return GoldenCase(
        file=located.file,
        line=located.line_of(loc),
        name=model.name,
        description=model.description.strip(),
        now=model.now,
        ticket=ticket,
        expect=expect,
        settings=model.settings,
        firings=tuple(
            HistoryFiring(Firing(f.rule_id, f.at, f.episode), f.scope)
            for f in model.history.firings
        ),
        customer_tickets=tuple(
            PastTicket(
                p.ticket or f"golden:past-{i}",
                p.at,
                p.sentiment,
                p.negative if p.negative is not None else p.sentiment < -0.2,
            )
            for i, p in enumerate(model.history.customer_tickets)
        ),
        agent_interactions=tuple(
            HistoryInteraction(Interaction(a.key or f"golden:reply-{i}", a.at, a.weight), a.agent)
            for i, a in enumerate(model.history.agent_interactions)
        ),
        agents=tuple(model.history.agents),
    )


def golden_files(path: Path) -> list[Path]:
    """The golden files at ``path``: the file itself, or every ``*.yaml``/``*.yml`` below it."""
    if path.is_dir():
        return sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
    return [path]


def load_golden(paths: Path | Iterable[Path]) -> list[GoldenCase]:
    """Read golden files (or directories of them), checking everything first.

    Raises :class:`GoldenFileError` listing every problem in every file; no case is
    returned if any file is bad.
    """
    roots = [paths] if isinstance(paths, Path) else list(paths)
    problems: list[Problem] = []
    cases: list[GoldenCase] = []
    for root in roots:
        files = golden_files(root)
        if root.is_dir() and not files:
            problems.append(Problem(str(root), None, "", "no golden files (*.yaml) found"))
        for file in files:
            text = read_source(file, _MAX_FILE_BYTES)
            if isinstance(text, Problem):
                problems.append(text)
                continue
            found, file_problems = parse_golden(text, str(file))
            cases.extend(found)
            problems.extend(file_problems)
    if problems:
        raise GoldenFileError(problems)
    return cases


# -- checking ----------------------------------------------------------------------------


def _ids(ids: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(ids)) + "]"


def _set_difference(what: str, expected: frozenset[str], got: frozenset[str]) -> str | None:
    if expected == got:
        return None
    parts = []
    if expected - got:
        parts.append(f"missing {_ids(expected - got)}")
    if got - expected:
        parts.append(f"unexpected {_ids(got - expected)}")
    return f"{what}: expected {_ids(expected)}, got {_ids(got)} ({'; '.join(parts)})"


def _texts(plan: Plan, kind: str) -> list[str]:
    out = []
    for planned in plan.of_kind(kind):  # type: ignore[arg-type]
        action = planned.action
        if isinstance(action, InternalNote | DraftReply | PublicReply | AgentPrompt):
            out.append(action.body)
        elif isinstance(action, RoutingSuggestion):
            out.append(action.reason)
    return out


def _check_action(plan: Plan, spec: ActionExpectation) -> list[str]:
    found = plan.of_kind(spec.kind)  # type: ignore[arg-type]
    kind = spec.kind
    if spec.absent:
        return [f"actions.{kind}: expected none, got {len(found)}"] if found else []
    if not found:
        return [f"actions.{kind}: expected one, got none"]
    failures = []
    if spec.items is not None:
        got: list[str] = []
        for planned in found:
            action = planned.action
            if isinstance(action, AddTags | RemoveTags):
                got.extend(action.tags)
            elif isinstance(action, ApplyMacro):
                got.append(action.macro)
        if tuple(got) != spec.items:
            failures.append(f"actions.{kind}: expected {list(spec.items)}, got {got}")
    if spec.value is not None:
        priorities = [p.action.priority.value for p in found if isinstance(p.action, SetPriority)]
        if priorities != [spec.value]:
            failures.append(f"actions.{kind}: expected {spec.value}, got {priorities}")
    texts = _texts(plan, kind)
    joined = "\n".join(texts)
    for needle in spec.contains:
        if needle not in joined:
            failures.append(f"actions.{kind}: text lacks {needle!r}; text was: {joined!r}")
    for needle in spec.not_contains:
        if needle in joined:
            failures.append(f"actions.{kind}: text must not contain {needle!r}")
    routes = [p.action for p in found if isinstance(p.action, RoutingSuggestion)]
    for label, wanted in (("avoid", spec.avoid), ("prefer", spec.prefer)):
        if wanted is None:
            continue
        got_ids = [
            list(r.avoid_agent_ids if label == "avoid" else r.prefer_agent_ids) for r in routes
        ]
        if got_ids != [list(wanted)]:
            failures.append(f"actions.{kind}.{label}: expected {list(wanted)}, got {got_ids}")
    return failures


def compare(case: GoldenCase, plan: Plan, known_rules: Iterable[str] | None = None) -> list[str]:
    """Every way ``plan`` differs from the case's expectation (empty when it matches)."""
    expect = case.expect
    failures: list[str] = []
    if known_rules is not None:
        unknown = expect.rule_ids - set(known_rules)
        if unknown:
            failures.append(f"expect names unknown rule id(s) {_ids(unknown)}")
    fired = frozenset(m.rule_id for m in plan.matches)
    if expect.fires is not None:
        diff = _set_difference("fires", expect.fires, fired)
        if diff:
            failures.append(diff)
    wrongly = expect.not_fires & fired
    if wrongly:
        failures.append(f"not_fires: {_ids(wrongly)} fired")
    if expect.suppressed is not None:
        held = {s.rule_id: s.reason for s in plan.suppressed}
        diff = _set_difference("suppressed", frozenset(expect.suppressed), frozenset(held))
        if diff:
            failures.append(diff)
        for rule_id, reason in expect.suppressed.items():
            if reason and rule_id in held and reason not in held[rule_id]:
                failures.append(
                    f"suppressed.{rule_id}: reason lacks {reason!r}; was {held[rule_id]!r}"
                )
    for spec in expect.actions:
        failures.extend(_check_action(plan, spec))
    return failures


def _plan_brief(plan: Plan) -> str:
    fired = ", ".join(m.rule_id for m in plan.matches) or "none"
    kinds = []
    for planned in plan.actions:
        action = planned.action
        if isinstance(action, AddTags | RemoveTags):
            kinds.append(f"{action.kind}({', '.join(action.tags)})")
        elif isinstance(action, SetPriority):
            kinds.append(f"set_priority({action.priority.value})")
        else:
            kinds.append(action.kind)
    held = ", ".join(f"{s.rule_id} ({s.reason})" for s in plan.suppressed) or "none"
    return f"fired {fired}; actions {', '.join(kinds) or 'none'}; suppressed {held}"


def check_case(
    case: GoldenCase, engine: Engine | RuleSet, texts: CommentCache | None = None
) -> GoldenResult:
    """Evaluate one case and compare the plan with its expectation."""
    runner = engine if isinstance(engine, Engine) else Engine(engine)
    try:
        plan = runner.evaluate(case.ticket, case.context(texts))
    except ValueError as exc:
        return GoldenResult(case, None, (f"could not evaluate: {exc}",))
    known = [rule.id for rule in runner.rules.rules]
    return GoldenResult(case, plan, tuple(compare(case, plan, known)))


def run_golden(
    path: Path | Iterable[Path], rules: RuleSet, texts: CommentCache | None = None
) -> list[GoldenResult]:
    """Run every case in a golden file or directory against ``rules``, in file order.

    Raises :class:`GoldenFileError` (before running anything) if any golden file is bad.
    """
    engine = Engine(rules)
    return [check_case(case, engine, texts) for case in load_golden(path)]


def pack_paths_for(golden: Path) -> list[Path]:
    """The pack files a golden file or directory belongs to, by the usual layout.

    ``rules/<pack>/golden/x.yaml`` and ``rules/<pack>/golden/`` belong to the ``*.yaml``
    files of ``rules/<pack>/``. Anything not inside a ``golden`` directory has no pack
    by layout (the result is empty): pass the rule paths explicitly.
    """
    directory = golden if golden.is_dir() else golden.parent
    if directory.name != "golden":
        return []
    pack_dir = directory.parent
    return sorted([*pack_dir.glob("*.yaml"), *pack_dir.glob("*.yml")])


def run_golden_paths(
    paths: Sequence[Path],
    rule_paths: Sequence[Path] | None = None,
    *,
    registry: Registry | None = None,
) -> list[GoldenResult]:
    """Run golden files or directories; the entry point of ``rules test``.

    Without ``rule_paths``, each golden path runs against the pack it sits in (see
    :func:`pack_paths_for`). Raises :class:`~empathy_firewall.errors.RulePackError` if a
    pack is invalid and :class:`GoldenFileError` if a golden file is.
    """
    results: list[GoldenResult] = []
    if rule_paths is not None:
        rules = load_rule_packs(list(rule_paths), registry=registry)
        return run_golden(list(paths), rules)
    for path in paths:
        if path.is_dir() and path.name != "golden" and (path / "golden").is_dir():
            path = path / "golden"  # `rules test rules/default`: the pack's own cases
        packs = pack_paths_for(path)
        if not packs:
            raise GoldenFileError(
                [Problem(str(path), None, "", "no rule pack beside it: pass the rule paths")]
            )
        results.extend(run_golden(path, load_rule_packs(packs, registry=registry)))
    return results


def coverage_gaps(results: Sequence[GoldenResult], rules: RuleSet) -> list[str]:
    """Rules lacking a case where they fire, or one where they must not (named explicitly
    in ``not_fires`` or ``suppressed``). Empty when every rule is covered both ways."""
    fires: set[str] = set()
    held: set[str] = set()
    for result in results:
        expect = result.case.expect
        fires |= expect.fires or frozenset()
        held |= expect.not_fires | frozenset(expect.suppressed or ())
    gaps = []
    for rule in rules.rules:
        if not rule.enabled or rule.python is not None:
            continue
        missing = [
            label
            for label, ok in (
                ("a firing case", rule.id in fires),
                ("a quiet case", rule.id in held),
            )
            if not ok
        ]
        if missing:
            gaps.append(f"{rule.id}: no {' and no '.join(missing)}")
    return gaps


def format_results(results: Sequence[GoldenResult], *, verbose: bool = False) -> str:
    """A report for people: failures in full (and passes if ``verbose``), then a summary."""
    lines = [r.message for r in results if verbose or not r.ok]
    failed = sum(1 for r in results if not r.ok)
    files = len({r.case.file for r in results})
    lines.append(
        f"{len(results) - failed} passed, {failed} failed ({len(results)} cases in {files} files)"
    )
    return "\n".join(lines)
