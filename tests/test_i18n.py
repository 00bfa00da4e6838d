"""The Chinese edition (中文版): catalogs in step with the English text, translations that keep the
math, roles and labels, one terminology, Chinese notebooks with identical code, and the built site.

tools/i18n.py manages the catalogs in locales/zh_CN/LC_MESSAGES/ (see its docstring and the README).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import i18n  # noqa: E402
import test_browser  # noqa: E402  (tests/ is on sys.path: its offline Chromium and site server)
from test_browser import base_url, browser  # noqa: E402, F401  (fixtures)

ZH_SITE = ROOT / "_build" / "html" / "zh_CN"
EN_SITE = ROOT / "_build" / "html"


def catalogs() -> dict[str, list]:
    return {str(p.relative_to(i18n.CATALOGS)): [m for m in i18n._read_po(p) if m.id]
            for p in sorted(i18n.CATALOGS.rglob("*.po"))}


def translated() -> list[tuple[str, str, str]]:
    """(catalog, msgid, msgstr) of every translated message."""
    return [(name, m.id, m.string) for name, messages in catalogs().items() for m in messages
            if m.string and not m.fuzzy]


# ------------------------------------------------------------------------- the drift guard

def test_every_page_has_a_catalog():
    pages = {p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").glob("*.ipynb")}
    pages |= {p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").glob("*.md")}
    have = {name.removesuffix(".po") for name in catalogs()}
    assert pages <= have, (f"pages without a catalog: {sorted(pages - have)}; "
                           "run `python tools/i18n.py update`")


def test_catalogs_are_fully_translated_with_no_fuzzy_entry():
    missing = {}
    for name, messages in catalogs().items():
        bad = [m.id[:70] for m in messages if not m.string or m.fuzzy]
        if bad:
            missing[name] = bad
    assert not missing, ("untranslated or fuzzy messages (run `python tools/i18n.py coverage`, "
                         "translate them "
                         "in locales/zh_CN/LC_MESSAGES/):\n" +
                         "\n".join(f"{k}: {len(v)}, e.g. {v[0]!r}" for k, v in missing.items()))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The English messages as the current sources give them (a gettext build, about a minute)."""
    out = tmp_path_factory.mktemp("extract") / "gettext"
    i18n.extract(out)
    return {str(p.relative_to(out).with_suffix(".po")): {m.id for m in i18n._read_po(p) if m.id}
            for p in out.rglob("*.pot")}


def test_catalogs_hold_every_current_english_message(extracted):
    """After an author edits a chapter this fails until `python tools/i18n.py update` has run."""
    have = {name: {m.id for m in messages} for name, messages in catalogs().items()}
    stale = {name: sorted(ids - have.get(name, set()))[:3] for name, ids in extracted.items()
             if ids - have.get(name, set())}
    assert not stale, ("English messages missing from the catalogs "
                       f"(run `python tools/i18n.py update`): {stale}")


def test_figure_alt_texts_are_messages(extracted):
    alts = [alt for _, alt in i18n.alt_texts(ROOT / "book" / "07-gradient-descent.ipynb")]
    if not alts:
        pytest.skip("chapter 7 has no alt texts yet (issue 13 adds them)")
    assert set(alts) <= extracted["book/07-gradient-descent.po"]


def test_code_cells_and_outputs_are_not_messages(extracted):
    every = {m for ids in extracted.values() for m in ids}
    assert not [m for m in every if m.startswith(("import ", "from backprop", "print("))]
    assert not [m for m in every if m.startswith(("array(", "<Figure size"))]


# ------------------------------------------------------------- math, roles and labels intact

MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
ROLE = re.compile(r"\{([a-z:-]+)\}`([^`]*)`")
LABEL = re.compile(r"^\(([\w:-]+)\)=", re.M)
CODE = re.compile(r"(?<![`}])`([^`]+)`")


def invariants(text: str) -> Counter:
    """What a translation must keep: math spans, role names and their targets, labels, inline code."""
    found: Counter = Counter()
    found.update(f"math:{m}" for m in MATH.findall(text))
    for role, content in ROLE.findall(text):
        target = re.search(r"<([^<>]+)>\s*$", content)
        found[f"role:{role}:{target.group(1) if target else content}"] += 1
    found.update(f"label:{m}" for m in LABEL.findall(text))
    found.update(f"code:{m}" for m in CODE.findall(ROLE.sub("", text)))
    return found


