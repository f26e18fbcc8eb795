"""`serve` answers /report behind the admin's credentials; Chromium renders the page."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ci_support import dev_import
from click.testing import CliRunner
from starlette.testclient import TestClient

from empathy_firewall.cli import main
from empathy_firewall.errors import ConfigError
from empathy_firewall.insights.planted import plant
from empathy_firewall.state import StateStore

NOW = datetime(2026, 11, 30, tzinfo=UTC)
PASSWORD = "s3cret-report"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("web")
    store = StateStore(f"sqlite:///{where / 'serve.db'}")
    plant(store.engine, tickets=600, seed=5, now=datetime.now(UTC))
    store.close()
    (where / "serve.toml").write_text(
        '[connector]\nname = "zendesk"\nbase_url = "https://fake.zendesk.test"\n\n'
        '[state]\nurl = "sqlite:///serve.db"\n\n[webhooks]\nworkers = 0\n\n'
        '[report]\nadmin_user = "lead"\nmin_n = 10\n',
        encoding="utf-8",
    )
    return where


def test_report_route_needs_the_admin_credentials(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathy_firewall.webhooks.service import WebhookService
    from empathy_firewall_zendesk.testing import FakeZendesk

    fake = FakeZendesk()
    options = {"zendesk": {"transport": fake, "clock": fake.clock, "env": fake.env}}
    monkeypatch.delenv("EMPATHY_FIREWALL_REPORT_PASSWORD", raising=False)
    service = WebhookService.from_file(folder / "serve.toml", connector_options=options)
    try:
        with pytest.raises(ConfigError, match="EMPATHY_FIREWALL_REPORT_PASSWORD"):
            service.app()
        monkeypatch.setenv("EMPATHY_FIREWALL_REPORT_PASSWORD", PASSWORD)
        with TestClient(service.app()) as client:
            assert client.get("/report").status_code == 401
            assert client.get("/report", auth=("lead", "wrong")).status_code == 401
            assert client.get("/report", auth=("admin", PASSWORD)).status_code == 401
            bad = client.get("/report", headers={"Authorization": "Basic !!!"})
            assert bad.status_code == 401
            page = client.get("/report?since=14d", auth=("lead", PASSWORD))
            assert page.status_code == 200
            assert page.headers["cache-control"] == "no-store"
            assert 'data-chart="forest"' in page.text
            assert "planted::support-" not in page.text
            assert client.get("/report?since=soon", auth=("lead", PASSWORD)).status_code == 400
    finally:
        service.close()


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if Path(browser).exists() and Path(driver).exists():
        return browser, driver
    return None


def test_the_html_report_renders_offline_in_headless_chromium(folder: Path, tmp_path: Path) -> None:
    found = _chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium and chromedriver are required in CI (.ci/run installs them)")
        pytest.skip(
            "Chromium/chromedriver not installed (Debian: apt-get install chromium chromium-driver)"
        )
    selenium = dev_import("selenium", "the HTML report check drives Chromium with it")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        ["report", "--config", str(folder / "serve.toml"), "--since", "30d", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text.replace("https://helpdesk.example/", "")
    assert "<script" not in text
    browser, driver_path = found
    options = Options()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_window_size(1200, 2400)
        driver.get(out.as_uri())
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) >= 6
        for chart in charts:
            size = chart.size
            assert size["width"] > 100
            assert size["height"] > 50
        assert driver.find_elements(By.CSS_SELECTOR, "#chart-disruptions circle.estimate")
        assert driver.find_elements(By.CSS_SELECTOR, "#chart-friction polyline.series")
        assert driver.find_elements(By.CSS_SELECTOR, "#chart-sentiment-group polyline.series")
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()
    assert selenium is not None
