"""Threshold suggestions for a rule pack, from what the report learned. Pure; never applied.

Two kinds of evidence, each turned into a one-step change of a numeric threshold in the
pack's YAML text (shown as a unified diff, with the reason as a comment above the line):

- a disruption that clearly hurts (its whole 95% interval below ``-harm``) while the
  intervention that answers it helps (or is not yet known to): act earlier on it.
  ``group_hop`` lowers ``friction.group_hops: {gte: N}``; ``sla_breach`` lowers the
  ``sla_at_risk`` ratio; ``long_wait`` and ``assignee_overloaded`` lower the
  ``friction.waiting_minutes`` that goes with them;
- a rule that agents undo often (precision below ``min_precision`` over at least
  ``min_firings`` firings): make it stricter (a ``gte`` bound up one step, an ``lte``
  bound down one step).

An intervention that clearly makes things worse is reported as a reason to review its
rule, with no automatic threshold (what to change is a judgement call).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Suggestion", "diff", "suggest"]

_BOUND = re.compile(
    r"(?P<head>\{\s*(?P<op>gte|lte|gt|lt):\s*)(?P<num>-?\d+(?:\.\d+)?)(?P<tail>\s*\})"
)
_RATIO = re.compile(r"(?P<head>ratio:\s*)(?P<num>\d+(?:\.\d+)?)")
_RULE = re.compile(r"^\s*-\s*id:\s*(?P<id>[\w.-]+)\s*$")

#: which signal path each disruption's earlier-acting change touches, and the rule
_EARLIER: Mapping[str, tuple[str, str]] = {
    "group_hop": ("friction.group_hops", "delay-acknowledgement"),
    "sla_breach": ("sla_at_risk", "delay-acknowledgement"),
    "long_wait": ("friction.waiting_minutes", "delay-acknowledgement"),
    "assignee_overloaded": ("friction.waiting_minutes", "delay-acknowledgement"),
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed edit: the line (0-based), its new text and why."""

    line: int
    new: str
    reason: str


def _blocks(lines: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Rule id -> (first line, end line) of its block."""
    starts = [(i, m.group("id")) for i, line in enumerate(lines) if (m := _RULE.match(line))]
    out = {}
    for index, (start, rule) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        out[rule] = (start, end)
    return out


def _number(value: float, was: str) -> str:
    if "." not in was:
        return str(round(value))
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"


def _step(op: str, value: float, stricter: bool, integer: bool) -> float:
    """One step: integers by 1, fractions by 0.1 (minutes by a quarter)."""
    up = (op in ("gte", "gt")) == stricter
    delta = 0.1
    if integer:
        delta = max(1.0, abs(value) * 0.25) if abs(value) >= 20 else 1.0
    return value + delta if up else value - delta


def _earlier(
    lines: Sequence[str],
    blocks: Mapping[str, tuple[int, int]],
    kind: str,
    effect: Mapping[str, Any],
) -> Suggestion | None:
    path, rule = _EARLIER[kind]
    span = blocks.get(rule)
    if span is None:
        return None
    lo, hi = effect["ci95"]
    why = (
        f"{kind.replace('_', ' ')} changes the next customer message by {effect['effect']:+.2f} "
        f"(95% interval {lo:+.2f} to {hi:+.2f}, n={effect['n']}): let {rule} act earlier"
    )
    for index in range(*span):
        line = lines[index]
        if path not in line:
            continue
        pattern = _RATIO if path == "sla_at_risk" else _BOUND
        match = pattern.search(line)
        if match is None:
            continue
        raw = match.group("num")
        value = float(raw)
        if path == "sla_at_risk":
            new_value = max(0.5, value - 0.1)
        else:
            op = match.group("op")
            new_value = _step(op, value, stricter=False, integer="." not in raw)
            if path == "friction.group_hops":
                new_value = max(1.0, new_value)
            else:
                new_value = max(0.0, new_value)
        if new_value == value:
            return None
        text = line[: match.start("num")] + _number(new_value, raw) + line[match.end("num") :]
        return Suggestion(index, text, why)
    return None


def _stricter(
    lines: Sequence[str], span: tuple[int, int], rule: Mapping[str, Any]
) -> list[Suggestion]:
    out = []
    why = (
        f"agents undid {rule['undone']} of {rule['firings']} firings of {rule['rule']} "
        f"(precision {rule['precision'] * 100:.0f}%): make it stricter"
    )
    for index in range(*span):
        line = lines[index]
        match = _BOUND.search(line)
        if match is None or "customer_messages" in line:
            continue
        raw = match.group("num")
        value = float(raw)
        new_value = _step(match.group("op"), value, stricter=True, integer="." not in raw)
        if "sentiment" in line:
            new_value = max(-1.0, min(1.0, new_value))
        text = line[: match.start("num")] + _number(new_value, raw) + line[match.end("num") :]
        if text != line:
            out.append(Suggestion(index, text, why))
    return out


def suggest(
    pack_text: str,
    report: Mapping[str, Any],
    *,
    harm: float = 0.05,
    min_precision: float = 0.7,
    min_firings: int = 20,
) -> tuple[list[Suggestion], list[str]]:
    """Edits to ``pack_text`` and notes (advice with no automatic edit)."""
    lines = pack_text.splitlines()
    blocks = _blocks(lines)
    insights = report["insights"]
    helps = {e["kind"]: e for e in insights["interventions"]}
    edits: dict[int, Suggestion] = {}
    notes: list[str] = []
    acknowledgement = helps.get("delay_acknowledgement", {})
    for effect in insights["disruptions"]:
        kind = effect["kind"]
        if kind not in _EARLIER or not effect.get("ci95") or effect["ci95"][1] >= -harm:
            continue
        if acknowledgement.get("verdict") == "worse":
            continue
        found = _earlier(lines, blocks, kind, effect)
        if found is not None and found.line not in edits:
            edits[found.line] = found
    for effect in insights["interventions"]:
        if effect.get("verdict") == "worse":
            notes.append(
                f"{effect['kind'].replace('_', ' ')} is followed by worse customer messages "
                f"({effect['effect']:+.2f}, n={effect['n']}): review its rule and wording"
            )
    for rule in report.get("rule_health", ()):
        precision = rule.get("precision")
        if precision is None or rule["firings"] < min_firings or precision >= min_precision:
            continue
        span = blocks.get(rule["rule"])
        if span is None:
            notes.append(f"rule {rule['rule']} is undone often but is not in this pack")
            continue
        for found in _stricter(lines, span, rule):
            edits.setdefault(found.line, found)
    return [edits[i] for i in sorted(edits)], notes


def diff(pack_text: str, edits: Sequence[Suggestion], name: str) -> str:
    """A unified diff applying ``edits``, each preceded by a comment with its reason."""
    lines = pack_text.splitlines()
    new: list[str] = []
    by_line = {e.line: e for e in edits}
    for index, line in enumerate(lines):
        edit = by_line.get(index)
        if edit is None:
            new.append(line)
            continue
        indent = edit.new[: len(edit.new) - len(edit.new.lstrip())]
        new.append(f"{indent}# suggested by empathy-firewall rules suggest: {edit.reason}")
        new.append(edit.new)
    return "\n".join(difflib.unified_diff(lines, new, f"a/{name}", f"b/{name}", lineterm="", n=2))
