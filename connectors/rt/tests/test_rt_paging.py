"""RT's paging steps driven by the core loop, against a scripted REST 2 (no server needed):
keyset searches page by page, the bookmark, a ticket gone since the search, a search that
does not advance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from empathy_firewall_rt import RtConnector

from empathy_firewall.wire import Headers, HttpRequest, HttpResponse

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "ticket_history.json").read_text())
DATE = "Mon, 07 Dec 2026 13:00:00 GMT"


def _record(tid: int, updated: str) -> dict[str, Any]:
    return {**FIXTURE["record"], "id": str(tid), "LastUpdated": updated}


class ScriptedRt:
    """Answers the timezone check (no ticket yet), ``/rt`` and ticket parts; searches get
    the scripted pages in order. Ticket ids in ``gone`` answer 404 to their history."""

    def __init__(self, searches: list[tuple[list[dict[str, Any]], int]], gone: set[str]) -> None:
        self.searches, self.gone = searches, gone
        self.queries: list[str] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        params = dict(request.params)
        path = request.path.removeprefix("/REST/2.0")
        if path == "/rt":
            return self._json({"Version": "5.0.3"})
        if path == "/tickets" and params.get("query") == "id > 0":
            return self._json({"items": [], "total": 0})
        if path == "/tickets":
            self.queries.append(params["query"])
            items, total = self.searches.pop(0)
            return self._json({"items": items, "total": total})
        tid = path.split("/")[2]
        if tid in self.gone:
            return HttpResponse(404, Headers(), b'{"message": "Resource does not exist"}')
        key = "history" if path.endswith("/history") else "attachments"
        if path.startswith(("/user/", "/queue/")):
            return self._json({"Name": tid})
        return self._json({"items": FIXTURE[key], "pages": 1})

    @staticmethod
    def _json(body: object) -> HttpResponse:
        return HttpResponse(200, Headers({"Date": DATE}), json.dumps(body).encode())


def _connector(fake: ScriptedRt) -> RtConnector:
    return RtConnector.from_config(  # type: ignore[return-value]
        {"base_url": "http://rt.test", "auth": "token"}, transport=fake, env={"RT_TOKEN": "t"}
    )


def test_pages_follow_the_keyset_and_end_at_the_bound() -> None:
    first = [_record(1, "2026-12-07T12:40:00Z"), _record(2, "2026-12-07T12:41:00Z")]
    fake = ScriptedRt([(first, 3), ([_record(3, "2026-12-07T12:42:00Z")], 1)], gone={"2"})
    pages = list(_connector(fake).poll(None))
    assert [p.more for p in pages] == [True, False]
    assert [t.source.external_id for p in pages for t in p.tickets] == ["1", "3"]
    assert pages[0].removed == ("2",)  # gone between the search and its history read
    assert pages[0].bookmark.data() == {"since": "2026-12-07 12:41:00", "after_id": 2}
    # the run reads up to the server's clock minus settle_seconds (2 s by default)
    assert pages[1].bookmark.data() == {"since": "2026-12-07 12:59:58", "after_id": None}
    assert "id > 2" in fake.queries[1]


def test_a_search_that_does_not_advance_stops_with_a_note() -> None:
    same = [_record(1, "2026-12-07T12:40:00Z")]
    fake = ScriptedRt([(same, 5), (same, 5), (same, 5)], gone=set())
    pages = list(_connector(fake).poll(None))
    assert len(fake.queries) == 2
    assert not pages[-1].more
    assert any("did not advance" in n for n in pages[-1].notes)
    assert pages[-1].bookmark.data() == {"since": "2026-12-07 12:40:00", "after_id": 1}
