"""The paging loop every polling connector shares: the core drives, the connector describes.

A connector supplies a :class:`Pager`, typed steps over its own state ``S``:

* :meth:`Pager.start` -- the first request and the starting state, from the bookmark
  (it may read: the server's clock, the account's agents);
* :meth:`Pager.step` -- pure: what one response means, as a :class:`Step` (the ticket
  records on it, the next request or None, the state after it, the bookmark to persist once
  its tickets are handled, notes and removed ids);
* :meth:`Pager.prepare` and :meth:`Pager.related` -- the reads a page needs besides the
  listing (sideloads missing from it; each ticket's comments, audits or history); a
  :class:`~empathy_firewall.errors.SkipError` from :meth:`Pager.related` means the ticket
  went away since the listing: it is reported as removed;
* :meth:`Pager.ticket` -- pure: one record and its related data as a core ticket.

:func:`pages` owns the loop: it sends each request through the connector's client, parses
each response once, yields core :class:`~empathy_firewall.connectors.base.Page`\\ s, and
guards the loop. A next request equal to the one just sent (a cursor or bookmark that did
not advance) ends the run with a note instead of looping forever, and so does reaching
:attr:`Pager.max_pages` in one run; the page's bookmark is still persisted, so the next
run resumes there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar

from empathy_firewall.connectors.base import Bookmark, Page
from empathy_firewall.connectors.parsing import normalize_or_skip
from empathy_firewall.errors import InputError, SkipError
from empathy_firewall.models import Ticket
from empathy_firewall.wire import HttpRequest, HttpResponse

__all__ = ["Pager", "Record", "Step", "json_of", "pages", "parse_one", "same_request"]

#: one vendor ticket record as listed
Record = Mapping[str, Any]

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Step(Generic[S]):
    """What one response means (see the module docstring).

    ``hold`` asks the loop to keep this page's tickets and hand them out with the next
    page (a vendor whose page numbers only hold still while nobody writes); it is ignored
    when there is no next request.
    """

    state: S
    bookmark: Bookmark
    records: tuple[Record, ...] = ()
    next: HttpRequest | None = None
    notes: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    hold: bool = False


class Pager(ABC, Generic[S, R]):
    """A connector's paging steps over its state ``S`` and per-ticket related data ``R``."""

    #: the vendor's name in notes ("RT")
    vendor: ClassVar[str] = "helpdesk"
    #: requests one run sends at most before it stops with a note
    max_pages: int = 10_000

    @abstractmethod
    def start(self, bookmark: Bookmark | None) -> tuple[HttpRequest, S]:
        """The first request and the starting state for ``bookmark`` (None: the start)."""

    @abstractmethod
    def step(self, state: S, response: HttpResponse) -> Step[S]:
        """What ``response`` (to the request ``state`` led to) means. Pure."""

    def prepare(self, state: S, records: Sequence[Record]) -> S:
        """Page-level reads for a non-empty page (default: none); the state after them."""
        return state

    def related(self, state: S, record: Record) -> R | None:
        """Per-ticket reads (default: none); SkipError when the ticket went away."""
        return None

    @abstractmethod
    def ticket(self, state: S, record: Record, related: R | None) -> Ticket:
        """One core ticket from its record and related data. Pure."""

    def ticket_id(self, record: Record) -> str:
        """The vendor's id of a record (default: its ``id``)."""
        return str(record.get("id"))


def json_of(response: HttpResponse, vendor: str) -> Any:
    """The decoded JSON body (None when empty); InputError when it is not JSON."""
    data = response.json_or_none()
    if data is None and response.body.strip():
        raise InputError(f"{vendor}: a page of the listing is not JSON")
    return data


def same_request(a: HttpRequest, b: HttpRequest) -> bool:
    """True when ``b`` asks exactly what ``a`` asked (method, URL, parameters, body)."""
    return (a.method, a.url, a.params, a.json_body) == (b.method, b.url, b.params, b.json_body)


def _collect(
    pager: Pager[S, R],
    step: Step[S],
    related: Callable[[S, Record], R | None],
    *,
    prepare: bool = True,
) -> tuple[S, list[Ticket], list[str], list[str]]:
    """Run a step's page-level and per-ticket reads and build its tickets: (state after
    them, tickets, removed ids, notes)."""
    state, tickets, removed, notes = step.state, [], list(step.removed), list(step.notes)
    if step.records and prepare:
        state = pager.prepare(state, step.records)
    for record in step.records:
        tid = pager.ticket_id(record)
        try:
            extra = related(state, record)
        except SkipError as exc:  # gone (deleted, moved out of sight) since the listing
            notes.append(f"skipped ticket {tid}: {exc}")
            removed.append(tid)
            continue
        ticket = normalize_or_skip(tid, partial(pager.ticket, state, record, extra), notes)
        if ticket is not None:
            tickets.append(ticket)
    return state, tickets, removed, notes


def _guard(
    pager: Pager[S, R], sent: HttpRequest, following: HttpRequest | None, count: int
) -> str | None:
    """Why the loop must stop before ``following`` (None: it may go on)."""
    if following is not None and same_request(sent, following):
        return f"{pager.vendor} paging did not advance; stopping this run"
    if following is not None and count >= pager.max_pages:
        return f"{pager.vendor} paging reached {pager.max_pages} pages; stopping this run"
    return None


def parse_one(
    pager: Pager[S, R],
    state: S,
    request: HttpRequest,
    response: HttpResponse,
    related: Callable[[S, Record], R | None] | None = None,
) -> Page:
    """One page from a response already at hand, reading nothing (``related`` supplies
    each ticket's related data; default: none): the loop's own parsing, for tests and
    offline reads."""
    step = pager.step(state, response)
    read = related or (lambda _s, _r: None)
    _, tickets, removed, notes = _collect(pager, step, read, prepare=False)
    stop = _guard(pager, request, step.next, 1)
    if stop is not None:
        notes.append(stop)
    more = step.next is not None and stop is None
    return Page(tuple(tickets), step.bookmark, more, tuple(sorted(set(removed))), tuple(notes))


def pages(
    pager: Pager[S, R], send: Callable[[HttpRequest], HttpResponse], bookmark: Bookmark | None
) -> Iterator[Page]:
    """Pages of changed tickets from ``bookmark`` to the end (see the module docstring)."""
    request, state = pager.start(bookmark)
    held: tuple[list[Ticket], list[str], list[str]] = ([], [], [])
    sent = 0
    while True:
        step = pager.step(state, send(request))
        sent += 1
        state, tickets, removed, notes = _collect(pager, step, pager.related)
        following = step.next
        if (stop := _guard(pager, request, following, sent)) is not None:
            notes.append(stop)
            following = None
        tickets, removed, notes = [*held[0], *tickets], [*held[1], *removed], [*held[2], *notes]
        if step.hold and following is not None:
            held, request = (tickets, removed, notes), following
            continue
        held = ([], [], [])
        more = following is not None
        yield Page(tuple(tickets), step.bookmark, more, tuple(sorted(set(removed))), tuple(notes))
        if following is None:
            return
        request = following
