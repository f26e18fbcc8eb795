"""The ``empathy-firewall`` command line.

Exit codes: 0 success; 1 unexpected failure; 2 configuration or rule pack error (fix the
config); 3 bad input data (fix the file); 4 transient vendor failure (retry later);
5 an item could not be processed; 6 another run holds the lock; 7 the state store cannot
be opened or read (unreachable, locked, not a store).

Every error, from any command, is one or two lines on stderr (what is wrong, where, what to
do) and never a traceback; ``--log-level debug`` logs the traceback of unexpected ones.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from empathy_firewall import __version__
from empathy_firewall.config import AppConfig, load_config
from empathy_firewall.engine.durations import format_duration
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.golden import format_results, run_golden_paths
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.engine.registry import default_registry
from empathy_firewall.engine.rules import Rule, RuleSet
from empathy_firewall.errors import ConfigError, EmpathyFirewallError, RulePackError
from empathy_firewall.pipeline import Pipeline, simulate_file
from empathy_firewall.plugins import load_plugins
from empathy_firewall.present import RunTally, format_plan

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("empathy_firewall")


#: exit code when the state store cannot be opened or read
STORE_EXIT_CODE = 7


def _first_line(text: str, limit: int = 300) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def error_message(exc: BaseException, command: str) -> tuple[str, int]:
    """The short message and exit code for an exception a command did not handle."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, EmpathyFirewallError):
        return f"error: {exc}", exc.exit_code
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) or exc
        reason = _first_line(f"{type(orig).__name__}: {orig}")
        return (
            f"error: {command}: the state store cannot be used ({reason})\n"
            "check [state] url (or EF_STATE_URL): the database must be reachable, writable "
            "and an empathy-firewall store",
            STORE_EXIT_CODE,
        )
    if isinstance(exc, NotImplementedError):
        return (
            f"error: {command}: not possible with this configuration: {_first_line(str(exc))}\n"
            "choose a connector that supports it (see docs/connectors.md)",
            ConfigError.exit_code,
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"error: {command}: {exc.strerror or exc}{where}", ConfigError.exit_code
    return (
        f"error: {command}: unexpected {type(exc).__name__}: {_first_line(str(exc))}\n"
        "rerun with --log-level debug for details, and please report it",
        1,
    )


_COMMAND = "empathy_firewall.command"


class _Main(click.Group):
    """The root group: turns anything a command raises into a short error and exit code."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Resolve as Click does, and remember the command's name (with a group's
        subcommand, e.g. ``inbox list``) for the error message."""
        name, command, rest = super().resolve_command(ctx, args)
        words = [name] if name else []
        if isinstance(command, click.Group) and rest and command.get_command(ctx, rest[0]):
            words.append(rest[0])
        ctx.meta[_COMMAND] = " ".join(words)
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            command = ctx.meta.get(_COMMAND) or "command"
            log.debug("%s failed", command, exc_info=True)
            message, code = error_message(exc, f"empathy-firewall {command}".strip())
            click.echo(message, err=True)
            ctx.exit(code)


def _handle_errors(fn: F) -> F:
    """Turn library errors into a clear message on stderr and the class's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EmpathyFirewallError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-11-20T15:00:00+00:00")
    return parsed


def _config(path: Path | None, plugins: tuple[str, ...] = ()) -> AppConfig:
    """Read the config (if any) and load plugins before any rule pack is validated."""
    # the same file `sync` and `serve` read: their tables are theirs, simulate skips them
    service_tables = frozenset({"state", "connector", "sync", "channels", "webhooks"})
    config = load_config(path, allow_extra=service_tables) if path is not None else AppConfig()
    load_plugins((*config.plugins, *plugins))
    return config


def _rules(config: AppConfig, extra: tuple[Path, ...]) -> RuleSet:
    paths = list(extra) if extra else (list(config.rules) if config.rules is not None else None)
    return load_rule_packs(paths, disabled=config.disabled_rules)


_plugin_option = click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Import a module that registers Python rules or conditions (repeatable).",
)


@click.group(cls=_Main)
@click.version_option(__version__, prog_name="empathy-firewall")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="Log verbosity (logs never contain ticket text at info or above).",
)
def main(log_level: str) -> None:
    """empathy-firewall: shield customers from internal friction and care for your agents."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="TOML config.")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Rule pack file or directory (repeatable); default: the config's, else the shipped pack.",
)
@click.option("--now", help="Evaluate as of this ISO 8601 time (default: latest activity in FILE).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per ticket, for machines.")
@click.option("--full", is_flag=True, help="Show whole notes instead of their first lines.")
@click.option("--quiet-empty", is_flag=True, help="Do not list tickets with nothing to do.")
@_plugin_option
@_handle_errors
def simulate(
    file: Path,
    config_path: Path | None,
    rule_paths: tuple[Path, ...],
    now: str | None,
    as_json: bool,
    full: bool,
    quiet_empty: bool,
    plugins: tuple[str, ...],
) -> None:
    """Run the whole pipeline on a ticket file and print each ticket's plan. Sends nothing.

    FILE holds one normalized ticket per line (docs/ticket-file.md). The whole file is
    validated before anything is evaluated: a bad line stops the run with its number.
    """
    config = _config(config_path, plugins)
    rules = _rules(config, rule_paths)
    pipeline = Pipeline(Engine(rules), config.settings)
    count, at, results = simulate_file(file, pipeline, _parse_now(now))
    log.info(
        "simulating %d tickets as of %s with %d rules", count, at.isoformat(), len(rules.rules)
    )
    tally = RunTally()
    for item in results:
        tally.add(item.plan)
        if as_json:
            click.echo(
                json.dumps({"ticket": item.ticket.key, "plan": item.plan.model_dump(mode="json")})
            )
        elif item.plan.actions or not quiet_empty:
            click.echo(format_plan(item.plan, item.signals, full=full))
            click.echo()
    if not as_json:
        click.echo(f"as of {at.isoformat()}:")
        for line in tally.lines():
            click.echo(line)


