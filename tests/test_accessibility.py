"""The built book is accessible (WCAG 2.1 AA as axe-core checks it) and readable on a phone.

Every page of `_build/html` (or $BOOK_HTML) is opened offline in Chromium (see tests/test_browser.py)
at 1280 px and at a phone's 390 px, and axe-core runs in it. axe-core is pinned and comes from the
npm registry (tools/npm_assets.py; cached in `.build_assets/`, never committed). Without it, or
without Chromium or a built book, the tests are skipped with the reason.

- no axe violation of impact serious or critical, at either width; the moderate and minor ones
  are listed as a warning in the test output;
- every content image has alt text, and none of it is a file name or a path;
- at 390 px no element runs past the screen and no math is clipped;
- a Chinese term is drawn with the book's own web font (tools/cjk_font.py), not a system font or boxes.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.test_browser import DESKTOP, PHONE, SITE, OfflineBrowser, base_url, browser, site_pages  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from npm_assets import AXE_CORE, fetch  # noqa: E402

pytestmark = pytest.mark.browser

GLOSSARY = "book/appendix-glossary.html"
CHINESE_TERM = "反向传播"  # backpropagation

# axe-core's rules for WCAG 2.0/2.1 A and AA, plus its best practices (region, landmark-unique...).
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
}"""

# The chapter's own images (figures, explorers), not the theme's logos and launch-button icons.
IMAGES = """() => [...document.querySelectorAll('article.bd-article img')].map(img => ({
  src: (img.getAttribute('src') || '').slice(0, 80),
  alt: img.getAttribute('alt'),
  decorative: img.getAttribute('role') === 'presentation' || img.getAttribute('aria-hidden') === 'true',
}))"""

# At phone width: visible elements that run past the screen's edges (outside a scrolling box),
# and math whose content is wider than the box it is drawn in.
PHONE_LAYOUT = """async () => {
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const width = window.innerWidth;
  const scrolls = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (s === 'auto' || s === 'scroll' || s === 'hidden' || s === 'clip') return true; }
    return false; };
  const classes = e => typeof e.className === 'string' && e.className
    ? '.' + e.className.trim().split(/\\s+/).slice(0, 2).join('.') : '';
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + classes(e);
  const wide = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('mjx-assistive-mml, .visually-hidden, .sr-only, dialog:not([open])')) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden') continue;
    if (r.left >= width - 1 || r.right <= 1) continue;  // an off-screen drawer (the side bars)
    if ((r.right > width + 1 || r.width > width + 1) && !scrolls(e))
      wide.push(`${name(e)} (${Math.round(r.width)} px)`);
  }
  // Math is clipped when part of it lies outside a box that cuts its content off (overflow
  // hidden or clip, or the screen's edge), or when a math box that has a width (block or
  // inline-block) holds more than it shows without scrolling.
  const clipped = [];
  for (const m of document.querySelectorAll('mjx-container')) {
    const box = m.getBoundingClientRect();
    if (box.width === 0 || m.closest('dialog:not([open])')) continue;
    const style = getComputedStyle(m);
    const scrollable = style.overflowX === 'auto' || style.overflowX === 'scroll';
    let cut = style.overflowX !== 'visible' && !scrollable && m.scrollWidth > m.clientWidth + 1;
    for (let p = m.parentElement; p && p !== document.body && !cut; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (s === 'hidden' || s === 'clip') {
        const q = p.getBoundingClientRect();
        if (box.right > q.right + 1 || box.left < q.left - 1) cut = true;
      }
      if (s === 'auto' || s === 'scroll') break;  // reachable by scrolling that box
    }
    const inScroller = m.closest('[tabindex], pre, .table-wrapper, .cell_output, .output');
    if (!inScroller && box.right > width + 1) cut = true;
    if (cut) clipped.push(m.textContent.slice(0, 50) || 'math');
  }
  return {page_width: document.documentElement.scrollWidth, viewport: width,
          wide: wide.slice(0, 10), wide_count: wide.length, clipped_math: clipped};
}"""

FILE_NAME = re.compile(r"(^|[/\\\\])[^\s/\\\\]+\.(png|jpe?g|gif|svg|webp)$|^\S*/\S*$|^\.\./", re.I)


@dataclass
class Audit:
    name: str
    axe: dict[int, list[dict]] = field(default_factory=dict)  # width -> violations
    images: list[dict] = field(default_factory=list)
    phone: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def axe_script() -> str:
    try:
        return str(fetch(AXE_CORE) / "axe.min.js")
    except (OSError, ValueError) as error:
        pytest.skip(f"axe-core {AXE_CORE.version} is not cached and could not be fetched from the "
                    f"npm registry ({error}); run `python tools/npm_assets.py` with a network")


