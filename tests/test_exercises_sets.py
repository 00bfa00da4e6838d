"""The eleven graded exercise sets, read without running them: every master in solutions/ is a
well-formed otter-assign notebook (3-8 questions, points, a hint, public and hidden tests that
differ), and every student notebook in exercises/ holds no solution and no hidden test."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml

from backprop_checks import SETUP_FIRST, load_set
from grading import EXERCISE_SETS

REPOSITORY = Path(__file__).resolve().parents[1]

CHAPTER_NAMES = ["ch01-neurons", "ch02-chain-rule", "ch03-losses", "ch04-activations", "ch05-backprop",
                 "ch06-gradient-checking", "ch07-gradient-descent", "ch08-momentum", "ch09-adaptive-methods",
                 "ch10-digit-classifier", "ch11-initialisation-regularisation"]


def questions_of(master: nbformat.NotebookNode) -> list[dict]:
    """Each question of a master: its config, its markdown, solution and test cells."""
    questions, current, block = [], None, None
    for cell in master.cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.upper().startswith("# BEGIN QUESTION"):
            current = {"config": yaml.safe_load(text), "markdown": [], "solution": [], "public": [],
                       "hidden": []}
            questions.append(current)
        elif cell.cell_type == "raw" and re.match(r"# (BEGIN|END) (SOLUTION|TESTS|QUESTION)", text, re.I):
            block = text.split()[2].lower() if text.split()[1].upper() == "BEGIN" else None
        elif current is not None and block == "tests":
            current["hidden" if re.search(r"^hidden:\s*true", text, re.M) else "public"].append(text)
        elif current is not None and block == "solution":
            current["solution"].append(text)
        elif current is not None and cell.cell_type == "markdown" and block is None:
            current["markdown"].append(text)
    return questions


def test_there_is_one_set_per_chapter_with_the_names_the_chapters_use():
    assert list(EXERCISE_SETS) == CHAPTER_NAMES
    assert sorted(p.stem for p in (REPOSITORY / "solutions").glob("*.ipynb")) == CHAPTER_NAMES
    assert sorted(p.stem for p in (REPOSITORY / "exercises").glob("*.ipynb")) == CHAPTER_NAMES


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_master_is_a_complete_otter_assign_notebook(name):
    master = nbformat.read(REPOSITORY / "solutions" / f"{name}.ipynb", as_version=4)
    config_cell = next(cell for cell in master.cells if cell.source.startswith("# ASSIGNMENT CONFIG"))
    config = yaml.safe_load(config_cell.source)
    assert config["name"] == name
    assert config["tests"] == {"files": False, "ok_format": False}  # tests in the notebook's metadata
    questions = questions_of(master)
    assert 3 <= len(questions) <= 8  # 3-6, and chapter 11's two on batch norm and dropout
    assert [q["config"]["name"] for q in questions] == [f"q{i}" for i in range(1, len(questions) + 1)]
    for q in questions:
        where = f"{name} {q['config']['name']}"
        assert q["config"]["points"] > 0, where
        assert any("<summary><b>Hint" in text for text in q["markdown"]), f"{where} has no hint"
        assert "SOLUTION" in "\n".join(q["solution"]), f"{where} has no solution block"
        assert q["public"] and q["hidden"], f"{where} needs public and hidden tests"
        bodies = []
        for text in q["public"] + q["hidden"]:
            function = next(node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef))
            assert ast.get_docstring(function), f"{where}: test {function.name} needs a docstring"
            bodies.append(ast.dump(ast.Module(body=function.body[1:], type_ignores=[])))
        assert len(set(bodies)) == len(bodies), f"{where}: a hidden test repeats a public one"


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_exercise_notebook_holds_no_solution_and_no_hidden_test(name):
    master = nbformat.read(REPOSITORY / "solutions" / f"{name}.ipynb", as_version=4)
    text = (REPOSITORY / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8")
    exercise = json.loads(text)
    code = {line.strip() for cell in exercise["cells"] if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines()}
    assert "SOLUTION" not in text and "BEGIN TEST" not in text
    assert "tests" not in exercise["metadata"]["otter"]  # they are package data: backprop_checks/sets
    tests = {q: entry["tests"] for q, entry in load_set(name)["questions"].items()}
    assert "hidden=True" not in "".join(tests.values())
    text += "".join(tests.values())
    for q in questions_of(master):
        for hidden in q["hidden"]:
            function = next(node for node in ast.parse(hidden).body if isinstance(node, ast.FunctionDef))
            assert f"def {function.name}(" not in text, f"hidden test {function.name} leaked into exercises/"
        for solution in q["solution"]:
            inside = re.findall(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", solution, re.S)
            for line in "".join(inside).splitlines():
                if line.strip():
                    assert line.strip() not in code, f"solution line leaked into a code cell: {line.strip()}"


@pytest.mark.parametrize("name", CHAPTER_NAMES)
def test_exercise_notebook_starts_with_the_checks_and_ends_with_the_score(name):
    exercise = nbformat.read(REPOSITORY / "exercises" / f"{name}.ipynb", as_version=4)
    code = [cell for cell in exercise.cells if cell.cell_type == "code"]
    assert f'grader = Checks("{name}"' in code[0].source and "otter" not in code[0].source
    guard = f' if "grader" in globals() else print({SETUP_FIRST!r})'
    assert code[-1].source == "grader.score()" + guard and "otter_ignore" in code[-1].metadata["tags"]
    checks = [cell.source for cell in code if cell.source.startswith("grader.check(")]
    questions = list(load_set(name)["questions"])
    assert checks == [f'grader.check("{q}")' + guard for q in questions]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert exercise.metadata["otter"]["assignment_name"] == name
