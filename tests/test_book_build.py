"""The built HTML book (`make book`, which runs `jupyter-book build . -W`): links, numbering,
buttons and assets, checked on the files themselves (tests/test_browser.py opens them in Chromium).

The site is `_build/html`, or $BOOK_HTML. `make test` builds it first.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

# (tag, attribute) pairs that make a browser fetch something while the page loads.
LOADED = [("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src"),
          ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")]


@pytest.fixture(scope="module", autouse=True)
def built_site():
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built book at {SITE}: run `make book` first (make test does)")


def pages() -> list[Path]:
    # lite/ is the live book, a JupyterLite app: tests/test_live_build.py and test_live_site.py
    return sorted(p for p in SITE.rglob("*.html")
                  if not p.relative_to(SITE).as_posix().startswith(("_static/", "_sources/", "lite/")))


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@cache
def ids(path: Path) -> frozenset[str]:
    return frozenset(tag["id"] for tag in soup(path).find_all(id=True))


def toc_docnames() -> list[str]:
    names = [TOC["root"]]
    for part in TOC["parts"]:
        names += [chapter["file"] for chapter in part["chapters"]]
    return names


def notebook_pages() -> list[str]:
    """Docnames of the pages built from notebooks (they get launch buttons)."""
    return [name for name in toc_docnames() if (ROOT / f"{name}.ipynb").is_file()]


# ------------------------------------------------------------------------------------ tests

def test_every_internal_link_and_anchor_resolves():
    broken = []
    for page in pages():
        for tag in soup(page).find_all(["a", *[t for t, _ in LOADED]]):
            for attribute in ("href", "src", "data"):
                target = tag.get(attribute)
                if not target or target.startswith(("mailto:", "javascript:", "data:")):
                    continue
                url = urlparse(target)
                if url.scheme or url.netloc:
                    continue  # external: checked for loading below, links may point anywhere
                file = (page.parent / unquote(url.path)).resolve() if url.path else page
                where = f"{page.relative_to(SITE)}: {attribute}={target!r}"
                if not file.exists():
                    broken.append(f"{where} -> missing file")
                elif url.fragment and file.suffix == ".html" and unquote(url.fragment) not in ids(file):
                    broken.append(f"{where} -> no element with id {url.fragment!r}")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_no_page_loads_anything_from_the_network():
    """MathJax, widget JavaScript, fonts and styles all come from the site itself.

    Fails when `make book` could not fetch the offline copies (it says so) and fell back to CDNs.
    """
    remote = []
    for page in pages():
        for tag_name, attribute in LOADED:
            for tag in soup(page).find_all(tag_name):
                target = tag.get(attribute) or ""
                if tag_name == "link" and not {"stylesheet", "icon", "preload", "modulepreload"} & set(
                        tag.get("rel", [])):
                    continue
                if urlparse(target).scheme in ("http", "https") or target.startswith("//"):
                    remote.append(f"{page.relative_to(SITE)}: <{tag_name} {attribute}={target!r}>")
    assert not remote, ("the book loads these from the network (run `make book` where the npm registry "
                        "is reachable, see tools/fetch_web_assets.py):\n" + "\n".join(remote))


def test_math_and_widgets_use_the_offline_copies():
    preface = soup(SITE / "book" / "00-preface.html")
    sources = [tag.get("src", "") for tag in preface.find_all("script")]
    assert any(src.startswith("../_static/mathjax/tex-mml-chtml.js") for src in sources), sources
    for name in ("mathjax/tex-mml-chtml.js", "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
                 "jupyter-widgets/require.js", "jupyter-widgets/paths.js",
                 "jupyter-widgets/html-manager/embed-amd.js"):
        assert (SITE / "_static" / name).is_file(), f"_static/{name} is missing"
    for page in pages():
        text = page.read_text(encoding="utf-8")
        if "application/vnd.jupyter.widget-state+json" in text:
            assert "_static/jupyter-widgets/html-manager/embed-amd.js" in text, page


def test_chapters_are_numbered_straight_through_in_the_outline_order():
    # The sidebar of a page outside the table of contents, so that no entry is the current page.
    sidebar = soup(SITE / "genindex.html").select("nav.bd-docs-nav")[0]
    captions = [c.get_text(" ", strip=True) for c in sidebar.select("p.caption")]
    assert captions == ["Part I — Foundations", "Part II — Optimisation",
                        "Part III — Putting it together", "Appendices"], captions
    links = [(a["href"], a.get_text(" ", strip=True)) for a in sidebar.select("li.toctree-l1 > a")]
    assert [href for href, _ in links] == [f"{name}.html" for name in toc_docnames()]
    for href, text in links[1:]:  # the preface (the book's home page) is not numbered either
        chapter = re.match(r"book/(\d\d)-", href)
        if chapter:  # book/07-gradient-descent.html is chapter 7, whichever part it is in
            assert text.startswith(f"{int(chapter.group(1))}. "), (href, text)
            heading = soup(SITE / href).select(".bd-article h1")[0].get_text(" ", strip=True)
            assert heading.startswith(f"{int(chapter.group(1))}. "), (href, heading)
        else:  # the appendices carry no number
            assert not text[:1].isdigit(), (href, text)


def test_every_notebook_page_has_launch_download_and_repository_buttons():
    repository = CONFIG["repository"]["url"].rstrip("/")
    branch = CONFIG["repository"]["branch"]
    owner_repo = urlparse(repository).path.strip("/")
    missing = []
    for name in notebook_pages():
        page = SITE / f"{name}.html"
        hrefs = {a.get("href") for a in soup(page).find_all("a")}
        expected = {
            "Binder": f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{name}.ipynb",
            "Colab": f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{name}.ipynb",
            "download .ipynb": f"../_sources/{name}.ipynb",
            "repository": repository,
        }
        missing += [f"{name}: no {what} link ({href})"
                    for what, href in expected.items() if href not in hrefs]
        if not (SITE / "_sources" / f"{name}.ipynb").is_file():
            missing.append(f"{name}: the download button's _sources/{name}.ipynb is missing")
    assert notebook_pages(), "no notebook pages in the table of contents"
    assert not missing, "\n".join(missing)


def test_every_page_has_the_book_title_logo_and_favicon():
    title = CONFIG["title"]
    for name in ("logo.svg", "favicon.png"):
        assert (SITE / "_static" / name).is_file(), name
    for page in pages():
        document = soup(page)
        if document.find("meta", attrs={"http-equiv": re.compile("refresh", re.I)}):
            continue  # index.html only redirects to the preface
        where = page.relative_to(SITE)
        assert document.title and document.title.get_text().endswith(title), where
        assert document.find("link", rel="icon", href=re.compile(r"_static/favicon\.png$")), where
        assert document.find("img", class_="logo__image", src=re.compile(r"_static/logo\.svg$")), where


def test_search_index_covers_every_page_of_the_book():
    text = (SITE / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    assert sorted(index["docnames"]) == sorted(toc_docnames())
    assert (SITE / "search.html").is_file()
