"""The graded exercise sets in Chinese (tools/exercise_i18n.py): the catalogs in step with the English
sets, the Chinese notebooks and tests generated from them unchanged since, the same questions and the
same tests (only their strings translated), and checks that speak Chinese in the Chinese notebooks.

That the batch grader grades a Chinese notebook exactly as the English one is in tests/test_grading.py;
that the Chinese checks catch every planted mistake the English ones catch, in
tests/test_exercises_mistakes.py.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from backprop_checks import Checks, load_set, load_test_file
from backprop_checks.checks import load_translated_tests
from backprop_checks.i18n import tr, using
from grading import EXERCISE_SETS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import exercise_i18n  # noqa: E402
import i18n  # noqa: E402

CJK = re.compile("[\u4e00-\u9fff]")


def test_every_exercise_set_has_a_catalog_holding_its_current_english_messages():
    """After an author edits a master and runs `make exercises`, this fails until
    `python tools/i18n.py update` has brought the new English messages into the catalogs."""
    assert exercise_i18n.exercise_sets() == sorted(EXERCISE_SETS)
    for name in exercise_i18n.catalog_names():
        path = exercise_i18n.CATALOGS / f"{name}.po"
        assert path.exists(), f"{name} has no catalog: run `python tools/i18n.py update`"
        want = {m.id for m in exercise_i18n.template_catalog(name) if m.id}
        have = {m.id for m in i18n._read_po(path) if m.id}
        assert want == have, (f"{path.relative_to(ROOT)} is out of step with the English set (run "
                              f"`python tools/i18n.py update`): new {sorted(want - have)[:2]}, "
                              f"gone {sorted(have - want)[:2]}")


def test_committed_chinese_sets_equal_what_make_exercises_generates(tmp_path):
    exercise_i18n.build(exercises=tmp_path / "exercises", sets=tmp_path / "sets")
    pairs = [(tmp_path / "exercises", exercise_i18n.EXERCISES / "zh_CN"),
             (tmp_path / "sets", exercise_i18n.SETS / "zh_CN")]
    for generated_folder, committed_folder in pairs:
        generated = {p.name: p.read_text(encoding="utf-8") for p in generated_folder.iterdir()}
        committed = {p.name: p.read_text(encoding="utf-8") for p in committed_folder.iterdir()}
        stale = sorted(name for name in generated.keys() | committed.keys()
                       if generated.get(name) != committed.get(name))
        assert not stale, (f"{committed_folder.relative_to(ROOT)}: {stale} are stale: run `make exercises` "
                           "and commit")


@pytest.mark.parametrize("name", EXERCISE_SETS)
def test_chinese_tests_are_the_english_tests_with_translated_strings(name):
    english = load_set(name)["questions"]
    chinese = load_translated_tests(name, "zh_CN")
    assert list(chinese) == list(english), "the same questions, in the same order"
    for question, data in english.items():
        assert exercise_i18n.masked(chinese[question]) == exercise_i18n.masked(data["tests"]), (
            f"{name} {question}: the Chinese tests differ from the English ones in more than their strings")
        en, zh = load_test_file(data["tests"], question), load_test_file(chinese[question], question)
        assert [(c.name, c.hidden, c.points) for c in zh.cases] == \
               [(c.name, c.hidden, c.points) for c in en.cases]
        assert zh.points == en.points
        for case in zh.cases:  # Chinese, unless it is only a formula, e.g. "f(0.5, -1.5) = tanh(...) * -1.5"
            words = re.sub(r"[A-Za-z_][\w.]*\(", "(", case.description)
            assert CJK.search(case.description) or not re.search("[A-Za-z]{3}", words), (
                f"{name} {question}: {case.description!r} is in English")


@pytest.mark.parametrize("name", EXERCISE_SETS)
def test_chinese_notebook_has_the_same_cells_and_code(name):
    english = json.loads((ROOT / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8"))
    chinese = json.loads((ROOT / "exercises" / "zh_CN" / f"{name}.ipynb").read_text(encoding="utf-8"))
    assert chinese["metadata"]["otter"] == english["metadata"]["otter"]  # the grader identifies the set by it
    assert chinese["metadata"]["language"] == "zh_CN"
    assert [(c["id"], c["cell_type"], c["metadata"]) for c in chinese["cells"]] == \
           [(c["id"], c["cell_type"], c["metadata"]) for c in english["cells"]]
    from backprop_checks import SETUP_FIRST

    chinese_setup_first = tr(SETUP_FIRST, "zh_CN")
    assert CJK.search(chinese_setup_first)
    for en, zh in zip(english["cells"], chinese["cells"], strict=True):
        en_text, zh_text = "".join(en["source"]), "".join(zh["source"])
        if en["cell_type"] == "code":
            expected = re.sub(rf'Checks\("{name}"(.*?)\)', rf'Checks("{name}"\1, language="zh_CN")', en_text)
            expected = expected.replace(repr(SETUP_FIRST), repr(chinese_setup_first))
            assert zh_text == expected
        elif en["cell_type"] == "markdown":
            assert CJK.search(zh_text), f"{name}: a markdown cell is not translated: {en_text[:60]!r}"


def test_checks_speak_chinese_in_the_chinese_notebooks():
    def central_difference(f, x, h=1e-5):
        return (f(x + h) - f(x - h)) / (2 * h)

    grader = Checks("ch02-chain-rule", language="zh_CN")
    report = grader.check("q1", global_env={"central_difference": central_difference})
    assert report.passed and CJK.search(repr(report)) and "passed" not in repr(report)
    blank = grader.check("q1", global_env={})
    assert not blank.passed
    assert all(CJK.search(case.detail) for case in blank.cases), blank  # "`central_difference` 还没有定义…"
    assert CJK.search(repr(grader.score(global_env={})))
    assert CJK.search(repr(grader.solution("q1")))
    # The English notebook's checks are unchanged, and the language does not leak out of a check.
    english = Checks("ch02-chain-rule").check("q1", global_env={})
    assert "is not defined yet" in english.cases[0].detail


def test_an_unknown_language_is_reported_not_raised(capsys):
    grader = Checks("ch02-chain-rule", language="fr")
    report = grader.check("q1", global_env={})
    assert not report.passed and "no language 'fr'" in report.problem
    assert "zh_CN" in capsys.readouterr().out


def test_a_message_without_translation_is_shown_in_english():
    with using("zh_CN"):
        assert tr("a sentence nobody translated: {x}", x=1) == "a sentence nobody translated: 1"


def test_check_sentences_keep_their_fields():
    table = exercise_i18n.checks_table()  # raises when a translation drops or renames a field
    assert table, "locales/zh_CN/LC_MESSAGES/exercises/checks.po has no translations"
    assert exercise_i18n.fields("{what}: expected {expected}, got {got}.") == [
        "expected!None", "got!None", "what!None"]


def test_a_translation_that_drops_or_invents_a_field_is_rejected():
    source = 'def t(got):\n    """shape"""\n    expect(False, f"expected shape (2,), got {got.shape}")\n'
    message = "expected shape (2,), got {got.shape}"
    moved = exercise_i18n.translate_tests(source, {message: "得到的形状是 {got.shape}，应为 (2,)"})
    assert "得到的形状是 {got.shape}" in moved
    assert exercise_i18n.masked(moved) == exercise_i18n.masked(source)
    for wrong in ("得到的形状不对", "得到 {got.shap}", "得到 {got.shape} 与 {got.shape}", "得到 {shape}"):
        with pytest.raises(ValueError, match="field"):
            exercise_i18n.translate_tests(source, {message: wrong})


def test_hints_and_summaries_are_messages():
    text = ("## Question 1: x\n\nWrite `f`.\n\n<details><summary><b>Hint 1</b>: where to look (click to "
            "open)</summary>\n\nLook at $x$.\n\n</details>")
    found = exercise_i18n.markdown_messages(text)
    assert found == ["Question 1: x", "Write `f`.", "<b>Hint 1</b>: where to look (click to open)",
                     "Look at $x$."]
    table = {"Question 1: x": "问题 1：x", "Write `f`.": "编写 `f`。",
             "<b>Hint 1</b>: where to look (click to open)": "<b>提示 1</b>：从哪里入手（点击展开）",
             "Look at $x$.": "看 $x$。"}
    assert exercise_i18n.translate_markdown(text, table) == (
        "## 问题 1：x\n\n编写 `f`。\n\n<details><summary><b>提示 1</b>：从哪里入手（点击展开）</summary>\n\n"
        "看 $x$。\n\n</details>")


def test_a_sentence_shared_by_several_sets_is_translated_the_same_way_in_each():
    translations: dict[str, set[str]] = {}
    for name in exercise_i18n.exercise_sets():
        for english, chinese in exercise_i18n.table(name).items():
            translations.setdefault(english, set()).add(chinese)
    differing = {english[:60]: sorted(chinese) for english, chinese in translations.items()
                 if len(chinese) > 1}
    assert not differing, differing
