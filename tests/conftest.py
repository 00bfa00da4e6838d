"""Markers by test file, and fixtures shared by the browser tests (test_browser.py, test_live_site.py).

Every test file is in one of three parts, so an author can run one part (`make check` runs the fast
one, about 20 s):

    pytest -m "not slow and not grading and not browser"   # the package's unit tests (make check)
    pytest -m grading                                       # exercise checks, autograder, sandbox
    pytest -m browser                                       # the built site in Chromium
    pytest -m "not slow"                                    # everything that needs no build and runs fast

`slow` marks files that take minutes or need `make book` first; a new file is a fast unit test until
it is listed here.
"""

from __future__ import annotations

import pytest

MARKS_BY_FILE = {
    "test_browser.py": ("browser", "slow"),
    "test_live_site.py": ("browser", "slow"),
    "test_book_build.py": ("slow",),  # checks _build/html: needs `make book`
    "test_live_build.py": ("slow",),  # checks _build/html/lite: needs `make book`
    "test_grading.py": ("grading", "slow"),
    "test_grading_sandbox.py": ("grading", "slow"),
    "test_exercises_sets.py": ("grading", "slow"),
    "test_exercises_checks.py": ("grading",),
    "test_exercises_mistakes.py": ("grading",),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in MARKS_BY_FILE.get(item.path.name, ()):
            item.add_marker(getattr(pytest.mark, name))


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
