"""YAML with locations: the data, plus the line of every key and item, for precise errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import yaml

from empathy_firewall.errors import Problem

__all__ = ["Located", "load_located", "read_source", "render_path"]

Path = tuple[str | int, ...]


@dataclass
class Located:
    """Parsed YAML data and the 1-based line where each path starts."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest located ancestor."""
        for cut in range(len(path), -1, -1):
            found = self.lines.get(path[:cut])
            if found is not None:
                return found
        return None

    def problem(self, path: Path, message: str) -> Problem:
        """A :class:`Problem` at ``path``."""
        return Problem(self.file, self.line_of(path), render_path(path), message)


def render_path(path: Path) -> str:
    """``("rules", 2, "when")`` -> ``rules[2].when``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _index(node: yaml.Node, path: Path, located: Located) -> None:
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                located.problems.append(
                    Problem(
                        located.file,
                        key_node.start_mark.line + 1,
                        render_path((*path, key)),
                        f"duplicate key {key!r}",
                    )
                )
            seen.add(key)
            located.lines[(*path, key)] = key_node.start_mark.line + 1
            _index(value_node, (*path, key), located)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), located)


def load_located(text: str, file: str) -> Located:
    """Parse YAML safely. Syntax errors become problems, never exceptions."""
    located = Located(file, None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        located.data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        located.problems.append(Problem(file, line, "", f"invalid YAML: {reason}"))
        return located
    except RecursionError:
        located.problems.append(Problem(file, None, "", "invalid YAML: nested too deeply"))
        return located
    if node is not None:
        _index(node, (), located)
    return located


def read_source(file: PathLike[str] | str, max_bytes: int) -> str | Problem:
    """A rule or golden file's text, or the :class:`Problem` that stops it being read."""
    name = str(file)
    try:
        with open(file, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        return Problem(name, None, "", f"cannot read: {exc.strerror}")
    if len(raw) > max_bytes:
        return Problem(name, None, "", f"file larger than {max_bytes // 1_000_000} MB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return Problem(name, None, "", "not UTF-8 text")
