"""The ``sync`` and ``check`` commands (registered on the main CLI group).

``empathy-firewall sync --config FILE`` runs one resumable, idempotent sync;
``empathy-firewall check --config FILE`` verifies configuration, credentials, permissions,
rule packs and the state store without changing anything. Exit codes: see
:mod:`empathy_firewall.sync.summary` and docs/sync.md.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from empathy_firewall.connectors.dry import request_line
from empathy_firewall.connectors.registry import create
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.errors import ConfigError, EmpathyFirewallError, RetryableError
from empathy_firewall.plugins import load_plugins

if TYPE_CHECKING:  # the database layer loads only when a sync command runs
    from empathy_firewall.actions import Plan
    from empathy_firewall.connectors.base import Connector
    from empathy_firewall.engine.rules import RuleSet
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.sync.job import PageReport
    from empathy_firewall.sync.settings import SyncConfig
    from empathy_firewall.wire import HttpRequest

log = logging.getLogger("empathy_firewall.sync")

__all__ = ["check", "sync"]

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The TOML configuration file ([connector], [state], [sync], rules, [settings]).",
)


def _fail(exc: EmpathyFirewallError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _store_unavailable(exc: Exception) -> RetryableError:
    """A database failure: transient for the run (exit 4); anything else is re-raised."""
    from sqlalchemy.exc import SQLAlchemyError

    if not isinstance(exc, SQLAlchemyError):
        raise exc
    return RetryableError(
        f"state store unavailable ({type(exc).__name__}); check state.url and the database "
        "server; the next run resumes from the last recorded page"
    )


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint=option) from None
    if parsed.tzinfo is None:
        raise click.BadParameter(
            "give a time zone, e.g. 2026-11-20T15:00:00+00:00", param_hint=option
        )
    return parsed


def _open_store(config: SyncConfig, *, migrate: bool = True) -> StateStore:
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.sync.settings import resolve_state_url

    url = resolve_state_url(config)
    return StateStore(
        url,
        schema=config.state.schema_,
        max_tickets=config.state.max_tickets_per_customer,
        keep_hours=config.state.keep_hours,
        migrate_schema=migrate,
    )


def _connector(config: SyncConfig) -> Connector:
    try:
        return create(config.connector_name, config.connector)
    except ConfigError as exc:
        if str(config.path) in str(exc):
            raise
        raise ConfigError(f"{config.path}: {exc}") from None


def _rules(config: SyncConfig) -> RuleSet:
    load_plugins(config.app.plugins)
    paths = list(config.app.rules) if config.app.rules is not None else None
    return load_rule_packs(paths, disabled=config.app.disabled_rules)


def write_requests(connector: Connector, plans: Sequence[Plan]) -> list[dict[str, Any]]:
    """The write requests ``apply`` would send for ``plans`` (method, url, body; no
    credentials), from the connector's dry run; ``[]`` when it writes nothing."""
    if not plans or not connector.capabilities.writes:
        return []
    try:
        rendered = connector.render(plans)
    except NotImplementedError as exc:
        log.warning("dry run: %s", exc)
        return []
    return [request_line(r) for r in rendered]


