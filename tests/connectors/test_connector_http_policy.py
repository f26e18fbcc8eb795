"""The shared retry policy, with a scripted transport and a fake clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses as responses_lib

from empathy_firewall.connectors.base import Headers, HttpRequest, HttpResponse
from empathy_firewall.connectors.http import (
    ConflictError,
    PolicySender,
    RateBudget,
    RequestsTransport,
    RetryPolicy,
    TransportError,
    error_for,
    parse_retry_after,
    rate_limit_pause,
)
from empathy_firewall.errors import (
    AuthenticationError,
    RateLimitedError,
    RetryableError,
    SkipError,
)
from empathy_firewall.testing import FakeClock

GET = HttpRequest("GET", "https://x.test/api/v2/tickets/1.json", item="1")
PUT = HttpRequest(
    "PUT", "https://x.test/api/v2/tickets/update_many.json", json_body={"tickets": []}
)


class Script:
    """A transport answering from a list; records the fake time of every call."""

    def __init__(self, clock: FakeClock, replies: Iterable[HttpResponse | Exception]) -> None:
        self.clock = clock
        self.replies = list(replies)
        self.calls: list[float] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls.append(self.clock.now())
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def resp(status: int, body: bytes = b"{}", **headers: str) -> HttpResponse:
    return HttpResponse(status, Headers({k.replace("_", "-"): v for k, v in headers.items()}), body)


def sender(clock: FakeClock, script: Script, **policy: float) -> PolicySender:
    return PolicySender(script, policy=RetryPolicy(**policy), clock=clock)  # type: ignore[arg-type]


def test_retry_after_is_honoured_before_the_next_attempt() -> None:
    clock = FakeClock()
    script = Script(
        clock, [resp(429, b'{"error":"APIRateLimitExceeded"}', Retry_After="30"), resp(200)]
    )
    assert sender(clock, script)(GET).status == 200
    assert len(script.calls) == 2
    assert script.calls[1] - script.calls[0] >= 30.0


def test_a_plain_text_429_body_does_not_crash() -> None:
    clock = FakeClock()
    text = b"Number of allowed API requests per minute exceeded"
    script = Script(clock, [resp(429, text, Retry_After="7", Content_Type="text/plain"), resp(200)])
    assert sender(clock, script)(GET).status == 200
    assert script.calls[1] - script.calls[0] >= 7.0


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    value = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(value, now=now) == pytest.approx(90.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("-5") == 0.0


def test_retries_are_bounded_and_end_in_the_mapped_error() -> None:
    clock = FakeClock()
    script = Script(clock, [resp(503) for _ in range(10)])
    with pytest.raises(RetryableError):
        sender(clock, script, max_attempts=3)(GET)
    assert len(script.calls) == 3


def test_a_retry_after_beyond_the_total_wait_bound_is_raised_not_slept() -> None:
    clock = FakeClock()
    script = Script(clock, [resp(429, Retry_After="3600"), resp(200)])
    with pytest.raises(RateLimitedError) as info:
        sender(clock, script, max_total_wait=300)(GET)
    assert info.value.retry_after == 3600
    assert len(script.calls) == 1
    assert clock.now() == 0


def test_5xx_is_retried_with_growing_jittered_backoff() -> None:
    clock = FakeClock()
    script = Script(clock, [resp(500), resp(502), resp(200)])
    assert sender(clock, script)(GET).status == 200
    assert len(clock.sleeps) == 2
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0


def test_401_fails_fast_with_a_clear_message() -> None:
    clock = FakeClock()
    script = Script(clock, [resp(401, b'{"error":"Couldn\'t authenticate you"}'), resp(200)])
    with pytest.raises(AuthenticationError) as info:
        sender(clock, script)(GET)
    assert len(script.calls) == 1
    assert "401" in str(info.value)
    assert "credentials" in str(info.value)


@pytest.mark.parametrize("status", [404, 422, 400])
def test_client_errors_skip_the_item(status: int) -> None:
    clock = FakeClock()
    script = Script(clock, [resp(status, b'{"error":"RecordNotFound","description":"Not found"}')])
    with pytest.raises(SkipError) as info:
        sender(clock, script)(GET)
    assert info.value.item == "1"
    assert len(script.calls) == 1


def test_409_is_a_conflict() -> None:
    error = error_for(GET, resp(409, b'{"error":"UpdateConflict"}'))
    assert isinstance(error, ConflictError)


def test_a_timeout_is_retried_for_idempotent_requests() -> None:
    clock = FakeClock()
    script = Script(clock, [TransportError("t", request_sent=True), resp(200)])
    assert sender(clock, script)(GET).status == 200


def test_a_non_idempotent_request_is_not_resent_after_it_may_have_been_processed() -> None:
    clock = FakeClock()
    script = Script(clock, [TransportError("t", request_sent=True), resp(200)])
    with pytest.raises(TransportError):
        sender(clock, script)(PUT)
    assert len(script.calls) == 1
    script = Script(clock, [resp(500), resp(200)])
    with pytest.raises(RetryableError):
        sender(clock, script)(PUT)


def test_a_non_idempotent_request_is_retried_when_never_processed() -> None:
    clock = FakeClock()
    script = Script(
        clock, [TransportError("t", request_sent=False), resp(429, Retry_After="2"), resp(200)]
    )
    assert sender(clock, script)(PUT).status == 200


def test_one_429_holds_back_later_requests_too() -> None:
    clock = FakeClock()
    script = Script(clock, [resp(429, Retry_After="20"), resp(200), resp(200)])
    send = sender(clock, script)
    send(GET)
    send(GET)
    assert all(t >= 20.0 for t in script.calls[1:])


def test_rate_limit_headers_pause_before_the_budget_is_exceeded() -> None:
    assert rate_limit_pause(Headers({"ratelimit-remaining": "0", "ratelimit-reset": "12"})) == 12
    assert (
        rate_limit_pause(
            Headers({"Zendesk-RateLimit-Tickets-Index": "total=100; remaining=0; resets=41"})
        )
        == 41
    )
    assert rate_limit_pause(Headers({"ratelimit-remaining": "5", "ratelimit-reset": "12"})) is None
    clock = FakeClock()
    script = Script(clock, [resp(200, ratelimit_remaining="0", ratelimit_reset="15"), resp(200)])
    send = sender(clock, script)
    send(GET)
    send(GET)
    assert script.calls[1] >= 15.0


def test_an_endpoint_budget_spaces_requests() -> None:
    clock = FakeClock()
    script = Script(clock, [resp(200) for _ in range(12)])
    send = PolicySender(script, clock=clock, budgets=(RateBudget("/api/v2/incremental/", 10),))
    export = HttpRequest("GET", "https://x.test/api/v2/incremental/tickets/cursor.json")
    for _ in range(12):
        send(export)
    assert script.calls[9] < 60.0 <= script.calls[10]


def test_error_messages_never_contain_the_authorization_header() -> None:
    request = HttpRequest(
        "GET", "https://x.test/a", headers=Headers({"Authorization": "Basic c2VjcmV0"})
    )
    error = error_for(request, resp(401, b"<html>nope</html>", Content_Type="text/html"))
    assert error is not None
    assert "c2VjcmV0" not in str(error)
    assert "HTML" in str(error)


def test_requests_transport_reads_the_environment_once_per_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = requests.Session()
    calls: list[str] = []
    original = session.merge_environment_settings

    def counting(url: str, *args: object) -> dict[str, object]:
        calls.append(url)
        return dict(original(url, *args))  # type: ignore[arg-type]

    monkeypatch.setattr(session, "merge_environment_settings", counting)
    transport = RequestsTransport(session=session)
    with responses_lib.RequestsMock() as mock:
        mock.get("https://acme.example/api/v2/tickets", json={"ok": True})
        mock.get("https://other.example/x", body="plain")
        for _ in range(3):
            assert (
                transport(HttpRequest("GET", "https://acme.example/api/v2/tickets")).status == 200
            )
        assert transport(HttpRequest("GET", "https://other.example/x")).body == b"plain"
    assert calls == ["https://acme.example", "https://other.example"]
