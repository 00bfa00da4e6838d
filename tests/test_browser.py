"""The published book in a real browser: offline, typeset, interactive, and readable on a phone.

The built site (`_build/html`, or $BOOK_HTML) is served on 127.0.0.1 and opened in the system
Chromium (Debian package `chromium`, or $BOOK_CHROMIUM) through Playwright. Every request that
leaves 127.0.0.1 is aborted and counted as a failure: the book must work with no network.
Screenshots are saved next to the site, in `_build/screenshots/`.

`make test` builds the book first; .ci/run installs Chromium with apt-get when it is missing.
Without Chromium these tests are skipped with a message on how to enable them; set
BOOK_REQUIRE_BROWSER=1 to make that an error instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
CHAPTER_7 = "book/07-gradient-descent.html"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

ENABLE_HINT = (
    "To run them, install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`; .ci/run does "
    "this) or point BOOK_CHROMIUM at a Chromium or Chrome binary, then run `make test` again."
)


def find_chromium() -> tuple[str | None, str]:
    """The browser to drive, or None and why not."""
    wanted = os.environ.get("BOOK_CHROMIUM")
    if wanted:
        if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
            return wanted, ""
        return None, f"BOOK_CHROMIUM={wanted} is not an executable file"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path, ""
    return None, "no chromium, chromium-browser or google-chrome on PATH"


def _unavailable(reason: str):
    message = f"browser tests skipped: {reason}. {ENABLE_HINT}"
    if os.environ.get("BOOK_REQUIRE_BROWSER") == "1":
        pytest.fail(message.replace("skipped", "cannot run (BOOK_REQUIRE_BROWSER=1)"), pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------------- fixtures

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def base_url():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built book at {SITE} (run `make book` first)")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser(request):
    executable, reason = find_chromium()
    if executable is None:
        _unavailable(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the Python package playwright is not installed (it is in requirements-dev.txt)")
    playwright = request.getfixturevalue("playwright")  # tests/conftest.py: one per run
    browser = playwright.chromium.launch(
        executable_path=executable,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    yield browser
    browser.close()


@dataclass
class Visit:
    """One page as the browser saw it: what went wrong, what the in-page probe found, and its
    layout once the window is narrowed to a phone's width."""

    name: str
    problems: list[str] = field(default_factory=list)
    probe: dict = field(default_factory=dict)
    phone: dict = field(default_factory=dict)
    seconds: float = 0.0


class OfflineBrowser:
    """Opens pages with every non-local request aborted and every failure written down."""

    def __init__(self, browser, **context_options) -> None:
        self.context = browser.new_context(**context_options)
        self.problems: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            self.problems.append(f"blocked network request: {route.request.url}")
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def open(self, url: str, name: str, *, wait_for_url: str | None = None):
        """Load `url` (and follow a redirect to `wait_for_url`), wait until math and widgets are
        done, return (page, Visit)."""
        self.problems = []
        page = self.context.new_page()
        visit = Visit(name)

        def failed(request) -> None:
            if not any(request.url in p for p in self.problems):  # blocked ones are listed already
                self.problems.append(f"failed request: {request.url} ({request.failure})")

        page.on("requestfailed", failed)
        page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught script error: {error}"))
        start = time.perf_counter()
        page.goto(url, wait_until="load")
        if wait_for_url:
            page.wait_for_url(wait_for_url, wait_until="load", timeout=15000)
        visit.probe = page.evaluate(PROBE)
        visit.seconds = time.perf_counter() - start
        visit.problems = self.problems
        return page, visit

    def close(self) -> None:
        self.context.close()


# Runs in the page after `load`: waits for MathJax to finish typesetting and for the widget
# manager to render every saved widget view (each up to 15 s), then for fonts, and reports.
PROBE = """async () => {
  const until = async (test, ms) => {
    const end = Date.now() + ms;
    while (!test()) { if (Date.now() > end) return false; await new Promise(r => setTimeout(r, 50)); }
    return true;
  };
  const result = {};
  result.math = document.querySelectorAll('.math').length;
  result.mathjax = 'not needed';
  if (result.math) {
    const started = await until(() => window.MathJax && MathJax.startup && MathJax.startup.promise, 15000);
    if (started) {
      const finished = await Promise.race([MathJax.startup.promise.then(() => true),
                                           new Promise(r => setTimeout(() => r(false), 15000))]);
      result.mathjax = finished ? 'typeset' : 'did not finish in 15 s';
    } else {
      result.mathjax = 'never started (its script did not load)';
    }
  }
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const rendered = () => views.filter(v => v.parentElement.querySelector('.jupyter-widgets')).length;
  result.widget_views = views.length;
  if (views.length) await until(() => rendered() === views.length, 15000);
  result.widgets_rendered = rendered();
  await document.fonts.ready;
  result.untypeset = [...document.querySelectorAll('.math')]
    .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.trim().slice(0, 60));
  result.math_errors = [...document.querySelectorAll('mjx-merror')]
    .map(m => (m.getAttribute('data-mjx-error') || m.textContent).slice(0, 80));
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: node =>
    node.parentElement.closest('pre, code, script, style, textarea, mjx-container, .highlight')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue;
    if (/\\\\\\(|\\\\\\[/.test(text)) raw.push(text.trim().slice(0, 60));
  }
  result.raw_latex = raw;
  result.cells = document.querySelectorAll('div.cell').length;
  return result;
}"""