@main.group()
def rules() -> None:
    """Check, explain and list the rule catalogue."""


@rules.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_plugin_option
@_handle_errors
def rules_lint(paths: tuple[Path, ...], plugins: tuple[str, ...]) -> None:
    """Validate rule packs (files or directories); list every problem with file and line."""
    load_plugins(plugins)
    try:
        loaded = load_rule_packs(list(paths) if paths else None, include_python_rules=False)
    except RulePackError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(
            f"{len(exc.problems)} problem(s); nothing may run until they are fixed.", err=True
        )
        sys.exit(exc.exit_code)
    click.echo(f"ok: {len(loaded.rules)} rules in {len(loaded.sources)} file(s)")


@rules.command("explain")
@click.argument("rule_id")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(path_type=Path))
@_plugin_option
@_handle_errors
def rules_explain(rule_id: str, rule_paths: tuple[Path, ...], plugins: tuple[str, ...]) -> None:
    """Show what a rule does: when it acts, its gates, its actions, how to switch it off."""
    load_plugins(plugins)
    loaded = load_rule_packs(list(rule_paths) if rule_paths else None)
    rule = loaded.get(rule_id)
    if rule is None:
        known = ", ".join(r.id for r in loaded.rules)
        raise click.UsageError(f"no rule {rule_id!r}; known: {known}")
    where = f"{rule.source}:{rule.line}" if rule.line else rule.source
    click.echo(
        f"{rule.id} (pack {rule.pack}, priority {rule.priority}"
        f"{', disabled' if not rule.enabled else ''})"
    )
    click.echo(f"  {rule.description}")
    click.echo(f"  defined at {where}")
    gates = []
    per = rule.cooldown_per
    if rule.once_per_ticket:
        gates.append("once per ticket" if per == "ticket" else f"once per {per}")
    if rule.episode:
        scope = "" if per == "ticket" else f" per {per}"
        gates.append(f"once per distinct {rule.episode}{scope}")
    if rule.cooldown:
        gates.append(f"cooldown {format_duration(rule.cooldown)} per {rule.cooldown_per}")
    click.echo(f"  gates: {', '.join(gates) or 'none (acts whenever its conditions hold)'}")
    carrier = _carrier_text(rule)
    if carrier:
        click.echo(f"  carrier: {carrier}")
    if rule.raw.get("when") is not None:
        click.echo("  when:")
        for line in json.dumps(rule.raw["when"], indent=2, ensure_ascii=False).splitlines():
            click.echo(f"    {line}")
    for spec in rule.actions:
        click.echo(f"  action: {spec.kind}" + (" (templated text)" if spec.template else ""))
    if rule.condition is not None:
        registry = loaded.registry
        click.echo("  reads:")
        for path in rule.condition.paths:
            doc = registry.paths[path]
            click.echo(f"    {path} ({doc.type}{', ' + doc.unit if doc.unit else ''}): {doc.doc}")
    click.echo(f"  switch off: {rule.disable_hint}")


