"""Done-when of issue 10: the bundled sample through each connector agrees with the file.

The 320 sample tickets are run once through the ``file`` source and once through each
helpdesk connector against its fake (seeded with everything the file says, kept where the
vendor keeps it: user/contact and organisation/company fields, agents with e-mail, groups
and opt-ins, history as audits). Per-rule firing counts must agree within 5% (at least one
firing of slack), the baton, agent care and recognition included, and every service
recovery note must name the customer's tier wherever the helpdesk holds one.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from empathy_firewall.connectors.file import FileConfig, FileConnector
from empathy_firewall.engine.evaluate import Engine
from empathy_firewall.engine.loader import load_rule_packs
from empathy_firewall.models import Ticket
from empathy_firewall.settings import CustomerFieldMapping, FirewallSettings, FrictionSettings
from empathy_firewall.state import StateStore
from empathy_firewall.state.agents import set_choices
from empathy_firewall.testing import FakeFreshdesk, FakeZendesk
from empathy_firewall.testing.clock import FakeClock
from empathy_firewall.testing.fake_server import OPT_IN_FIELD, seed_from_tickets
from empathy_firewall.testing.freshdesk_seed import replay_into_freshdesk
from empathy_firewall.testing.parity import FiringTable, firing_counts, within
from empathy_firewall.ticketfile import iter_tickets
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_zendesk import ZendeskConnector

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
NEEDS_HISTORY = ("handoff-baton", "delay-acknowledgement", "service-recovery-priority")
NO_OVERLOAD = SETTINGS.model_copy(update={"friction": FrictionSettings(overloaded_at=1_000_000.0)})


@pytest.fixture(scope="module")
def sample() -> list[Ticket]:
    return list(iter_tickets(SAMPLE))


@pytest.fixture(scope="module")
def from_file(sample: list[Ticket], tmp_path_factory: pytest.TempPathFactory) -> FiringTable:
    folder = tmp_path_factory.mktemp("file")
    latest = max(t.last_activity_at for t in sample)
    connector = FileConnector(FileConfig(path=SAMPLE, output=folder / "plans.jsonl"))
    return firing_counts(
        connector, ENGINE, latest + timedelta(minutes=5), folder / "state.db", settings=SETTINGS
    )


def from_file_without_overload(sample: list[Ticket], folder: Path) -> FiringTable:
    latest = max(t.last_activity_at for t in sample)
    connector = FileConnector(FileConfig(path=SAMPLE, output=folder / "plans-no.jsonl"))
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


def through_zendesk(
    sample: list[Ticket], store: Path, settings: FirewallSettings
) -> tuple[FiringTable, FakeZendesk]:
    """One sync of the sample through the Zendesk connector and a freshly seeded fake."""
    fake = FakeZendesk(clock=FakeClock(NOW), export_per_minute=1000)
    latest = max(t.last_activity_at for t in sample)
    seed_from_tickets(fake, sample, NOW - timedelta(minutes=5) - latest)
    connector = fake.connect(
        ZendeskConnector,
        initial_lookback_minutes=60 * 24 * 365,
        agent_opt_in_field=OPT_IN_FIELD,
        include_slas=True,
    )
    return firing_counts(connector, ENGINE, NOW, store, settings=settings), fake


def test_zendesk_fires_as_the_file_does(
    sample: list[Ticket], from_file: FiringTable, tmp_path: Path
) -> None:
    table, fake = through_zendesk(sample, tmp_path / "state.db", SETTINGS)
    assert table.tickets == 320
    gaps = within(from_file.rules, table.rules)
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
    # history cost no extra call per ticket: audits replace the comments read
    assert fake.count("/comments") == 0
    assert fake.count("/audits") == 320


def through_freshdesk(
    sample: list[Ticket], store: Path
) -> tuple[FiringTable, FakeFreshdesk, FreshdeskConnector]:
    """One sync of the sample, replayed into a fake Freshdesk, with the agents' opt-ins
    stored as ``empathy-firewall agents opt-in`` leaves them (Freshdesk agents have no
    custom fields to hold them)."""
    start = min(t.created_at for t in sample) - timedelta(minutes=1)
    fake = FakeFreshdesk(clock=FakeClock(start), requests_per_minute=100_000, list_per_minute=None)
    replay_into_freshdesk(fake, sample)
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
    table = firing_counts(connector, ENGINE, now, store, settings=SETTINGS, prepare=opt_in)
    return table, fake, connector


def test_freshdesk_fires_as_the_file_does_where_no_history_is_needed(
    sample: list[Ticket], from_file: FiringTable, tmp_path: Path
) -> None:
    table, fake, connector = through_freshdesk(sample, tmp_path / "state.db")
    assert table.tickets == 320
    gaps = [g for g in within(from_file.rules, table.rules) if not g.startswith(NEEDS_HISTORY)]
    assert gaps == []
    for rule in ("agent-care-routing", "agent-care-break", "positive-moment-recognition"):
        assert table.rules[rule] > 0
    assert tiers(table.recovery_notes)["no"] <= 3
    assert "missing" not in tiers(table.recovery_notes)
    # customers cost one contact view each per run (companies one each), no more
    customers = {t.requester.id for t in sample}
    assert fake.count("/api/v2/contacts/") == len(customers)
    assert all(a.email for a in connector.list_agents())


@pytest.mark.xfail(
    not HISTORY_IN_CORE,
    reason="Freshdesk has no history API: reassignments come from the core's snapshot "
    "derivation (issue 10 item 1, fidelity), not on this branch yet",
    strict=True,
)
def test_freshdesk_history_rules_fire_as_the_file_does(
    sample: list[Ticket], from_file: FiringTable, tmp_path: Path
) -> None:
    table, _fake, _connector = through_freshdesk(sample, tmp_path / "state.db")
    gaps = [g for g in within(from_file.rules, table.rules) if g.startswith(NEEDS_HISTORY)]
    assert gaps == []
