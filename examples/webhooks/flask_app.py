"""Mount the empathy-firewall webhook receiver in a Flask app.

Run (Flask installed; secrets in the environment, see firewall.toml)::

    flask --app examples/webhooks/flask_app.py:create_app run --port 8080
    empathy-firewall worker --config examples/webhooks/firewall.toml   # does the work

Zendesk then posts to ``http://<host>:8080/helpdesk/webhooks/zendesk``. The receiver is
framework-neutral: Flask only turns its request into a ``WebhookRequest`` (the raw body
bytes, which the signature covers) and the ``WebhookResponse`` back into a Flask response.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, request

from empathy_firewall.connectors.base import Headers
from empathy_firewall.webhooks import WebhookRequest
from empathy_firewall.webhooks.service import WebhookService

CONFIG = Path(os.environ.get("EMPATHY_FIREWALL_CONFIG", Path(__file__).with_name("firewall.toml")))


def create_app(service: WebhookService | None = None) -> Flask:
    """A Flask app with one webhook route per configured helpdesk."""
    firewall = service or WebhookService.from_file(CONFIG)
    app = Flask(__name__)

    @app.post("/helpdesk/webhooks/<name>")
    def webhook(name: str) -> Response:
        receiver = firewall.receivers.get(name)
        if receiver is None:
            return Response(b'{"status": "unknown helpdesk"}', 404, mimetype="application/json")
        # read at most one byte over the limit: the receiver answers 413 for larger bodies
        body = request.stream.read(receiver.max_body_bytes + 1)
        answer = receiver.receive(
            WebhookRequest(request.method, request.path, Headers(request.headers.items()), body)
        )
        return Response(answer.body, answer.status, headers=dict(answer.headers))

    @app.get("/helpdesk/readyz")
    def ready() -> Response:
        problem = firewall.ready()
        return Response(problem or "ready", 503 if problem else 200, mimetype="text/plain")

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=8080)
