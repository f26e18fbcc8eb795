"""Issue 11 item 7: every command against every bad input: a short error, never a traceback.

The table runs each command with each broken input (a missing, malformed or misspelt
config, an unreachable or corrupt state store, a plugin that raises on import, a config a
command cannot serve) and fails on any traceback or uncaught exception, on an error longer
than a few lines, and on an exit code the docs do not list.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from empathy_firewall.cli import _Main, main

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_EXIT_CODES = {1, 2, 3, 4, 5, 6, 7}

#: every command that reads a config file, with the arguments it needs besides --config
COMMANDS: list[list[str]] = [
    ["sync"],
    ["sync", "--dry-run"],
    ["check"],
    ["serve"],
    ["worker", "--until-empty"],
    ["inbox", "list"],
    ["inbox", "retry", "--all"],
    ["inbox", "prune"],
    ["agents", "list"],
    ["digest", "send"],
    ["simulate", str(ROOT / "examples" / "sample_helpdesk.jsonl")],
]

Case = Callable[[Path], list[str]]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def missing_config(tmp: Path) -> list[str]:
    return ["--config", str(tmp / "nope.toml")]


def not_toml(tmp: Path) -> list[str]:
    return ["--config", str(_write(tmp / "bad.toml", "[connector\nname = 'file'\n"))]


def unknown_key(tmp: Path) -> list[str]:
    text = "[connector]\nname = 'file'\npath = 'x.jsonl'\n[state]\nulr = 'sqlite:///x.db'\n"
    return ["--config", str(_write(tmp / "typo.toml", text))]


def misspelt_connector(tmp: Path) -> list[str]:
    return ["--config", str(_write(tmp / "zendsk.toml", "[connector]\nname = 'zendsk'\n"))]


def _store_config(tmp: Path, url: str) -> list[str]:
    sample = ROOT / "examples" / "sample_helpdesk.jsonl"
    text = (
        f"[connector]\nname = 'file'\npath = '{sample}'\noutput = '{tmp / 'out.jsonl'}'\n"
        f"[state]\nurl = '{url}'\n"
    )
    return ["--config", str(_write(tmp / "store.toml", text))]


def unreachable_store(tmp: Path) -> list[str]:
    return _store_config(tmp, "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")


def corrupt_store(tmp: Path) -> list[str]:
    db = tmp / "corrupt.db"
    db.write_bytes(b"this is not a database" * 200)
    return _store_config(tmp, f"sqlite:///{db}")


def plugin_raises(tmp: Path) -> list[str]:
    (tmp / "broken_plugin_ef.py").write_text("raise RuntimeError('plugin is broken')\n")
    sample = ROOT / "examples" / "sample_helpdesk.jsonl"
    text = (
        "plugins = ['broken_plugin_ef']\n"
        f"[connector]\nname = 'file'\npath = '{sample}'\noutput = '{tmp / 'o.jsonl'}'\n"
        f"[state]\nurl = 'sqlite:///{tmp / 's.db'}'\n"
    )
    return ["--config", str(_write(tmp / "plugin.toml", text))]


CASES: dict[str, Case] = {
    "missing config": missing_config,
    "config not TOML": not_toml,
    "unknown key": unknown_key,
    "misspelt connector": misspelt_connector,
    "unreachable store": unreachable_store,
    "corrupt store": corrupt_store,
    "plugin raises on import": plugin_raises,
}


@pytest.fixture(autouse=True)
def _importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("EF_STATE_URL", "ZENDESK_API_TOKEN", "FRESHDESK_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _same_cpu_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """``worker`` runs in this process here: it must not lower the test runner's priority
    (tests/webhooks/test_webhook_commands.py checks that it does in its own process)."""
    from empathy_firewall.webhooks import commands

    monkeypatch.setattr(commands, "lower_cpu_priority", lambda amount: None)


def _check(result_output: str, exception: BaseException | None, exit_code: int) -> None:
    """No traceback, no uncaught exception, a documented exit code; a failure says
    ``error: ...`` in at most two lines (``check`` may print its report lines before)."""
    assert "Traceback" not in result_output, result_output
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert exit_code == 0 or exit_code in DOCUMENTED_EXIT_CODES, (exit_code, result_output)
    if exit_code == 0:
        return
    lines = [line for line in result_output.splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if line.startswith("error")), None)
    assert first is not None, result_output
    assert len(lines) - first <= 2, result_output


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_command_fails_briefly_on_bad_input(
    command: list[str], case: str, tmp_path: Path
) -> None:
    args = [*command, *CASES[case](tmp_path)]
    result = CliRunner().invoke(main, args)
    _check(result.output, result.exception, result.exit_code)


def test_serve_on_a_config_without_webhooks_says_so(tmp_path: Path) -> None:
    """`serve --config examples/sync-file.toml` ended in a NotImplementedError traceback."""
    result = CliRunner().invoke(main, ["serve", "--config", str(ROOT / "examples/sync-file.toml")])
    _check(result.output, result.exception, result.exit_code)
    assert "webhook" in result.output
    assert result.exit_code == 2


def _exploding_cli() -> click.Group:
    """A root group like ``main`` with commands that fail unexpectedly, one of them nested."""

    @click.group(cls=_Main)
    def root() -> None:
        """Test root."""

    @root.command("explode")
    def explode() -> None:
        raise RuntimeError("boom")

    @root.group("nest")
    def nest() -> None:
        """A nested group."""

    @nest.command("deep")
    @click.option("--flag", is_flag=True)
    def deep(flag: bool) -> None:
        raise RuntimeError("deep boom")

    return root


@pytest.mark.filterwarnings("error::DeprecationWarning")
@pytest.mark.parametrize(
    ("args", "named", "message"),
    [
        (["explode"], "explode", "boom"),
        (["nest", "deep", "--flag"], "nest deep", "deep boom"),
    ],
)
def test_an_unexpected_error_names_the_command_without_deprecated_click_api(
    args: list[str], named: str, message: str
) -> None:
    """The root group names the failing command (at most two words) in its one-line error,
    through Click's supported API: a DeprecationWarning (``ctx.protected_args``) fails."""
    result = CliRunner().invoke(_exploding_cli(), args)
    assert result.exit_code == 1, result.exception
    assert result.output.splitlines()[0] == (
        f"error: empathy-firewall {named}: unexpected RuntimeError: {message}"
    )
