"""Asking for what a test needs: skip with the reason on a developer's machine, fail under CI.

CI (``.ci/run`` exports ``CI=true``) installs the dev extra and provides the servers, so
anything missing there is a broken install, not a reason to skip in silence.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

__all__ = ["dev_import", "skip_or_fail", "under_ci"]


def under_ci() -> bool:
    """Whether the tests run under CI (``CI`` set to anything but empty, ``0`` or ``false``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test (or the whole module, at import time) outside CI; fail under CI."""
    if under_ci():
        pytest.fail(f"{reason}; CI installs the dev extra, so it must be there", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def dev_import(module: str, why: str) -> ModuleType:
    """Import a package of the dev extra, as ``pytest.importorskip`` does, except under CI:
    a missing package fails the test (or the module's collection) there."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        skip_or_fail(f"{module} is not installed ({why}): {exc}")