@pytest.fixture(scope="session")
def audits(browser, base_url, axe_script) -> dict[str, Audit]:  # noqa: F811
    """Every page loaded once at 1280 px (axe, images), then narrowed to 390 px (axe, layout)."""
    session = OfflineBrowser(browser, viewport=DESKTOP)
    result = {}
    try:
        for name in site_pages():
            page, visit = session.open(base_url + name, name)
            audit = Audit(name, problems=list(visit.problems))
            page.add_script_tag(path=axe_script)
            audit.axe[DESKTOP["width"]] = page.evaluate(AXE_RUN)
            audit.images = page.evaluate(IMAGES)
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(600)  # the theme and book-a11y.js react to a resize after 300 ms
            audit.phone = page.evaluate(PHONE_LAYOUT)
            audit.axe[PHONE["width"]] = page.evaluate(AXE_RUN)
            page.close()
            result[name] = audit
    finally:
        session.close()
    # Counts per page, width and impact, for the record (before/after comparisons).
    summary = {name: {width: dict(Counter(v["impact"] for v in vs)) for width, vs in a.axe.items()}
               for name, a in result.items()}
    (SITE.parent / "accessibility.json").write_text(json.dumps(summary, indent=1) + "\n")
    return result


def _table(audits: dict[str, Audit], impacts: tuple[str, ...]) -> list[str]:
    lines = []
    for name, audit in audits.items():
        for width, violations in audit.axe.items():
            for v in violations:
                if v["impact"] in impacts:
                    lines.append(f"{name} @ {width} px: {v['impact']} {v['id']} x{v['count']} "
                                 f"({v['help']}): {', '.join(v['nodes'][:3])}")
    return lines


def test_axe_finds_no_serious_or_critical_violation_on_any_page_at_either_width(audits):
    assert len(audits) >= 18, f"expected the whole book, found only {sorted(audits)}"
    counts = Counter((v["impact"]) for a in audits.values() for vs in a.axe.values() for v in vs)
    minor = _table(audits, ("moderate", "minor"))
    if minor:
        warnings.warn("axe: moderate and minor findings (allowed, listed to be looked at):\n  "
                      + "\n  ".join(minor), stacklevel=1)
    serious = _table(audits, ("serious", "critical"))
    assert not serious, (f"axe-core {AXE_CORE.version} found {counts['critical']} critical and "
                         f"{counts['serious']} serious violations:\n  " + "\n  ".join(serious))


def test_every_content_image_has_alt_text_that_is_not_a_file_name(audits):
    total = sum(len(a.images) for a in audits.values())
    assert total >= 18, f"only {total} content images in the whole book: is the site complete?"
    failures = []
    for name, audit in audits.items():
        for image in audit.images:
            alt = (image["alt"] or "").strip()
            if image["decorative"] and image["alt"] == "":
                continue
            if not alt:
                failures.append(f"{name}: no alt text: {image['src']}")
            # fewer than three words, or (Chinese has no spaces) fewer than eight characters
            elif FILE_NAME.search(alt) or (len(alt.split()) < 3 and len(alt) < 8):
                failures.append(f"{name}: alt text that does not describe the figure: {alt!r}")
    assert not failures, "images a screen reader cannot describe:\n  " + "\n  ".join(failures)


def test_alt_text_check_catches_a_file_name():
    for bad in ("../_images/fc85936c.png", "figure.png", "_images/x", "C:\\fig.svg"):
        assert FILE_NAME.search(bad), bad
    assert not FILE_NAME.search("Loss against step: it falls, then levels off at 0.01.")


def test_on_a_phone_nothing_runs_off_the_screen_and_no_math_is_clipped(audits):
    failures = {}
    for name, audit in audits.items():
        layout, found = audit.phone, []
        if layout["page_width"] > layout["viewport"]:
            found.append(f"the page is {layout['page_width']} px wide on a {layout['viewport']} px screen")
        if layout["wide_count"]:
            found.append(f"{layout['wide_count']} element(s) wider than the screen: "
                         + ", ".join(layout["wide"]))
        found += [f"clipped math: {text!r}" for text in layout["clipped_math"]]
        if found:
            failures[name] = found
    assert not failures, "at 390 px:\n" + "\n".join(
        f"{name}:\n    " + "\n    ".join(items) for name, items in failures.items())


def test_a_chinese_term_is_drawn_with_the_books_own_font(browser, base_url):  # noqa: F811
    session = OfflineBrowser(browser, viewport=DESKTOP)
    try:
        page, visit = session.open(base_url + GLOSSARY, GLOSSARY)
        assert not visit.problems, visit.problems
        handle = page.get_by_text(CHINESE_TERM).first
        handle.scroll_into_view_if_needed()
        page.evaluate("document.fonts.ready")
        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        page.evaluate("""term => {
          const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                                   NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) if (walker.currentNode.nodeValue.includes(term)) {
            walker.currentNode.parentElement.setAttribute('data-chinese-term', ''); return; }
        }""", CHINESE_TERM)
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-chinese-term]"})["nodeId"]
        assert node, f"no element with {CHINESE_TERM} on {GLOSSARY}"
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        shipped = [f for f in fonts if f.get("isCustomFont")]
        assert shipped, f"{CHINESE_TERM} is drawn with system fonts only: {fonts}"
        loaded = page.evaluate("""() => [...document.fonts].filter(f => f.family.includes('Book CJK'))
                                  .map(f => f.status)""")
        assert "loaded" in loaded, f"the book's Chinese font did not load: {loaded}"
        page.close()
    finally:
        session.close()
