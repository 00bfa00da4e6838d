"""The Chinese edition (中文版): message catalogs, coverage, the zh_CN HTML build and Chinese notebooks.

The Chinese edition is built from the same notebooks and pages as the English one, through Sphinx
internationalisation: every paragraph, heading, table cell, admonition and caption of the English
text is a message in a per-page catalog under `locales/zh_CN/LC_MESSAGES/` (for example
`locales/zh_CN/LC_MESSAGES/book/03-losses.po`), committed with the book. Code cells and their
outputs are not messages: they are shared by both editions. Commands:

    python tools/i18n.py update      # re-extract the English messages (book, exercise sets) into the catalogs
    python tools/i18n.py coverage    # translated / fuzzy / missing messages, per page (exit 1 if < 100 %)
    python tools/i18n.py glossary    # write book/appendix-glossary.md and its catalog from book/glossary.yml
    python tools/i18n.py notebooks   # Chinese notebooks (code identical) in _build/zh_notebooks/
    python tools/i18n.py build       # the Chinese HTML edition in _build/html/zh_CN/ (run by `make book`)
    python tools/i18n.py colab-branch  # commit the Chinese notebooks onto the branch zh_CN-notebooks

After an author edits a chapter, `update` marks each changed message *fuzzy* (with the old
translation kept as a suggestion) and adds each new one untranslated; `coverage` lists them and
tests/test_i18n.py fails until a translator has brought the catalog back to 100 % with 0 fuzzy.
The graded exercise sets have catalogs of their own, in `exercises/` beside `book/`: see
tools/exercise_i18n.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
GETTEXT_OUT = ROOT / "_build" / "gettext"
ZH_HTML = ROOT / "_build" / "html" / LANGUAGE
ZH_NOTEBOOKS = ROOT / "_build" / "zh_notebooks"
GLOSSARY = ROOT / "book" / "glossary.yml"
GLOSSARY_PAGE = ROOT / "book" / "appendix-glossary.md"

# Sphinx settings of the Chinese edition, on top of _config.yml (the English edition's settings).
ZH_OVERRIDES = {
    "language": LANGUAGE,
    "locale_dirs": [str(LOCALES)],
    "gettext_compact": False,  # one catalog per page: an author sees which page a message is on
    "gettext_uuid": False,
    "gettext_location": True,
    "html_search_language": "zh",  # Sphinx's Chinese search splits words with jieba
    "html_title": "从零实现反向传播 · Backpropagation from Scratch",  # the English name too: one book
    "nb_code_prompt_show": "显示代码单元格",
    "nb_code_prompt_hide": "隐藏代码单元格",
    "togglebutton_hint": "点击显示",  # the solutions' and hidden cells' toggles
    "togglebutton_hint_hide": "点击隐藏",
}


def _build(builder: str, outdir: Path, doctrees: Path, overrides: dict, *, strict: bool) -> int:
    from jupyter_book.sphinx import build_sphinx

    overrides = {"external_toc_path": str(ROOT / "_toc.yml"), "latex_individualpages": False, **overrides}
    result = build_sphinx(ROOT, outdir, use_external_toc=True, noconfig=True,
                          path_config=str(ROOT / "_config.yml"),
                          confoverrides=overrides, builder=builder, doctreedir=str(doctrees),
                          warningiserror=strict, keep_going=strict, force_all=True, freshenv=True)
    return 0 if result == 0 else 1


def extract(out: Path = GETTEXT_OUT) -> None:
    """The English messages, one .pot template per page, in _build/gettext/."""
    shutil.rmtree(out, ignore_errors=True)
    if _build("gettext", out, out.parent / f".doctrees-{out.name}",
              {"gettext_compact": False, "gettext_uuid": False}, strict=False):
        sys.exit("i18n: message extraction failed (see the Sphinx log above)")
    add_alt_texts(out)


def alt_texts(notebook: Path) -> list[tuple[int, str]]:
    """(cell index, alt text) of every figure: MyST-NB reads them from the code cells' metadata."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [(i, alt) for i, cell in enumerate(cells)
            if (alt := cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt"))]


def add_alt_texts(out: Path) -> None:
    """Sphinx's gettext builder does not extract an image's alt text; add the figures' alt texts
    to their page's template, so that the Chinese edition describes its figures in Chinese too
    (tools/language_switch.py puts the translations into the images)."""
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        template_path = out / notebook.relative_to(ROOT).with_suffix(".pot")
        found = alt_texts(notebook)
        if not found or not template_path.exists():
            continue
        template = _read_po(template_path)
        for index, alt in found:
            template.add(alt, locations=[(f"../../{notebook.relative_to(ROOT).as_posix()}", index)],
                         auto_comments=["alt text of a figure"])
        _write_po(template_path, template)


def _read_po(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f, locale=LANGUAGE, abort_invalid=True)


def _write_po(path: Path, catalog) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        # width=0 keeps each message on one line: readable diffs, one message per line.
        write_po(f, catalog, width=0, omit_header=False, include_previous=True, sort_output=False)


def merge(template, po_path: Path) -> None:
    """Bring the catalog at `po_path` in step with `template` (its English messages): new messages
    added empty, changed ones fuzzy (the old translation kept as a suggestion), removed ones dropped."""
    if po_path.exists():
        catalog = _read_po(po_path)
        created = catalog.creation_date  # a header date that changed on every run would only conflict
        catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
        catalog.creation_date = created
        catalog.obsolete.clear()  # git keeps the history; obsolete entries only confuse
    else:
        catalog = copy.deepcopy(template)
        catalog.locale = LANGUAGE
    catalog.project = "Backpropagation from Scratch"
    catalog.fuzzy = False
    _write_po(po_path, catalog)


def update() -> None:
    """Re-extract and merge: new messages added empty, changed ones fuzzy, removed ones dropped."""
    extract()
    seen = set()
    for template_path in sorted(GETTEXT_OUT.rglob("*.pot")):
        relative = template_path.relative_to(GETTEXT_OUT).with_suffix(".po")
        seen.add(relative)
        merge(_read_po(template_path), CATALOGS / relative)
    for po_path in sorted((CATALOGS / "book").rglob("*.po")):
        if po_path.relative_to(CATALOGS) not in seen:
            print(f"i18n: {po_path.relative_to(ROOT)} has no page any more: removed")
            po_path.unlink()
    if GLOSSARY.exists():
        glossary()
    import exercise_i18n  # the exercise sets' catalogs (locales/zh_CN/LC_MESSAGES/exercises/)

    exercise_i18n.update()
    coverage(strict=False)


def page_coverage() -> list[tuple[str, int, int, int]]:
    """(page, messages, translated and not fuzzy, fuzzy) for every catalog."""
    rows = []
    for po_path in sorted(CATALOGS.rglob("*.po")):
        catalog = _read_po(po_path)
        messages = [m for m in catalog if m.id]
        done = sum(1 for m in messages if m.string and not m.fuzzy)
        fuzzy = sum(1 for m in messages if m.fuzzy)
        rows.append((str(po_path.relative_to(CATALOGS).with_suffix("")), len(messages), done, fuzzy))
    return rows


def coverage(strict: bool = True) -> int:
    rows = page_coverage()
    width = max(len(r[0]) for r in rows)
    print(f"{'page':<{width}}  messages  translated  fuzzy  missing  coverage")
    total = done_total = fuzzy_total = 0
    for page, n, done, fuzzy in rows:
        total, done_total, fuzzy_total = total + n, done_total + done, fuzzy_total + fuzzy
        missing = n - done - fuzzy
        share = 100 * done / max(n, 1)
        print(f"{page:<{width}}  {n:8d}  {done:10d}  {fuzzy:5d}  {missing:7d}  {share:7.1f} %")
    print(f"{'all pages':<{width}}  {total:8d}  {done_total:10d}  {fuzzy_total:5d}  "
          f"{total - done_total - fuzzy_total:7d}  {100 * done_total / max(total, 1):7.1f} %")
    return 0 if (done_total == total or not strict) else 1


# --- Notebooks: markdown translated through the catalogs, code cells untouched -------------------

def translations(page: str) -> dict[str, str]:
    """msgid -> msgstr of one page's catalog (translated, not fuzzy), plus the site-wide ones."""
    table: dict[str, str] = {}
    for po_path in (CATALOGS / "sphinx.po", CATALOGS / f"{page}.po"):
        if po_path.exists():
            for m in _read_po(po_path):
                if m.id and m.string and not m.fuzzy:
                    table[m.id] = m.string
    return table


def _markdown_parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_plugin
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    md = MarkdownIt("commonmark").enable("table")
    for plugin in (amsmath_plugin, colon_fence_plugin, deflist_plugin, dollarmath_plugin, myst_block_plugin,
                   myst_role_plugin):
        md.use(plugin)
    return md


_PARSER = None


def _key(text: str) -> str:
    return text.replace("\n", " ").strip()


def translate_markdown(text: str, table: dict[str, str]) -> str:
    """The markdown `text` with each paragraph, heading, table cell and directive body translated."""
    global _PARSER
    if _PARSER is None:
        _PARSER = _markdown_parser()
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines)
    tokens = _PARSER.parse(text)
    in_table = False
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            in_table = True
        elif token.type == "table_close":
            in_table = False
        elif token.type == "inline" and token.map is not None and not in_table:
            start, end = token.map
            new = table.get(_key(token.content))
            if new is None:
                continue
            opener = tokens[i - 1]
            if opener.type == "heading_open" and opener.markup.startswith("#"):
                edits.append((start, end, [f"{opener.markup} {new}"]))
                continue
            first = token.content.split("\n", 1)[0]
            at = lines[start].find(first)
            prefix = lines[start][:at] if at >= 0 else ""
            edits.append((start, end, [prefix + new.replace("\n", " ")]))
        elif token.type == "inline" and in_table and token.content.strip() in table:
            row = tokens_row_line(tokens, i)
            if row is not None:
                cell = token.content.strip()
                lines[row] = lines[row].replace(f"| {cell} |", f"| {table[cell]} |", 1)
        elif token.type in ("math_block", "math_block_label") and token.map and token.content in table:
            # display math: its words (\text{...}) are translated too; the message is the LaTeX
            start, end = token.map
            block = "\n".join(lines[start:end])
            if token.content in block:
                edits.append((start, end, block.replace(token.content, table[token.content], 1).split("\n")))
        elif token.type in ("fence", "colon_fence") and token.info.startswith("{") and token.map:
            start, end = token.map
            body = token.content.split("\n")
            options = 0
            while options < len(body) and body[options].startswith(":"):
                options += 1
            translated = translate_markdown("\n".join(body[options:]), table).split("\n")
            name, _, argument = token.info.partition("}")
            argument = argument.strip()
            head = lines[start]
            if argument and argument in table:
                head = head.replace(argument, table[argument], 1)
            indent = re.match(r"\s*", lines[start]).group(0)
            closing = lines[end - 1] if end - 1 > start else indent + token.markup
            new_body = [indent + line if line else line for line in body[:options] + translated]
            if new_body and new_body[-1] == "":
                new_body = new_body[:-1]
            edits.append((start, end, [head, *new_body, closing]))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    return "\n".join(lines)


