"""The ASGI app: webhook routes, health, readiness, metrics, in-process workers.

Routes:

* ``POST /webhooks/<connector>``: the
  :class:`~empathy_firewall.webhooks.handler.WebhookReceiver` of each configured
  connector, as a plain ASGI app (:class:`WebhookRoute`) answered before Starlette's
  router; the body is read up to the size limit only (a larger one is answered 413
  without reading the rest; a client gone mid-body gets nothing processed), the checks
  run on the event loop, the inbox write is awaited from the group-commit
  :class:`~empathy_firewall.webhooks.writer.InboxWriter`, and the answer is 202 within
  milliseconds;
* ``GET /healthz``: the process is up (liveness);
* ``GET /readyz``: configuration loaded and the state store reachable (readiness);
* ``GET /metrics``: Prometheus text format (:mod:`empathy_firewall.webhooks.metrics`);

these and any extra routes are Starlette's. In-process workers run as threads started and
stopped with the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from empathy_firewall.connectors.base import Headers
from empathy_firewall.webhooks.handler import (
    PendingEvent,
    WebhookReceiver,
    WebhookResponse,
)
from empathy_firewall.webhooks.metrics import CONTENT_TYPE, Metrics
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall.webhooks.worker import InboxWorker
from empathy_firewall.webhooks.writer import InboxWriter

__all__ = ["WebhookRoute", "WorkerThreads", "create_app", "read_limited"]

log = logging.getLogger("empathy_firewall.webhooks")


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def read_limited(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body from ASGI ``receive``, or :class:`_TooLarge` as soon as it
    exceeds ``limit`` bytes (a declared Content-Length over it: before reading any)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _neutral(scope: Scope, body: bytes) -> WebhookRequest:
    """The framework-neutral request, from the ASGI scope as the server gave it."""
    headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    return WebhookRequest(scope["method"], scope["path"], headers, body)


async def _answer(send: Send, response: WebhookResponse) -> None:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
    ]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class WebhookRoute:
    """One connector's ``/webhooks/<name>`` as a plain ASGI app.

    The receiver is framework-neutral, so its route needs nothing of Starlette's request,
    response or middleware: the app answers it before Starlette's router (Starlette
    still lists the route, so its redirects and 404s stay as they were). That is about a
    tenth of the endpoint's CPU per webhook (issue 11 item 12; docs/webhooks.md).
    """

    def __init__(
        self,
        receiver: WebhookReceiver,
        *,
        metrics: Metrics,
        writer: InboxWriter | None,
        accept_timeout: float,
    ) -> None:
        self.receiver = receiver
        self.metrics = metrics
        self.writer = writer
        self.accept_timeout = accept_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request: checks on the event loop, the inbox write awaited."""
        receiver = self.receiver
        started = time.perf_counter()
        if scope["method"] != "POST":  # JSON 405, logged and counted
            response = receiver.check(_neutral(scope, b""))
            assert isinstance(response, WebhookResponse)
        else:
            try:
                body = await read_limited(scope, receive, receiver.max_body_bytes)
            except _Disconnected:  # nothing to answer; a partial body is never processed
                return
            except _TooLarge:
                if receiver.observer is not None:
                    receiver.observer.received(receiver.name)
                response = receiver.too_large(receiver.max_body_bytes + 1)
            else:
                response = await self._accept(_neutral(scope, body))
        self.metrics.answered(receiver.name, time.perf_counter() - started)
        await _answer(send, response)

    async def _accept(self, request: WebhookRequest) -> WebhookResponse:
        receiver, writer = self.receiver, self.writer
        if writer is None:
            try:
                return await asyncio.wait_for(
                    run_in_threadpool(receiver.receive, request), self.accept_timeout
                )
            except TimeoutError as exc:
                return receiver.store_failed(exc, retry_after=self.accept_timeout)
        step = receiver.check(request)  # pure CPU: stays on the event loop
        if not isinstance(step, PendingEvent):
            return step
        try:
            # bounded: a locked store answers 503 + Retry-After, not a hang; a write that
            # lands later makes the redelivery a recognised duplicate
            fresh = await writer.aput(
                receiver.name,
                receiver.account,
                step.dedupe_key,
                step.payload,
                timeout=self.accept_timeout,
            )
        except TimeoutError as exc:
            return receiver.store_failed(exc, retry_after=self.accept_timeout)
        except Exception as exc:
            return receiver.store_failed(exc)
        return receiver.stored(step, fresh)


class _WebhooksFirst:
    """The ASGI app ``serve`` runs: webhook routes answered directly, the rest by
    Starlette (health, readiness, metrics, extra routes, lifespan)."""

    def __init__(self, routes: Mapping[str, WebhookRoute], rest: Starlette) -> None:
        self.routes = dict(routes)
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.routes.get(scope["path"])
            if route is not None:
                await route(scope, receive, send)
                return
        await self.rest(scope, receive, send)


class WorkerThreads:
    """In-process workers: one thread per worker, stopped cleanly on shutdown."""

    def __init__(self, make_workers: Callable[[], Sequence[InboxWorker]]) -> None:
        self._make = make_workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.workers: list[InboxWorker] = []

    def start(self) -> None:
        """Build and start the workers."""
        self._stop.clear()
        self.workers = list(self._make())
        for n, worker in enumerate(self.workers):
            thread = threading.Thread(
                target=worker.run, args=(self._stop.is_set,), name=f"inbox-worker-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the workers to stop after their batch and wait for them."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()


def create_app(
    receivers: Mapping[str, WebhookReceiver],
    *,
    metrics: Metrics,
    ready: Callable[[], str | None],
    workers: WorkerThreads | None = None,
    writer: InboxWriter | None = None,
    extra_routes: Sequence[Route] = (),
    accept_timeout: float = 3.0,
) -> ASGIApp:
    """The ASGI app for these receivers (keyed by route name).

    ``ready`` returns None when the service can take traffic, else the reason it cannot
    (the store unreachable); ``workers`` run for the app's lifetime. With a ``writer``
    the checks run on the event loop and the inbox write is awaited (group commit);
    without one, each receiver runs whole in the thread pool. ``extra_routes`` are
    mounted as given (the agents' opt-out link, :mod:`empathy_firewall.channels.web`).
    """

    webhook_routes = {
        f"/webhooks/{name}": WebhookRoute(
            receiver, metrics=metrics, writer=writer, accept_timeout=accept_timeout
        )
        for name, receiver in receivers.items()
    }

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def readyz(_: Request) -> Response:
        problem = await run_in_threadpool(ready)
        if problem is None:
            return Response(b'{"status":"ready"}', media_type="application/json")
        body = json.dumps({"status": "not ready", "reason": problem}).encode()
        return Response(body, status_code=503, media_type="application/json")

    async def metrics_endpoint(_: Request) -> Response:
        text = await run_in_threadpool(metrics.render)
        return Response(text, headers={"Content-Type": CONTENT_TYPE})

    routes = [Route(path, route) for path, route in webhook_routes.items()]
    routes += [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    routes += list(extra_routes)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if workers is not None:
            workers.start()
            log.info("webhook service: %d in-process worker(s) started", len(workers.workers))
        if writer is not None:
            writer.start()
        try:
            yield
        finally:
            if workers is not None:
                await run_in_threadpool(workers.stop)
            if writer is not None:
                writer.close_loop()  # on the loop: its connections are watched by it
                await run_in_threadpool(writer.stop)

    return _WebhooksFirst(webhook_routes, Starlette(routes=routes, lifespan=lifespan))
