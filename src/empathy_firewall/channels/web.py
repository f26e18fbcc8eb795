"""The opt-out route ``serve`` answers: ``/agents/opt-out?t=<signed token>``.

* ``GET`` shows a confirmation page with one button (mail scanners and link previews
  fetch links; a GET never changes anything);
* ``POST`` opts the agent out of every agent feature (strain tracking, break prompts,
  recognition), deletes their strain history and undelivered prompts, and confirms.
  This is also the RFC 8058 one-click request mail clients send
  (``List-Unsubscribe=One-Click`` in the body), so the body is not required.

No login: the HMAC-signed, expiring token is the authority. A forged, damaged or expired
token gets a 400 page that says what to do; nothing here answers 500 for bad input.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from empathy_firewall.channels.links import OPT_OUT_PATH, OptOutToken, verify
from empathy_firewall.errors import InputError
from empathy_firewall.optins import FEATURES
from empathy_firewall.state.agents import set_choices
from empathy_firewall.state.store import StateStore

__all__ = ["opt_out_routes"]

log = logging.getLogger("empathy_firewall.channels")

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
_MAX_BODY = 4096


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34em;margin:3em auto;"
        "padding:0 1em}button{font:inherit;padding:.5em 1.2em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


def opt_out_routes(
    store: StateStore, key: bytes, *, now: Callable[[], datetime] | None = None
) -> list[Route]:
    """The opt-out route for links signed with ``key``, acting on ``store``."""
    clock = now or (lambda: datetime.now(UTC))

    def token_of(request: Request) -> OptOutToken:
        return verify(request.query_params.get("t", ""), key, clock())

    async def confirm(request: Request) -> HTMLResponse:
        try:
            token_of(request)
        except InputError as exc:
            return _page("This link does not work", f"<p>{html.escape(str(exc))}</p>", 400)
        action = html.escape(f"{OPT_OUT_PATH}?t={request.query_params.get('t', '')}", quote=True)
        return _page(
            "Stop the empathy firewall's messages to you?",
            "<p>You will no longer receive break prompts or recognition, and the firewall "
            "stops tracking your emotional load and deletes what it kept about it.</p>"
            f'<form method=post action="{action}">'
            '<input type=hidden name="List-Unsubscribe" value="One-Click">'
            "<button type=submit>Yes, stop them</button></form>"
            "<p>You can opt in again at any time through your admin.</p>",
        )

    async def perform(request: Request) -> HTMLResponse:
        size = 0
        async for chunk in request.stream():  # RFC 8058 body; read (bounded) and ignore
            size += len(chunk)
            if size > _MAX_BODY:
                return _page("Request too large", "<p>Send the form as it is.</p>", 413)
        try:
            token = token_of(request)
        except InputError as exc:
            return _page("This link does not work", f"<p>{html.escape(str(exc))}</p>", 400)
        choices: dict[str, bool] = {f: False for f in FEATURES if f in token.features}
        try:
            await run_in_threadpool(
                set_choices,
                store,
                token.connector,
                token.account,
                token.agent_id,
                choices,
                via="link",
            )
        except SQLAlchemyError as exc:
            log.warning("agent opt-out could not be stored (%s)", type(exc).__name__)
            return _page(
                "Please try again in a minute",
                "<p>The firewall could not record your choice just now. Nothing changed.</p>",
                503,
            )
        log.info("agent opt-out through a link")  # no agent id: who opted out is private
        return _page(
            "Done: you are opted out",
            "<p>The firewall sends you no more prompts, no longer tracks your emotional "
            "load, and has deleted your strain history. It takes effect with the next "
            "evaluation.</p>",
        )

    return [
        Route(OPT_OUT_PATH, confirm, methods=["GET"]),
        Route(OPT_OUT_PATH, perform, methods=["POST"]),
    ]