def test_translations_keep_math_roles_labels_and_code():
    broken = []
    for name, source, target in translated():
        want, got = invariants(source), invariants(target)
        if want != got:
            broken.append(f"{name}: {source[:60]!r}\n    lost {dict(want - got)}, added {dict(got - want)}")
    assert not broken, "translations that change math, roles, labels or code:\n" + "\n".join(broken)


@pytest.mark.parametrize("source, target", [
    ("the loss $L = (y - t)^2$ is", "损失 $L = (y - t)^2$ 是"),
    ("see {numref}`Ch. %s <ch-losses>` and `Linear`", "见 {numref}`第 %s 章 <ch-losses>` 和 `Linear`"),
])
def test_a_faithful_translation_passes(source, target):
    assert invariants(source) == invariants(target)


@pytest.mark.parametrize("source, target", [
    ("the loss $L = (y - t)^2$ is", "损失 $L = (y - t)$ 是"),                 # math altered
    ("the loss $L$ and $y$", "损失 $L$ 和 y"),                                 # math dropped
    ("see {numref}`Ch. %s <ch-losses>`", "见 {numref}`第 %s 章 <ch-loss>`"),     # label altered
    ("see {ref}`appendix-notation`", "见符号表"),                                 # role dropped
    ("call `loss.backward()`", "调用 `loss.反向()`"),                             # code translated
])
def test_a_translation_that_breaks_them_is_caught(source, target):
    assert invariants(source) != invariants(target)


# ------------------------------------------------------------------------------ terminology

# The core terms: wherever the English message uses the term, its translation uses this form.
CORE = ("backpropagation", "gradient descent", "learning rate", "loss function", "activation function",
        "chain rule", "computational graph", "momentum")


def _prose(text: str) -> str:
    return re.sub(r"<[^>]+>", "", CODE.sub("", ROLE.sub("", MATH.sub("", text))))  # no markup, no URLs


def test_glossary_page_is_generated_from_the_glossary_source():
    assert i18n.GLOSSARY_PAGE.read_text(encoding="utf-8") == i18n.glossary_page(), (
        "book/appendix-glossary.md differs from book/glossary.yml: run `python tools/i18n.py glossary`")


def test_glossary_terms_are_unique_and_variants_are_not_their_own_terms():
    terms = i18n.load_glossary()
    assert len({t["en"] for t in terms}) == len(terms)
    for term in terms:
        for variant in term["variants"]:
            assert not re.search(variant, term["zh"]), term


def test_each_term_has_one_chinese_form_throughout():
    terms = i18n.load_glossary()
    variants = [(t["zh"], re.compile(v)) for t in terms for v in t["variants"]]
    core = {t["en"]: t["zh"] for t in terms if t["en"] in CORE}
    assert set(core) == set(CORE)
    problems = []
    for name, source, target in translated():
        for canonical, variant in variants:
            if hit := variant.search(target):
                problems.append(f"{name}: {hit.group(0)!r}, not {canonical!r}, in {target[:50]!r}")
        for english, chinese in core.items():
            # e.g. the glossary's English column, or a cited title kept as published
            kept_as_is = target == source or re.search(rf"\b{english}\b", _prose(target), re.I)
            used = re.search(rf"\b{english}\b", _prose(source), re.I)
            if used and chinese not in target and not kept_as_is:
                problems.append(f"{name}: {english!r} not translated as {chinese!r} in {target[:50]!r}")
    assert not problems, "\n".join(problems)


def test_a_variant_term_is_caught():
    terms = {t["zh"]: t for t in i18n.load_glossary()}
    assert any(re.search(v, "用学习速率乘以梯度") for v in terms["学习率"]["variants"])
    assert any(re.search(v, "海森矩阵的特征值") for v in terms["黑塞矩阵"]["variants"])
    assert not any(re.search(v, "梯度检查点") for v in terms["梯度检验"]["variants"])


# ------------------------------------------------------------------ notebooks from catalogs

