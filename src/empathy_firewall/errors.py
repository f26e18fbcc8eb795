"""One error hierarchy, classified by what the caller should do about it.

=====================  ==========================================================
class                  what the caller does
=====================  ==========================================================
:class:`ConfigError`   stop; a human fixes configuration, credentials or rules
:class:`InputError`    reject this input (a file line, a webhook body) and say why
:class:`RetryableError`  try again later, within bounds (429, 5xx, timeouts)
:class:`SkipError`     give up on this one item, report it, carry on with the rest
=====================  ==========================================================

Messages never contain secrets or ticket text; they name files, lines, fields and ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "EmpathyFirewallError",
    "InputError",
    "LockHeldError",
    "Problem",
    "RateLimitedError",
    "RetryableError",
    "RulePackError",
    "SkipError",
]


class EmpathyFirewallError(Exception):
    """Base of every error this library raises on purpose."""

    #: process exit code the CLI uses for this class of error
    exit_code: int = 1


class ConfigError(EmpathyFirewallError):
    """Configuration, credentials or rule packs are wrong: a human must fix them."""

    exit_code = 2


class AuthenticationError(ConfigError):
    """The helpdesk refused our credentials. Never retried."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise complaint about a file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class RulePackError(ConfigError):
    """One or more rule packs are invalid; nothing may run until all are fixed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in rule packs:\n{lines}")


class InputError(EmpathyFirewallError):
    """An input (a JSONL line, a webhook body) is malformed; reject it with the reason.

    ``source`` and ``line`` locate the input when it comes from a file.
    """

    exit_code = 3

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.reason = message
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")


class RetryableError(EmpathyFirewallError):
    """A transient failure (rate limit, server error, timeout): retry later, within bounds."""

    exit_code = 4

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RateLimitedError(RetryableError):
    """The vendor said 429. ``retry_after`` holds its advice in seconds, when given."""


class SkipError(EmpathyFirewallError):
    """This one item cannot be processed (a 404 or 422 on one ticket): skip and report it."""

    exit_code = 5

    def __init__(self, message: str, *, item: str | None = None) -> None:
        self.item = item
        super().__init__(message)


class LockHeldError(EmpathyFirewallError):
    """Another run holds the lock (an overlapping cron run): exit at once, change nothing."""

    exit_code = 6
