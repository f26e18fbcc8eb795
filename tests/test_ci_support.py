"""The one way tests ask for a package of the dev extra: skip outside CI, fail under CI.

A test module that needs, say, Starlette used to ``pytest.importorskip`` it, so a CI
install that lost a dev package skipped whole modules in silence.
"""

from __future__ import annotations

import pytest
from ci_support import dev_import, under_ci


def test_a_missing_dev_package_skips_with_the_reason_outside_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not under_ci()
    with pytest.raises(pytest.skip.Exception, match=r"no_such_dev_package.*a dev extra"):
        dev_import("no_such_dev_package", "a dev extra")


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_missing_dev_package_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert under_ci()
    with pytest.raises(pytest.fail.Exception, match=r"no_such_dev_package.*CI installs"):
        dev_import("no_such_dev_package", "a dev extra")


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_ci_off_values(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert not under_ci()


def test_an_installed_package_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert dev_import("json", "the standard library").dumps([]) == "[]"
