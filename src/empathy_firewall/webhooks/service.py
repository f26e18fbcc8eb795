"""Wiring: a configuration file becomes receivers, workers and the ASGI app.

:class:`WebhookService` is what ``serve`` and ``worker`` run, and what an embedding app
uses to mount the receiver in its own framework (``service.receivers["zendesk"].receive``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from empathy_firewall.connectors.base import Connector
from empathy_firewall.connectors.registry import create
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.plugins import load_plugins
from empathy_firewall.state.store import StateStore
from empathy_firewall.sync.job import account_of
from empathy_firewall.sync.settings import resolve_state_url
from empathy_firewall.webhooks.handler import WebhookReceiver
from empathy_firewall.webhooks.metrics import Metrics
from empathy_firewall.webhooks.queue import counts
from empathy_firewall.webhooks.settings import ServeConfig, load_serve_config
from empathy_firewall.webhooks.worker import InboxWorker, TicketProcessor, worker_name
from empathy_firewall.webhooks.writer import InboxWriter

if TYPE_CHECKING:  # Starlette loads only for the bundled app; mounted handlers skip it
    from starlette.routing import Route
    from starlette.types import ASGIApp

__all__ = ["WebhookService"]

log = logging.getLogger("empathy_firewall.webhooks")


class WebhookService:
    """Everything built from one configuration file.

    ``connector_options`` are passed to every connector's ``from_config`` (tests pass a
    fake helpdesk's ``transport`` and ``env``). Receivers (and their connectors' verifiers)
    are built by :meth:`app`, so a missing webhook secret stops ``serve`` at start-up with
    a :class:`ConfigError`.
    """

    def __init__(
        self,
        config: ServeConfig,
        *,
        store: StateStore | None = None,
        connector_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.config = config
        self.connector_options = dict(connector_options or {})
        sync = config.sync
        load_plugins(sync.app.plugins)
        paths = list(sync.app.rules) if sync.app.rules is not None else None
        self.engine = Engine(load_rule_packs(paths, disabled=sync.app.disabled_rules))
        self.store = store if store is not None else self._open_store()
        self.metrics = Metrics(lambda: counts(self.store))
        self.writer = InboxWriter(self.store)

    @cached_property
    def receivers(self) -> dict[str, WebhookReceiver]:
        """One receiver per configured connector, keyed by route name (built on first use,
        so a worker process does not need the webhook secrets)."""
        receivers: dict[str, WebhookReceiver] = {}
        for name in self.config.connectors:
            connector = self.connector(name)
            receivers[name] = WebhookReceiver(
                connector,
                self.writer,
                account=account_of(connector),
                max_body_bytes=self.config.webhooks.max_body_bytes,
                observer=self.metrics,
            )
        return receivers

    @classmethod
    def from_file(cls, path: Path, **kwargs: Any) -> WebhookService:
        """Load the configuration file and build the service."""
        return cls(load_serve_config(path), **kwargs)

    def __repr__(self) -> str:
        return (
            f"WebhookService({str(self.config.path)!r}, routes={sorted(self.config.connectors)!r})"
        )

    def _open_store(self) -> StateStore:
        state = self.config.sync.state
        return StateStore(
            resolve_state_url(self.config.sync),
            schema=state.schema_,
            max_tickets=state.max_tickets_per_customer,
            keep_hours=state.keep_hours,
        )

    def connector(self, name: str) -> Connector:
        """A new connector instance (each worker owns its own: HTTP session, rate budget)."""
        return create(name, self.config.connectors[name], **self.connector_options.get(name, {}))

    def worker(
        self, *, name: str | None = None, now: Callable[[], datetime] | None = None
    ) -> InboxWorker:
        """A worker with its own connectors, for every configured helpdesk.

        ``now`` fixes the evaluation time (replays, tests); default: the wall clock.
        """
        processors: dict[tuple[str, str], TicketProcessor] = {}
        for connector_name in self.config.connectors:
            connector = self.connector(connector_name)
            processor = TicketProcessor(
                self.store, connector, self.engine, self.config.sync.app.settings
            )
            processors[(connector_name, processor.account)] = processor
        return InboxWorker(
            self.store,
            processors,
            self.config.webhooks.worker_options(),
            name=name or worker_name(),
            observer=self.metrics,
            now=now,
        )

    def ready(self) -> str | None:
        """None when the store answers and inbox writes go through; else why not
        (for ``/readyz``): a write stuck longer than the accept timeout (a locked SQLite
        store) makes the service not ready, as deliveries get 503 meanwhile."""
        bound = self.config.webhooks.accept_timeout_seconds
        stalled = self.writer.stalled_seconds()
        if stalled > bound:
            return f"inbox writes blocked for {stalled:.0f} s (state store locked or slow)"
        try:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return f"state store unreachable ({type(exc).__name__})"
        return None

    def app(self, *, workers: int | None = None) -> ASGIApp:
        """The ASGI app; ``workers`` in-process worker threads (default: the config's)."""
        from empathy_firewall.webhooks.app import WorkerThreads, create_app

        receivers = self.receivers  # verifiers first: a missing secret fails here
        count = self.config.webhooks.workers if workers is None else workers
        threads = WorkerThreads(lambda: [self.worker() for _ in range(count)]) if count else None
        return create_app(
            receivers,
            metrics=self.metrics,
            ready=self.ready,
            workers=threads,
            accept_timeout=self.config.webhooks.accept_timeout_seconds,
            writer=self.writer,
            extra_routes=self.agent_routes() + self.report_routes(),
        )

    def agent_routes(self) -> list[Route]:
        """The agents' opt-out route when ``[channels]`` is configured (else none).

        A ``[channels]`` table without its link secret stops ``serve`` at start-up.
        """
        raw = self.config.sync.app.extra.get("channels")
        if raw is None:
            return []
        from empathy_firewall.channels.sender import link_key
        from empathy_firewall.channels.settings import parse_channel_settings
        from empathy_firewall.channels.web import opt_out_routes

        settings = parse_channel_settings(raw, str(self.config.path))
        return list(opt_out_routes(self.store, link_key(settings)))

    def report_routes(self) -> list[Route]:
        """``/report`` behind the admin's credentials when ``[report]`` is configured."""
        if "report" not in self.config.sync.app.extra:
            return []
        from empathy_firewall.insights.settings import report_settings
        from empathy_firewall.insights.web import report_password, report_routes

        settings = report_settings(self.config.sync.app.extra, str(self.config.path))
        return report_routes(self.store, settings, report_password(settings))

    def close(self) -> None:
        """Stop the inbox writer and close the store's connections."""
        self.writer.stop()
        self.store.close()