def test_translate_markdown_replaces_prose_and_keeps_structure():
    table = {"Title here": "标题", "A paragraph over two lines with $x$.": "一段含 $x$ 的文字。",
             "an item": "一项", "Inside a note.": "注释里的话。", "cell": "单元格"}
    source = ("(label-x)=\n# Title here\n\nA paragraph\nover two lines with $x$.\n\n- an item\n\n"
              "```{note}\nInside a note.\n```\n\n$$\ny = x\n$$\n\n| a | b |\n|---|---|\n| cell | 1 |")
    result = i18n.translate_markdown(source, table)
    assert result == ("(label-x)=\n# 标题\n\n一段含 $x$ 的文字。\n\n- 一项\n\n"
                      "```{note}\n注释里的话。\n```\n\n"
                      "$$\ny = x\n$$\n\n| a | b |\n|---|---|\n| 单元格 | 1 |")


def test_translate_markdown_translates_the_words_of_display_math():
    source = "Then\n\n$$\n\\text{heavy ball:}\\ \\eta = 1\n$$ (eq-x)\n\nand $$a = b$$ here."
    table = {"\n\\text{heavy ball:}\\ \\eta = 1\n": "\n\\text{重球法：}\\ \\eta = 1\n", "Then": "于是"}
    assert i18n.translate_markdown(source, table) == (
        "于是\n\n$$\n\\text{重球法：}\\ \\eta = 1\n$$ (eq-x)\n\nand $$a = b$$ here.")


def test_chinese_notebooks_have_identical_code_and_translated_markdown(tmp_path):
    import json

    written = i18n.notebooks(tmp_path)
    assert len(written) == len(list((ROOT / "book").glob("*.ipynb")))
    changed = 0
    for path in written:
        zh = json.loads(path.read_text(encoding="utf-8"))
        en = json.loads((ROOT / path.relative_to(tmp_path)).read_text(encoding="utf-8"))
        assert len(zh["cells"]) == len(en["cells"]), path
        for a, b in zip(en["cells"], zh["cells"], strict=True):
            assert a["cell_type"] == b["cell_type"]
            if a["cell_type"] == "code":
                # the code and its outputs are shared; only the figure's alt text and caption
                # (metadata, prose) are translated
                prose = {"mystnb"}
                assert {k: v for k, v in a.items() if k != "metadata"} == \
                    {k: v for k, v in b.items() if k != "metadata"}, f"{path.name}: a code cell differs"
                assert {k: v for k, v in a["metadata"].items() if k not in prose} == \
                    {k: v for k, v in b["metadata"].items() if k not in prose}, f"{path.name}: cell metadata"
            else:
                changed += a["source"] != b["source"]
    if translated():
        assert changed, "no markdown cell was translated"


# -------------------------------------------------------------------------- the built site

SWITCH = re.compile(r'href="([^"]+)"[^>]*>\s*<span class="btn__icon-container">\s*'
                    r'<i class="fas fa-language">')


def _built():
    if not (ZH_SITE / "book" / "01-neurons.html").is_file():
        pytest.skip("no Chinese edition at _build/html/zh_CN (run `make book` first)")


