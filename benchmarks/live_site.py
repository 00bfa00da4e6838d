"""The live book as a reader gets it: headless Chromium, a cold cache, the built site served locally.

    make book                                   # builds _build/html/lite
    .venv/bin/python benchmarks/live_site.py [--repeats 3]

Each repeat uses a fresh browser context (an empty cache and empty storage, like a first visit)
and measures, for chapter 7 opened from its page's "Run in your browser" link:

- kernel ready: from following the link until the Python kernel is idle (Pyodide downloaded,
  compiled and started, the kernel's packages installed);
- Run All: every cell of chapter 7, which trains dozens of small networks;
- a live-slider update: from releasing the learning-rate slider one step to the right until the
  retrained figure is on screen (median of three moves).

It also prints the site's size and the largest parts of what the browser downloaded. Goals:
kernel ready <= 10 s, a slider update <= 0.5 s, a site of <= 100 MB, and no scikit-learn or SciPy
downloaded for a chapter that does not use them (chapter 7 does, for the digits; chapter 1 is
checked for that).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import live_browser  # noqa: E402


def cold_run(browser, base_url: str) -> dict:
    session = live_browser.LiveSession(browser)
    try:
        link = live_browser.live_link(session, base_url + "book/07-gradient-descent.html")
        run = live_browser.open_and_run_all(session, link)
        assert run.problems == [], run.problems
        cell = live_browser.find_cell(run.page, "widgets.learning_rate_explorer(live=True)")
        updates = [live_browser.live_slider_update(run.page, cell) for _ in range(3)]
        return {"kernel": run.kernel_seconds, "run_all": run.run_all_seconds,
                "slider": statistics.median(updates), "outside": list(session.outside)}
    finally:
        session.close()


def packages_of_chapter_1(browser, base_url: str) -> list[str]:
    """The package files the browser fetched to run chapter 1 from a cold cache."""
    session = live_browser.LiveSession(browser)
    try:
        link = live_browser.live_link(session, base_url + "book/01-neurons.html")
        run = live_browser.open_and_run_all(session, link)
        assert run.problems == [], run.problems
        files = [Path(url.split("?")[0]).name for url in session.requests]
        return [name for name in files if name.endswith((".whl", ".zip"))]
    finally:
        session.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not (live_browser.LITE / "index.html").is_file():
        print("no live site: run `make book` first", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in live_browser.LITE.rglob("*") if p.is_file())
    executable = live_browser.chromium()
    if executable is None:
        print("no Chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 2
    with live_browser.serve() as base_url, live_browser.offline_browser(executable) as browser:
        runs = [cold_run(browser, base_url) for _ in range(args.repeats)]
        chapter_1 = packages_of_chapter_1(browser, base_url)
    print(f"live site: {size / 1e6:.1f} MB in {live_browser.LITE.relative_to(ROOT)}/ (goal <= 100 MB)")
    print(f"{'run':>4} {'kernel ready (s)':>17} {'chapter 7 Run All (s)':>22} {'slider update (s)':>18}")
    for number, run in enumerate(runs, start=1):
        print(f"{number:>4} {run['kernel']:>17.2f} {run['run_all']:>22.2f} {run['slider']:>18.3f}")
    for key, goal in (("kernel", 10.0), ("slider", 0.5)):
        median = statistics.median(run[key] for run in runs)
        print(f"median {key}: {median:.3f} s (goal <= {goal} s): {'met' if median <= goal else 'MISSED'}")
    heavy = [name for name in chapter_1 if name.startswith(("scikit_learn", "scipy", "openblas"))]
    print(f"chapter 1 fetched {len(chapter_1)} package files; scikit-learn or SciPy: {heavy or 'none'}")
    outside = sorted({url for run in runs for url in run["outside"]})
    print(f"requests off the site: {outside or 'none'}")
    return 0 if not outside and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
