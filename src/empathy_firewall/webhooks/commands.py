"""The ``serve``, ``worker`` and ``inbox list|retry`` commands.

``empathy-firewall serve --config FILE`` runs the webhook endpoint (uvicorn) with its
in-process workers; ``empathy-firewall worker --config FILE`` runs workers as a separate
process (scale them out; with PostgreSQL any number share one inbox);
``empathy-firewall inbox list`` shows parked items, ``inbox retry`` requeues them and
``inbox prune`` forgets done items (and their dedupe keys) after a retention period.
Exit codes as for ``sync``: 2 configuration, 4 state store unreachable.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from empathy_firewall.errors import ConfigError, EmpathyFirewallError, RetryableError

log = logging.getLogger("empathy_firewall.webhooks")

if TYPE_CHECKING:
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.webhooks.service import WebhookService
    from empathy_firewall.webhooks.settings import ServeConfig

__all__ = ["inbox", "serve", "worker"]

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The TOML configuration file ([connector], [state], [webhooks], rules).",
)


def _fail(exc: EmpathyFirewallError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _require(*modules: str) -> None:
    """Exit 2 naming the extra when an optional dependency of ``serve``/``worker`` is missing."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        _fail(
            ConfigError(
                f"missing {', '.join(missing)}: install the webhook extra with "
                "pip install 'empathy-firewall[serve]'"
            )
        )


def _service(
    config_path: Path, prepare: Callable[[ServeConfig], None] | None = None
) -> WebhookService:
    """Build the service; configuration and store errors exit with their codes.

    ``prepare`` runs once the file is read and before anything is built (the rule packs,
    the scorer, the store): the worker lowers its CPU priority there.
    """
    _require("prometheus_client")
    from empathy_firewall.webhooks.service import WebhookService
    from empathy_firewall.webhooks.settings import load_serve_config

    try:
        config = load_serve_config(config_path)
        if prepare is not None:
            prepare(config)
        return WebhookService(config)
    except EmpathyFirewallError as exc:
        _fail(exc)
        raise
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        _fail(
            RetryableError(
                f"state store unavailable ({type(exc).__name__}); check state.url and the "
                "database server"
            )
        )
        raise


def _uvicorn_level() -> str:
    """uvicorn logs at the level the main group's ``--log-level`` set."""
    return logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()


