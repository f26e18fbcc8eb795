"""The ticket file reader: streaming, line-numbered errors, never a crash on junk."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall import Comment, Customer, Role, SourceRef, Ticket
from empathy_firewall.errors import InputError
from empathy_firewall.ticketfile import iter_tickets, parse_ticket_line, scan_ticket_file

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ticket(n: int, minutes: int = 0, text: str = "Hello, my order is late.") -> Ticket:
    return Ticket(
        source=SourceRef(connector="file", external_id=str(n)),
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        requester=Customer(id=f"c{n}"),
        comments=(
            Comment(
                id="1",
                author_role=Role.CUSTOMER,
                created_at=T0 + timedelta(minutes=minutes),
                text=text,
            ),
        ),
    )


def test_reads_tickets_skipping_blank_and_comment_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        "# exported 2026-11-20\n\n"
        + _ticket(1).model_dump_json()
        + "\n   \n"
        + _ticket(2, 30).model_dump_json()
        + "\n",
        encoding="utf-8",
    )
    tickets = list(iter_tickets(path))
    assert [t.source.external_id for t in tickets] == ["1", "2"]
    summary = scan_ticket_file(path)
    assert summary.tickets == 2
    assert summary.latest_activity == T0 + timedelta(minutes=30)


def test_error_names_line_and_fields_but_never_echoes_values(tmp_path: Path) -> None:
    secret_words = "my credit card is 4111 1111 1111 1111"
    bad = json.loads(_ticket(2).model_dump_json())
    bad["comments"][0]["author_role"] = secret_words
    path = tmp_path / "t.jsonl"
    path.write_text(_ticket(1).model_dump_json() + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        scan_ticket_file(path)
    assert caught.value.line == 2
    assert "comments.0.author_role" in str(caught.value)
    assert "4111" not in str(caught.value)


def test_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(InputError, match="UTF-8"):
        list(iter_tickets(path))


def test_unknown_fields_are_refused() -> None:
    data = json.loads(_ticket(1).model_dump_json())
    data["sentiment"] = 0.5
    with pytest.raises(InputError, match="sentiment"):
        parse_ticket_line(json.dumps(data))


@given(st.text(max_size=300))
def test_arbitrary_text_is_either_a_ticket_or_an_input_error(line: str) -> None:
    error: InputError | None = None
    try:
        parse_ticket_line(line, source="fuzz", line_no=7)
    except InputError as exc:
        error = exc
    if error is not None:
        assert error.line == 7
        assert error.source == "fuzz"


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_is_either_a_ticket_or_an_input_error(value: object) -> None:
    with contextlib.suppress(InputError):
        parse_ticket_line(json.dumps(value))


@given(st.text(min_size=1, max_size=200), st.integers(min_value=0, max_value=10_000))
def test_valid_tickets_round_trip(text: str, minutes: int) -> None:
    ticket = _ticket(5, minutes, text)
    assert parse_ticket_line(ticket.model_dump_json()) == ticket
