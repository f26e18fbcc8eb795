"""Issue 11 item 11: the output shown in docs/getting-started.md is what the commands print
today (regenerate it with scripts/update_getting_started.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_getting_started_page_shows_the_current_output() -> None:
    spec = importlib.util.spec_from_file_location(
        "update_getting_started", ROOT / "scripts" / "update_getting_started.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.PAGE.read_text(encoding="utf-8")
    assert page.count("<!-- generated: ") >= 8
    fresh = module.render(page)
    assert fresh == page, "docs/getting-started.md is stale: run scripts/update_getting_started.py"


def test_the_license_file_is_the_apache_2_text_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