@click.command()
@_CONFIG
@click.option("--host", help="Listen address (default: webhooks.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: webhooks.port).")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="In-process worker threads (default: webhooks.workers; 0: use `worker` processes).",
)
def serve(config_path: Path, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the webhook endpoint: verify, queue, answer 202; workers do the rest.

    Routes: POST /webhooks/<connector>, GET /healthz, /readyz, /metrics.
    See docs/webhooks.md for the Zendesk and Freshdesk setup.
    """
    _require("starlette", "uvicorn")
    import uvicorn

    service = _service(config_path)
    settings = service.config.webhooks
    try:
        app = service.app(workers=workers)
    except EmpathyFirewallError as exc:
        service.close()
        _fail(exc)
        return
    listen_host = host or settings.host
    listen_port = settings.port if port is None else port
    routes = ", ".join(f"/webhooks/{name}" for name in service.receivers)
    click.echo(
        f"empathy-firewall serve: listening on http://{listen_host}:{listen_port} "
        f"({routes}; /healthz /readyz /metrics); Ctrl-C stops",
        err=True,
    )
    try:
        uvicorn.run(
            app,
            host=listen_host,
            port=listen_port,
            log_level=_uvicorn_level(),
            access_log=False,  # one line per rejection comes from the receiver instead
            server_header=False,
        )
    finally:
        service.close()


@click.command()
@_CONFIG
@click.option(
    "--until-empty", is_flag=True, help="Exit when the inbox has nothing claimable (cron, tests)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics on GET http://<host>:PORT/metrics "
    "(host: webhooks.host, default 127.0.0.1).",
)
def worker(config_path: Path, until_empty: bool, as_json: bool, metrics_port: int | None) -> None:
    """Process the webhook inbox in this process until SIGTERM/SIGINT.

    Run as many as you like against one PostgreSQL store: no item is processed twice, and
    an item whose worker died is claimed again when its lease expires. With
    ``--metrics-port`` the worker's counters (processed, failed, processing time, inbox
    items) are scraped from this process, as ``serve``'s are from ``/metrics``.
    """

    def lower_priority(config: ServeConfig) -> None:
        # before the rule packs and the scorer load (a second of CPU): a worker started
        # during a burst does not slow the endpoint's acknowledgements either
        niceness = lower_cpu_priority(config.webhooks.worker_nice)
        if niceness is not None:
            log.info(
                "worker: CPU priority lowered to nice %d (webhooks.worker_nice): "
                "acknowledging webhooks comes before processing them",
                niceness,
            )

    service = _service(config_path, lower_priority)
    exporter = None
    if metrics_port is not None:
        from prometheus_client import start_http_server

        host = service.config.webhooks.host
        exporter, _ = start_http_server(metrics_port, addr=host, registry=service.metrics.registry)
        click.echo(f"worker metrics on http://{host}:{metrics_port}/metrics", err=True)
    stop = {"asked": False}

    def _asked(_signum: int, _frame: FrameType | None) -> None:
        stop["asked"] = True

    previous_term = signal.signal(signal.SIGTERM, _asked)
    previous_int = signal.signal(signal.SIGINT, _asked)
    try:
        inbox_worker = service.worker()
        click.echo(
            f"empathy-firewall worker {inbox_worker.name}: processing the inbox "
            f"({', '.join(sorted(service.config.connectors))}); SIGTERM stops",
            err=True,
        )
        report = inbox_worker.run(lambda: stop["asked"], until_empty=until_empty)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
        if exporter is not None:
            exporter.shutdown()
            exporter.server_close()
        service.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), sort_keys=True))
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in report.as_dict().items()))


def lower_cpu_priority(amount: int) -> int | None:
    """Raise this process's nice value by ``amount``; the new value, or None when
    ``amount`` is 0 or the platform has no ``os.nice`` (Windows)."""
    if amount <= 0 or not hasattr(os, "nice"):
        return None
    try:
        return os.nice(amount)
    except OSError:  # not permitted here (a restricted container): run as started
        return None


@click.group()
def inbox() -> None:
    """Show and requeue webhook inbox items (parked after repeated failures)."""


def _store(config_path: Path) -> StateStore:
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.sync.settings import resolve_state_url
    from empathy_firewall.webhooks.settings import load_serve_config

    try:
        config = load_serve_config(config_path)
        return StateStore(resolve_state_url(config.sync), schema=config.sync.state.schema_)
    except EmpathyFirewallError as exc:
        _fail(exc)
        raise


@inbox.command("list")
@_CONFIG
@click.option(
    "--status",
    type=click.Choice(["failed", "retrying", "pending", "claimed", "done", "all"]),
    default="failed",
    show_default=True,
    help="Which items ('all': everything not done).",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def inbox_list(config_path: Path, status: str, limit: int, as_json: bool) -> None:
    """List inbox items (default: parked ones, with their reason)."""
    from empathy_firewall.webhooks.queue import counts, list_items

    store = _store(config_path)
    try:
        rows = list_items(store, status=None if status == "all" else status, limit=limit)
        totals = counts(store)
    finally:
        store.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.as_dict(), sort_keys=True))
        return
    click.echo("inbox: " + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "empty"))
    for row in rows:
        when = f" retry_at={row.retry_at:%H:%M:%S}" if row.retry_at else ""
        error = f" error={json.dumps(row.last_error)}" if row.last_error else ""
        ticket = f" ticket={row.ticket}" if row.ticket else ""
        click.echo(
            f"{row.id} {row.status} {row.connector}{ticket} key={row.dedupe_key} "
            f"attempts={row.attempts} received={row.received_at:%Y-%m-%d %H:%M:%S}{when}{error}"
        )


@inbox.command("retry")
@_CONFIG
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_failed", is_flag=True, help="Requeue every parked item.")
def inbox_retry(config_path: Path, ids: tuple[int, ...], all_failed: bool) -> None:
    """Requeue parked items (by id, or --all) with fresh attempts."""
    from empathy_firewall.webhooks.queue import requeue

    if not ids and not all_failed:
        raise click.UsageError("give item ids (see `inbox list`) or --all")
    store = _store(config_path)
    try:
        moved = requeue(store, ids, all_failed=all_failed)
    finally:
        store.close()
    click.echo(f"requeued {moved} item(s)")


@inbox.command("prune")
@_CONFIG
@click.option(
    "--days",
    type=click.FloatRange(min=1),
    default=7,
    show_default=True,
    help="Keep done items (and their dedupe keys) this long; at least a day.",
)
def inbox_prune(config_path: Path, days: float) -> None:
    """Delete done items older than --days (run it daily from cron)."""
    from datetime import timedelta

    from empathy_firewall.webhooks.queue import prune

    store = _store(config_path)
    try:
        gone = prune(store, older_than=timedelta(days=days))
    finally:
        store.close()
    click.echo(f"pruned {gone} done item(s)")
