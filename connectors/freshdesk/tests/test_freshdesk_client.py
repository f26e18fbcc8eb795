"""The client's credit budgets: pricing, the list sub-limit, learning from headers."""

from __future__ import annotations

import pytest

from empathy_firewall.connectors import Headers, HttpRequest, HttpResponse
from empathy_firewall.connectors.http import RateBudget
from empathy_firewall.testing import FakeClock
from empathy_firewall_freshdesk.client import FreshdeskClient, list_limit_for, request_cost
from empathy_firewall_freshdesk.config import FreshdeskConfig, resolve_credentials

BASE = "https://acme.freshdesk.com"


def get(path: str, **params: str) -> HttpRequest:
    return HttpRequest("GET", f"{BASE}{path}", params=tuple(params.items()))


@pytest.mark.parametrize(
    ("request_", "cost"),
    [
        (get("/api/v2/tickets", include="stats,requester,description"), 7),
        (get("/api/v2/tickets"), 1),
        (get("/api/v2/tickets/5", include="conversations"), 2),
        (get("/api/v2/tickets/5/conversations"), 1),
    ],
)
def test_request_cost(request_: HttpRequest, cost: int) -> None:
    assert request_cost(request_) == cost


@pytest.mark.parametrize(
    ("total", "limit"), [(50, 20), (200, 20), (400, 100), (700, 200), (1000, 300), (2000, 400)]
)
def test_list_limit_follows_the_plan_table(total: int, limit: int) -> None:
    assert list_limit_for(total) == limit


def test_a_budget_prices_credits_and_matches_exact_paths() -> None:
    budget = RateBudget("/api/v2/tickets", 10, exact=True, methods=frozenset({"GET"}))
    assert budget.applies(get("/api/v2/tickets"))
    assert not budget.applies(get("/api/v2/tickets/5"))
    assert not budget.applies(HttpRequest("POST", f"{BASE}/api/v2/tickets"))
    budget.record(0.0, 7)
    assert budget.wait_needed(1.0, 3) == 0.0
    assert budget.wait_needed(1.0, 4) == pytest.approx(59.0)
    assert budget.remaining(61.0) == 10


def scripted(headers: dict[str, str]) -> FreshdeskClient:
    config = FreshdeskConfig(base_url=BASE, reserve_per_minute=10)
    clock = FakeClock()

    def transport(request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, Headers(headers), b"{}")

    return FreshdeskClient(
        config,
        resolve_credentials(config, {"FRESHDESK_API_KEY": "k"}),
        transport=transport,
        clock=clock,
    )


def test_headers_set_the_budgets_and_count_other_consumers() -> None:
    client = scripted(
        {
            "X-Ratelimit-Total": "400",
            "X-Ratelimit-Remaining": "300",
            "X-Ratelimit-Used-Currentrequest": "3",
        }
    )
    client.request("GET", "/api/v2/agents/me")
    assert client.account_budget.limit == 390  # the total minus the reserve
    assert client.list_budget.limit == 100
    # we spent 3 credits (1 priced + 2 learned from the header); the server says 100 are
    # gone: the other 97 belong to someone else and are counted too
    assert client.account_budget.remaining(client.clock.now()) == 300 - 10
