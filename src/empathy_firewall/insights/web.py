"""The report served by ``serve`` at ``GET /report``, behind the admin's credentials.

HTTP Basic authentication against ``[report] admin_user`` and the password in the
environment variable ``[report] admin_password_env`` (compared in constant time). Query
parameters: ``since`` (default ``30d``) and ``group``. A wrong password gets 401, a bad
parameter 400; the report is computed in the thread pool.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from empathy_firewall.errors import ConfigError, EmpathyFirewallError
from empathy_firewall.insights.settings import ReportSettings
from empathy_firewall.state.store import StateStore

__all__ = ["REPORT_PATH", "report_password", "report_routes"]

log = logging.getLogger("empathy_firewall.insights")

REPORT_PATH = "/report"
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
}


def report_password(settings: ReportSettings, env: Mapping[str, str] | None = None) -> str:
    """The admin password from the environment; a missing one stops ``serve``."""
    source = os.environ if env is None else env
    password = source.get(settings.admin_password_env, "")
    if not password:
        raise ConfigError(
            f"[report] is configured but the environment variable "
            f"{settings.admin_password_env} (report.admin_password_env) holding the "
            "report password is not set"
        )
    return password


def _authorized(request: Request, user: str, password: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return False
    try:
        given = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    name, sep, secret = given.partition(":")
    if not sep:
        return False
    ok_user = hmac.compare_digest(name.encode(), user.encode())
    ok_password = hmac.compare_digest(secret.encode(), password.encode())
    return ok_user and ok_password


def report_routes(
    store: StateStore,
    settings: ReportSettings,
    password: str,
    *,
    now: Callable[[], datetime] | None = None,
) -> list[Route]:
    """The ``/report`` route (see the module docstring)."""
    from empathy_firewall.insights.commands import make_report, single_threaded_blas

    single_threaded_blas()
    from empathy_firewall.insights.html import render_html

    clock = now or (lambda: datetime.now(UTC))

    def _build(since: str, group: str | None) -> str:
        return render_html(make_report(store, settings, since, clock(), group))

    async def page(request: Request) -> Response:
        if not _authorized(request, settings.admin_user, password):
            return PlainTextResponse(
                "authentication required\n",
                status_code=401,
                headers={**_HEADERS, "WWW-Authenticate": 'Basic realm="empathy-firewall report"'},
            )
        since = request.query_params.get("since", "30d")
        group = request.query_params.get("group") or None
        if len(since) > 20 or (group is not None and len(group) > 200):
            return PlainTextResponse("bad parameter\n", status_code=400, headers=_HEADERS)
        try:
            body = await run_in_threadpool(_build, since, group)
        except EmpathyFirewallError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400, headers=_HEADERS)
        return HTMLResponse(body, headers=_HEADERS)

    return [Route(REPORT_PATH, page, methods=["GET"])]