def tokens_row_line(tokens, i: int) -> int | None:
    for j in range(i, -1, -1):
        if tokens[j].type == "tr_open" and tokens[j].map:
            return tokens[j].map[0]
    return None


def translate_notebook(source: Path, page: str) -> dict:
    notebook = json.loads(source.read_text(encoding="utf-8"))
    table = translations(page)
    for cell in notebook["cells"]:
        image = cell.get("metadata", {}).get("mystnb", {}).get("image", {})
        if image.get("alt") in table:
            image["alt"] = table[image["alt"]]
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            new = translate_markdown(text, table)
            cell["source"] = new.splitlines(keepends=True)
    return notebook


def notebooks(into: Path = ZH_NOTEBOOKS) -> list[Path]:
    """Chinese copies of every book notebook, generated from the catalogs (never committed)."""
    written = []
    for source in sorted((ROOT / "book").glob("*.ipynb")):
        page = source.relative_to(ROOT).with_suffix("").as_posix()
        target = into / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(translate_notebook(source, page), ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


# --- Colab: the Chinese notebooks on a branch of their own -----------------------------------------

from language_switch import ZH_NOTEBOOK_BRANCH as NOTEBOOK_BRANCH  # noqa: E402 (the Colab buttons open it)


def _git(repo: Path, *args: str, env: dict | None = None) -> str:
    import os
    import subprocess

    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def notebook_branch(repo: Path = ROOT, generated: Path = ZH_NOTEBOOKS, branch: str = NOTEBOOK_BRANCH) -> str:
    """Commit the Chinese notebooks onto `branch`: the tree of HEAD with every book/*.ipynb replaced
    by its Chinese version from `generated` (run `notebooks` first), so that a Chinese notebook on
    Colab finds its images and data where the English one does. The work tree and the current
    branch are not touched. The branch advances only when the notebooks change. Returns its commit.
    Colab opens only what is on GitHub: push the branch when publishing (see the README)."""
    import tempfile

    head = _git(repo, "rev-parse", "HEAD")
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(repo, "read-tree", head, env=index)
        for notebook in sorted((generated / "book").glob("*.ipynb")):
            path = f"book/{notebook.name}"
            blob = _git(repo, "hash-object", "-w", "--path", path, str(notebook))
            _git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
        tree = _git(repo, "write-tree", env=index)
    try:
        parent = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    except RuntimeError:
        parent = ""
    if parent and _git(repo, "rev-parse", f"{parent}^{{tree}}") == tree:
        return parent
    who = {"GIT_AUTHOR_NAME": "backprop-book", "GIT_AUTHOR_EMAIL": "book@localhost",
           "GIT_COMMITTER_NAME": "backprop-book", "GIT_COMMITTER_EMAIL": "book@localhost"}
    message = f"The Chinese notebooks (tools/i18n.py notebooks) of {head[:12]}, for Colab"
    commit = _git(repo, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message, env=who)
    _git(repo, "update-ref", f"refs/heads/{branch}", commit)
    return commit


# --- Glossary: one source, both editions ----------------------------------------------------------

GLOSSARY_HEAD_EN = """\
(appendix-glossary)=
# Glossary

The terms of the book in alphabetical order, with the usual Chinese term and a one-line definition
in the sense the book uses. The last column points to the chapter where the term is introduced or
worked out; the symbols are listed in {ref}`appendix-notation`.

<!-- Generated by `python tools/i18n.py glossary` from book/glossary.yml: edit that file, not this one. -->

| English | 中文 | definition | chapter |
|---|---|---|---|
"""


# The glossary page's own text in Chinese (its table's rows come from book/glossary.yml).
GLOSSARY_PAGE_ZH = {
    "Glossary": "术语表",
    "The terms of the book in alphabetical order, with the usual Chinese term and a one-line definition "
    "in the sense the book uses. The last column points to the chapter where the term is introduced or "
    "worked out; the symbols are listed in {ref}`appendix-notation`.":
    "本书的术语按英文字母顺序排列，附有通用的中文译名和一句话释义（取本书所用的含义）。最后一列指向引入或详细讨论该术语的章；"
    "符号列在 {ref}`appendix-notation` 中。",
    "English": "英文",
    "中文": "中文",
    "definition": "释义",
    "chapter": "章",
}


def load_glossary() -> list[dict]:
    import yaml

    return yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))["terms"]


