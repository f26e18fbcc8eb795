"""Done-when of issue 10: the bundled sample through each connector agrees with the file.

The 320 sample tickets are run once through the ``file`` source and once through each
helpdesk connector against its fake (seeded with everything the file says, kept where the
vendor keeps it: user/contact and organisation/company fields, agents with e-mail, groups
and opt-ins, history as audits). Per-rule firing counts of one sync must agree with the
file's within 5% of the file's count, and never by more than the larger of that and one
ticket (:func:`~empathy_firewall.testing.parity.within`), every rule of the default pack
(the baton, agent care and recognition included) on each vendor; and every service
recovery note must name the customer's tier wherever the helpdesk holds one.

Measured (file / Zendesk / Freshdesk, one sync): every rule equal but
delay-acknowledgement 99 / 99 / 98 (Freshdesk cannot see a group hop before its first
sync: reply handoffs never infer a group).
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from empathy_firewall.connectors.base import Connector
from empathy_firewall.connectors.file import FileConfig, FileConnector
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.models import Ticket
from empathy_firewall.settings import CustomerFieldMapping, FirewallSettings, FrictionSettings
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import set_choices
from empathy_firewall.sync import SyncJob, SyncOptions
from empathy_firewall.sync.job import PageReport
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_server import OPT_IN_FIELD, agent_email
from empathy_firewall.testing.parity import FiringTable, firing_counts, within
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk, replay_into_freshdesk
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk, replay_into_zendesk, seed_from_tickets

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample_helpdesk.jsonl"
ENGINE = Engine(load_rule_packs(None))
SETTINGS = FirewallSettings(customer_fields=CustomerFieldMapping(tier_field="plan"))
#: the rules the issue names: they were silent through the connectors before
FLAGSHIP = (
    "handoff-baton",
    "agent-care-routing",
    "agent-care-break",
    "positive-moment-recognition",
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: the core keeps agent backlog in the store (issue 10 item 2, the `fidelity` part); until
#: it is there, a connector delivers no backlog and the overload path of the delay
#: acknowledgement is compared with overload taken out on both sides
BACKLOG_IN_CORE = importlib.util.find_spec("empathy_firewall.signals.backlog") is not None
#: Freshdesk has no history API: the core derives reassignments and reopens from what
#: successive syncs saw (issue 10 item 1, the `fidelity` part)
HISTORY_IN_CORE = importlib.util.find_spec("empathy_firewall.signals.derived") is not None
#: rules that need history (reassignments, group hops) or backlog to fire as the file does
NEEDS_HISTORY = (
    "handoff-baton",
    "delay-acknowledgement",
    "service-recovery",  # "passed around" and reopens raise its severity
    "service-recovery-priority",
)
NO_OVERLOAD = SETTINGS.model_copy(update={"friction": FrictionSettings(overloaded_at=1_000_000.0)})


def file_source(output: Path) -> FileConnector:
    """The file source reading the sample as one page, as the Zendesk export does (1000 per
    page): what a page teaches (agents' work) is recorded before it is evaluated, so
    both sides must cut the sample into the same pages to be compared."""
    return FileConnector(FileConfig(path=SAMPLE, output=output, page_size=1000))


@pytest.fixture(scope="module")
def sample() -> list[Ticket]:
    return list(iter_tickets(SAMPLE))


@pytest.fixture(scope="module")
def from_file(sample: list[Ticket], tmp_path_factory: pytest.TempPathFactory) -> FiringTable:
    folder = tmp_path_factory.mktemp("file")
    latest = max(t.last_activity_at for t in sample)
    connector = file_source(folder / "plans.jsonl")
    return firing_counts(
        connector, ENGINE, latest + timedelta(minutes=5), folder / "state.db", settings=SETTINGS
    )


def from_file_without_overload(sample: list[Ticket], folder: Path) -> FiringTable:
    latest = max(t.last_activity_at for t in sample)
    connector = file_source(folder / "plans-no.jsonl")
    return firing_counts(
        connector,
        ENGINE,
        latest + timedelta(minutes=5),
        folder / "state-no.db",
        settings=NO_OVERLOAD,
    )


def tiers(notes: list[str]) -> Counter[str]:
    """The tier each recovery note names ("no" when it names none)."""
    found = (re.search(r"Customer: (\S+) tier", note) for note in notes)
    return Counter(m.group(1) if m else "missing" for m in found)


def test_the_file_source_fires_the_flagship_rules(from_file: FiringTable) -> None:
    assert from_file.tickets == 320
    assert all(from_file.rules[rule] > 0 for rule in FLAGSHIP), from_file.rules


def with_capacities(
    settings: FirewallSettings, sample: list[Ticket], ids_by_email: dict[str, str]
) -> FirewallSettings:
    """``settings`` with each agent's capacity from the file, keyed by the helpdesk's agent
    id (an admin's ``capacity_per_agent``), where the core supports it."""
    if "capacity_per_agent" not in FrictionSettings.model_fields:
        return settings
    capacities = {
        ids_by_email[agent_email(t.assignee)]: t.assignee.capacity
        for t in sample
        if t.assignee is not None and t.assignee.capacity is not None
    }
    friction = settings.friction.model_copy(update={"capacity_per_agent": capacities})
    return settings.model_copy(update={"friction": friction})


def through_zendesk(
    sample: list[Ticket], store: Path, settings: FirewallSettings
) -> tuple[FiringTable, FakeZendesk]:
    """One sync of the sample through the Zendesk connector and a freshly seeded fake."""
    fake = FakeZendesk(clock=FakeClock(NOW), export_per_minute=1000)
    latest = max(t.last_activity_at for t in sample)
    seed_from_tickets(fake, sample, NOW - timedelta(minutes=5) - latest, backlog_figures=True)
    connector = fake.connect(
        ZendeskConnector,
        initial_lookback_minutes=60 * 24 * 365,
        agent_opt_in_field=OPT_IN_FIELD,
        include_slas=True,
    )
    emails = {u["email"]: str(u["id"]) for u in fake.state.users.values() if u["role"] == "agent"}
    settings = with_capacities(settings, sample, emails)
    return firing_counts(connector, ENGINE, NOW, store, settings=settings), fake


def test_zendesk_fires_as_the_file_does(
    sample: list[Ticket], from_file: FiringTable, tmp_path: Path
) -> None:
    table, fake = through_zendesk(sample, tmp_path / "state.db", SETTINGS)
    assert table.tickets == 320
    gaps = within(from_file.rules, table.rules)
    assert set(table.rules) == set(from_file.rules)
    if not BACKLOG_IN_CORE:
        gaps = [g for g in gaps if not g.startswith("delay-acknowledgement:")]
        plain = from_file_without_overload(sample, tmp_path)
        other, _ = through_zendesk(sample, tmp_path / "no.db", NO_OVERLOAD)
        assert within(plain.rules, other.rules) == []
    assert gaps == []
    assert all(table.rules[rule] > 0 for rule in FLAGSHIP)
    # every note names a tier where the file (so the helpdesk) holds one
    assert tiers(table.recovery_notes) == tiers(from_file.recovery_notes)
    assert tiers(table.recovery_notes)["no"] <= 3
    # agent prompts can reach their agent: the helpdesk gave every one an e-mail
    assert table.prompt_emails
    assert all(table.prompt_emails.values()), table.prompt_emails
    # history cost no extra call per ticket: audits replace the comments read (once per
    # ticket: the sample is one export page, which a first run observes then evaluates
    # without reading it again)
    assert fake.count("/comments") == 0
    assert fake.count("/audits") == 320


def through_freshdesk(
    sample: list[Ticket], store: Path
) -> tuple[FiringTable, FakeFreshdesk, FreshdeskConnector, list[Ticket]]:
    """One sync of the sample, replayed into a fake Freshdesk, with the agents' opt-ins
    stored as ``empathy-firewall agents opt-in`` leaves them (Freshdesk agents have no
    custom fields to hold them)."""
    start = min(t.created_at for t in sample) - timedelta(minutes=1)
    fake = FakeFreshdesk(clock=FakeClock(start), requests_per_minute=100_000, list_per_minute=None)
    ids = replay_into_freshdesk(fake, sample, backlog_figures=True)
    # the order Freshdesk lists them in (updated_at, then id), 100 per page
    listed = sorted(sample, key=lambda t: (fake.ticket(ids[t.key])["updated_at"], ids[t.key]))
    now = max(t.last_activity_at for t in sample) + timedelta(minutes=5)
    fake.clock.advance((now - fake.clock.wall()).total_seconds())
    connector = fake.connect(FreshdeskConnector, initial_lookback_minutes=60 * 24 * 365)
    by_email = {a["contact"]["email"]: str(a["id"]) for a in fake.state.agents.values()}

    def opt_in(state: StateStore) -> None:
        for ticket in sample:
            agent = ticket.assignee
            if agent is None:
                continue
            listed = next(a for a in connector.list_agents() if a.name == agent.name)
            choices = {
                "strain": agent.opt_in.strain_tracking,
                "breaks": agent.opt_in.break_prompts,
                "recognition": agent.opt_in.recognition,
            }
            set_choices(
                state, "freshdesk", connector.config.account, listed.id, choices, via="cli", now=now
            )

    assert by_email  # agents are listed with their e-mail
    emails = {a["contact"]["email"]: str(a["id"]) for a in fake.state.agents.values()}
    settings = with_capacities(SETTINGS, sample, emails)
    table = firing_counts(connector, ENGINE, now, store, settings=settings, prepare=opt_in)
    return table, fake, connector, listed


def test_freshdesk_fires_as_the_file_does(
    sample: list[Ticket], from_file: FiringTable, tmp_path: Path
) -> None:
    """Every rule, history ones included: a first run observes every page before it
    evaluates, reply handoffs give the baton, and the seeder leaves out the file's system
    messages (Freshdesk keeps no auto-reply or "ticket moved" line as a conversation)."""
    table, fake, connector, _listed = through_freshdesk(sample, tmp_path / "state.db")
    assert table.tickets == 320
    assert within(from_file.rules, table.rules) == []
    assert set(table.rules) == set(from_file.rules)
    assert all(table.rules[rule] > 0 for rule in FLAGSHIP)
    # every note names a tier where the file (so the helpdesk's contact) holds one
    assert tiers(table.recovery_notes) == tiers(from_file.recovery_notes)
    assert tiers(table.recovery_notes)["no"] <= 3
    assert "missing" not in tiers(table.recovery_notes)
    # customers cost one contact view each per run (companies one each), no more
    customers = {t.requester.id for t in sample}
    assert fake.count("/api/v2/contacts/") == len(customers)
    assert all(a.email for a in connector.list_agents())
    assert table.prompt_emails
    assert all(table.prompt_emails.values()), table.prompt_emails


# -- history under a cron cadence: Freshdesk's derived history against Zendesk's audits --

TICK = timedelta(hours=12)


def cron_counts(
    replay: Callable[..., object],
    fake: FakeZendesk | FakeFreshdesk,
    make: Callable[[], Connector],
    sample: list[Ticket],
    store_path: Path,
    prepare: Callable[[StateStore], None] | None = None,
) -> Counter[str]:
    """Replay the sample's life into ``fake`` with a sync every ``TICK`` (as cron would
    run it); rule firings summed over all syncs."""
    counts: Counter[str] = Counter()

    def on_page(report: PageReport) -> None:
        for plan in report.plans:
            counts.update(m.rule_id for m in plan.matches)

    with StateStore(f"sqlite:///{store_path}") as store:
        if prepare is not None:
            prepare(store)

        def on_tick(moment: datetime) -> None:
            job = SyncJob(store, make(), ENGINE, SETTINGS, SyncOptions(now=moment), on_page=on_page)
            job.run()

        replay(fake, sample, on_tick=on_tick, tick=TICK)
    return counts


def test_zendesk_history_reaches_cron_syncs(sample: list[Ticket], tmp_path: Path) -> None:
    """Synced every 12 hours while the sample's tickets live, Zendesk's audits give the
    handoffs as they happen: the baton fires."""
    start = min(t.created_at for t in sample) - timedelta(minutes=1)
    fake = FakeZendesk(clock=FakeClock(start), export_per_minute=100_000)
    counts = cron_counts(
        replay_into_zendesk,
        fake,
        lambda: fake.connect(
            ZendeskConnector,
            initial_lookback_minutes=60 * 24 * 120,
            agent_opt_in_field=OPT_IN_FIELD,
        ),
        sample,
        tmp_path / "z.db",
    )
    assert counts["handoff-baton"] >= 13
    assert counts["positive-moment-recognition"] > 0


@pytest.mark.skipif(
    not HISTORY_IN_CORE, reason="the core's snapshot derivation is not on this branch"
)
def test_freshdesk_derived_history_fires_as_zendesk_audits(
    sample: list[Ticket], tmp_path: Path
) -> None:
    """The same life, the same cadence: Freshdesk's history, derived by the core from what
    successive syncs saw, makes the history rules fire as Zendesk's audits do.

    Derived history is coarser by design: two changes between syncs are one, and a change
    is dated when a sync sees it; and Zendesk's replay carries no SLA (the configured
    targets per priority apply) while Freshdesk's keeps the file's reply target in
    ``fr_due_by``/``nr_due_by`` ("Priority customers" have half the configured target).
    Measured every 12 h (Zendesk / Freshdesk): baton 30/30, delay-acknowledgement 79/81,
    service-recovery 84/81, service-recovery-priority 28/26, the rest equal. The test
    runs the 12-hour cadence (fast) with 10% (one ticket of slack at least).
    """
    start = min(t.created_at for t in sample) - timedelta(minutes=1)
    zendesk = FakeZendesk(clock=FakeClock(start), export_per_minute=100_000)
    expected = cron_counts(
        replay_into_zendesk,
        zendesk,
        lambda: zendesk.connect(ZendeskConnector, initial_lookback_minutes=60 * 24 * 120),
        sample,
        tmp_path / "z.db",
    )
    freshdesk = FakeFreshdesk(
        clock=FakeClock(start), requests_per_minute=1_000_000, list_per_minute=None
    )
    got = cron_counts(
        replay_into_freshdesk,
        freshdesk,
        lambda: freshdesk.connect(FreshdeskConnector, initial_lookback_minutes=60 * 24 * 120),
        sample,
        tmp_path / "f.db",
    )
    history = {r: expected[r] for r in NEEDS_HISTORY}
    assert history["handoff-baton"] > 0
    assert got["handoff-baton"] > 0
    assert within(history, {r: got[r] for r in NEEDS_HISTORY}, tolerance=0.10) == []
    # and the rules that need no history agree as closely as anywhere
    steady = ("positive-moment", "risk-tags", "frustration-tag-high")
    assert within({r: expected[r] for r in steady}, {r: got[r] for r in steady}) == []
