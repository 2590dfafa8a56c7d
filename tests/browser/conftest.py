"""Fixtures of the browser tests; the browser itself is in ``helpers``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _allow_orm_calls_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    still synchronous, so Django's async-safety guard is lifted for the browser tests only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$DANCU_SCREENSHOT_DIR`` when set, else pytest's ``tmp_path``."""
    target = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
