"""The Connector contract: what every helpdesk integration provides.

A connector has a pure half and an I/O half.

* Pure: :meth:`Connector.parse_page` (vendor page -> normalized :class:`Page`),
  :meth:`Connector.parse_webhook` (verified request -> :class:`WebhookEvent`),
  :meth:`Connector.verifier` (the webhook signature check). Pure parts never touch the
  network and never see secrets.
* I/O: :meth:`Connector.check`, :meth:`Connector.poll`, :meth:`Connector.fetch`,
  :meth:`Connector.apply` and :meth:`Connector.render` (the write requests ``apply`` would
  send, from ``apply`` itself on a dry transport that sends no write), all built on one
  seam, a :data:`Send` callable ``send(HttpRequest) -> HttpResponse``. Production uses a
  requests-based transport wrapped in the shared retry policy
  (:mod:`empathy_firewall.connectors.http`); tests pass a fake helpdesk's ``send`` instead.

Bookmarks are opaque: a connector encodes its resume point (a cursor, an offset) in a
:class:`Bookmark`; the state store persists ``bookmark.value`` and the sync job advances it
only after a page's plans are applied.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from empathy_firewall.actions import Plan
from empathy_firewall.errors import ConfigError, InputError
from empathy_firewall.models import Agent, SourceRef, Ticket
from empathy_firewall.wire import (
    Headers,
    HttpRequest,
    HttpResponse,
    Send,
    Verifier,
    WebhookRequest,
)

__all__ = [
    "ActionOutcome",
    "ApplyResult",
    "Bookmark",
    "Capabilities",
    "Connector",
    "ConnectorConfig",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Page",
    "RawPage",
    "Send",
    "WebhookEvent",
    "markers_in",
    "note_marker",
    "validate_config",
]

_MARKER = re.compile(r"\[empathy-firewall:([A-Za-z0-9_.-]{1,80})\]")


def note_marker(key: str) -> str:
    """The idempotency marker stamped as the last line of every note the firewall writes."""
    return f"[empathy-firewall:{key}]"


def markers_in(text: str) -> frozenset[str]:
    """The action keys whose markers appear in ``text``."""
    return frozenset(_MARKER.findall(text))


@dataclass(frozen=True, slots=True)
class Bookmark:
    """An opaque resume point. The state store persists :attr:`value` verbatim."""

    value: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Bookmark:
        """Encode a JSON object as a bookmark (keys sorted, so equal data gives equal value)."""
        return cls(json.dumps(dict(data), sort_keys=True, separators=(",", ":")))

    def data(self) -> dict[str, Any]:
        """Decode a bookmark made by :meth:`of`; :class:`InputError` if it is not one."""
        try:
            decoded = json.loads(self.value)
        except ValueError:
            raise InputError("bookmark is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise InputError("bookmark is not a JSON object")
        return decoded


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector can do. The engine never plans what the target cannot apply."""

    poll: bool = False
    webhook: bool = False
    tags: bool = False
    macros: bool = False
    notes: bool = False
    public_replies: bool = False
    drafts: bool = False
    priority: bool = False
    history: bool = False
    """The connector delivers a ticket's history events (reassignments, reopens, status and
    priority changes) itself. When False the sync step derives them from the differences
    between what it read on successive syncs (:mod:`empathy_firewall.signals.derived`)."""

    @property
    def writes(self) -> bool:
        """True when the connector can write anything back."""
        return any(
            (self.tags, self.macros, self.notes, self.public_replies, self.drafts, self.priority)
        )


@dataclass(frozen=True, slots=True)
class RawPage:
    """What the I/O half fetched for one page, handed to the pure :meth:`Connector.parse_page`.

    ``body`` is the vendor's page JSON; ``related`` holds whatever else was fetched for it
    (comments per ticket, cached agents and groups), keyed as the connector likes.
    """

    body: Mapping[str, Any]
    related: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of changed tickets and the bookmark to persist once they are handled.

    ``removed`` lists external ids the helpdesk reported as deleted; ``notes`` carries
    non-fatal observations (duplicates dropped, a cursor that did not advance) for logs.
    """

    tickets: tuple[Ticket, ...]
    bookmark: Bookmark
    more: bool = False
    removed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified webhook, normalized.

    ``id`` is the dedupe key (the vendor's event or invocation id, or a body hash);
    ``ticket`` is the vendor's ticket reference; ``snapshot`` is a partial ticket when the
    payload carried enough to build one (the worker fetches the full ticket otherwise).
    """

    id: str
    type: str
    ticket: SourceRef | None
    occurred_at: datetime | None = None
    snapshot: Ticket | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """Why one planned action was not applied (its idempotency key and a reason)."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What happened to one plan: keys applied, keys already present, keys skipped.

    ``applied`` and ``already`` are both safe to record in the ledger (``already`` means
    the helpdesk held the marker before we wrote: a crash between apply and record).
    ``skipped`` actions were not applied and may be retried by a later run.
    """

    ticket: SourceRef
    applied: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    skipped: tuple[ActionOutcome, ...] = ()

    @property
    def done(self) -> tuple[str, ...]:
        """Keys the ledger may record: applied now or found already applied."""
        return self.applied + self.already


