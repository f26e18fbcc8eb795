"""Issue 11 item 4: sync takes the same per-ticket lease the webhook workers take."""

from __future__ import annotations

from pathlib import Path

from empathy_firewall.state import StateStore


def test_sync_leaves_a_ticket_a_webhook_worker_holds_and_takes_the_others(
    tmp_path: Path,
) -> None:
    """Sync takes the per-ticket lease the workers take: it never writes a ticket a worker
    is writing; the ticket is reported busy and the others are applied."""
    from sync_support import seeded_fake

    from empathy_firewall.engine.evaluate import Engine
    from empathy_firewall.engine.loader import load_rule_packs
    from empathy_firewall.settings import FirewallSettings
    from empathy_firewall.state.lock import acquire_lock, lock_info, ticket_lock_name
    from empathy_firewall.sync import SyncJob, SyncOptions
    from empathy_firewall_zendesk import ZendeskConnector

    fake, now = seeded_fake(120)  # the first sample tickets are closed: nothing to write
    connector = fake.connect(ZendeskConnector, initial_lookback_minutes=525600)
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        from empathy_firewall.sync.job import account_of

        account = account_of(connector)
        engine = Engine(load_rule_packs(None))
        dry = SyncJob(
            store, connector, engine, FirewallSettings(), SyncOptions(dry_run=True, now=now)
        )
        plans: list[str] = []
        dry.on_page = lambda report: plans.extend(p.ticket.external_id for p in report.plans)
        dry.run()
        assert len(plans) >= 2
        busy = plans[0]
        held = acquire_lock(store, ticket_lock_name(connector.name, account, busy))
        summary = SyncJob(store, connector, engine, FirewallSettings(), SyncOptions(now=now)).run()
        assert [s.ticket for s in summary.skipped if "busy" in s.reason] == [busy]
        assert fake.notes(int(busy)) == []
        assert any(fake.notes(int(t)) for t in plans[1:])
        held.release()
        assert lock_info(store, ticket_lock_name(connector.name, account, plans[1])) is None
