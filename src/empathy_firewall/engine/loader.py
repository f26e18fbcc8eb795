"""Loading rule packs: YAML files validated in full before anything runs.

A pack file::

    pack: default                 # name, used in explanations
    description: ...
    rules:
      - id: frustration-high      # unique across every loaded pack
        description: ...
        priority: 60              # higher runs (and merges) first; default 50
        enabled: true
        cooldown: 24h             # at most once per window per ticket
        cooldown_per: ticket      # whose history the cooldown reads: ticket, agent, customer
        once_per_ticket: false    # at most once per ticket, ever
        episode: handoff.at       # at most once per distinct value of this path
        when: {...}               # see engine.conditions
        actions: [...]            # see engine.rules

:func:`load_rule_packs` collects every problem in every file (file, line, field, message)
and raises one :class:`~empathy_firewall.errors.RulePackError` if there is any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from empathy_firewall.engine import builtins as _builtins  # noqa: F401  (registers built-ins)
from empathy_firewall.engine.conditions import ConditionError, compile_condition
from empathy_firewall.engine.durations import parse_duration
from empathy_firewall.engine.registry import Registry, default_registry
from empathy_firewall.engine.rules import ActionSpec, Rule, RuleSet, compile_action
from empathy_firewall.engine.template_context import sample_context
from empathy_firewall.engine.templates import TemplateProblem
from empathy_firewall.engine.yamlsource import Located, load_located, read_source
from empathy_firewall.errors import Problem, RulePackError

__all__ = ["default_pack_paths", "load_rule_packs", "parse_rule_pack"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_PACK_KEYS = frozenset({"pack", "description", "rules"})
_RULE_KEYS = frozenset(
    {
        "id",
        "description",
        "priority",
        "enabled",
        "cooldown",
        "cooldown_per",
        "once_per_ticket",
        "episode",
        "when",
        "actions",
    }
)
_MAX_FILE_BYTES = 1_000_000


def default_pack_paths() -> list[Path]:
    """The rule packs shipped with empathy-firewall (installed, or from a source checkout)."""
    bundled = resources.files("empathy_firewall").joinpath("_bundled_rules")
    candidates: list[Path] = []
    if bundled.is_dir():
        candidates.append(Path(str(bundled)))
    candidates.append(Path(__file__).resolve().parents[3] / "rules")
    for root in candidates:
        packs = sorted(root.glob("*/*.yaml")) + sorted(root.glob("*.yaml"))
        if packs:
            return packs
    return []


#: directories with this name hold golden test cases, not packs
GOLDEN_DIR = "golden"


def _expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories searched recursively for *.yaml / *.yml packs,
    skipping ``golden/`` directories (they hold test cases)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.yaml")) + sorted(path.rglob("*.yml"))
            files.extend(f for f in found if GOLDEN_DIR not in f.relative_to(path).parts[:-1])
        else:
            files.append(path)
    return files


def load_rule_packs(
    paths: Sequence[Path] | None = None,
    *,
    registry: Registry | None = None,
    include_python_rules: bool = True,
    disabled: Sequence[str] = (),
) -> RuleSet:
    """Load and validate rule packs (files or directories); the default packs if none given.

    Every problem in every file is collected first; if there is any, nothing is returned
    and :class:`RulePackError` lists them all. Rules named in ``disabled`` are loaded but
    switched off (so one shipped rule can be turned off without copying its pack); naming
    a rule that does not exist is a problem too.
    """
    reg = registry or default_registry
    files = _expand(paths) if paths is not None else default_pack_paths()
    problems: list[Problem] = []
    rules: list[Rule] = []
    for file in files:
        text = read_source(file, _MAX_FILE_BYTES)
        if isinstance(text, Problem):
            problems.append(text)
            continue
        pack_rules, pack_problems = parse_rule_pack(text, str(file), reg)
        rules.extend(pack_rules)
        problems.extend(pack_problems)
    if include_python_rules:
        rules.extend(_python_rules(reg))
    problems.extend(_duplicate_ids(rules))
    known = {rule.id for rule in rules}
    for rule_id in disabled:
        if rule_id not in known:
            problems.append(
                Problem("configuration", None, "disabled_rules", f"no rule {rule_id!r} to disable")
            )
    off = frozenset(disabled)
    rules = [replace(rule, enabled=False) if rule.id in off else rule for rule in rules]
    if problems:
        raise RulePackError(problems)
    return RuleSet(RuleSet.ordered(rules), reg, tuple(str(f) for f in files))


def _python_rules(reg: Registry) -> list[Rule]:
    return [
        Rule(
            id=py.id,
            pack=py.pack,
            description=py.description,
            priority=py.priority,
            enabled=True,
            cooldown=py.cooldown,
            once_per_ticket=py.once_per_ticket,
            episode=None,
            condition=None,
            actions=(),
            source=f"python:{py.fn.__module__}.{py.fn.__qualname__}",
            line=None,
            python=py,
        )
        for py in reg.rules.values()
    ]


def _duplicate_ids(rules: Sequence[Rule]) -> list[Problem]:
    seen: dict[str, Rule] = {}
    problems = []
    for rule in rules:
        first = seen.get(rule.id)
        if first is not None:
            where = f"{first.source}:{first.line}" if first.line else first.source
            problems.append(
                Problem(
                    rule.source, rule.line, "id", f"rule id {rule.id!r} already used at {where}"
                )
            )
        else:
            seen[rule.id] = rule
    return problems


def parse_rule_pack(text: str, file: str, registry: Registry) -> tuple[list[Rule], list[Problem]]:
    """Parse and check one pack's text. Returns the rules and the problems found (pure)."""
    located = load_located(text, file)
    problems = list(located.problems)
    data = located.data
    if problems:
        return [], problems
    if not isinstance(data, dict):
        return [], [located.problem((), "a rule pack is a mapping with 'pack' and 'rules'")]
    for key in sorted(set(map(str, data)) - _PACK_KEYS):
        problems.append(
            located.problem((key,), f"unknown key {key!r} (allowed: pack, description, rules)")
        )
    pack = data.get("pack")
    if not isinstance(pack, str) or not _ID.match(pack):
        problems.append(
            located.problem(("pack",), "expects a pack name (lower case letters, digits, - _ .)")
        )
        pack = "?"
    if "description" in data and not isinstance(data["description"], str):
        problems.append(located.problem(("description",), "expects text"))
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append(located.problem(("rules",), "expects a non-empty list of rules"))
        return [], problems
    sample = sample_context(registry)
    rules: list[Rule] = []
    failed: list[tuple[str, int | None]] = []  # ids of rules with other errors
    for index, raw_rule in enumerate(raw_rules):
        rule = _parse_rule(raw_rule, ("rules", index), pack, located, registry, sample, problems)
        if rule is not None:
            rules.append(rule)
        elif isinstance(raw_rule, dict) and isinstance(raw_rule.get("id"), str):
            failed.append((raw_rule["id"], located.line_of(("rules", index))))
    # a duplicate id is reported even when one of the rules has other errors too
    seen = {r.id: r.line for r in rules}
    for rule_id, line in failed:
        if rule_id in seen:
            first = seen[rule_id]
            where = f"{file}:{first}" if first else file
            problems.append(
                Problem(file, line, "id", f"rule id {rule_id!r} already used at {where}")
            )
        else:
            seen[rule_id] = line
    return rules, problems


