"""docs/agent-channels.md runs as written: its commands, their output, its TOML."""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest
from channel_support import KEY
from click.testing import CliRunner

from empathy_firewall.channels.settings import parse_channel_settings
from empathy_firewall.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "agent-channels.md"


def _blocks(kind: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.S)


def test_the_config_shown_is_the_shipped_example() -> None:
    shipped = (ROOT / "examples" / "agent-digest.toml").read_text(encoding="utf-8")
    (shown,) = [b for b in _blocks("toml") if "[channels]" in b]
    for line in shown.splitlines():
        assert line in shipped.splitlines(), line
    parse_channel_settings(tomllib.loads(shown)["channels"], "docs")


def test_console_blocks_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    examples = tmp_path / "examples"
    examples.mkdir()
    for name in ("agent-digest.toml", "sample_helpdesk.jsonl"):
        shutil.copy(ROOT / "examples" / name, examples / name)
    monkeypatch.chdir(tmp_path)  # the docs run from the repository root
    env = {"EMPATHY_FIREWALL_CHANNEL_SECRET": KEY.decode(), "EMPATHY_FIREWALL_SMTP_PASSWORD": "x"}
    ran = 0
    for block in _blocks("console"):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ empathy-firewall "):
                continue
            expected = []
            for after in lines[i + 1 :]:
                if after.startswith("$ "):
                    break
                expected.append(after)
            result = CliRunner().invoke(main, shlex.split(line)[2:], env=env)
            assert result.exit_code == 0, (line, result.output)
            if expected:
                assert result.stdout.splitlines() == expected, line
            ran += 1
    assert ran >= 5