class ConnectorConfig(BaseModel):
    """Base of every connector's pydantic config: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Connector(ABC):
    """Base class of every connector; see the module docstring for the two halves.

    Subclasses set :attr:`name`, :attr:`Config` and :attr:`capabilities`, and override the
    methods their capabilities promise. Unsupported operations raise
    :class:`NotImplementedError` naming the connector.
    """

    #: the entry-point name, also ``SourceRef.connector`` on every ticket it produces
    name: ClassVar[str]
    #: the pydantic model its configuration validates against
    Config: ClassVar[type[ConnectorConfig]]
    #: what it can do
    capabilities: ClassVar[Capabilities]

    @classmethod
    def from_config(cls, raw: Mapping[str, Any], **kwargs: Any) -> Connector:
        """Validate ``raw`` against :attr:`Config` and build the connector."""
        return cls(validate_config(cls, raw), **kwargs)  # type: ignore[call-arg]

    # pure half -----------------------------------------------------------------------

    def parse_page(self, raw: RawPage) -> Page:
        """Normalize one fetched page. Pure."""
        raise NotImplementedError(f"{self.name}: parse_page is not supported")

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        """Normalize a verified :class:`~empathy_firewall.webhooks.WebhookRequest`. Pure."""
        raise NotImplementedError(f"{self.name}: webhooks are not supported")

    def verifier(self) -> Verifier:
        """The :class:`~empathy_firewall.webhooks.Verifier` for this connector's webhooks."""
        raise NotImplementedError(f"{self.name}: webhooks are not supported")

    def applied_keys(self, ticket: Ticket) -> frozenset[str]:
        """Action keys already visible on ``ticket`` (note markers in its comments). Pure.

        The sync job drops planned actions with these keys, so a crash between apply and
        the ledger record never writes a second note once the ticket is read again.
        """
        found: set[str] = set()
        for comment in ticket.comments:
            found |= markers_in(comment.text)
        return frozenset(found)

    def render(self, plans: Sequence[Plan]) -> tuple[HttpRequest, ...]:
        """The write requests :meth:`apply` would send for these plans, sending none (HTTP
        connectors: ``apply`` on a dry transport; reads still reach the helpdesk)."""
        raise NotImplementedError(f"{self.name}: write-back is not supported")

    def rehearsal_twin(self, folder: Path) -> tuple[Connector, list[HttpRequest]] | None:
        """A connector that reads what this one reads and records its writes instead of
        making them, with the list its write requests land in; ``sync --dry-run`` runs the
        whole sync on it (:mod:`empathy_firewall.sync.rehearsal`). ``folder`` is scratch
        space that lives as long as the rehearsal. None (the default): it cannot rehearse,
        and the dry run only evaluates."""
        return None

    # I/O half ------------------------------------------------------------------------

    @abstractmethod
    def check(self) -> None:
        """Verify configuration and credentials; raise ConfigError/AuthenticationError."""

    def poll(self, bookmark: Bookmark | None) -> Iterator[Page]:
        """Yield pages of changed tickets since ``bookmark`` (None: the configured start)."""
        raise NotImplementedError(f"{self.name}: polling is not supported")

    def fetch(self, external_ids: Sequence[str]) -> tuple[Ticket, ...]:
        """Read these tickets in full (after a webhook). Unknown ids are left out."""
        raise NotImplementedError(f"{self.name}: fetch is not supported")

    def list_agents(self) -> tuple[Agent, ...]:
        """The helpdesk's agents (name, e-mail, groups), or ``()`` when the connector cannot
        list them (the default); routing suggestions then name only agents seen on tickets.

        The sync step asks once per run.
        """
        return ()

    def count_open(self, assignee_id: str) -> int | None:
        """Open tickets (new, open, pending, on hold) assigned to ``assignee_id``, counted
        by the helpdesk, or None when the connector has no such query (the default).

        The sync step asks only until a sync run of this account has finished (before that
        the store's snapshots cover only the pages read so far), once per assignee per run;
        afterwards the backlog is counted from the ticket snapshots the store keeps.
        """
        return None

    def apply(self, plans: Sequence[Plan], *, verify: bool = False) -> tuple[ApplyResult, ...]:
        """Write plans back; one result per plan, in order.

        ``verify=True`` re-reads each ticket first and reports actions whose marker is
        already present as ``already`` instead of writing them again; the sync job sets it
        for plans it may have applied before a crash.
        """
        raise NotImplementedError(f"{self.name}: write-back is not supported")


def validate_config(cls: type[Connector], raw: Mapping[str, Any]) -> ConnectorConfig:
    """Validate ``raw`` against ``cls.Config``; errors name fields, never echo values."""
    try:
        return cls.Config.model_validate(dict(raw))
    except ValidationError as exc:
        from empathy_firewall.config_errors import format_problems, validation_problems

        problems = validation_problems("connector", exc, cls.Config)
        raise ConfigError(
            format_problems(f"invalid {cls.name} connector config ([connector])", problems)
        ) from None
