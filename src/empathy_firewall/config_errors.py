"""Configuration error messages that say how to fix the mistake.

Every unknown key is reported with the keys allowed in its table and the closest one
(``state.ulr: unknown key; did you mean 'url'?``), and all problems of a file are listed
at once instead of one per run.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from empathy_firewall.errors import ConfigError

__all__ = [
    "ConfigFileError",
    "allowed_keys",
    "closest",
    "format_problems",
    "unknown_key",
    "validation_problems",
]


def format_problems(path: object, problems: Sequence[str]) -> str:
    """``FILE: problem`` for one, else ``FILE: N problems:`` and one per line."""
    if len(problems) == 1:
        return f"{path}: {problems[0]}"
    return f"{path}: {len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)


class ConfigFileError(ConfigError):
    """Every problem found in one configuration file (``problems``), reported together."""

    def __init__(self, path: object, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(format_problems(path, self.problems))


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model's table accepts (aliases where set), sorted."""
    return sorted((info.alias or name) for name, info in model.model_fields.items())


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (a typo's intended key), if any is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key(where: str, key: str, allowed: Sequence[str]) -> str:
    """``where.key: unknown key; did you mean 'x'? (allowed: ...)``."""
    guess = closest(key, allowed)
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"{where}{key}: unknown key{hint} (allowed: {', '.join(allowed)})"


def _nested(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        fields = {(info.alias or name): info for name, info in current.model_fields.items()}
        info = fields.get(str(part))
        if info is None:
            return None
        annotation = info.annotation
        candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return current


def _is_union(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin is typing.Union or origin is types.UnionType


def validation_problems(table: str, exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """One message per problem, keys prefixed with ``table.``; values are never echoed."""
    prefix = f"{table}." if table else ""
    out: list[str] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        path = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden" and loc:
            parent = _nested(model, loc[:-1]) or model
            where = prefix + "".join(f"{p}." for p in loc[:-1])
            out.append(unknown_key(where, str(loc[-1]), allowed_keys(parent)))
        else:
            out.append(f"{prefix}{path or '(table)'}: {err['msg']}")
    return out