class _Progress:
    """A one-line progress display on a terminal; nothing otherwise (log lines instead).

    With ``show_plans`` (a dry run) it prints each page's plans, then the write requests
    a real run sends for them, as JSON lines (``{"plan": ...}``, ``{"request": ...}``).
    """

    def __init__(
        self,
        enabled: bool,
        dry_run: bool,
        show_plans: bool,
        connector: Connector | None = None,
        writes: list[HttpRequest] | None = None,
    ) -> None:
        self.enabled = enabled
        self.show_plans = show_plans
        self.connector = connector  # the evaluating dry run: render each page's plans
        self.writes = writes  # the rehearsal: the writes recorded so far
        self.printed = 0
        self.label = "dry run" if dry_run else "sync"
        self.tickets = 0
        self.shown = False  # a line is on the terminal and must be ended
        self.started = time.monotonic()

    def __call__(self, report: PageReport) -> None:
        if self.show_plans:
            for plan in report.plans:
                click.echo(json.dumps({"plan": plan.model_dump(mode="json")}, sort_keys=True))
            if self.writes is not None:
                lines = [request_line(r) for r in self.writes[self.printed :]]
                self.printed = len(self.writes)
            elif self.connector is not None:
                lines = write_requests(self.connector, report.plans)
            else:
                lines = []
            for request in lines:
                click.echo(json.dumps({"request": request}, sort_keys=True))
        if self.enabled:
            self.tickets += report.tickets
            rate = self.tickets / max(time.monotonic() - self.started, 1e-6)
            applied = sum(report.summary.actions_applied.values())
            line = (
                f"\r{self.label}: page {report.number}, {self.tickets} tickets "
                f"({rate:.0f}/s), {applied} actions applied"
            )
            click.echo(line, nl=False, err=True)
            self.shown = True

    def close(self) -> None:
        """End the progress line (even a run that read no ticket showed one)."""
        if self.enabled and self.shown:
            click.echo(err=True)
            self.shown = False
            self.tickets = 0


