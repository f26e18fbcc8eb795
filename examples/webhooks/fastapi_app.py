"""Mount the empathy-firewall webhook receiver in a FastAPI app.

Run (FastAPI and uvicorn installed; secrets in the environment, see firewall.toml)::

    uvicorn --factory --app-dir examples/webhooks fastapi_app:create_app --port 8080
    empathy-firewall worker --config examples/webhooks/firewall.toml   # does the work

Zendesk then posts to ``http://<host>:8080/helpdesk/webhooks/zendesk``. The receiver's
checks are pure CPU and run on the event loop; its inbox write is awaited from the
group-commit writer, so the loop never blocks on the database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response

from empathy_firewall.connectors.base import Headers
from empathy_firewall.webhooks import WebhookRequest
from empathy_firewall.webhooks.handler import PendingEvent
from empathy_firewall.webhooks.service import WebhookService

CONFIG = Path(os.environ.get("EMPATHY_FIREWALL_CONFIG", Path(__file__).with_name("firewall.toml")))


def create_app(service: WebhookService | None = None) -> FastAPI:
    """A FastAPI app with one webhook route per configured helpdesk."""
    firewall = service or WebhookService.from_file(CONFIG)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # on PostgreSQL the writer's connections are watched by this loop: close them here
        firewall.writer.close_loop()

    app = FastAPI(title="helpdesk hooks", lifespan=lifespan)

    @app.post("/helpdesk/webhooks/{name}")
    async def webhook(name: str, request: Request) -> Response:
        receiver = firewall.receivers.get(name)
        if receiver is None:
            raise HTTPException(404, "unknown helpdesk")
        body = b""
        async for chunk in request.stream():  # stop one byte over the limit: 413
            body += chunk
            if len(body) > receiver.max_body_bytes:
                break
        step = receiver.check(
            WebhookRequest(request.method, request.url.path, Headers(request.headers.items()), body)
        )
        if isinstance(step, PendingEvent):
            try:
                fresh = await firewall.writer.aput(
                    receiver.name, receiver.account, step.dedupe_key, step.payload
                )
            except Exception as exc:
                step = receiver.store_failed(exc)
            else:
                step = receiver.stored(step, fresh)
        return Response(step.body, step.status, headers=dict(step.headers))

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=8080)