def test_chinese_site_is_chinese_and_every_page_links_to_its_english_twin():
    _built()
    for page in sorted((ZH_SITE / "book").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert '<html lang="zh-CN"' in html, page.name
        twin = SWITCH.search(html)
        assert twin, f"{page.name}: no language switch"
        assert (page.parent / twin.group(1)).resolve() == (EN_SITE / "book" / page.name).resolve()


def test_english_pages_link_to_their_chinese_twin():
    _built()
    for page in sorted((EN_SITE / "book").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        twin = SWITCH.search(html)
        assert twin, f"{page.name}: no language switch"
        assert (page.parent / twin.group(1)).resolve() == (ZH_SITE / "book" / page.name).resolve()


def test_chinese_launch_buttons_open_chinese_notebooks():
    _built()
    html = (ZH_SITE / "book" / "07-gradient-descent.html").read_text(encoding="utf-8")
    assert "../../lite/notebooks/index.html?path=zh_CN/book/07-gradient-descent.ipynb" in html
    assert "urlpath=lab/tree/_build/zh_notebooks/book/07-gradient-descent.ipynb" in html
    download = ZH_SITE / "_sources" / "book" / "07-gradient-descent.ipynb"
    assert download.read_bytes() == (i18n.ZH_NOTEBOOKS / "book" / download.name).read_bytes()


def test_no_translated_message_is_shown_in_english_on_its_chinese_page():
    """Sphinx keeps the English when a translation does not parse as the same kind of node (a table
    cell "1. 神经元…" parses as a list: write "1\\. 神经元…"). A plain message of four words or more
    that has a translation must not appear word for word on its Chinese page (code aside)."""
    _built()
    import html as html_module

    shown_in_english = []
    for po_path in sorted((i18n.CATALOGS / "book").glob("*.po")):
        page = ZH_SITE / "book" / f"{po_path.stem}.html"
        markup = re.sub(r"<(pre|code|script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"),
                        flags=re.S)
        text = " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
        for message in i18n._read_po(po_path):
            plain = " ".join(message.id.split())
            if (message.string and message.string != message.id and len(plain.split()) >= 4
                    and not re.search(r"[`$*{}<>\[\]_\\]", plain) and plain in text):
                shown_in_english.append(f"{po_path.stem}: {plain[:70]!r}")
    assert not shown_in_english, "\n".join(shown_in_english)


def test_translated_display_math_is_shown_not_emptied():
    """Sphinx's own translation of a display-math block gave an empty equation, `\\[::\\]`, under
    MyST (tools/language_switch.py's ChineseDisplayMath puts the translation in place instead)."""
    _built()
    import html as html_module

    emptied = [p.name for p in sorted((ZH_SITE / "book").glob("*.html"))
               if "\\[::\\]" in p.read_text(encoding="utf-8")]
    assert not emptied, f"empty equations on {emptied}"
    translated = 0
    for po_path in sorted((i18n.CATALOGS / "book").glob("*.po")):
        page = (ZH_SITE / "book" / f"{po_path.stem}.html").read_text(encoding="utf-8")
        for message in i18n._read_po(po_path):
            display_math = message.id.startswith("\n") or ("\\" in message.id and "$" not in message.id
                                                            and " " not in message.id.split("\\", 1)[0])
            if display_math and message.string and message.string != message.id:
                translated += 1
                shown = html_module.escape(message.string.strip(), quote=False)
                assert shown in page, (po_path.stem, message.id[:60])
    assert translated >= 10


def test_chinese_exercise_links_open_the_chinese_exercise_sets():
    _built()
    html = (ZH_SITE / "book" / "exercise-sets.html").read_text(encoding="utf-8")
    live = re.findall(r'href="([^"]*lite/notebooks/index.html\?path=[^"]+)"', html)
    assert live and all("path=zh_CN/exercises/" in link for link in live), live
    downloads = re.findall(r'href="(\.\./_downloads/[^"]+\.ipynb)"', html)
    assert len(downloads) == len(list((ROOT / "exercises").glob("*.ipynb")))
    for link in downloads:
        served = (ZH_SITE / "book" / link).resolve()
        assert served.read_bytes() == (ROOT / "exercises" / "zh_CN" / served.name).read_bytes(), link
    chapter = (ZH_SITE / "book" / "03-losses.html").read_text(encoding="utf-8")
    assert "path=zh_CN/exercises/ch03-losses.ipynb" in chapter


def test_colab_branch_holds_the_chinese_notebooks_the_buttons_open(tmp_path):
    """`tools/i18n.py colab-branch` commits the Chinese notebooks onto zh_CN-notebooks (HEAD's tree,
    book/*.ipynb in Chinese), without touching the work tree; the Colab buttons open that branch."""
    import json
    import subprocess

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    generated = tmp_path / "generated"
    i18n.notebooks(generated)
    commit = i18n.notebook_branch(repo=clone, generated=generated)
    assert i18n.notebook_branch(repo=clone, generated=generated) == commit, "no change, no new commit"
    assert i18n._git(clone, "status", "--porcelain") == "", "the work tree is not touched"
    assert i18n._git(clone, "branch", "--show-current") != i18n.NOTEBOOK_BRANCH
    files = set(i18n._git(clone, "ls-tree", "-r", "--name-only", i18n.NOTEBOOK_BRANCH).splitlines())
    assert files == set(i18n._git(clone, "ls-tree", "-r", "--name-only", "HEAD").splitlines())
    for english in sorted((clone / "book").glob("*.ipynb")):
        shown = i18n._git(clone, "show", f"{i18n.NOTEBOOK_BRANCH}:book/{english.name}")
        assert json.loads(shown) == json.loads((generated / "book" / english.name).read_bytes())
    if (ZH_SITE / "book" / "03-losses.html").is_file():
        html = (ZH_SITE / "book" / "03-losses.html").read_text(encoding="utf-8")
        colab = re.search(r'href="https://colab.research.google.com/github/[^"]+/blob/([^/"]+)/([^"]+)"',
                          html)
        assert colab and colab.groups() == (i18n.NOTEBOOK_BRANCH, "book/03-losses.ipynb"), colab
        assert colab.group(2) in files


def test_chinese_search_index_is_split_into_chinese_words():
    _built()
    import json

    text = (ZH_SITE / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    assert "反向传播" in index["terms"], "反向传播 is not a search term: is jieba installed?"
    assert "梯度下降" in index["terms"]


# ------------------------------------------------------------------- in Chromium, offline

@pytest.fixture(scope="module")
def zh(browser, base_url):  # noqa: F811  (the fixtures imported from test_browser)
    """The Chinese edition in the offline browser of tests/test_browser.py (the site is served from
    _build/html, so the switch back to English and the shared live book resolve too)."""
    _built()
    session = test_browser.OfflineBrowser(browser, viewport=test_browser.DESKTOP)
    yield session, base_url + "zh_CN/"
    session.close()


def test_chinese_pages_show_typeset_math_offline(zh):
    session, url = zh
    for name in ("book/00-preface.html", "book/03-losses.html", "book/appendix-notation.html"):
        page, visit = session.open(url + name, "zh_CN/" + name)
        assert visit.probe["mathjax"] in ("typeset", "not needed"), (name, visit.probe["mathjax"])
        assert not visit.probe["untypeset"] and not visit.probe["math_errors"], (name, visit.probe)
        assert not visit.problems, "\n".join(visit.problems)
        page.close()


def test_chinese_chapter_7_slider_works(zh):
    session, url = zh
    page, visit = session.open(url + test_browser.CHAPTER_7, "zh_CN/" + test_browser.CHAPTER_7)
    animation = test_browser._chapter_7_animation(page, visit)
    animation.scroll_into_view_if_needed()
    test_browser._move_slider_and_check(page, animation)
    assert not visit.problems, "\n".join(visit.problems)
    page.close()


def test_chinese_glyphs_come_from_the_shipped_font(zh):
    if not (ZH_SITE / "_static" / "book-cjk.woff2").is_file():
        pytest.skip("no CJK font subset in the Chinese edition (tools/cjk_font.py, issue 13, makes it)")
    session, url = zh
    page, visit = session.open(url + "book/00-preface.html", "zh_CN/book/00-preface.html")
    loaded = page.evaluate("""async () => {
      const heading = document.querySelector('main h1');
      await document.fonts.load('16px "Book CJK"', heading.textContent);
      return [...document.fonts].filter(f => f.family.includes('Book CJK') && f.status === 'loaded').length;
    }""")
    assert loaded, "the Chinese headings are not drawn with the shipped font subset"
    assert not visit.problems, "\n".join(visit.problems)
    page.close()


def test_chinese_search_finds_the_chapters_on_backpropagation(zh):
    session, url = zh
    test_browser.assert_search_finds_the_preface(session, url + "search.html?q=反向传播", "zh_CN/search")


def test_language_switch_leads_to_the_same_page(zh):
    session, url = zh
    page, visit = session.open(url + "book/appendix-faq.html", "zh_CN/book/appendix-faq.html")
    target = page.locator("a.btn-language-switch-button").first.get_attribute("href")
    page.goto(page.url.rsplit("/", 1)[0] + "/" + target)
    assert page.url.endswith("/book/appendix-faq.html") and "/zh_CN/" not in page.url
    page.close()