def _chapter_link(term: dict, *, zh: bool = False) -> str:
    """The last column: a numbered chapter ({numref}), or an unnumbered one by its title ({ref})."""
    if "chapter_title" in term:
        title = term["chapter_title_zh" if zh else "chapter_title"]
        return f"{{ref}}`{title} <{term['chapter']}>`"
    return f"{{numref}}`{'第 %s 章' if zh else 'Ch. %s'} <{term['chapter']}>`"


def glossary_page() -> str:
    rows = []
    for term in load_glossary():
        rows.append(f"| {term['en']} | {term['zh_display']} | {term['definition']} | "
                    f"{_chapter_link(term)} |")
    return GLOSSARY_HEAD_EN + "\n".join(rows) + "\n"


def glossary() -> None:
    """Write the English glossary page and fill its catalog's definitions from book/glossary.yml."""
    GLOSSARY_PAGE.write_text(glossary_page(), encoding="utf-8")
    po_path = CATALOGS / "book" / "appendix-glossary.po"
    if not po_path.exists():
        return
    catalog = _read_po(po_path)
    known = dict(GLOSSARY_PAGE_ZH)
    for term in load_glossary():
        known[_chapter_link(term)] = _chapter_link(term, zh=True)

        known[term["en"]] = term["en"]
        known[term["zh_display"]] = term["zh_display"]
        known[term["definition"]] = term["definition_zh"]
    for message in catalog:
        if message.id in known and known[message.id]:
            message.string = known[message.id]
            message.flags.discard("fuzzy")
    _write_po(po_path, catalog)


