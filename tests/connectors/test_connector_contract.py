"""Core contract pieces: headers, bookmarks, markers, the registry and the file source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empathy_firewall.connectors import (
    Bookmark,
    Connector,
    Headers,
    HttpResponse,
    available,
    load,
    markers_in,
    note_marker,
)
from empathy_firewall.connectors.file import FileConnector
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.testing import ConnectorConformance
from empathy_firewall.webhooks import WebhookRequest


def test_headers_are_case_insensitive_and_hide_values_in_repr() -> None:
    headers = Headers({"Authorization": "Bearer s3cret", "Retry-After": "5"})
    assert headers["authorization"] == "Bearer s3cret"
    assert "retry-after" in headers
    assert "s3cret" not in repr(headers)


_NAMES = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "P")), max_size=12)


@given(
    pairs=st.lists(st.tuples(_NAMES, st.text(max_size=8)), max_size=8),
    asked=_NAMES,
)
def test_headers_get_is_a_case_insensitive_lookup_with_a_default(
    pairs: list[tuple[str, str]], asked: str
) -> None:
    """``get`` (a fast path beside the inherited mapping methods) agrees with
    ``in``/``[]``: the last value given for the name in any case, else the default."""
    headers = Headers(pairs)
    last = {name.lower(): value for name, value in pairs}
    for name in (asked, asked.upper(), asked.lower()):
        expected = last.get(name.lower(), "absent")
        assert headers.get(name, "absent") == expected
        assert (name in headers) == (name.lower() in last)
        if name in headers:
            assert headers[name] == expected
    assert headers.get(asked) == last.get(asked.lower())


def test_bookmark_round_trips_through_its_string() -> None:
    mark = Bookmark.of({"cursor": "abc", "n": 1})
    assert Bookmark(mark.value).data() == {"cursor": "abc", "n": 1}
    with pytest.raises(InputError):
        Bookmark("not json").data()


def test_markers_are_found_in_text() -> None:
    text = f"note\n\n{note_marker('ef1-abc')}\nmore {note_marker('ef1-def')}"
    assert markers_in(text) == {"ef1-abc", "ef1-def"}


def test_response_json_tolerates_plain_text() -> None:
    response = HttpResponse(429, body=b"Number of allowed API requests per minute exceeded")
    assert response.json_or_none() is None
    with pytest.raises(InputError):
        response.json()


def test_unknown_connector_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown connector .nope.*file"):
        load("nope")


def test_file_source_is_registered_through_the_entry_point() -> None:
    assert "file" in available()
    assert load("file") is FileConnector


def test_invalid_config_names_the_field() -> None:
    with pytest.raises(ConfigError, match="page_size"):
        FileConnector.from_config({"path": "x.jsonl", "page_size": 0})


def test_webhook_request_headers_are_case_insensitive() -> None:
    request = WebhookRequest("POST", "/hooks/zendesk", Headers({"X-A": "1"}), b"{}")
    assert request.headers["x-a"] == "1"


def _ticket_line(n: int) -> str:
    return json.dumps(
        {
            "source": {"connector": "zendesk", "external_id": str(n)},
            "subject": f"Ticket {n}",
            "created_at": "2026-01-05T09:00:00Z",
            "updated_at": "2026-01-05T09:00:00Z",
            "requester": {"id": f"c{n}"},
            "comments": [
                {
                    "id": f"{n}-1",
                    "author_role": "customer",
                    "created_at": "2026-01-05T09:00:00Z",
                    "text": "Where is my order?",
                }
            ],
        }
    )


class TestFileConnectorConformance(ConnectorConformance):
    """The built-in file source passes the (polling half of the) conformance suite."""

    @pytest.fixture(autouse=True)
    def _workdir(self, tmp_path: Path) -> None:
        self.path = tmp_path / "tickets.jsonl"
        self.path.write_text("")
        self.next_id = 1

    def make_connector(self) -> Connector:
        return FileConnector.from_config({"path": str(self.path), "page_size": 2})

    def seed_tickets(self, count: int) -> list[str]:
        ids = []
        with self.path.open("a") as handle:
            for _ in range(count):
                handle.write(_ticket_line(self.next_id) + "\n")
                ids.append(str(self.next_id))
                self.next_id += 1
        return ids


def test_file_apply_records_plans_once(tmp_path: Path) -> None:
    from empathy_firewall.testing import sample_plan

    path = tmp_path / "t.jsonl"
    path.write_text(_ticket_line(1) + "\n")
    out = tmp_path / "plans.jsonl"
    connector = FileConnector.from_config({"path": str(path), "output": str(out)})
    ticket = next(connector.poll(None)).tickets[0]
    from empathy_firewall.connectors import Capabilities

    plan = sample_plan(ticket.source, Capabilities(tags=True, notes=True))
    first = connector.apply([plan])[0]
    second = connector.apply([plan])[0]
    assert set(first.applied) == {p.key for p in plan.actions}
    assert second.applied == ()
    assert set(second.already) == set(first.applied)
    assert len(out.read_text().splitlines()) == 1


def test_file_apply_without_output_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("")
    with pytest.raises(ConfigError, match="read-only"):
        FileConnector.from_config({"path": str(path)}).apply([])
