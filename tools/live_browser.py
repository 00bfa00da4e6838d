"""Drive the live book (`_build/html/lite/`) in headless Chromium, offline: shared by
tests/test_live_site.py and benchmarks/live_site.py.

The built site is served on 127.0.0.1 by a plain static file server (as any web host would serve
it). Every request that is not to that server is aborted and counted, and Chromium's resolver is
told that no other host exists, so a request that escaped the count could not reach anything
either. A notebook is opened the way a reader opens it: by following its page's "Run in your
browser" link.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
LITE = SITE / "lite"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".json": "application/json"}

    def log_message(self, *args) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A page closed mid-download (the test moved on) is not an error of the site.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(folder: Path = SITE):
    """A static file server for `folder` on a free port of 127.0.0.1; yields its base URL."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@contextmanager
def offline_browser(executable: str, playwright=None):
    """Chromium with no host but 127.0.0.1 resolvable; from `playwright` if one is running (its
    sync API allows one at a time), else from a Playwright of its own."""
    if playwright is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as own, offline_browser(executable, own) as browser:
            yield browser
        return
    browser = playwright.chromium.launch(
        executable_path=executable,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class LiveSession:
    """One browser context (its own cold cache and storage) with every outside request counted."""

    browser: object
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            self.outside.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            self.requests.append(route.request.url)
            route.continue_()

    def close(self) -> None:
        self.context.close()


def live_link(session: LiveSession, page_url: str, selector: str | None = None) -> str:
    """The "Run in your browser" link of a book page (or the one `selector` picks), absolute."""
    page = session.context.new_page()
    try:
        page.goto(page_url, wait_until="domcontentloaded")
        href = page.eval_on_selector(selector or "a.btn-run-in-browser-button",
                                     "a => a.getAttribute('href')")
    finally:
        page.close()
    return urljoin(page_url, href)


KERNEL_IDLE = """() => {
  const app = window.jupyterapp, w = app && app.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && w.content.widgets.length > 0;
}"""

RUN_ALL = "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"

# Every code cell's error outputs and stderr streams, from the notebook model (cells outside the
# viewport are not rendered, so the DOM would miss them).
PROBLEMS = """() => {
  const w = window.jupyterapp.shell.currentWidget, found = [];
  w.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    if (cell.model.executionCount === null && cell.model.sharedModel.getSource().trim())
      found.push(`cell ${i}: not run`);
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') found.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      if (out.output_type === 'stream' && out.name === 'stderr')
        found.push(`cell ${i}: stderr: ${out.text.slice(0, 300)}`);
    }
  });
  return found;
}"""


@dataclass
class NotebookRun:
    kernel_seconds: float
    run_all_seconds: float
    problems: list[str]
    page: object


def open_and_run_all(session: LiveSession, url: str, *, timeout_s: float = 240) -> NotebookRun:
    """Open a notebook in the live book, wait for its kernel, Run All; report what went wrong."""
    page = session.context.new_page()
    page.on("pageerror", lambda error: session.errors.append(f"uncaught script error: {error}"))
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000, polling=100)
    kernel = time.perf_counter() - start
    start = time.perf_counter()
    page.evaluate(RUN_ALL)
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000, polling=100)
    run_all = time.perf_counter() - start
    return NotebookRun(kernel, run_all, page.evaluate(PROBLEMS), page)


def find_cell(page, starts_with: str) -> int:
    """The index of the first cell whose source starts with `starts_with`."""
    index = page.evaluate("""prefix => window.jupyterapp.shell.currentWidget.content.widgets
        .findIndex(c => c.model.sharedModel.getSource().startsWith(prefix))""", starts_with)
    if index < 0:
        raise LookupError(f"no cell starts with {starts_with!r}")
    return index


def run_cells(page, first: int, count: int = 1) -> None:
    """Select cell `first` and run it and the next count - 1 cells, waiting for the kernel each time."""
    page.evaluate("i => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", first)
    for _ in range(count):
        page.evaluate("async () => await window.jupyterapp.commands.execute("
                      "'notebook:run-cell-and-select-next')")
        page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=100)


def set_source(page, index: int, source: str) -> None:
    page.evaluate("([i, s]) => window.jupyterapp.shell.currentWidget.content.widgets[i]"
                  ".model.sharedModel.setSource(s)", [index, source])


def output_text(page, index: int) -> str:
    """Everything cell `index` shows, as text (plain-text representations and streams)."""
    return page.evaluate("""i => window.jupyterapp.shell.currentWidget.content.widgets[i]
        .model.outputs.toJSON()
        .map(o => o.text || (o.data && o.data['text/plain']) || '')
        .map(t => Array.isArray(t) ? t.join('') : t).join('\\n')""", index)


def live_slider_update(page, cell_index: int, *, timeout_s: float = 30) -> float:
    """Drag the first ipywidgets slider in cell `cell_index` one step to the right, as a reader
    would, and return the seconds from releasing the mouse until the cell shows a new image."""
    page.evaluate("""async i => { const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = i; await nb.scrollToItem(i, 'start'); }""", cell_index)
    cell = page.evaluate_handle("i => window.jupyterapp.shell.currentWidget.content.widgets[i].node",
                                cell_index).as_element()
    image = SRC_OF_IMAGE
    page.wait_for_function(f"cell => ({image})(cell) !== null", arg=cell, timeout=timeout_s * 1000)
    before = page.evaluate(image, cell)
    handle = cell.wait_for_selector(".widget-slider .noUi-handle", timeout=timeout_s * 1000)
    handle.scroll_into_view_if_needed()
    steps = float(handle.get_attribute("aria-valuemax")) - float(handle.get_attribute("aria-valuemin"))
    track, knob = cell.query_selector(".widget-slider .noUi-base").bounding_box(), handle.bounding_box()
    x, y = knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + track["width"] / steps, y, steps=5)
    page.mouse.up()
    start = time.perf_counter()
    changed = f"([cell, before]) => {{ const src = ({image})(cell); return src !== null && src !== before; }}"
    page.wait_for_function(changed, arg=[cell, before], timeout=timeout_s * 1000, polling=10)
    return time.perf_counter() - start


# The src of the (first, completely loaded) image in a cell's outputs, or null.
SRC_OF_IMAGE = """cell => { const img = cell.querySelector('.jp-OutputArea-output img');
    return img && img.complete ? img.getAttribute('src') : null; }"""
