"""A Sphinx extension: the language switch of both editions, and the Chinese edition's launch buttons.

The English book is built into `_build/html/`, the Chinese one (tools/i18n.py build) into
`_build/html/zh_CN/`, page for page. Every page gets a header button, "中文" in the English edition and
"English" in the Chinese one, that leads to the same page in the other edition.

In the Chinese edition the launch buttons open Chinese notebooks, generated from the catalogs by
`python tools/i18n.py notebooks` (markdown translated, code identical; never committed):
- *Run in your browser* (在浏览器中运行) opens `zh_CN/book/<page>.ipynb` in the live book, which
  tools/build_live_site.py fills from `_build/zh_notebooks/`;
- *Binder* opens `_build/zh_notebooks/book/<page>.ipynb`, which the repository's `postBuild` writes
  when Binder builds the image;
- *Colab* opens the notebook on the branch ZH_NOTEBOOK_BRANCH, where publishing the book pushes the
  generated notebooks (Colab opens only files that are on GitHub);
- the download button serves the Chinese notebook (tools/i18n.py copies it into `_sources/`).

The exercise-set links in the text (download and live book) open the Chinese exercise notebooks,
`exercises/zh_CN/` (tools/exercise_i18n.py).
"""

from __future__ import annotations

import posixpath

from docutils import nodes, transforms
from sphinx import addnodes

ZH = "zh_CN"
ZH_NOTEBOOK_BRANCH = "zh_CN-notebooks"
LIVE_LABEL_ZH = "在浏览器中运行"
LIVE_TOOLTIP_ZH = "在浏览器中运行并编辑这个笔记本：无需安装，数据不会离开你的电脑"


def is_chinese(app) -> bool:
    return (app.config.language or "").replace("-", "_").startswith("zh")


def switch_target(pagename: str, chinese: bool) -> str:
    """The other edition's copy of `pagename`, relative to this page."""
    here = pagename.rsplit("/", 1)[0] if "/" in pagename else ""
    other = f"../{pagename}.html" if chinese else f"{ZH}/{pagename}.html"
    return posixpath.relpath(other, here or ".")


def _localise_launch_buttons(buttons: list, pagename: str) -> None:
    for button in buttons:
        if button.get("type") == "group":
            _localise_launch_buttons(button.get("buttons", []), pagename)
            continue
        url = button.get("url", "")
        notebook = f"book/{pagename.split('/', 1)[-1]}.ipynb" if pagename.startswith("book/") else None
        if notebook is None:
            continue
        if button.get("label") == "run-in-browser-button" or "/lite/" in url:
            # One folder deeper than the English page: the live book stays at _build/html/lite/.
            base = url.split("?", 1)[0]
            button.update(url=f"../{base}?path={ZH}/{notebook}", text=LIVE_LABEL_ZH, tooltip=LIVE_TOOLTIP_ZH)
        elif "mybinder" in url or "urlpath=" in url:
            button["url"] = url.replace(f"urlpath=lab/tree/{notebook}",
                                        f"urlpath=lab/tree/_build/zh_notebooks/{notebook}")
        elif "colab.research.google.com" in url:
            head, _, _ = url.partition("/blob/")
            button["url"] = f"{head}/blob/{ZH_NOTEBOOK_BRANCH}/{notebook}"


def _page_catalog(app):
    """The Chinese catalog of the page being read; None in the English edition or without one."""
    if not is_chinese(app):
        return None
    from os import path

    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    dirs = [path.join(app.srcdir, d) for d in app.config.locale_dirs]
    catalog, found = init_locale(dirs, app.config.language, domain, namespace="language_switch")
    return catalog if found else None


class ChineseDisplayMath(transforms.Transform):
    """Sphinx translates a display-math block by parsing "::" and the translation as a
    reStructuredText literal block; MyST reads that as the text "::", and the equation comes out
    empty (`\\[::\\]`). So the Chinese edition puts each display-math block's translation in place
    itself, just before Sphinx's Locale transform (priority 20), which then has nothing left to do."""

    default_priority = 19

    def apply(self) -> None:
        catalog = _page_catalog(self.document.settings.env.app)
        if catalog is None:
            return
        for node in self.document.findall(nodes.math_block):
            english = node.rawsource or node.astext()
            chinese = catalog.gettext(english)
            if chinese != english:
                node[:] = [nodes.Text(chinese)]
                node.rawsource = chinese


def _translate_what_sphinx_does_not(app, doctree) -> None:
    """Two kinds of text that Sphinx's own translation misses, from the page's catalog:
    - the part captions of the sidebar (Part I — Foundations, ...), which sphinx-external-toc adds
      from _toc.yml after Sphinx has translated the page;
    - the figures' alt texts (code-cell metadata, read by MyST-NB), which Sphinx never extracts;
      tools/i18n.py adds them to the catalogs."""
    catalog = _page_catalog(app)
    if catalog is None:
        return
    for node in doctree.findall(addnodes.toctree):
        if node.get("caption"):
            node["caption"] = catalog.gettext(node["caption"])
    for node in doctree.findall(nodes.image):
        if node.get("alt"):
            node["alt"] = catalog.gettext(node["alt"])


def _chinese_exercise_downloads(app, doctree) -> None:
    """In the Chinese edition a download link to an exercise set serves its Chinese notebook,
    `exercises/zh_CN/NAME.ipynb` (tools/exercise_i18n.py). Runs before Sphinx collects the files."""
    if not is_chinese(app):
        return
    from os import path

    for node in doctree.findall(addnodes.download_reference):
        target = node.get("reftarget", "")
        head, name = posixpath.split(target)
        if posixpath.basename(head) == "exercises" and name.endswith(".ipynb"):
            chinese = posixpath.join(head, ZH, name)
            here = path.dirname(app.env.doc2path(app.env.docname))
            if path.exists(path.join(here, *chinese.split("/"))):
                node["reftarget"] = chinese


def _add_switch(app, pagename, templatename, context, doctree) -> None:
    chinese = is_chinese(app)
    if chinese and "body" in context:
        # Links into the live book written in the text (the exercise-set links) are one folder
        # deeper in the Chinese edition, which sits in zh_CN/ beside it, and open the Chinese sets,
        # which tools/build_live_site.py puts in zh_CN/exercises/.
        context["body"] = (context["body"].replace('href="../lite/', 'href="../../lite/')
                           .replace("?path=exercises/", f"?path={ZH}/exercises/"))
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    if chinese:
        _localise_launch_buttons(buttons, pagename)
    buttons.insert(0, {
        "type": "link",
        "text": "English" if chinese else "中文",
        "tooltip": "Read this page in English" if chinese else "阅读本页的中文版",
        "icon": "fas fa-language",
        "url": switch_target(pagename, chinese),
        "label": "language-switch-button",
    })


def setup(app) -> dict:
    # After sphinx-book-theme's launch buttons (priority 500) and tools/live_button.py (900).
    app.connect("html-page-context", _add_switch, priority=950)
    app.add_transform(ChineseDisplayMath)
    app.connect("doctree-read", _translate_what_sphinx_does_not)
    app.connect("doctree-read", _chinese_exercise_downloads, priority=100)  # before Sphinx's (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
