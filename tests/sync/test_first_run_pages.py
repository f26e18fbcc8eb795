"""Issue 10 item 6: a first run's plans do not depend on how the export is cut into pages.

Before the store covers the helpdesk (no run has read the export to its end), a first run
observes every page (customer memory, agents' work, snapshots, the roster) before it
evaluates any. The bundled sample through the ``file`` source then plans the same actions
for the same rules whether it comes as one page, pages of 100 or of 7, in file order or
shuffled. (Before this, agent-care-routing fired 21 times with one page, 12 with pages of
100 and 7 with pages of 7, because the roster and agents' work knew only pages read so far.)
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_support import ENGINE, SAMPLE

from empathy_firewall.connectors.base import Bookmark, Page
from empathy_firewall.connectors.file import FileConfig, FileConnector
from empathy_firewall.settings import CustomerFieldMapping, FirewallSettings
from empathy_firewall.state import StateStore
from empathy_firewall.sync import SyncJob, SyncOptions, SyncSummary
from empathy_firewall.sync.job import PageReport
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_server import OPT_IN_FIELD
from empathy_firewall.testing.parity import within
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk, seed_from_tickets

SETTINGS = FirewallSettings(customer_fields=CustomerFieldMapping(tier_field="plan"))
ZENDESK_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW = max(t.last_activity_at for t in iter_tickets(SAMPLE)) + timedelta(minutes=5)


#: what rules gated per agent did in the last :func:`_sync`: (ticket, rule, the text)
_AGENT_SCOPED: set[tuple[str, str, str]] = set()


def _sync(path: Path, page_size: int, folder: Path) -> tuple[Counter[str], SyncSummary]:
    """One first run; how many tickets each rule planned a new action on (and, in
    ``_AGENT_SCOPED``, where the rules gated per agent acted, with what text)."""
    acted: Counter[str] = Counter()
    _AGENT_SCOPED.clear()

    def on_page(report: PageReport) -> None:
        for plan in report.plans:
            acted.update({m.rule_id for a in plan.actions for m in a.because})
            _AGENT_SCOPED.update(
                (plan.ticket.key, m.rule_id, getattr(a.action, "body", ""))
                for a in plan.actions
                for m in a.because
                if (m.scope or "").startswith("agent:")
            )

    connector = FileConnector(
        FileConfig(path=path, output=folder / "plans.jsonl", page_size=page_size)
    )
    with StateStore(f"sqlite:///{folder / 'state.db'}") as store:
        summary = SyncJob(
            store, connector, ENGINE, SETTINGS, SyncOptions(now=NOW), on_page=on_page
        ).run()
    return acted, summary


@pytest.fixture(scope="module")
def one_page(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Counter[str], set[tuple[str, str, str]]]:
    acted, summary = _sync(SAMPLE, 1000, tmp_path_factory.mktemp("one"))
    assert (summary.pages, summary.tickets_seen) == (1, 320)
    return acted, set(_AGENT_SCOPED)


def test_a_first_run_of_one_page_reads_it_once(tmp_path: Path) -> None:
    """Observing a lone page before evaluating it is what its step does anyway: the page
    pass 1 read is evaluated without asking the helpdesk for it again."""
    connector = FileConnector(
        FileConfig(path=SAMPLE, output=tmp_path / "plans.jsonl", page_size=1000)
    )
    polls: list[object] = []
    poll = connector.poll

    def counted(bookmark: Bookmark | None) -> Iterator[Page]:
        polls.append(bookmark)
        return poll(bookmark)

    connector.poll = counted  # type: ignore[method-assign]
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        summary = SyncJob(store, connector, ENGINE, SETTINGS, SyncOptions(now=NOW)).run()
    assert len(polls) == 1
    assert summary.tickets_observed == 0  # nothing was read once more
    assert (summary.pages, summary.tickets_seen) == (1, 320)
    assert summary.tickets_with_actions > 0


@pytest.mark.parametrize(
    ("page_size", "shuffled"), [(100, False), (7, False), (100, True), (7, True)]
)
def test_a_first_run_plans_the_same_whatever_the_pages(
    one_page: tuple[Counter[str], set[tuple[str, str, str]]],
    page_size: int,
    shuffled: bool,
    tmp_path: Path,
) -> None:
    path = SAMPLE
    if shuffled:
        lines = SAMPLE.read_text(encoding="utf-8").splitlines()
        random.Random(page_size).shuffle(lines)
        path = tmp_path / "shuffled.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    acted, summary = _sync(path, page_size, tmp_path)
    placed = set(_AGENT_SCOPED)
    assert summary.tickets_observed == 320  # pass 1 read the whole export first
    assert summary.tickets_seen == 320
    assert acted == one_page[0]
    # the rules that read the roster, agents' work and customer memory are among them
    for rule in ("agent-care-routing", "agent-care-break", "service-recovery"):
        assert acted[rule] > 0, rule
    # and a rule gated per agent acts on the same ticket with the same words
    assert placed == one_page[1]
    assert any(rule == "agent-care-break" for _, rule, _ in placed)


def test_only_an_export_of_several_pages_is_read_twice(tmp_path: Path) -> None:
    _, first = _sync(SAMPLE, 100, tmp_path)
    assert first.tickets_observed == 320
    assert any("read once more" in line for line in first.lines())
    _, second = _sync(SAMPLE, 100, tmp_path)  # the first run read to the end: nothing new
    assert second.tickets_observed == 0
    assert second.tickets_with_actions == 0


def test_a_run_stopped_in_the_observation_pass_evaluates_nothing(tmp_path: Path) -> None:
    connector = FileConnector(
        FileConfig(path=SAMPLE, output=tmp_path / "plans.jsonl", page_size=100)
    )
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        summary = SyncJob(
            store, connector, ENGINE, SETTINGS, SyncOptions(now=NOW), should_stop=lambda: True
        ).run()
        # the first page is observed only once a second one shows it is not the only one
        assert (summary.tickets_observed, summary.pages) == (0, 0)
        assert summary.stopped_because is not None
        assert store.bookmark("file", str(SAMPLE)) is None  # nothing evaluated, nothing moved
        assert not store.read_to_end(f"sync:file:{SAMPLE}")
    assert not (tmp_path / "plans.jsonl").exists()


def _through_zendesk(per_page: int, folder: Path) -> Counter[str]:
    """A first run of the sample through the Zendesk connector and its fake: how many
    tickets each rule planned a new action on."""
    sample = list(iter_tickets(SAMPLE))
    fake = FakeZendesk(clock=FakeClock(ZENDESK_NOW), export_per_minute=1000)
    latest = max(t.last_activity_at for t in sample)
    seed_from_tickets(fake, sample, ZENDESK_NOW - timedelta(minutes=5) - latest)
    connector = fake.connect(
        ZendeskConnector,
        initial_lookback_minutes=60 * 24 * 365,
        agent_opt_in_field=OPT_IN_FIELD,
        per_page=per_page,
    )
    acted: set[tuple[str, str]] = set()  # a ticket read back after its write counts once

    def on_page(report: PageReport) -> None:
        for plan in report.plans:
            acted.update((plan.ticket.key, m.rule_id) for a in plan.actions for m in a.because)

    with StateStore(f"sqlite:///{folder / f'zendesk-{per_page}.db'}") as store:
        first = SyncJob(
            store, connector, ENGINE, SETTINGS, SyncOptions(now=ZENDESK_NOW), on_page=on_page
        ).run()
    # one export page is observed and then evaluated as read; smaller pages are read twice
    assert first.tickets_observed == (0 if per_page >= 320 else 320)
    return Counter(rule for _, rule in acted)


def test_through_a_helpdesk_connector_the_pages_do_not_matter_either(tmp_path: Path) -> None:
    whole = _through_zendesk(1000, tmp_path)
    assert whole["agent-care-routing"] > 0
    small = _through_zendesk(7, tmp_path)
    # Zendesk exports a ticket again once the firewall wrote to it: with small pages that
    # happens within the first run, and a priority the firewall set can tighten the SLA,
    # so a ticket read back may now be breached (2 of 320 on the sample). That is new
    # helpdesk data, not page order; every other rule plans exactly the same.
    assert within(whole, small) == []
    del whole["delay-acknowledgement"], small["delay-acknowledgement"]
    assert small == whole