# Runs in the page after a resize: does the page (or a slider player) run off the screen?
LAYOUT = """async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return {
    page_width: document.documentElement.scrollWidth,
    viewport_width: window.innerWidth,
    // a player wider than the output box it sits in is cut off there (the box scrolls)
    players_cut_off: [...document.querySelectorAll('div.precomputed-explorer')].filter(a => {
      const edge = Math.min(a.parentElement.getBoundingClientRect().right, window.innerWidth);
      return [a, ...a.querySelectorAll('img, input, button')]
        .some(e => e.getBoundingClientRect().right > edge + 1);
    }).length,
  };
}"""


def site_pages() -> list[str]:
    """Every HTML page of the book, as paths relative to the site (each edition's index.html only
    redirects)."""
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        name = path.relative_to(SITE).as_posix()
        # lite/ is the live book, a JupyterLite app with pages of its own: tests/test_live_site.py
        skip = name.startswith(("_static/", "_sources/", "_images/", "lite/", "zh_CN/_static/"))
        if not skip and name not in ("index.html", "zh_CN/index.html"):
            pages.append(name)
    return pages


@pytest.fixture(scope="session")
def desktop(browser):
    session = OfflineBrowser(browser, viewport=DESKTOP)
    yield session
    session.close()


@pytest.fixture(scope="session")
def visits(desktop, base_url) -> dict[str, Visit]:
    """Every page, loaded once at desktop size, then narrowed to 390 px (one load per page keeps
    the run short); the tests below read what happened."""
    result = {}
    for name in site_pages():
        page, visit = desktop.open(base_url + name, name)
        page.set_viewport_size(PHONE)
        visit.phone = page.evaluate(LAYOUT)
        page.close()
        result[name] = visit
    return result


def _report(failures: dict[str, list[str]]) -> str:
    return "\n".join(f"{name}:\n    " + "\n    ".join(items) for name, items in failures.items())


# ------------------------------------------------------------------------------------ tests

def test_every_page_loads_offline_with_no_failed_request(visits):
    assert len(visits) >= 18, f"expected the whole book, found only {sorted(visits)}"
    failures = {name: v.problems for name, v in visits.items() if v.problems}
    assert not failures, "pages that needed the network or failed to load something:\n" + _report(failures)


def test_math_is_typeset_on_every_page(visits):
    with_math = {name: v for name, v in visits.items() if v.probe["math"]}
    assert with_math, "no page has any math: the check below would prove nothing"
    failures = {}
    for name, visit in with_math.items():
        probe, found = visit.probe, []
        if probe["mathjax"] != "typeset":
            found.append(f"MathJax {probe['mathjax']}")
        found += [f"not typeset: {text!r}" for text in probe["untypeset"]]
        found += [f"TeX error: {text!r}" for text in probe["math_errors"]]
        found += [f"raw LaTeX left in the text: {text!r}" for text in probe["raw_latex"]]
        if found:
            failures[name] = found
    assert not failures, "math that did not render:\n" + _report(failures)


def test_saved_widgets_render_without_a_kernel(visits):
    with_widgets = {name: v.probe for name, v in visits.items() if v.probe["widget_views"]}
    # Chapter 10's training progress bar is a saved widget (chapter 7's slider is a precomputed
    # animation, required by the slider tests below): a page that lost it is a regression.
    assert "book/10-digit-classifier.html" in with_widgets, \
        "chapter 10 shows no Jupyter widget; its training progress bar should be there (saved widget state)"
    failures = {name: [f"{p['widgets_rendered']} of {p['widget_views']} widgets rendered"]
                for name, p in with_widgets.items() if p["widgets_rendered"] != p["widget_views"]}
    assert not failures, "widgets that stayed blank:\n" + _report(failures)


def _chapter_7_animation(page, visit):
    animation = page.locator("div.precomputed-explorer").first
    if page.locator("div.precomputed-explorer").count() == 0:
        pytest.fail("chapter 7 has no precomputed slider (backprop.widgets.precomputed_explorer)")
    return animation


def _move_slider_and_check(page, animation) -> None:
    slider, image = animation.locator("input[type=range]"), animation.locator("img").first
    value, verdict = animation.locator("output"), animation.locator(".explorer-verdict")
    first_frame, start = image.get_attribute("src"), int(slider.input_value())
    first_value, first_alt = value.text_content(), image.get_attribute("alt")
    slider.focus()
    page.keyboard.press("ArrowRight")  # a keyboard reader's way of moving it
    assert int(slider.input_value()) == start + 1
    second_frame = image.get_attribute("src")
    assert second_frame != first_frame, "the slider moved but the picture did not change"
    # the value, the verdict and the alt text follow, and a screen reader hears value and verdict
    assert value.text_content() != first_value and image.get_attribute("alt") != first_alt
    assert slider.get_attribute("aria-valuetext") == f"{value.text_content()}: {verdict.text_content()}"
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)  # near the end
    assert int(slider.input_value()) > start + 1
    assert image.get_attribute("src") not in (first_frame, second_frame)


