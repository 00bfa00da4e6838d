"""The Chinese glyphs of the book: a web font holding exactly the CJK characters the site uses.

Chapters give a core term's Chinese name the first time it appears (反向传播), and a Chinese
edition is planned (built into `_build/html/zh_CN/`). A reader without a CJK system font would see
empty boxes. So after the build this reads every built HTML page under the site (all editions),
collects the CJK characters in them, and cuts a subset of Noto Sans SC (npm package `noto-sans-sc`,
pinned in tools/npm_assets.py) with fontTools' subsetter: `_static/book-cjk.woff2`, a few tens of
KB, regenerated on every build so it grows with the text. `_static/book-cjk.css` (a placeholder in
the sources, linked from every page) is rewritten with the `@font-face` rule; its `unicode-range`
keeps the font to those characters, so Latin text keeps the theme's fonts.

Two roles, like tools/fetch_web_assets.py:
- a Sphinx extension (`sphinx.local_extensions` in `_config.yml`): runs when a build finishes;
- a script: `python tools/cjk_font.py [SITE]` (default `_build/html`), e.g. after building an edition.

Without a network and without the cached font, the pages say nothing about the font (the
placeholder stays) and the build goes on: the book is then readable where a CJK font is installed.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from npm_assets import NOTO_SANS_SC, fetch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
FONT_NAME, CSS_NAME = "book-cjk.woff2", "book-cjk.css"
FAMILY = "Book CJK"
# CJK radicals, symbols and punctuation, Bopomofo, CJK ideographs (extension A, unified,
# compatibility) and full-width forms such as （）and ，.
CJK = re.compile("[\u2e80-\u2fdf\u3000-\u303f\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
                 "\uf900-\ufaff\uff00-\uffef]")
SKIP = ("_static", "_sources", "_images", "lite")  # not pages, or the live book (its own app)


def site_characters(site: Path) -> set[str]:
    """Every CJK character in the built HTML pages under `site` (every edition)."""
    found: set[str] = set()
    for page in site.rglob("*.html"):
        if not set(page.relative_to(site).parts[:-1]) & set(SKIP):
            found |= set(CJK.findall(page.read_text(encoding="utf-8", errors="replace")))
    return found


def _slices(folder: Path) -> list[tuple[Path, list[tuple[int, int]]]]:
    """The Google Fonts slices of the font: (file, [(first, last) code points])."""
    css = (folder / "css.css").read_text()
    result = []
    for block in re.findall(r"@font-face\s*{(.*?)}", css, flags=re.S):
        url = re.search(r"url\(([^)]+)\)", block).group(1).strip("'\"")
        ranges = []
        for item in re.search(r"unicode-range:\s*([^;]+);", block).group(1).split(","):
            first, _, last = item.strip()[2:].partition("-")
            ranges.append((int(first, 16), int(last or first, 16)))
        result.append((folder / url, ranges))
    return result


def subset(characters: set[str]) -> bytes:
    """A WOFF2 font with the glyphs of `characters` (those Noto Sans SC has), nothing else."""
    from fontTools import subset as ft_subset
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    folder = fetch(NOTO_SANS_SC) / "noto_sans_sc_regular"
    wanted = {ord(c) for c in characters}
    parts = []
    for path, ranges in _slices(folder):
        here = sorted(c for c in wanted if any(a <= c <= b for a, b in ranges))
        if not here:
            continue
        wanted -= set(here)
        options = ft_subset.Options()
        options.layout_features = []  # no ligatures or vertical forms: horizontal running text
        options.hinting = False
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
        options.notdef_outline = True
        font = TTFont(path)
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(unicodes=here)
        subsetter.subset(font)
        for table in ("GSUB", "GPOS", "GDEF"):  # empty after subsetting; they would not merge
            if table in font:
                del font[table]
        buffer = io.BytesIO()
        font.flavor = None
        font.save(buffer)
        parts.append(buffer)
    if not parts:
        raise ValueError("none of the characters is in Noto Sans SC")
    if len(parts) == 1:
        merged = TTFont(parts[0])
    else:
        for part in parts:
            part.seek(0)
        merged = Merger().merge(parts)
    merged.flavor = "woff2"
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


def _unicode_range(characters: set[str]) -> str:
    points = sorted(ord(c) for c in characters)
    spans: list[list[int]] = []
    for point in points:
        if spans and point == spans[-1][1] + 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in spans)


def font_css(characters: set[str]) -> str:
    return f"""\
/* Written by tools/cjk_font.py after the build: {len(characters)} Chinese characters the site uses,
   cut from Noto Sans SC {NOTO_SANS_SC.version} (SIL Open Font License). The unicode-range keeps the font
   to them; every other character uses the theme's fonts. */
@font-face {{
  font-family: "{FAMILY}";
  src: url("{FONT_NAME}") format("woff2");
  font-display: swap;
  unicode-range: {_unicode_range(characters)};
}}
:root {{
  --pst-font-family-base: "{FAMILY}", var(--pst-font-family-base-system);
  --pst-font-family-heading: "{FAMILY}", var(--pst-font-family-base-system);
  --pst-font-family-monospace: var(--pst-font-family-monospace-system), "{FAMILY}";
}}
"""


def build(site: Path = SITE) -> str:
    """Write the font and its CSS into every `_static/` of the site that links it; say what happened."""
    characters = site_characters(site)
    statics = [css.parent for css in site.rglob(f"_static/{CSS_NAME}")]
    if not statics:
        return f"no {CSS_NAME} under {site}: nothing to do"
    if not characters:
        return "the site has no Chinese characters: no font needed"
    try:
        font = subset(characters)
    except (OSError, ValueError) as error:
        return (f"could not make the font ({error}); Chinese terms need a CJK font on the reader's "
                "machine. Build again with the npm registry reachable.")
    css = font_css(characters)
    for static in statics:
        (static / FONT_NAME).write_bytes(font)
        (static / CSS_NAME).write_text(css)
    return f"{len(characters)} characters, {len(font) / 1024:.0f} KB ({FONT_NAME} in {len(statics)} _static/)"


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging
    from sphinx.util.console import bold

    out = Path(app.outdir).resolve()
    # An edition built into a subfolder of the site (zh_CN/) shares the site's font.
    site = SITE if SITE in (out, *out.parents) else out
    logging.getLogger(__name__).info(bold("Chinese font: ") + build(site))


def setup(app) -> dict:
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print("Chinese font:", build(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else SITE))
