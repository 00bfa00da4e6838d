"""The grading path end to end: `make exercises` (otter assign) reproduces the committed exercises/,
and `make grade` (otter run, one process per submission, in parallel, under a time limit) gives every
solution 100 %, every blank exercise 0 %, takes exactly one question's points for one wrong answer,
and gives each broken submission a row with its reason, without touching any submission.

The slow part (building 11 autograders, grading ~30 notebooks) runs once per module, in fixtures.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from backprop_checks import load_set
from grading import EXERCISE_SETS
from grading.build import build
from grading.grade import grade_folder

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tools"))
import exercise_i18n  # noqa: E402

BROKEN_RUN = f"test-broken-{os.getpid()}"
LOOP_TIME_LIMIT = 10.0  # seconds: the only submission that runs in that call loops forever


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """What `make exercises` writes, into a temporary folder (tests are run by the grading below)."""
    root = tmp_path_factory.mktemp("built")
    build(EXERCISE_SETS, exercises=root / "exercises", autograder=root / "autograder", run_tests=False)
    return root


def without_ids(notebook: dict) -> dict:
    for cell in notebook["cells"]:
        cell.pop("id", None)
    return notebook


def test_committed_exercises_equal_what_make_exercises_generates(built):
    for name in EXERCISE_SETS:
        committed = json.loads((REPOSITORY / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8"))
        generated = json.loads((built / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8"))
        assert without_ids(committed) == without_ids(generated), f"{name}: run make exercises and commit"
        data = REPOSITORY / "src" / "backprop_checks" / "sets" / f"{name}.json"
        committed, generated = (p.read_text(encoding="utf-8") for p in (data, built / "sets" / data.name))
        assert committed == generated, f"{name}: the checks' data is stale: run make exercises and commit"


def edited(source: Path, target: Path, edit) -> None:
    """Write a copy of the notebook `source` to `target`, changed by edit(notebook)."""
    notebook = nbformat.read(source, as_version=4)
    edit(notebook)
    nbformat.write(notebook, target)


def insert_after_first_code_cell(source: str):
    def edit(notebook):
        first = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
        notebook.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    return edit


def wrong_stable_rate(notebook):
    """Chapter 7, question 2 answered with the smallest eigenvalue instead of the largest."""
    cell = next(c for c in notebook.cells if "def largest_stable_lr" in c.source)
    right = ["return float(2 / np.linalg.eigvalsh(A)[-1])", "return float(eigenvalues[-1] / eigenvalues[0])"]
    wrong = ["return float(2 / np.linalg.eigvalsh(A)[0])", "return float(eigenvalues[0] / eigenvalues[-1])"]
    for old, new in zip(right, wrong, strict=True):
        assert old in cell.source
        cell.source = cell.source.replace(old, new)


def drop_metadata(notebook):
    del notebook.metadata["otter"]


def fingerprint(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return list(rows[0]), {row["submission"]: row for row in rows}


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory) -> dict:
    """One `make grade` over every solution, every blank exercise and four awkward submissions."""
    folder = tmp_path_factory.mktemp("submissions")
    solved = built / "autograder"
    for name in EXERCISE_SETS:
        shutil.copy(solved / f"{name}.ipynb", folder / f"solution-{name}.ipynb")
        shutil.copy(built / "exercises" / f"{name}.ipynb", folder / f"{name}.ipynb")
    for name in EXERCISE_SETS:  # the Chinese notebooks: the same grading, whichever language
        answers = json.loads((solved / f"{name}.ipynb").read_text("utf-8"))
        translated = exercise_i18n.translate_notebook(name, exercise_i18n.table(name),
                                                      exercise_i18n.checks_table(), answers)
        (folder / f"zh-solution-{name}.ipynb").write_text(json.dumps(translated, ensure_ascii=False), "utf-8")
        shutil.copy(REPOSITORY / "exercises" / "zh_CN" / f"{name}.ipynb", folder / f"zh-{name}.ipynb")
    shutil.copy(solved / "ch04-activations.ipynb", folder / "my homework (1).ipynb")
    shutil.copy(solved / "ch04-activations.ipynb", folder / "ch05-backprop-alice.ipynb")
    edited(solved / "ch02-chain-rule.ipynb", folder / "ch02-chain-rule-bob.ipynb", drop_metadata)
    edited(solved / "ch01-neurons.ipynb", folder / "raises.ipynb",
           insert_after_first_code_cell('raise RuntimeError("a cell that fails")'))
    edited(solved / "ch07-gradient-descent.ipynb", folder / "wrong-answer.ipynb", wrong_stable_rate)
    before = fingerprint(folder)
    output = tmp_path_factory.mktemp("grading_output")
    start = time.perf_counter()
    rows = grade_folder(folder, output, autograder=solved, time_limit=600, echo=lambda *args: None,
                        run=f"test-graded-{os.getpid()}")
    seconds = time.perf_counter() - start
    header, by_name = read_csv(output / "grades.csv")
    return {"folder": folder, "before": before, "after": fingerprint(folder), "rows": rows,
            "seconds": seconds, "header": header, "csv": by_name, "output": output}


def points(row: dict[str, str], name: str) -> dict[str, float]:
    return {column.split("/")[1]: float(value) for column, value in row.items()
            if column.startswith(f"{name}/") and value != ""}


def test_every_solution_scores_full_marks_through_the_grading_path(graded):
    for name in EXERCISE_SETS:
        row = graded["csv"][f"solution-{name}.ipynb"]
        assert row["exercise_set"] == name and row["error"] == ""
        assert float(row["total"]) == float(row["possible"]) == 10, (name, row)


def test_every_blank_exercise_scores_zero(graded):
    for name in EXERCISE_SETS:
        row = graded["csv"][f"{name}.ipynb"]
        assert row["error"] == "" and float(row["possible"]) == 10
        assert float(row["total"]) == 0, f"the blank {name} earns {row['total']} points"
        assert set(points(row, name).values()) == {0.0}


def test_chinese_notebooks_are_graded_exactly_as_the_english_ones(graded):
    for name in EXERCISE_SETS:
        solution, blank = graded["csv"][f"zh-solution-{name}.ipynb"], graded["csv"][f"zh-{name}.ipynb"]
        assert solution["exercise_set"] == blank["exercise_set"] == name
        assert solution["error"] == blank["error"] == "", (solution, blank)
        assert points(solution, name) == points(graded["csv"][f"solution-{name}.ipynb"], name)
        assert float(solution["total"]) == 10 and float(blank["total"]) == 0


def test_one_wrong_answer_loses_exactly_that_questions_points(graded):
    name = "ch07-gradient-descent"
    wrong = points(graded["csv"]["wrong-answer.ipynb"], name)
    right = points(graded["csv"][f"solution-{name}.ipynb"], name)
    assert wrong["q2"] == 0 and right["q2"] == 2
    assert {q: p for q, p in wrong.items() if q != "q2"} == {q: p for q, p in right.items() if q != "q2"}
    assert float(graded["csv"]["wrong-answer.ipynb"]["total"]) == 10 - 2


def test_a_renamed_submission_is_graded_by_its_metadata(graded):
    row = graded["csv"]["my homework (1).ipynb"]
    assert row["exercise_set"] == "ch04-activations" and float(row["total"]) == 10
    assert row["note"] == ""  # the file name says nothing else, so there is nothing to note
    assert graded["csv"]["solution-ch03-losses.ipynb"]["note"] == ""


def test_a_file_name_that_names_another_set_is_noted(graded):
    row = graded["csv"]["ch05-backprop-alice.ipynb"]
    assert row["exercise_set"] == "ch04-activations" and float(row["total"]) == 10
    assert row["note"] == ("the file name suggests ch05-backprop, but the notebook's metadata says "
                           "ch04-activations; graded as ch04-activations")


def test_a_submission_without_metadata_is_graded_by_its_file_name(graded):
    row = graded["csv"]["ch02-chain-rule-bob.ipynb"]
    assert row["exercise_set"] == "ch02-chain-rule" and float(row["total"]) == 10
    assert "identified by its file name" in row["note"]


def test_a_cell_that_raises_is_reported_and_the_rest_still_graded(graded):
    row = graded["csv"]["raises.ipynb"]
    assert float(row["total"]) == 10 and row["error"] == ""
    assert "code cell 2 raised RuntimeError: a cell that fails" in row["note"]


def test_grading_never_modifies_a_submission(graded):
    assert graded["after"] == graded["before"]


def test_csv_has_a_row_per_submission_and_a_column_per_question(graded):
    assert sorted(graded["csv"]) == sorted(graded["before"])
    header = graded["header"]
    assert header[:2] == ["submission", "exercise_set"]
    assert header[-4:] == ["total", "possible", "error", "note"]
    assert "ch01-neurons/q1" in header and "ch11-initialisation-regularisation/q6" in header
    questions = sum(len(load_set(name)["questions"]) for name in EXERCISE_SETS)
    assert len(header) == 6 + questions


def test_feedback_names_each_test_case_and_why_it_failed(graded):
    feedback = graded["output"] / "feedback"
    assert sorted(p.stem for p in feedback.glob("*.txt")) == sorted(Path(n).stem for n in graded["before"])
    text = (feedback / "wrong-answer.txt").read_text(encoding="utf-8")
    assert "Total: 8 / 10 points" in text
    assert "[FAILED] (public) for A = diag(1, 10): 2 / 10 = 0.2 and condition number 10" in text
    assert "largest_stable_lr(diag(1, 10)): expected 0.2, got 2." in text
    assert "[passed] (hidden)" in text


@pytest.fixture(scope="module")
def broken(built, tmp_path_factory) -> dict:
    """Submissions that cannot be graded: each must still get a row with its reason."""
    folder = tmp_path_factory.mktemp("broken")
    solved = built / "autograder"
    endless = insert_after_first_code_cell("while True:\n    pass")
    edited(solved / "ch01-neurons.ipynb", folder / "loops.ipynb", endless)
    (folder / "empty.ipynb").write_bytes(b"")
    (folder / "not-json.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "no-cells.ipynb").write_text('{"metadata": {}}', encoding="utf-8")
    edited(solved / "ch03-losses.ipynb", folder / "homework.ipynb", drop_metadata)
    before = fingerprint(folder)
    output = tmp_path_factory.mktemp("broken_output")
    start = time.perf_counter()
    grade_folder(folder, output, autograder=solved, time_limit=LOOP_TIME_LIMIT, echo=lambda *args: None,
                 run=BROKEN_RUN)
    seconds = time.perf_counter() - start
    return {"csv": read_csv(output / "grades.csv")[1], "seconds": seconds, "before": before,
            "after": fingerprint(folder)}


def test_broken_submissions_each_get_a_row_with_a_reason(broken):
    errors = {name: row["error"] for name, row in broken["csv"].items()}
    assert errors["empty.ipynb"] == "the file is empty (0 bytes)"
    assert errors["not-json.ipynb"].startswith("not a notebook: the file is not valid JSON")
    assert errors["no-cells.ipynb"] == "not a notebook: the JSON has no list of cells"
    assert errors["homework.ipynb"].startswith("cannot tell which exercise set this is")
    assert errors["loops.ipynb"].startswith("stopped: time limit")
    assert all(row["total"] == "" for row in broken["csv"].values())
    assert broken["after"] == broken["before"]


def test_a_looping_submission_is_stopped_and_leaves_no_process_behind(broken):
    assert broken["seconds"] < LOOP_TIME_LIMIT + 30
    assert processes_of_run(BROKEN_RUN) == []


def processes_of_run(run: str) -> list[str]:
    """Command lines of the processes that one grading run started and left (each carries
    SANDBOX_RUN=<run>-...; other runs on this machine carry other names and are not counted)."""
    needle, leftovers = f"SANDBOX_RUN={run}-".encode(), []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and needle in (entry / "environ").read_bytes():
                leftovers.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
    return leftovers


def test_two_gradings_at_once_both_finish_correctly(built, tmp_path_factory):
    """Two instructors (or two test runs) grade on one machine at the same time: each run finds and
    stops only its own processes, and both get the right grades."""
    solved = built / "autograder"
    results = {}

    def run(name: str) -> None:
        folder = tmp_path_factory.mktemp(f"class-{name}")
        shutil.copy(solved / "ch01-neurons.ipynb", folder / "solved.ipynb")
        shutil.copy(built / "exercises" / "ch01-neurons.ipynb", folder / "blank.ipynb")
        edited(solved / "ch01-neurons.ipynb", folder / "loops.ipynb",
               insert_after_first_code_cell("while True:\n    pass"))
        output = tmp_path_factory.mktemp(f"output-{name}")
        grade_folder(folder, output, autograder=solved, time_limit=LOOP_TIME_LIMIT, jobs=2,
                     echo=lambda *args: None, run=f"test-{name}-{os.getpid()}")
        results[name] = read_csv(output / "grades.csv")[1]

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for name in ("first", "second"):
        rows = results[name]
        assert float(rows["solved.ipynb"]["total"]) == 10 and float(rows["blank.ipynb"]["total"]) == 0
        assert rows["loops.ipynb"]["error"].startswith("stopped: time limit")
        assert processes_of_run(f"test-{name}-{os.getpid()}") == []


def test_a_corrupt_autograder_zip_gives_that_submission_a_row_and_the_run_goes_on(built, tmp_path):
    autograder = tmp_path / "autograder"
    shutil.copytree(built / "autograder", autograder)
    (autograder / "ch02-chain-rule.zip").write_bytes(b"this is not a zip file")
    os.utime(autograder / "ch02-chain-rule.zip", (time.time() + 3600,) * 2)  # not stale: not rebuilt
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(autograder / "ch01-neurons.ipynb", folder / "ch01-neurons.ipynb")
    shutil.copy(autograder / "ch02-chain-rule.ipynb", folder / "ch02-chain-rule.ipynb")
    grade_folder(folder, tmp_path / "output", autograder=autograder, echo=lambda *args: None)
    rows = read_csv(tmp_path / "output" / "grades.csv")[1]
    assert float(rows["ch01-neurons.ipynb"]["total"]) == 10
    assert rows["ch02-chain-rule.ipynb"]["total"] == ""
    assert "grader error" in rows["ch02-chain-rule.ipynb"]["error"]
    assert "zip" in rows["ch02-chain-rule.ipynb"]["error"].lower()


def test_html_feedback_class_report_and_gradebook_exports(graded):
    output = graded["output"]
    page = (output / "feedback" / "wrong-answer.html").read_text(encoding="utf-8")
    assert "8 / 10 points" in page and "✘ failed</span> (public)" in page and "(hidden)" in page
    assert "What to look at: largest_stable_lr(diag(1, 10)): expected 0.2, got 2." in page
    report = (output / "report.html").read_text(encoding="utf-8")
    assert "<h2>ch07-gradient-descent: " in report and "mean points" in report
    assert "Most-failed test cases" in report and "<img src='totals.png'" in report
    assert (output / "totals.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    canvas = (output / "canvas.csv").read_text(encoding="utf-8").splitlines()
    assert canvas[0].startswith("Student,ID,SIS User ID,SIS Login ID,Section,ch01-neurons,")
    assert canvas[1].startswith("    Points Possible,,,,,10.0,")
    assert any(line.startswith("wrong-answer,,,wrong-answer,,") and ",8.0," in line for line in canvas)
    moodle = (output / "moodle.csv").read_text(encoding="utf-8").splitlines()
    assert moodle[0].startswith("Username,ch01-neurons,")
    assert moodle[0].endswith("ch11-initialisation-regularisation feedback")
    assert len(moodle) == len(graded["before"]) + 1


def test_hidden_case_details_can_be_left_out_of_the_feedback():
    from grading.grade import Row
    from grading.report import feedback_html

    row = Row("a.ipynb", "ch03-losses", scores={"q1": 1.0}, possible={"q1": 2.0}, cases={"q1": [
        {"name": "q1 - 1", "description": "public case", "hidden": False, "passed": True, "message": ""},
        {"name": "q1 - 2", "description": "SECRET hidden input", "hidden": True, "passed": False,
         "message": "SECRET expected 3"}]})
    assert "SECRET" in feedback_html(row)
    hidden = feedback_html(row, hide_hidden=True)
    assert "SECRET" not in hidden and "a hidden test case" in hidden and "public case" in hidden