def _carrier_text(rule: Rule) -> str:
    """Which ticket carries a rule gated per agent or customer, and why ("" for others)."""
    per = rule.cooldown_per
    if per not in ("agent", "customer") or not (
        rule.once_per_ticket or rule.cooldown or rule.episode
    ):
        return ""
    if per == "agent":
        which = (
            "the ticket of the agent's latest reply (within the strain window, among the "
            "tickets still assigned to them)"
        )
        reason = "acts on the ticket with the agent's latest reply (KEY)"
    else:
        which = "the customer's latest conversation (by its newest message)"
        reason = "acts on the ticket with the customer's latest message (KEY)"
    return (
        f"one ticket per {per} acts, in sync runs and webhook workers: {which}, whatever "
        f"order the tickets are read in; the {per}'s other tickets hold it back with "
        f'"{reason}". Where nothing is known of the {per} (no reply remembered, '
        "simulate), the first matching ticket evaluated carries it."
    )


@rules.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Rule packs to test against (default: the pack each golden directory sits in).",
)
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
@_plugin_option
@_handle_errors
def rules_test(
    paths: tuple[Path, ...], rule_paths: tuple[Path, ...], verbose: bool, plugins: tuple[str, ...]
) -> None:
    """Run golden cases (a ticket in, the expected plan out) against rule packs."""
    load_plugins(plugins)
    results = run_golden_paths(list(paths), list(rule_paths) if rule_paths else None)
    click.echo(format_results(results, verbose=verbose))
    if not results or any(not r.ok for r in results):
        sys.exit(1)


@rules.command("paths")
@click.option("--markdown", is_flag=True, help="Print the catalogue as a Markdown table.")
def rules_paths(markdown: bool) -> None:
    """List every signal path rules can test, with type, unit and meaning."""
    from empathy_firewall.engine import builtins  # noqa: F401  (registers the catalogue)

    paths = default_registry.paths
    if markdown:
        click.echo("| path | type | unit | meaning |")
        click.echo("|---|---|---|---|")
    for name in sorted(paths):
        spec = paths[name]
        kind = spec.type.value + (" or null" if spec.nullable else "")
        doc = spec.doc + (" Private to the agent." if spec.private else "")
        if spec.choices:
            doc += f" One of: {', '.join(spec.choices)}."
        if markdown:
            click.echo(f"| `{name}` | {kind} | {spec.unit or '-'} | {doc} |")
        else:
            click.echo(f"{name:34} {kind:28} {spec.unit or '-':22} {doc}")


from empathy_firewall.sync.commands import check, sync  # noqa: E402

main.add_command(sync)
main.add_command(check)

from empathy_firewall.webhooks.commands import inbox, serve, worker  # noqa: E402

main.add_command(serve)
main.add_command(worker)
main.add_command(inbox)

from empathy_firewall.channels.commands import agents, digest  # noqa: E402

main.add_command(agents)
main.add_command(digest)

from empathy_firewall.insights.commands import report, suggest  # noqa: E402

main.add_command(report)
rules.add_command(suggest)
