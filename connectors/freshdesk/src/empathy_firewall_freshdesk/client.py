"""The Freshdesk HTTP client: the ``send`` seam plus credentials, rate budgets and retries.

Freshdesk limits API *credits* per minute, account-wide, with a lower sub-limit on the
ticket list; includes cost extra credits. The client keeps two rolling-minute budgets (the
account and ``GET /api/v2/tickets``), prices each request before sending it (so it never
exceeds a budget on purpose), and corrects both from every response's headers:

* ``X-RateLimit-Total`` is the account's real per-minute budget (minus a configurable
  reserve for other integrations); the list sub-limit follows from it (Freshdesk's plan
  table: 200 -> 20, 400 -> 100, 700 -> 200, 1000 -> 300, 2000 -> 400) unless configured;
* ``X-RateLimit-Used-CurrentRequest`` is what the call really cost (includes are priced
  inconsistently in the docs, so the header wins);
* ``X-RateLimit-Remaining`` below our own count means someone else (another app, the
  automation rules' webhooks) spends the same budget: we count their use too.

A 429 is still possible (other consumers); its ``Retry-After`` (often 30 s or more) holds
back every request through the shared policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from empathy_firewall.connectors.base import HttpRequest, HttpResponse, Send
from empathy_firewall.connectors.http import Clock, RateBudget
from empathy_firewall.connectors.rest import HttpClient
from empathy_firewall_freshdesk.config import Credentials, FreshdeskConfig
from empathy_firewall_freshdesk.parse import describe_freshdesk_error, next_link

__all__ = ["LIST_PATH", "FreshdeskClient", "list_limit_for", "request_cost"]

#: the "Tickets List" endpoint with its own, lower per-minute sub-limit
LIST_PATH = "/api/v2/tickets"
_PLAN_LIST_LIMITS = ((2000, 400), (1000, 300), (700, 200), (400, 100), (200, 20))
_START_LIMIT = 50  # the smallest plan (trial), until the first response tells the truth


def list_limit_for(total: int) -> int:
    """The Tickets List sub-limit of the plan whose per-minute budget is ``total``."""
    for plan_total, list_limit in _PLAN_LIST_LIMITS:
        if total >= plan_total:
            return list_limit
    return max(1, min(20, total))


def _includes(request: HttpRequest) -> int:
    value = request.param("include") or ""
    return len([i for i in value.split(",") if i.strip()])


def request_cost(request: HttpRequest) -> int:
    """Credits a request is expected to cost: one, plus 2 per include on the ticket list
    (the list's documented price) or 1 per include elsewhere."""
    includes = _includes(request)
    if request.method.upper() == "GET" and request.path.rstrip("/") == LIST_PATH:
        return 1 + 2 * includes
    return 1 + includes


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


class FreshdeskClient(HttpClient):
    """Authenticated, budgeted, retrying access to one Freshdesk account.

    Sending, retries and JSON decoding come from :class:`HttpClient`; Freshdesk adds its
    two credit budgets, corrected from every response's headers (:meth:`_observe`), and
    ``Link``-header pagination (:meth:`list_all`).
    """

    vendor = "Freshdesk"
    blank_body_is_empty = True  # a 404 or an empty answer may be a single blank

    def __init__(
        self,
        config: FreshdeskConfig,
        credentials: Credentials,
        *,
        transport: Send | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.account_budget = RateBudget(
            "/api/v2/", self._account_limit(config.requests_per_minute or _START_LIMIT)
        )
        self.list_budget = RateBudget(
            LIST_PATH,
            config.list_requests_per_minute or list_limit_for(self.account_budget.limit),
            exact=True,
            methods=frozenset({"GET"}),
        )
        self.observed_total: int | None = None
        super().__init__(
            config,
            credentials.authorization,
            transport=transport,
            clock=clock,
            describe=describe_freshdesk_error,
            budgets=(self.account_budget, self.list_budget),
            cost_of=request_cost,
        )

    def _account_limit(self, total: int) -> int:
        return max(1, total - self.config.reserve_per_minute)

    def _observe(self, request: HttpRequest, response: HttpResponse) -> None:
        """Correct the budgets from the rate-limit headers of one response."""
        headers = response.headers
        now = self.clock.now()
        total = _int(headers.get("x-ratelimit-total"))
        if total is not None and total > 0:
            self.observed_total = total
            configured = self.config.requests_per_minute
            self.account_budget.limit = self._account_limit(
                min(total, configured) if configured else total
            )
            if self.config.list_requests_per_minute is None:
                self.list_budget.limit = min(list_limit_for(total), self.account_budget.limit)
        if response.status == 429:
            return  # refused: its cost was recorded by the gate, Retry-After does the rest
        used = _int(headers.get("x-ratelimit-used-currentrequest"))
        if used is not None and self.account_budget.applies(request):
            extra = used - request_cost(request)
            if extra > 0:
                self.account_budget.record(now, extra)
        remaining = _int(headers.get("x-ratelimit-remaining"))
        if remaining is not None:
            ours = self.account_budget.remaining(now) + self.config.reserve_per_minute
            if remaining < ours:
                self.account_budget.record(now, ours - remaining)

    def list_all(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        purpose: str = "",
        item: str | None = None,
        max_pages: int = 50,
    ) -> list[Mapping[str, Any]]:
        """Every record of a paginated list, following ``Link: rel="next"`` headers."""
        out: list[Mapping[str, Any]] = []
        url: str | None = path
        query: Mapping[str, str] | None = {"per_page": "100", **(params or {})}
        for _ in range(max_pages):
            if url is None:
                break
            data, headers = self.call("GET", url, params=query, purpose=purpose, item=item)
            if isinstance(data, list):
                out.extend(r for r in data if isinstance(r, Mapping))
            url = next_link(headers)
            query = None  # the next link carries the query
        return out
