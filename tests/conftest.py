"""Fixtures shared by the browser tests (tests/test_browser.py, tests/test_live_site.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def playwright():
    """One Playwright for the whole run: its sync API allows only one running at a time, so every
    browser test module launches its Chromium from this one. Skips when playwright is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is not installed (it is in requirements-dev.txt)")
    running = sync_playwright().start()
    yield running
    running.stop()