@click.command()
@_CONFIG
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plans and the write requests a real run sends (JSON lines); "
    "write and store nothing.",
)
@click.option("--since", help="Backfill: read tickets changed since this ISO 8601 time.")
@click.option(
    "--max-tickets",
    type=click.IntRange(min=1),
    help="Stop after the page that reaches this many tickets (a page is the unit of progress).",
)
@click.option("--now", help="Evaluate as of this ISO 8601 time (replays and tests).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--no-progress", is_flag=True, help="No progress bar, even on a terminal.")
def sync(
    config_path: Path,
    dry_run: bool,
    since: str | None,
    max_tickets: int | None,
    now: str | None,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Poll the helpdesk from the bookmark, evaluate, apply, record: one resumable run.

    Safe to run from cron every few minutes: an overlapping run exits at once (code 6),
    a killed run is picked up by the next one, and nothing is ever applied twice.

    \b
    Exit codes: 0 finished (skipped tickets are listed); 1 unexpected failure;
    2 configuration, credentials or rules; 3 bad input data; 4 helpdesk unavailable or
    rate-limited (resumes next run); 6 another run holds the lock.
    """
    from empathy_firewall.state.scratch import sweep_server
    from empathy_firewall.sync.job import SyncJob, SyncOptions
    from empathy_firewall.sync.rehearsal import rehearsal as make_rehearsal
    from empathy_firewall.sync.rehearsal import scratch_store
    from empathy_firewall.sync.settings import load_sync_config

    stop = {"asked": False}

    def _asked(_signum: int, _frame: FrameType | None) -> None:
        stop["asked"] = True

    try:
        config = load_sync_config(config_path)
        options = SyncOptions(
            dry_run=dry_run,
            since=_time(since, "--since"),
            max_tickets=max_tickets or config.sync.max_tickets or None,
            now=_time(now, "--now"),
            lock_ttl=timedelta(minutes=config.sync.lock_ttl_minutes),
        )
        engine = Engine(_rules(config))
        connector = _connector(config)
        rehearsal = make_rehearsal(connector, config) if dry_run else None
        scratch = None
        if rehearsal is not None:  # the real run on a dry twin and a copy of the store
            connector, store = rehearsal.connector, rehearsal.store
            options = replace(options, dry_run=False)
        elif dry_run:  # evaluates only, on a copy: not even an older store is migrated
            scratch = scratch_store(config)
            store = scratch.store
        else:
            store = _open_store(config)
            sweep_server(store.engine)  # copies a killed dry run left on the server
    except EmpathyFirewallError as exc:
        _fail(exc)
        return
    except Exception as exc:
        _fail(_store_unavailable(exc))
        return
    from empathy_firewall.state.rates import share_rate_limits
    from empathy_firewall.sync.job import account_of

    if not dry_run:  # a dry run stores nothing, not even a budget
        share_rate_limits(connector, store, account_of(connector))
    previous = signal.signal(signal.SIGTERM, _asked)
    progress = _Progress(
        sys.stderr.isatty() and not no_progress,
        dry_run,
        show_plans=dry_run,
        connector=connector if rehearsal is None else None,
        writes=rehearsal.writes if rehearsal is not None else None,
    )
    try:
        job = SyncJob(
            store,
            connector,
            engine,
            config.app.settings,
            options,
            on_page=progress,
            should_stop=lambda: stop["asked"],
        )
        summary = job.run()
    except EmpathyFirewallError as exc:
        progress.close()
        _fail(exc)
        return
    except Exception as exc:
        progress.close()
        _fail(_store_unavailable(exc))
        return
    finally:
        progress.close()
        signal.signal(signal.SIGTERM, previous)
        if rehearsal is not None:
            rehearsal.close()
        elif scratch is not None:
            scratch.close()
        else:
            store.close()
    summary.dry_run = dry_run
    # a dry run's stdout is JSON lines (the plans): a human summary goes to stderr
    to_err = dry_run and not as_json
    if as_json:
        click.echo(json.dumps(summary.as_dict(), sort_keys=True))
    elif sys.stdout.isatty() and not to_err:
        for line in summary.lines():
            click.echo(line)
    else:
        click.echo(summary.logfmt(), err=to_err)
        for item in summary.skipped:
            key = f" action={item.action_key}" if item.action_key else ""
            click.echo(
                f"sync skipped ticket={item.ticket}{key} reason={json.dumps(item.reason)}",
                err=to_err,
            )


@click.command()
@_CONFIG
def check(config_path: Path) -> None:
    """Verify config, rule packs, credentials, permissions and the state store. Changes nothing.

    Exit code 0 when everything is ready for ``sync``; otherwise the first problem's code
    (2 for configuration, credentials or rules) with a message naming what to fix.
    """
    from sqlalchemy.engine import make_url

    from empathy_firewall.state.lock import lock_info
    from empathy_firewall.state.migrations import MIGRATIONS
    from empathy_firewall.sync.job import account_of
    from empathy_firewall.sync.settings import load_sync_config, resolve_state_url

    try:
        config = load_sync_config(config_path)
        click.echo(f"config: ok ({config_path})")
        rules = _rules(config)
        click.echo(f"rule packs: ok ({len(rules.rules)} rules)")
        connector = _connector(config)
        click.echo(f"connector: {connector.name} config ok (account {account_of(connector)})")
        connector.check()
        click.echo("credentials and permissions: ok")
        url = resolve_state_url(config)
        target = make_url(url)
        if target.get_backend_name() == "sqlite" and not Path(target.database or "").exists():
            click.echo(f"state store: {target.database} does not exist yet; sync creates it")
            click.echo("ready: sync can run")
            return
        try:
            store = _open_store(config, migrate=False)
        except EmpathyFirewallError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"state store: cannot connect ({type(exc).__name__}); check state.url"
            ) from None
        try:
            latest = MIGRATIONS[-1].version
            if store.version < latest:
                click.echo(
                    f"state store: reachable ({store.backend}); schema version "
                    f"{store.version}, the first sync migrates it to {latest}"
                )
            else:
                click.echo(f"state store: ok ({store.backend}, schema version {store.version})")
                mark = store.bookmark(connector.name, account_of(connector))
                if mark is None:
                    click.echo("bookmark: none yet (the first sync starts from the beginning)")
                else:
                    state = " (last run stopped mid-page)" if mark.pending else ""
                    click.echo(f"bookmark: saved {mark.updated_at:%Y-%m-%d %H:%M} UTC{state}")
                holder = lock_info(store, f"sync:{connector.name}:{account_of(connector)}")
                if holder is not None:
                    click.echo(f"lock: held by pid {holder.pid} on {holder.host}")
        finally:
            store.close()
    except EmpathyFirewallError as exc:
        _fail(exc)
        return
    click.echo("ready: sync can run")
