"""Properties of the report's small parsers and verifiers (hypothesis)."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from empathy_firewall.insights.record import QUOTE_CHARS, quote_of
from empathy_firewall.insights.web import _authorized


def _request(header: bytes | None) -> Request:
    headers = [] if header is None else [(b"authorization", header)]
    return Request({"type": "http", "method": "GET", "path": "/report", "headers": headers})


@given(st.binary(max_size=200))
def test_any_authorization_header_is_answered_without_raising(header: bytes) -> None:
    assert _authorized(_request(header), "lead", "pw") in (True, False)


@given(st.text(max_size=30), st.text(max_size=30))
def test_only_the_exact_credentials_pass(user: str, password: str) -> None:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    allowed = _authorized(_request(f"Basic {token}".encode()), "lead", "s3cret")
    assert allowed == (user == "lead" and password == "s3cret")


@given(st.text(max_size=1000))
def test_a_quote_is_one_line_and_bounded(text: str) -> None:
    quote = quote_of(text)
    assert len(quote) <= QUOTE_CHARS
    assert "\n" not in quote
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        assert quote == flat
    else:
        assert quote.endswith("\u2026")
        assert flat.startswith(quote[:-1])
