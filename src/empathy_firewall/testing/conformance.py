"""The connector conformance suite: every connector, ours or a third party's, runs it.

Against a fake helpdesk (a :class:`~empathy_firewall.testing.FakeHelpdesk` subclass shipped
with the connector) the whole test module is one line; pytest collects the class by the
name it is bound to, which must start with ``Test``::

    TestMyConnector = conformance_suite(MyConnector, fake=MyFakeHelpdesk)

Against anything else (a real server, a file) subclass :class:`ConnectorConformance` and
implement the hooks; pytest collects the inherited ``test_*`` methods::

    class TestMyConnector(ConnectorConformance):
        def make_connector(self): ...
        def seed_tickets(self, count): ...

Tests that need a capability the connector does not declare are skipped, so a poll-only
source (like ``file``) runs the polling half only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from empathy_firewall.actions import (
    AddTags,
    InternalNote,
    Plan,
    PlannedAction,
    RuleMatch,
    SetPriority,
    action_key,
)
from empathy_firewall.connectors.base import (
    ApplyResult,
    Bookmark,
    Capabilities,
    Connector,
    ConnectorConfig,
    Page,
    WebhookEvent,
)
from empathy_firewall.connectors.registry import load
from empathy_firewall.models import Priority, SourceRef, Ticket
from empathy_firewall.testing.fake_helpdesk import FakeHelpdesk, body_changed
from empathy_firewall.webhooks.request import SignatureError, WebhookRequest

__all__ = ["ConnectorConformance", "conformance_suite", "sample_plan"]

_MATCH = RuleMatch(rule_id="conformance.sample", pack="conformance", description="test")


def sample_plan(ticket: SourceRef, capabilities: Capabilities, *, anchor: str = "once") -> Plan:
    """A small plan using only what ``capabilities`` allows (tags, a note, priority)."""
    actions: list[PlannedAction] = []

    def planned(action: Any) -> PlannedAction:
        key = action_key(ticket.key, action.kind, (_MATCH.rule_id,), anchor)
        return PlannedAction(action=action, because=(_MATCH,), key=key)

    if capabilities.tags:
        actions.append(planned(AddTags(tags=("ef_conformance",))))
    if capabilities.notes:
        actions.append(planned(InternalNote(body="Conformance note: please ignore.")))
    if capabilities.priority:
        actions.append(planned(SetPriority(priority=Priority.HIGH)))
    return Plan(ticket=ticket, evaluated_at=datetime.now(UTC), actions=tuple(actions))


class ConnectorConformance:
    """Behaviour every connector must show. Implement the hooks; inherit the tests."""

    # -- hooks -------------------------------------------------------------------------

    def make_connector(self) -> Connector:
        """A connector talking to a fresh, empty helpdesk (or file)."""
        raise NotImplementedError

    def seed_tickets(self, count: int) -> list[str]:
        """Create ``count`` tickets the next poll will see; return their external ids."""
        raise NotImplementedError

    def advance(self) -> None:
        """Let time pass so recent changes become visible to polling (default: nothing)."""

    def helpdesk_state(self) -> Any:
        """A comparable snapshot of the helpdesk (None: state checks are skipped)."""
        return None

    def missing_ticket_id(self) -> str:
        """An external id that does not exist in the helpdesk."""
        return "987654321"

    def signed_webhook(self, body: bytes) -> WebhookRequest | None:
        """A correctly signed webhook request carrying ``body`` (None: no webhooks)."""
        return None

    def sample_webhook_body(self, ticket_id: str) -> bytes:
        """A webhook body about ``ticket_id`` in the connector's format."""
        raise NotImplementedError

    def tampered_webhook(self, request: WebhookRequest) -> WebhookRequest:
        """A forgery of ``request`` that the verifier must reject.

        Default: the body changed after signing. Helpdesks whose webhooks are unsigned and
        authenticated by a shared secret instead (Freshdesk) return the request with a
        wrong secret, since their body is not covered by anything.
        """
        return body_changed(request)

    # -- helpers -----------------------------------------------------------------------

    def _connector(self) -> Connector:
        connector = self.make_connector()
        assert isinstance(connector, Connector)
        return connector

    @staticmethod
    def _drain(connector: Connector, bookmark: Bookmark | None) -> list[Page]:
        pages = []
        for page in connector.poll(bookmark):
            pages.append(page)
            assert len(pages) < 1000, "poll did not terminate"
        return pages

    @staticmethod
    def _tickets(pages: list[Page]) -> dict[str, Ticket]:
        return {t.source.external_id: t for p in pages for t in p.tickets}

    def _require(self, connector: Connector, *flags: str) -> None:
        missing = [f for f in flags if not getattr(connector.capabilities, f)]
        if missing:
            pytest.skip(f"{connector.name} does not declare {', '.join(missing)}")

    # -- the contract ------------------------------------------------------------------

    def test_declares_name_config_and_capabilities(self) -> None:
        connector = self._connector()
        assert connector.name
        assert connector.name == connector.name.strip().lower()
        assert issubclass(connector.Config, ConnectorConfig)
        assert connector.Config.model_config.get("extra") == "forbid"
        assert isinstance(connector.capabilities, Capabilities)

    def test_is_registered_under_its_name(self) -> None:
        connector = self._connector()
        assert load(connector.name) is type(connector)

    def test_check_passes_against_a_working_helpdesk(self) -> None:
        self._connector().check()

    def test_poll_yields_normalized_tickets(self) -> None:
        connector = self._connector()
        self._require(connector, "poll")
        seeded = self.seed_tickets(3)
        self.advance()
        pages = self._drain(connector, None)
        assert pages, "poll must yield at least one page (possibly empty)"
        assert not pages[-1].more
        assert all(isinstance(p.bookmark, Bookmark) and p.bookmark.value for p in pages)
        tickets = self._tickets(pages)
        assert set(seeded) <= set(tickets)
        for ticket in tickets.values():
            assert isinstance(ticket, Ticket)
            assert ticket.source.external_id

    def test_poll_resumes_from_a_persisted_bookmark(self) -> None:
        connector = self._connector()
        self._require(connector, "poll")
        first = self.seed_tickets(2)
        self.advance()
        pages = self._drain(connector, None)
        persisted = pages[-1].bookmark.value  # what the state store keeps
        later = self.seed_tickets(2)
        self.advance()
        resumed = self._tickets(self._drain(self.make_connector(), Bookmark(persisted)))
        assert set(later) <= set(resumed)
        assert not set(first) & set(resumed), "unchanged tickets came back after the bookmark"

    def test_polling_again_from_the_end_finds_nothing_new(self) -> None:
        connector = self._connector()
        self._require(connector, "poll")
        self.seed_tickets(2)
        self.advance()
        end = self._drain(connector, None)[-1].bookmark
        assert self._tickets(self._drain(connector, end)) == {}

    def _plans(self, connector: Connector, count: int) -> list[Plan]:
        self.seed_tickets(count)
        self.advance()
        tickets = list(self._tickets(self._drain(connector, None)).values())[:count]
        return [sample_plan(t.source, connector.capabilities) for t in tickets]

    def test_render_is_pure_and_carries_no_credentials(self) -> None:
        """Rendering (the dry run) writes nothing, repeats itself, and holds no secret."""
        connector = self._connector()
        self._require(connector, "poll")
        if not connector.capabilities.writes:
            pytest.skip(f"{connector.name} does not write back")
        plans = self._plans(connector, 2)
        before = self.helpdesk_state()
        rendered = connector.render(plans)
        assert rendered == connector.render(plans)
        assert rendered, "render must show what apply would send"
        for request in rendered:
            assert "authorization" not in {h.lower() for h in request.headers}
        assert self.helpdesk_state() == before

    def test_apply_reports_every_plan_and_is_idempotent(self) -> None:
        connector = self._connector()
        self._require(connector, "poll")
        if not connector.capabilities.writes:
            pytest.skip(f"{connector.name} does not write back")
        plans = self._plans(connector, 3)
        results = connector.apply(plans)
        assert len(results) == len(plans)
        for plan, result in zip(plans, results, strict=True):
            assert isinstance(result, ApplyResult)
            assert result.ticket == plan.ticket
            assert set(result.done) == {p.key for p in plan.actions}, result.skipped
        state = self.helpdesk_state()
        again = connector.apply(plans, verify=True)
        assert self.helpdesk_state() == state, "re-applying changed the helpdesk"
        for plan, result in zip(plans, again, strict=True):
            assert set(result.done) == {p.key for p in plan.actions}

    def test_apply_skips_a_missing_ticket_and_reports_why(self) -> None:
        connector = self._connector()
        self._require(connector, "poll")
        if not connector.capabilities.writes:
            pytest.skip(f"{connector.name} does not write back")
        plans = self._plans(connector, 1)
        ghost = plans[0].ticket.model_copy(update={"external_id": self.missing_ticket_id()})
        results = connector.apply([sample_plan(ghost, connector.capabilities), plans[0]])
        assert results[0].skipped
        assert all(o.reason for o in results[0].skipped)
        assert not results[0].applied
        assert set(results[1].done) == {p.key for p in plans[0].actions}

    def test_notes_are_found_again_after_a_re_read(self) -> None:
        connector = self._connector()
        self._require(connector, "poll", "notes")
        plans = self._plans(connector, 1)
        end = self._drain(connector, None)[-1].bookmark
        connector.apply(plans)
        self.advance()
        tickets = self._tickets(self._drain(connector, end))
        ticket = tickets[plans[0].ticket.external_id]
        note_keys = {p.key for p in plans[0].of_kind("internal_note")}
        assert note_keys <= connector.applied_keys(ticket)

    def test_webhook_is_verified_then_parsed(self) -> None:
        connector = self._connector()
        self._require(connector, "webhook")
        body = self.sample_webhook_body("4242")
        request = self.signed_webhook(body)
        assert request is not None, "a webhook connector must provide signed_webhook()"
        verifier = connector.verifier()
        verifier.verify(request)
        event = connector.parse_webhook(request)
        assert isinstance(event, WebhookEvent)
        assert event.id
        assert event.ticket is not None
        assert event.ticket.external_id == "4242"
        with pytest.raises(SignatureError):
            verifier.verify(self.tampered_webhook(request))


