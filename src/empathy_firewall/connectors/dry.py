"""The dry transport: run the production apply code, send no write.

``--dry-run`` must print exactly the requests a real run sends, so there is no second
implementation that "renders" them: :meth:`HttpConnector.render
<empathy_firewall.connectors.rest.HttpConnector.render>` runs the connector's own ``apply``
on a :class:`DryTransport`. Reads (``GET``) pass through to the helpdesk, so merges start
from what is there now, exactly as in the real run; every write is recorded (without its
headers: no credentials) and answered by the vendor's pure :data:`Answer` hook with what the
helpdesk answers when the write succeeds. The hook may answer a read too (the status of a
bulk job the dry run made up), or return None to let it through.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from empathy_firewall.wire import Headers, HttpRequest, HttpResponse, Send

__all__ = ["Answer", "DryTransport", "json_response", "request_line"]

#: a vendor's successful answer to a request (None: let a read through to the helpdesk)
Answer = Callable[[HttpRequest], HttpResponse | None]

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def json_response(body: Any, status: int = 200) -> HttpResponse:
    """A JSON answer (for :data:`Answer` hooks)."""
    return HttpResponse(
        status, Headers({"Content-Type": "application/json"}), json.dumps(body).encode()
    )


def request_line(request: HttpRequest) -> dict[str, Any]:
    """A write request as one JSON-ready object: method, url (with its query), body."""
    url = request.url
    if request.params:
        from urllib.parse import urlencode

        url = f"{url}?{urlencode(request.params)}"
    return {"method": request.method, "url": url, "body": request.json_body}


@dataclass
class DryTransport:
    """A :data:`Send` that passes reads to ``inner`` and records writes (see the module)."""

    inner: Send
    answer: Answer
    writes: list[HttpRequest] = field(default_factory=list)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        made_up = self.answer(request)
        if request.method.upper() in _READS:
            return made_up if made_up is not None else self.inner(request)
        self.writes.append(replace(request, headers=Headers()))
        if made_up is None:
            raise NotImplementedError(
                f"no dry-run answer for {request.method} {request.path}: the connector's "
                "dry_answer must answer every write apply sends"
            )
        return made_up