def test_chapter_7_learning_rate_slider_moves_and_changes_the_frame(desktop, base_url):
    page, visit = desktop.open(base_url + CHAPTER_7, CHAPTER_7)
    animation = _chapter_7_animation(page, visit)
    animation.scroll_into_view_if_needed()
    _move_slider_and_check(page, animation)
    assert not visit.problems, "\n".join(visit.problems)
    page.close()


def assert_search_finds_the_preface(session, url: str, name: str) -> None:
    """Open a search page (url ends in search.html?q=...) and require the preface among its hits."""
    page, visit = session.open(url, name)
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15000)
    links = [results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())]
    assert any("00-preface.html" in link for link in links), links
    assert not visit.problems, "\n".join(visit.problems)
    page.close()


def test_search_page_finds_chapters(desktop, base_url):
    assert_search_finds_the_preface(desktop, base_url + "search.html?q=backpropagation", "search")


def test_pages_fit_a_390px_phone_screen(visits):
    too_wide = {}
    for name, visit in visits.items():
        layout, found = visit.phone, []
        if layout["page_width"] > layout["viewport_width"] + 1:
            found.append(f"{layout['page_width']} px wide: the whole page scrolls sideways "
                         "(a wide table, equation or image should scroll on its own)")
        if layout["players_cut_off"]:
            found.append(f"{layout['players_cut_off']} slider player(s) run off the screen")
        if found:
            too_wide[name] = found
    assert not too_wide, "pages wider than a 390 px phone:\n" + _report(too_wide)


def test_screenshots_on_a_390px_phone(browser, base_url):
    phone = OfflineBrowser(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True,
                           has_touch=True)
    try:
        page, visit = phone.open(base_url + CHAPTER_7, CHAPTER_7)
        animation = page.locator("div.precomputed-explorer")
        assert animation.count(), "chapter 7 has no precomputed slider to photograph"
        path = _save_screenshot(page, animation.first, "phone-390px-chapter-07.png")
        assert page.evaluate(LAYOUT)["page_width"] <= PHONE["width"] + 1
        assert path.stat().st_size > 10_000 and not visit.problems, visit.problems
        page.close()
    finally:
        phone.close()


def _save_screenshot(page, locator, filename: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if locator is not None:
        locator.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -120)")  # keep the header from covering it
    path = SCREENSHOTS / filename
    page.screenshot(path=str(path))
    return path


def test_screenshots_of_three_representative_pages(desktop, base_url):
    """Preface (prose, a table, inline math), chapter 5 (display maths), chapter 7 (the slider)."""
    targets = [("book/00-preface.html", None, "desktop-preface.png"),
               ("book/05-backprop.html", "div.math", "desktop-chapter-05.png"),
               (CHAPTER_7, "div.precomputed-explorer", "desktop-chapter-07.png")]
    saved = []
    for name, selector, filename in targets:
        page, _ = desktop.open(base_url + name, name)
        found = page.locator(selector).first if selector and page.locator(selector).count() else None
        saved.append(_save_screenshot(page, found, filename))
        page.close()
    for path in saved:
        assert path.stat().st_size > 10_000, f"{path} looks empty"


def test_book_opens_from_disk_with_no_network(browser):
    """What a reader gets from `make book` and a double click on _build/html/index.html."""
    disk = OfflineBrowser(browser, viewport=DESKTOP)
    problems = []
    try:
        page, visit = disk.open((SITE / "index.html").as_uri(), "index.html",
                                wait_for_url="**/book/00-preface.html")
        probe = visit.probe
        assert probe["math"] and probe["mathjax"] == "typeset" and not probe["untypeset"], probe
        problems += visit.problems
        page.close()

        page, visit = disk.open((SITE / CHAPTER_7).as_uri(), CHAPTER_7)
        _move_slider_and_check(page, _chapter_7_animation(page, visit))
        problems += visit.problems
        page.close()

        # Chapter 10's progress bar: saved widget state rendered from a file:// page.
        path = SITE / "book/10-digit-classifier.html"
        assert "application/vnd.jupyter.widget-view+json" in path.read_text(encoding="utf-8"), \
            f"{path.name} lost its saved widgets"
        page, visit = disk.open(path.as_uri(), path.name)
        assert visit.probe["widget_views"] and \
            visit.probe["widgets_rendered"] == visit.probe["widget_views"], visit.probe
        problems += visit.problems
        page.close()
        assert not problems, "\n".join(problems)
    finally:
        disk.close()


def test_chromium_discovery_explains_how_to_enable_the_tests(monkeypatch):
    monkeypatch.setenv("BOOK_CHROMIUM", "/nonexistent/chromium")
    executable, reason = find_chromium()
    assert executable is None and "/nonexistent/chromium" in reason
    assert re.search(r"apt-get install chromium", ENABLE_HINT)
