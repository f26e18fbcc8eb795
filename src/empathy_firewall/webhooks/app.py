"""The ASGI app (Starlette): webhook routes, health, readiness, metrics, in-process workers.

Routes:

* ``POST /webhooks/<connector>``: the
  :class:`~empathy_firewall.webhooks.handler.WebhookReceiver` of each configured
  connector; the body is read up to the size limit only (a larger one is answered 413
  without reading the rest), the checks run on the event loop, the inbox write is awaited
  from the group-commit :class:`~empathy_firewall.webhooks.writer.InboxWriter`, and the
  answer is 202 within milliseconds;
* ``GET /healthz``: the process is up (liveness);
* ``GET /readyz``: configuration loaded and the state store reachable (readiness);
* ``GET /metrics``: Prometheus text format (:mod:`empathy_firewall.webhooks.metrics`).

In-process workers run as threads started and stopped with the app's lifespan.
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

from empathy_firewall.connectors.base import Headers
from empathy_firewall.webhooks.handler import (
    PendingEvent,
    Reason,
    WebhookReceiver,
    WebhookResponse,
)
from empathy_firewall.webhooks.metrics import CONTENT_TYPE, Metrics
from empathy_firewall.webhooks.request import WebhookRequest
from empathy_firewall.webhooks.worker import InboxWorker
from empathy_firewall.webhooks.writer import InboxWriter

__all__ = ["WorkerThreads", "create_app", "read_limited"]

log = logging.getLogger("empathy_firewall.webhooks")


class _TooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, or :class:`_TooLarge` as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _neutral(request: Request, body: bytes) -> WebhookRequest:
    """The framework-neutral request, from the ASGI scope as the server gave it (Starlette's
    ``request.url`` and ``request.headers`` build objects the receiver never uses)."""
    scope = request.scope
    headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    return WebhookRequest(scope["method"], scope["path"], headers, body)


def _starlette(response: WebhookResponse) -> Response:
    return Response(response.body, status_code=response.status, headers=dict(response.headers))


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
) -> Starlette:
    """The app for these receivers (keyed by route name).

    ``ready`` returns None when the service can take traffic, else the reason it cannot
    (the store unreachable); ``workers`` run for the app's lifetime. With a ``writer``
    the checks run on the event loop and the inbox write is awaited (group commit);
    without one, each receiver runs whole in the thread pool. ``extra_routes`` are
    mounted as given (the agents' opt-out link, :mod:`empathy_firewall.channels.web`).
    """

    def endpoint(receiver: WebhookReceiver) -> Callable[[Request], object]:
        async def receive(request: Request) -> Response:
            started = time.perf_counter()
            if request.method.upper() != "POST":  # JSON 405, logged and counted
                response = receiver.check(_neutral(request, b""))
                assert isinstance(response, WebhookResponse)
                metrics.answered(receiver.name, time.perf_counter() - started)
                return _starlette(response)
            try:
                body = await read_limited(request, receiver.max_body_bytes)
            except _TooLarge:
                if receiver.observer is not None:
                    receiver.observer.received(receiver.name)
                response = receiver.reject(
                    Reason.BODY_TOO_LARGE,
                    f"body exceeds {receiver.max_body_bytes} bytes",
                    size=receiver.max_body_bytes + 1,
                )
                metrics.answered(receiver.name, time.perf_counter() - started)
                return _starlette(response)
            neutral = _neutral(request, body)
            if writer is None:
                try:
                    response = await asyncio.wait_for(
                        run_in_threadpool(receiver.receive, neutral), accept_timeout
                    )
                except TimeoutError as exc:
                    response = receiver.store_failed(exc, retry_after=accept_timeout)
            else:
                step = receiver.check(neutral)  # pure CPU: stays on the event loop
                if isinstance(step, PendingEvent):
                    try:
                        # bounded: a locked store answers 503 + Retry-After, not a hang; a
                        # write that lands later makes the redelivery a recognised duplicate
                        fresh = await writer.aput(
                            receiver.name,
                            receiver.account,
                            step.dedupe_key,
                            step.payload,
                            timeout=accept_timeout,
                        )
                    except TimeoutError as exc:
                        response = receiver.store_failed(exc, retry_after=accept_timeout)
                    except Exception as exc:
                        response = receiver.store_failed(exc)
                    else:
                        response = receiver.stored(step, fresh)
                else:
                    response = step
            metrics.answered(receiver.name, time.perf_counter() - started)
            return _starlette(response)

        return receive

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

    routes = [
        Route(
            f"/webhooks/{name}",
            endpoint(receiver),
            methods=["POST", "GET", "PUT", "PATCH", "DELETE", "OPTIONS"],
        )
        for name, receiver in receivers.items()
    ]
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

    return Starlette(routes=routes, lifespan=lifespan)
