"""Public checks that catch the common mistakes: each master lists, per question, the mistakes learners
make (`# COMMON MISTAKES` cells: what, what kind, how to plant it in the solution, and what the
check must say). Here each mistake is planted in the worked solution, the question's public check
runs (as a learner's `grader.check` does, from the package's data), and it must fail with a message
that names the mistake. The hints are tiered: a nudge first, then the idea, never a line of code.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from backprop_checks import Checks
from grading import EXERCISE_SETS
from grading.build import common_mistakes
from grading.run_one import runnable

REPOSITORY = Path(__file__).resolve().parents[1]
# Every question of every set lists its mistakes and has tiered hints (a question added later too).
SETS = EXERCISE_SETS


def master(name: str) -> nbformat.NotebookNode:
    return nbformat.read(REPOSITORY / "solutions" / f"{name}.ipynb", as_version=4)


def questions(name: str) -> list[str]:
    """The names of the master's questions, in order."""
    return [yaml.safe_load(cell.source.split("\n", 1)[1])["name"] for cell in master(name).cells
            if cell.cell_type == "raw" and cell.source.strip().upper().startswith("# BEGIN QUESTION")]


def planted_cases():
    for name in SETS:
        for question, mistakes in common_mistakes(master(name)).items():
            for mistake in mistakes:
                yield pytest.param(name, question, mistake, id=f"{name}-{question}-{mistake['kind']}")


def solved_namespace(name: str, question: str | None = None, replace=()) -> dict:
    """The master's code cells run in order (tests and checks left out, as a learner's notebook with
    the worked solutions); in `question`'s solution cells, each [old, new] of `replace` replaced."""
    namespace, current, block, planted = {"__name__": "__main__"}, None, None, []
    for cell in master(name).cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.upper().startswith("# BEGIN QUESTION"):
            current = yaml.safe_load(text.split("\n", 1)[1])["name"]
        elif cell.cell_type == "raw" and re.match(r"# (BEGIN|END) (SOLUTION|TESTS)", text, re.I):
            block = text.split()[2].lower() if text.split()[1].upper() == "BEGIN" else None
        elif cell.cell_type == "code" and block != "tests" and not text.startswith("grader."):
            code = runnable(cell.source)
            if current == question and block == "solution":
                for old, new in replace:
                    if old in code:
                        code = code.replace(old, new)
                        planted.append(old)
            try:
                exec(code, namespace)
            except Exception:
                if not planted:  # the master itself must run; a later cell may trip over a planted mistake
                    raise
    missing = [old for old, _ in replace if old not in planted]
    assert not missing, f"{name} {question}: the mistake's text {missing} is not in the solution"
    return namespace


@pytest.mark.parametrize("name", SETS)
def test_every_question_lists_its_mistakes(name):
    listed = common_mistakes(master(name))
    unlisted = sorted(set(questions(name)) - set(listed))
    assert not unlisted, (f"{name}: {unlisted} list no mistakes (add a `# COMMON MISTAKES` cell before the "
                          f"question's `# END QUESTION`)")
    for question, mistakes in listed.items():
        assert mistakes, f"{name} {question} lists no mistake"
        for mistake in mistakes:
            assert set(mistake) == {"mistake", "kind", "replace", "message"}, mistake
        assert any("(the hint's mistake)" in m["mistake"] for m in mistakes), (
            f"{name} {question}: list the mistake the hints point at, marked (the hint's mistake)")


@pytest.mark.parametrize(("name", "question", "mistake"), list(planted_cases()))
def test_a_planted_mistake_fails_the_public_check_with_its_message(name, question, mistake):
    """...and the Chinese notebook's check (the same tests, their strings translated) fails the same
    test cases, saying so in Chinese."""
    grader, chinese = Checks(name, seconds=20), Checks(name, seconds=20, language="zh_CN")
    solved = solved_namespace(name)
    assert grader.check(question, global_env=solved).passed, "the solution must pass"
    assert chinese.check(question, global_env=solved).passed, "the solution must pass in Chinese too"
    planted = solved_namespace(name, question, mistake["replace"])
    with np.errstate(all="ignore"):  # a planted mistake may overflow (a diverging training)
        report = grader.check(question, global_env=planted)
        report_zh = chinese.check(question, global_env=solved_namespace(name, question, mistake["replace"]))
    details = [case.detail for case in report.cases if not case.passed]
    assert details, f"{name} {question}: planting '{mistake['mistake']}' still passes every public case"
    assert any(mistake["message"] in detail for detail in details), (mistake["message"], details)
    assert [case.passed for case in report_zh.cases] == [case.passed for case in report.cases]
    failed_zh = [case.detail for case in report_zh.cases if not case.passed]
    assert all(re.search("[\u4e00-\u9fff]", detail) for detail in failed_zh), failed_zh


@pytest.mark.parametrize("name", SETS)
def test_hints_are_tiered_and_never_a_line_of_code(name):
    exercise = nbformat.read(REPOSITORY / "exercises" / f"{name}.ipynb", as_version=4)
    texts = [cell.source for cell in exercise.cells
             if cell.cell_type == "markdown" and cell.source.startswith("## Question")]
    assert len(texts) == len(questions(name))
    for text in texts:
        assert "<b>Hint 1</b>: where to look" in text and "<b>Hint 2</b>: the idea" in text
        hints = text[text.index("<details>"):]
        for code in re.findall(r"`([^`]+)`", hints):
            # a name or an argument (`pred.size`, `keepdims=True`) is fine; an assignment or an
            # expression that computes the answer is not
            assert not re.search(r"\s=\s|\w\(.*\)\s*[-+*/@]|[-+*/@]\s*\w+\(", code) and len(code) <= 32, (
                f"{name}: a hint gives code away: `{code}`")
