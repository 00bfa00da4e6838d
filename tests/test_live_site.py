"""The live book in a real browser: every chapter and exercise set runs in the page, offline.

`make book` builds the live site into `_build/html/lite/` (tools/build_live_site.py). Here it is
served as static files on 127.0.0.1 and driven in Chromium with every other request aborted and
counted (tools/live_browser.py). Each notebook is opened from its page's "Run in your browser"
link, run top to bottom, and must show no error and nothing on stderr. The live sliders of
chapters 7 and 8 must redraw their figures; an exercise check must say "failed" for a wrong
answer and "passed" for a right one. Screenshots go to `_build/screenshots/live-*.png`.

Without the live site or Chromium these tests skip with the reason, except under CI (CI=true),
where the registries the build needs are reachable: there a missing live site fails.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import live_browser  # noqa: E402

SCREENSHOTS = ROOT / "_build" / "screenshots"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
EXERCISE_SETS = sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb"))

# The live ipywidgets explorers: moving a slider must retrain and redraw in the browser.
LIVE_EXPLORERS = {
    "07-gradient-descent": ("widgets.learning_rate_explorer(live=True)",
                            "widgets.batch_size_explorer(live=True)"),
    "08-momentum": ("widgets.live_explorer(run_momentum", "widgets.live_explorer(rate_map"),
}

pytestmark = pytest.mark.browser


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"live-site tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"live-site tests skipped: {reason}")


@pytest.fixture(scope="module")
def base_url():
    if not (live_browser.LITE / "index.html").is_file():
        _unavailable(f"no live site in {live_browser.LITE} (`make book` builds it; its log says why "
                     "it was skipped)")
    with live_browser.serve() as url:
        yield url


@pytest.fixture(scope="module")
def session(base_url, playwright):
    executable = live_browser.chromium()
    if executable is None:
        _unavailable("no Chromium on PATH (`apt-get install chromium`; .ci/run does this)")
    with live_browser.offline_browser(executable, playwright) as browser:
        session = live_browser.LiveSession(browser)
        yield session
        session.close()


def _run(session, base_url: str, page: str, name: str, *, selector: str | None = None):
    link = live_browser.live_link(session, base_url + page, selector)
    assert "/lite/notebooks/index.html?path=" in link, link
    run = live_browser.open_and_run_all(session, link)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    run.page.screenshot(path=str(SCREENSHOTS / f"live-{name}.png"))
    return run


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_top_to_bottom_in_the_browser(session, base_url, chapter):
    run = _run(session, base_url, f"book/{chapter}.html", chapter)
    try:
        assert run.problems == [], f"{chapter} in the live book: {run.problems}"
        for number, start in enumerate(LIVE_EXPLORERS.get(chapter, ())):
            cell = live_browser.find_cell(run.page, start)
            assert live_browser.live_slider_update(run.page, cell) < 30  # raises if the image never changes
            run.page.screenshot(path=str(SCREENSHOTS / f"live-{chapter}-slider-{number}-moved.png"))
    finally:
        run.page.close()


@pytest.mark.parametrize("name", EXERCISE_SETS)
def test_exercise_set_runs_top_to_bottom_in_the_browser(session, base_url, name):
    run = _run(session, base_url, "book/exercise-sets.html", f"exercises-{name}",
               selector=f'a.live-link[href$="exercises/{name}.ipynb"]')
    try:
        assert run.problems == [], f"{name} in the live book: {run.problems}"
        if name == "ch01-neurons":
            answer = live_browser.find_cell(run.page, "def sigmoid(z):")
            wrong = "def sigmoid(z):\n    return z\n"
            right = ("import numpy as np\n\n"
                     "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z)))\n")
            results = []
            for source in (wrong, right):
                live_browser.set_source(run.page, answer, source)
                live_browser.run_cells(run.page, answer, 2)  # the answer, then grader.check("q2")
                results.append(live_browser.output_text(run.page, answer + 1))
            assert re.search(r"q2: 0 of [1-9]\d* test cases passed", results[0]), results[0]
            assert "FAILED" in results[0], results[0]
            assert re.search(r"q2: (\d+) of \1 test cases passed", results[1]), results[1]
            assert "FAILED" not in results[1], results[1]
    finally:
        run.page.close()


def test_a_chinese_exercise_set_runs_and_checks_in_chinese(session, base_url):
    """The Chinese edition's exercise link opens the Chinese set, whose checks answer in Chinese."""
    from backprop_checks import load_test_file
    from backprop_checks.checks import CASES_PASSED_OF, load_translated_tests
    from backprop_checks.i18n import tr

    cases = len(load_test_file(load_translated_tests("ch01-neurons", "zh_CN")["q2"]).cases)
    run = _run(session, base_url, "zh_CN/book/exercise-sets.html", "exercises-zh-ch01-neurons",
               selector='a.live-link[href$="zh_CN/exercises/ch01-neurons.ipynb"]')
    try:
        assert run.problems == [], f"the Chinese ch01-neurons in the live book: {run.problems}"
        answer = live_browser.find_cell(run.page, "def sigmoid(z):")
        wrong = "def sigmoid(z):\n    return z\n"
        right = "import numpy as np\n\ndef sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z)))\n"
        results = []
        for source in (wrong, right):
            live_browser.set_source(run.page, answer, source)
            live_browser.run_cells(run.page, answer, 2)
            results.append(live_browser.output_text(run.page, answer + 1))
        failed = tr(CASES_PASSED_OF, "zh_CN", question="q2", passed=0, cases=cases)
        passed = tr(CASES_PASSED_OF, "zh_CN", question="q2", passed=cases, cases=cases)
        assert re.search("[\u4e00-\u9fff]", failed) and failed in results[0], (failed, results[0])
        assert tr("✘ FAILED", "zh_CN") in results[0], results[0]
        assert passed in results[1], (passed, results[1])
    finally:
        run.page.close()


def test_a_learners_edit_survives_a_reload_and_deleting_it_brings_back_the_books_version(session, base_url):
    """What the book tells readers: work is kept in the browser; delete your copy to get a fresh one."""
    url = base_url + "lite/notebooks/index.html?path=exercises/ch02-chain-rule.ipynb"
    edit = "# my own note, typed in the live book\n"
    page = session.context.new_page()
    try:
        page.goto(url)
        page.wait_for_function(live_browser.KERNEL_IDLE, timeout=120_000)
        live_browser.set_source(page, 0, edit)
        page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")
        page.reload()
        page.wait_for_function(live_browser.KERNEL_IDLE, timeout=120_000)
        assert live_browser.find_cell(page, edit) == 0
        # The file browser's Delete removes the browser's copy; the site's own file shows again.
        page.evaluate("async () => await window.jupyterapp.serviceManager.contents"
                      ".delete('exercises/ch02-chain-rule.ipynb')")
        page.goto(url)
        page.wait_for_function(live_browser.KERNEL_IDLE, timeout=120_000)
        with pytest.raises(LookupError):
            live_browser.find_cell(page, edit)
        assert live_browser.find_cell(page, "# Exercises for chapter 2") == 0
    finally:
        page.close()


def test_nothing_left_the_site(session):
    """Runs last: every request of every notebook above stayed on the local server."""
    assert session.outside == [], f"requests off the site: {sorted(set(session.outside))}"
    assert session.errors == [], session.errors
