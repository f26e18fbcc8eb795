"""Fakes live with their vendor: the core wheel holds the generic fake helpdesk and suite only.

The core's wheel is the ``src/empathy_firewall`` tree (pyproject's hatch ``packages``), so
reading that tree is reading the wheel: no module in it may import a connector
distribution or define a fake of a vendor, while each connector distribution ships its own
fake built on the core's :class:`FakeHelpdesk`.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import empathy_firewall
import empathy_firewall.testing as core_testing
from empathy_firewall.testing import FakeHelpdesk, conformance_suite
from empathy_firewall_freshdesk import FreshdeskConnector
from empathy_firewall_freshdesk.testing import FakeFreshdesk
from empathy_firewall_zendesk import ZendeskConnector
from empathy_firewall_zendesk.testing import FakeZendesk

ROOT = Path(__file__).resolve().parents[2]
CORE = Path(empathy_firewall.__file__).parent


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(CORE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_walked_tree_is_the_core_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/empathy_firewall"
    ]
    assert CORE == ROOT / "src" / "empathy_firewall"


def test_no_core_module_imports_a_connector_distribution() -> None:
    offenders = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(CORE)}: {name}"
                for name in names
                if name.split(".")[0].startswith("empathy_firewall_")
            ]
    assert offenders == []


def test_the_core_defines_no_fake_helpdesk_of_a_vendor() -> None:
    fakes = [
        f"{path.relative_to(CORE)}: {node.name}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).split(".")[-1] == "FakeHelpdesk" for base in node.bases)
    ]
    assert fakes == []
    assert not {"FakeZendesk", "FakeFreshdesk"} & set(core_testing.__all__)
    with pytest.raises(AttributeError):
        _ = core_testing.FakeZendesk


@pytest.mark.parametrize(
    ("fake", "dist"), [(FakeZendesk, "zendesk"), (FakeFreshdesk, "freshdesk")], ids=str
)
def test_each_vendor_fake_ships_in_its_connector_distribution(
    fake: type[FakeHelpdesk], dist: str
) -> None:
    assert issubclass(fake, FakeHelpdesk)
    home = Path(__import__(fake.__module__, fromlist=["_"]).__file__ or "")
    assert home.is_relative_to(ROOT / "connectors" / dist / "src")


def test_the_factory_builds_a_collectable_suite_wired_to_a_fresh_fake() -> None:
    suite = conformance_suite(ZendeskConnector, fake=FakeZendesk)
    named = conformance_suite(FreshdeskConnector, fake=FakeFreshdesk, name="TestMine")
    assert suite.__name__ == "TestZendeskConnectorConformance"
    assert named.__name__ == "TestMine"
    assert suite is not conformance_suite(ZendeskConnector, fake=FakeZendesk)
    tests = [name for name in dir(suite) if name.startswith("test_")]
    assert "test_webhook_is_verified_then_parsed" in tests
    case = suite()
    case.helpdesk = FakeZendesk()  # what the suite's autouse fixture does per test
    seeded = case.seed_tickets(2)
    case.advance()
    connector = case.make_connector()
    assert isinstance(connector, ZendeskConnector)
    polled = {t.source.external_id for p in connector.poll(None) for t in p.tickets}
    assert set(seeded) <= polled