def _parse_rule(
    raw: object,
    loc: tuple[str | int, ...],
    pack: str,
    located: Located,
    registry: Registry,
    sample: dict[str, Any],
    problems: list[Problem],
) -> Rule | None:
    before = len(problems)

    def bad(field: str | int | None, message: str) -> None:
        where = loc if field is None else (*loc, field)
        problems.append(located.problem(where, message))

    if not isinstance(raw, dict):
        bad(None, "a rule is a mapping with id, when and actions")
        return None
    for key in sorted(set(map(str, raw)) - _RULE_KEYS):
        bad(key, f"unknown key {key!r} (allowed: {', '.join(sorted(_RULE_KEYS))})")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        bad("id", "expects a rule id (lower case letters, digits, - _ ., at most 64 chars)")
        rule_id = "?"
    description = raw.get("description", "")
    if not isinstance(description, str):
        bad("description", "expects text")
        description = ""
    priority = raw.get("priority", 50)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 1000:
        bad("priority", "expects a whole number from 0 to 1000")
        priority = 50
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        bad("enabled", "expects true or false")
        enabled = True
    once = raw.get("once_per_ticket", False)
    if not isinstance(once, bool):
        bad("once_per_ticket", "expects true or false")
        once = False
    cooldown = None
    if "cooldown" in raw:
        try:
            cooldown = parse_duration(raw["cooldown"])
        except ValueError as exc:
            bad("cooldown", str(exc))
    cooldown_per = raw.get("cooldown_per", "ticket")
    if cooldown_per not in ("ticket", "agent", "customer"):
        bad("cooldown_per", "expects ticket, agent or customer")
        cooldown_per = "ticket"
    episode = raw.get("episode")
    if episode is not None and (not isinstance(episode, str) or episode not in registry.paths):
        bad("episode", f"expects a signal path, got {episode!r}")
        episode = None
    condition = None
    if "when" not in raw:
        bad(None, "missing 'when': the conditions under which the rule acts")
    else:
        try:
            condition = compile_condition(raw["when"], registry)
        except ConditionError as exc:
            for each in exc.every:
                problems.append(located.problem((*loc, "when", *each.loc), str(each)))
    actions: list[ActionSpec] = []
    raw_actions = raw.get("actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        bad("actions", "expects a non-empty list of actions")
    else:
        for i, item in enumerate(raw_actions):
            spec = _parse_action(item, (*loc, "actions", i), located, sample, problems)
            if spec is not None:
                actions.append(spec)
    if len(problems) > before:
        return None
    return Rule(
        id=str(rule_id),
        pack=pack,
        description=description.strip(),
        priority=priority,
        enabled=enabled,
        cooldown=cooldown,
        once_per_ticket=once,
        episode=episode,
        condition=condition,
        actions=tuple(actions),
        source=located.file,
        line=located.line_of(loc),
        raw=raw,
        cooldown_per=str(cooldown_per),
    )


def _parse_action(
    item: object,
    loc: tuple[str | int, ...],
    located: Located,
    sample: dict[str, Any],
    problems: list[Problem],
) -> ActionSpec | None:
    if not isinstance(item, dict) or len(item) != 1:
        problems.append(
            located.problem(loc, "an action is a mapping with one key, e.g. add_tags: [tag]")
        )
        return None
    kind, value = next(iter(item.items()))
    here = (*loc, str(kind))
    try:
        return compile_action(str(kind), value, sample)
    except TemplateProblem as exc:
        line = located.line_of(here)
        if line is not None and exc.line is not None and isinstance(value, str):
            # block scalars start on the line after the key
            line += exc.line if "\n" in value else 0
        problems.append(Problem(located.file, line, located.problem(here, "").field, str(exc)))
    except ValueError as exc:
        problems.append(located.problem(here, str(exc)))
    return None