# --- The Chinese HTML edition ----------------------------------------------------------------------

def search_dictionary(path: Path = ROOT / "_build" / "jieba-glossary.txt") -> Path:
    """jieba's user dictionary: every Chinese glossary term, so that the search index keeps
    反向传播 or 梯度下降 as one word (jieba alone splits them into 反向 / 传播), as readers type them."""
    words = set()
    for term in load_glossary():
        for text in (term["zh"], term["zh_display"]):
            words.update(w for w in re.split(r"[\s（）()、，/$]+", text) if re.search("[\u4e00-\u9fff]", w))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} 100000 n\n" for w in sorted(words)), encoding="utf-8")
    return path


def build() -> int:
    """The Chinese edition into _build/html/zh_CN/, then its notebooks into the download links."""
    written = notebooks()
    overrides = {**ZH_OVERRIDES, "html_search_options": {"dict": str(search_dictionary())}}
    status = _build("html", ZH_HTML, ROOT / "_build" / ".doctrees-zh_CN", overrides, strict=True)
    # The theme's Jinja macro files, copied into every _static/, are not pages: in zh_CN/ they would
    # pass for pages of the site (the English edition's checks skip only its own _static/).
    for macros in ZH_HTML.glob("_static/*webpack-macros.html"):
        macros.unlink()
    # The download button serves _sources/<page>.ipynb: the Chinese edition serves the Chinese one.
    for notebook in written:
        target = ZH_HTML / "_sources" / notebook.relative_to(ZH_NOTEBOOKS)
        if target.parent.exists():
            shutil.copyfile(notebook, target)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command",
                        choices=["extract", "update", "coverage", "glossary", "notebooks", "build",
                                 "colab-branch"])
    args = parser.parse_args(argv)
    if args.command == "extract":
        extract()
    elif args.command == "update":
        update()
    elif args.command == "coverage":
        return coverage()
    elif args.command == "glossary":
        glossary()
    elif args.command == "notebooks":
        print(f"i18n: {len(notebooks())} Chinese notebooks in {ZH_NOTEBOOKS.relative_to(ROOT)}/")
    elif args.command == "build":
        return build()
    elif args.command == "colab-branch":
        notebooks()
        commit = notebook_branch()
        print(f"i18n: the Chinese notebooks are on branch {NOTEBOOK_BRANCH} ({commit[:12]}); publish them "
              f"with `git push origin {NOTEBOOK_BRANCH}` (the Chinese edition's Colab buttons open it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