def conformance_suite(
    connector: type[Connector],
    *,
    fake: Callable[[], FakeHelpdesk],
    name: str | None = None,
    **config: Any,
) -> type[ConnectorConformance]:
    """The conformance suite for ``connector`` against a fresh ``fake`` per test.

    ``fake`` builds the helpdesk (a :class:`FakeHelpdesk` subclass, or any callable
    returning one); ``config`` is passed to :meth:`FakeHelpdesk.connect`. Every hook comes
    from the fake: tickets from :meth:`~FakeHelpdesk.seed_tickets`, time from
    :meth:`~FakeHelpdesk.settle`, state from :meth:`~FakeHelpdesk.snapshot`, webhooks from
    :meth:`~FakeHelpdesk.webhook`, :meth:`~FakeHelpdesk.webhook_body` and
    :meth:`~FakeHelpdesk.forge`. Bind the result to a module-level name starting with
    ``Test``.
    """

    class Suite(ConnectorConformance):
        helpdesk: FakeHelpdesk

        @pytest.fixture(autouse=True)
        def _fresh_fake(self) -> None:
            self.helpdesk = fake()

        def make_connector(self) -> Connector:
            return self.helpdesk.connect(connector, **config)

        def seed_tickets(self, count: int) -> list[str]:
            return self.helpdesk.seed_tickets(count)

        def advance(self) -> None:
            self.helpdesk.settle()

        def helpdesk_state(self) -> Any:
            return self.helpdesk.snapshot()

        def signed_webhook(self, body: bytes) -> WebhookRequest | None:
            return self.helpdesk.webhook(body)

        def sample_webhook_body(self, ticket_id: str) -> bytes:
            return self.helpdesk.webhook_body(ticket_id)

        def tampered_webhook(self, request: WebhookRequest) -> WebhookRequest:
            return self.helpdesk.forge(request)

    Suite.__name__ = Suite.__qualname__ = name or f"Test{connector.__name__}Conformance"
    Suite.__doc__ = f"The conformance suite for {connector.__name__} against its fake."
    return Suite
