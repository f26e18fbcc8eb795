"""``empathy-firewall report`` and ``empathy-firewall rules suggest``."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from empathy_firewall.errors import ConfigError, EmpathyFirewallError

if TYPE_CHECKING:
    from empathy_firewall.insights.report import Report
    from empathy_firewall.insights.settings import ReportSettings
    from empathy_firewall.state.store import StateStore

__all__ = ["report", "suggest"]

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The TOML configuration file ([state], [report]).",
)
_SINCE = click.option(
    "--since", default="30d", show_default=True, help="How far back: 30d, 12h, 8w."
)
_NOW = click.option("--now", "now_text", help="Report as of this ISO 8601 time (default: now).")


def _fail(exc: EmpathyFirewallError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def single_threaded_blas() -> None:
    """Keep OpenBLAS to one thread unless the user chose otherwise.

    The model's matrices are thin (observations x ~20 columns); threads buy nothing there,
    and on a busy machine they oversubscribe the cores (measured: a fit 10x slower). Must
    run before numpy is first imported; a no-op afterwards.
    """
    import os

    if "numpy" not in sys.modules:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")


def _require() -> None:
    single_threaded_blas()
    missing = [m for m in ("numpy", "statsmodels") if importlib.util.find_spec(m) is None]
    if missing:
        _fail(
            ConfigError(
                f"missing {', '.join(missing)}: install the report extra with "
                "pip install 'empathy-firewall[insights]'"
            )
        )


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-11-20T15:00:00+00:00")
    return parsed


def open_report_store(config_path: Path) -> tuple[StateStore, ReportSettings]:
    """The store and ``[report]`` settings of a configuration file."""
    from empathy_firewall.insights.settings import report_settings
    from empathy_firewall.state.store import StateStore
    from empathy_firewall.sync.settings import load_sync_config, resolve_state_url

    config = load_sync_config(config_path, extra_tables=frozenset({"webhooks"}))
    settings = report_settings(config.app.extra, str(config_path))
    return StateStore(resolve_state_url(config), schema=config.state.schema_), settings


def make_report(
    store: StateStore,
    settings: ReportSettings,
    since_text: str,
    now: datetime,
    group: str | None,
) -> Report:
    """Build the report for the window ``since_text`` before ``now``."""
    from empathy_firewall.engine.durations import parse_duration
    from empathy_firewall.insights.report import ReportOptions, build_report

    try:
        span = parse_duration(since_text)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from None
    options = ReportOptions(
        since=now - span,
        until=now,
        group=group,
        min_group_agents=settings.min_group_agents,
        min_n=settings.min_n,
        interventions=dict(settings.interventions),
    )
    return build_report(store.engine, options)


def _report_or_exit(config_path: Path, since: str, now: datetime, group: str | None) -> Report:
    """The report from the configured store; a one-line error and its exit code otherwise."""
    try:
        store, settings = open_report_store(config_path)
        try:
            return make_report(store, settings, since, now, group)
        finally:
            store.close()
    except EmpathyFirewallError as exc:
        _fail(exc)


@click.command()
@_CONFIG
@_SINCE
@click.option("--group", help="Only tickets that were in this group.")
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the HTML page here."
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@_NOW
def report(
    config_path: Path,
    since: str,
    group: str | None,
    out: Path | None,
    as_json: bool,
    now_text: str | None,
) -> None:
    """The manager report from the state store: HTML (--out) and/or JSON (--json).

    See docs/team-leads.md for what each chart means and does not mean.
    """
    _require()
    now = _now(now_text)
    built = _report_or_exit(config_path, since, now, group)
    if out is not None:
        from empathy_firewall.insights.html import render_html

        try:
            out.write_text(render_html(built), encoding="utf-8")
        except OSError as exc:
            _fail(ConfigError(f"--out {out}: {exc.strerror}"))
    if as_json:
        click.echo(json.dumps(built.as_dict(), sort_keys=True))
    elif out is None:
        for e in built.as_dict()["insights"]["disruptions"]:
            ci = e["ci95"]
            shown = (
                e["verdict"] if ci is None else f"{e['effect']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"
            )
            if e["together_with"]:
                shown += f" (always with {', '.join(e['together_with'])}: their joint effect)"
            click.echo(f"{e['kind']:22} n={e['n']:<7} {shown}")


@click.command("suggest")
@_CONFIG
@_SINCE
@click.option(
    "--pack",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The rule pack file to propose changes to (default: the shipped pack).",
)
@_NOW
def suggest(config_path: Path, since: str, pack: Path | None, now_text: str | None) -> None:
    """Propose threshold changes for a rule pack from what the data shows, as a diff.

    Nothing is changed: review the diff, and apply it yourself (e.g. with `patch -p1`).
    """
    from empathy_firewall.insights.suggest import diff
    from empathy_firewall.insights.suggest import suggest as propose

    _require()
    now = _now(now_text)
    if pack is None:
        from empathy_firewall.engine.loader import load_rule_packs

        sources = [s for s in load_rule_packs(None).sources if s.endswith((".yaml", ".yml"))]
        if not sources:
            _fail(ConfigError("no shipped rule pack found; give --pack"))
        pack = Path(sources[0])
    built = _report_or_exit(config_path, since, now, None)
    text = pack.read_text(encoding="utf-8")
    edits, notes = propose(text, built.as_dict())
    if edits:
        click.echo(diff(text, edits, pack.name))
    else:
        click.echo("# no threshold changes suggested by the data in this period")
    for note in notes:
        click.echo(f"# note: {note}")
