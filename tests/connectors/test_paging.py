"""The core paging loop: guards, held pages, vanished tickets, one parse per response."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from empathy_firewall.connectors.base import Bookmark
from empathy_firewall.connectors.paging import Pager, Record, Step, json_of, pages, parse_one
from empathy_firewall.errors import SkipError
from empathy_firewall.models import Ticket
from empathy_firewall.wire import Headers, HttpRequest, HttpResponse

URL = "https://helpdesk.test/tickets"


def _ticket(tid: str) -> Ticket:
    return Ticket.model_validate(
        {
            "source": {"connector": "toy", "account": "a", "external_id": tid},
            "subject": f"ticket {tid}",
            "requester": {"id": "c1"},
            "created_at": datetime(2026, 1, 1, tzinfo=UTC),
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )


class Toy(Pager[int, str]):
    """Pages are ``{"ids": [...], "next": cursor|null, "hold": bool}``; state = pages read."""

    vendor = "Toy"

    def __init__(self, gone: Sequence[str] = (), max_pages: int = 100) -> None:
        self.gone, self.max_pages, self.steps = set(gone), max_pages, 0

    def start(self, bookmark: Bookmark | None) -> tuple[HttpRequest, int]:
        return HttpRequest("GET", URL, (("cursor", "0"),)), 0

    def step(self, state: int, response: HttpResponse) -> Step[int]:
        self.steps += 1
        body = json_of(response, self.vendor)
        cursor = body["next"]
        following = HttpRequest("GET", URL, (("cursor", cursor),)) if cursor else None
        records = tuple({"id": i} for i in body["ids"])
        mark = Bookmark.of({"cursor": cursor or "end"})
        return Step(state + 1, mark, records, following, hold=body.get("hold", False))

    def related(self, state: int, record: Record) -> str:
        if str(record["id"]) in self.gone:
            raise SkipError("404")
        return f"comments of {record['id']}"

    def ticket(self, state: int, record: Record, related: str | None) -> Ticket:
        assert related == f"comments of {record['id']}"
        return _ticket(str(record["id"]))


def _send(bodies: dict[str, dict[str, object]]) -> tuple[list[str], object]:
    sent: list[str] = []

    def send(request: HttpRequest) -> HttpResponse:
        cursor = dict(request.params)["cursor"]
        sent.append(cursor)
        return HttpResponse(200, Headers(), json.dumps(bodies[cursor]).encode())

    return sent, send


def test_pages_follow_next_requests_and_parse_each_response_once() -> None:
    sent, send = _send({"0": {"ids": ["1", "2"], "next": "a"}, "a": {"ids": ["3"], "next": None}})
    toy = Toy()
    got = list(pages(toy, send, None))  # type: ignore[arg-type]
    assert sent == ["0", "a"]
    assert toy.steps == 2
    assert [[t.source.external_id for t in p.tickets] for p in got] == [["1", "2"], ["3"]]
    assert [p.more for p in got] == [True, False]
    assert got[-1].bookmark.data() == {"cursor": "end"}


def test_a_next_request_that_does_not_advance_stops_with_a_note() -> None:
    sent, send = _send({"0": {"ids": ["1"], "next": "a"}, "a": {"ids": ["2"], "next": "a"}})
    got = list(pages(Toy(), send, None))  # type: ignore[arg-type]
    assert sent == ["0", "a"]
    assert not got[-1].more
    assert any("did not advance" in n for n in got[-1].notes)
    assert got[-1].bookmark.data() == {"cursor": "a"}


def test_max_pages_stops_the_run_with_a_note() -> None:
    bodies: dict[str, dict[str, object]] = {
        str(i): {"ids": [str(i)], "next": str(i + 1)} for i in range(10)
    }
    sent, send = _send(bodies)
    got = list(pages(Toy(max_pages=3), send, None))  # type: ignore[arg-type]
    assert sent == ["0", "1", "2"]
    assert not got[-1].more
    assert any("3 pages" in n for n in got[-1].notes)


def test_held_pages_go_out_with_the_next_one_and_vanished_tickets_are_removed() -> None:
    _sent, send = _send(
        {
            "0": {"ids": ["1", "2"], "next": "a", "hold": True},
            "a": {"ids": ["3"], "next": None},
        }
    )
    got = list(pages(Toy(gone=["2"]), send, None))  # type: ignore[arg-type]
    (page,) = got
    assert [t.source.external_id for t in page.tickets] == ["1", "3"]
    assert page.removed == ("2",)
    assert any("skipped ticket 2" in n for n in page.notes)


def test_parse_one_applies_the_same_guard() -> None:
    request = HttpRequest("GET", URL, (("cursor", "a"),))
    response = HttpResponse(200, Headers(), json.dumps({"ids": ["1"], "next": "a"}).encode())
    page = parse_one(Toy(), 0, request, response, lambda _s, r: f"comments of {r['id']}")
    assert not page.more
    assert any("did not advance" in n for n in page.notes)
    assert [t.source.external_id for t in page.tickets] == ["1"]
