"""The ``agents`` and ``digest`` commands (registered on the main CLI group).

``empathy-firewall agents list|opt-in|opt-out AGENT --feature strain|breaks|recognition
--config FILE`` keeps agents' own choices in the state store, for the helpdesk account
the configuration names. ``empathy-firewall digest send --config FILE [--dry-run]`` sends
the queued moments as private digests (cron-able; ``--dry-run`` prints exactly what would
be sent and changes nothing).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from empathy_firewall.errors import EmpathyFirewallError
from empathy_firewall.optins import FEATURES

if TYPE_CHECKING:
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.sync.settings import SyncConfig

__all__ = ["agents", "digest"]

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The TOML configuration file ([connector], [state], [channels]).",
)
_FEATURE = click.option(
    "--feature",
    "features",
    multiple=True,
    type=click.Choice(FEATURES),
    help="strain (load tracking), breaks (break prompts) or recognition; repeatable.",
)


def _fail(exc: EmpathyFirewallError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _load(path: Path) -> SyncConfig:
    from empathy_firewall.sync.settings import load_sync_config

    # the same file `serve` reads: its [webhooks] table is allowed here
    return load_sync_config(path, extra_tables=frozenset({"webhooks"}))


def _store(config: SyncConfig) -> StateStore:
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.sync.settings import resolve_state_url

    return StateStore(
        resolve_state_url(config),
        schema=config.state.schema_,
        max_tickets=config.state.max_tickets_per_customer,
        keep_hours=config.state.keep_hours,
    )


def helpdesk_of(config: SyncConfig) -> tuple[str, str]:
    """The (connector, account) the configuration's agents belong to.

    The same account the sync job keys its work by
    (:func:`~empathy_firewall.sync.job.account_of`), read from the validated connector
    config without building the connector (no credentials needed).
    """
    from empathy_firewall.connectors.registry import load, validate_config

    cfg: Any = validate_config(load(config.connector_name), config.connector)
    account = getattr(cfg, "account", None)
    if isinstance(account, str) and account:
        return config.connector_name, account
    path = getattr(cfg, "path", None)
    return config.connector_name, str(path) if path is not None else "default"


@click.group()
def agents() -> None:
    """Agents' own choices: strain tracking, break prompts, recognition (opt-in)."""


@agents.command("list")
@_CONFIG
def agents_list(config_path: Path) -> None:
    """List the choices agents stored (agents not listed: as the helpdesk says)."""
    from empathy_firewall.state.agents import list_choices

    try:
        config = _load(config_path)
        connector, account = helpdesk_of(config)
        with _store(config) as store:
            choices = list_choices(store, connector, account)
    except EmpathyFirewallError as exc:
        _fail(exc)
        return
    table: dict[str, dict[str, bool]] = {}
    for choice in choices:
        table.setdefault(choice.agent_id, {})[choice.feature] = choice.enabled
    if not table:
        click.echo(f"no stored choices for {connector} {account}; opt-ins come from the helpdesk")
        return
    click.echo((f"{'agent':20} " + " ".join(f"{f:12}" for f in FEATURES)).rstrip())
    for agent_id in sorted(table):
        row = table[agent_id]
        cells = ["-" if f not in row else ("in" if row[f] else "out") for f in FEATURES]
        click.echo((f"{agent_id:20} " + " ".join(f"{c:12}" for c in cells)).rstrip())
    click.echo("('-': no stored choice, the helpdesk's value applies; 'out' always wins)")


def _set(config_path: Path, agent: str, features: tuple[str, ...], enabled: bool) -> None:
    from empathy_firewall.state.agents import set_choices

    chosen = features or (() if enabled else FEATURES)
    if not chosen:
        raise click.UsageError("name at least one --feature to opt in to")
    try:
        config = _load(config_path)
        connector, account = helpdesk_of(config)
        with _store(config) as store:
            deleted = set_choices(
                store, connector, account, agent, dict.fromkeys(chosen, enabled), via="cli"
            )
    except EmpathyFirewallError as exc:
        _fail(exc)
        return
    verb = "opted in to" if enabled else "opted out of"
    click.echo(f"agent {agent} {verb} {', '.join(chosen)} (takes effect on the next evaluation)")
    if "strain" in chosen and not enabled:
        click.echo(f"deleted {deleted} strain record(s) of agent {agent}")


@agents.command("opt-in")
@click.argument("agent")
@_FEATURE
@_CONFIG
def agents_opt_in(agent: str, features: tuple[str, ...], config_path: Path) -> None:
    """Store AGENT's opt-in (the helpdesk's agent id) for the named features."""
    _set(config_path, agent, features, True)


@agents.command("opt-out")
@click.argument("agent")
@_FEATURE
@_CONFIG
def agents_opt_out(agent: str, features: tuple[str, ...], config_path: Path) -> None:
    """Store AGENT's opt-out (default: every feature); deletes their strain history."""
    _set(config_path, agent, features, False)


@click.group()
def digest() -> None:
    """Agents' private digests (e-mail, Slack)."""


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--now") from None
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-11-20T15:00:00+00:00")
    return parsed


@digest.command("send")
@_CONFIG
@click.option("--dry-run", is_flag=True, help="Print exactly what would be sent; change nothing.")
@click.option("--now", "now_text", help="Act as of this ISO 8601 time (quiet hours, limits).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per agent.")
def digest_send(config_path: Path, dry_run: bool, now_text: str | None, as_json: bool) -> None:
    """Send each agent's queued moments as one private digest (cron this)."""
    from sqlalchemy.exc import SQLAlchemyError

    from empathy_firewall.channels.sender import DigestRun, build_channels, link_key
    from empathy_firewall.channels.settings import parse_channel_settings

    now = _now(now_text)
    try:
        config = _load(config_path)
        settings = parse_channel_settings(config.app.extra.get("channels"), str(config_path))
        key = link_key(settings)
        channels = build_channels(settings)
        with _store(config) as store:
            outcomes = DigestRun(store, settings, channels, key, now=now, dry_run=dry_run).run()
    except EmpathyFirewallError as exc:
        _fail(exc)
        return
    except SQLAlchemyError as exc:
        click.echo(f"error: state store unavailable ({type(exc).__name__})", err=True)
        sys.exit(4)
    for o in outcomes:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "agent": o.agent.agent_id,
                        "status": o.status,
                        "channel": o.channel,
                        "moments": o.moments,
                        "detail": o.detail,
                        **({"to": o.address} if dry_run else {}),
                        **(
                            {"subject": o.digest.subject, "text": o.digest.text}
                            if dry_run and o.digest
                            else {}
                        ),
                    },
                    sort_keys=True,
                )
            )
        elif dry_run and o.digest is not None:
            click.echo(f"=== to agent {o.agent.agent_id} via {o.channel} <{o.address}>")
            click.echo(f"Subject: {o.digest.subject}")
            click.echo(o.digest.text)
        else:
            detail = f": {o.detail}" if o.detail else ""
            click.echo(f"agent {o.agent.agent_id}: {o.status} {o.moments} moment(s){detail}")
    failed = [o for o in outcomes if o.status in ("not-sent", "uncertain")]
    if not outcomes:
        click.echo("nothing queued")
    if failed:
        sys.exit(4)
