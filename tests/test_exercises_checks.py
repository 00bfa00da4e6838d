"""The student side of the graded exercises: backprop_checks (messages, time limits, the grader's
reports, score and worked solutions), without otter-grader, as on Colab and in the browser."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import backprop_checks
from backprop_checks import (
    CaseResult,
    CheckFailed,
    CheckReport,
    Checks,
    TimeLimitExceeded,
    as_array,
    expect_array,
    expect_close,
    expect_function,
    expect_tuple,
    time_limit,
)

REPOSITORY = Path(__file__).resolve().parents[1]
CH01 = REPOSITORY / "exercises" / "ch01-neurons.ipynb"


def failure(function, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as caught:
        function(*args, **kwargs)
    return str(caught.value)


# --- Messages in plain words ---

def test_expect_array_names_a_shape_mismatch():
    message = failure(expect_array, np.zeros(3), np.zeros((3, 1)), "relu(x)")
    assert message == "relu(x): expected shape (3, 1), got shape (3,)."


def test_expect_array_shows_expected_and_got_for_small_arrays():
    message = failure(expect_array, [0.25, 0.5], [0.5, 0.5], "sigmoid(x)")
    assert message == "sigmoid(x): expected [0.5, 0.5], got [0.25, 0.5]."


def test_expect_array_points_at_the_worst_entry_of_a_large_array():
    got = np.zeros((5, 5))
    got[3, 1] = 2.0
    message = failure(expect_array, got, np.zeros((5, 5)), "grad_W")
    assert "1 of 25 entries are wrong; at (3, 1) expected 0, got 2" in message


def test_expect_array_reports_nan_as_an_overflow_hint():
    message = failure(expect_array, [1.0, np.nan], [1.0, 2.0], "log_softmax(Z)")
    assert "entry (1,) is nan" in message and "overflow" in message


def test_expect_array_passes_close_values():
    expect_array([1.0, 2.0 + 1e-9], [1.0, 2.0], "f(x)")


def test_expect_close_says_what_to_do_with_none_and_ellipsis():
    assert "returned None: replace the `...`" in failure(expect_close, None, 1.0, "mse(pred, target)")
    assert "is still `...`" in failure(expect_close, Ellipsis, 1.0, "buggy")
    assert "should be a single number" in failure(expect_close, [1.0, 2.0], 1.0, "mse(pred, target)")


def test_as_array_treats_a_list_of_none_as_no_answer():
    assert "returned None" in failure(as_array, [None, None], "step_lr at epochs 0 and 1")


def test_expect_tuple_checks_length_and_none():
    assert expect_tuple([1, 2], 2, "f()") == (1, 2)
    assert "return` a tuple of 3 values" in failure(expect_tuple, None, 3, "linear_backward(X, W, G)")
    assert "should return a tuple of 2 values, got 5" in failure(expect_tuple, 5, 2, "momentum_step()")


def test_expect_function_asks_to_run_the_cell():
    assert "not defined yet: run the cell" in failure(expect_function, None, "sigmoid")
    assert "should be a function" in failure(expect_function, 3, "sigmoid")


# --- Time limits ---

def test_time_limit_stops_an_endless_loop_and_fires_again():
    start = time.perf_counter()
    stops = 0
    with time_limit(0.2, "the loop"):
        for _ in range(2):
            try:
                while True:
                    pass
            except TimeLimitExceeded as error:
                assert "the loop ran for more than 0.2 s" in str(error)
                stops += 1
    assert stops == 2
    assert time.perf_counter() - start < 5


def test_time_limit_leaves_fast_code_and_the_previous_handler_alone():
    before = signal.getsignal(signal.SIGALRM)
    with time_limit(5.0):
        total = sum(range(1000))
    assert total == 499500
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --- The grader, without otter-grader ---

@pytest.fixture
def grader():
    """Checks of the ch01 set, as a reader's kernel builds them (the tests come with the package)."""
    return Checks("ch01-neurons", seconds=2.0)


def correct_sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def test_check_lists_passed_and_failed_cases_in_plain_words(grader):
    student = {"sigmoid": correct_sigmoid, "weighted_sum": lambda x, w, b: x * w + b}
    passed = grader.check("q2", global_env=student)
    assert passed.passed and passed.score == passed.possible == 2
    failed = grader.check("q1", global_env=student)
    assert [case.passed for case in failed.cases] == [False, False, False]
    assert failed.cases[0].description.startswith("the weighted sum of x = [1, 2]")
    assert "expected shape ()" in failed.cases[0].detail or "single number" in failed.cases[0].detail
    text = repr(failed)
    assert "q1: 0 of 3 test cases passed" in text and "Stuck? Open the hint" in text
    assert "✘ failed" in failed._repr_html_()


def test_report_html_escapes_text_and_shows_code():
    report = CheckReport("q3", [CaseResult(False, "a < b", "f returned None: replace the `...`")])
    page = report._repr_html_()
    assert "a &lt; b" in page and "<code>...</code>" in page and "✘ failed" in page


def test_check_reports_errors_raised_by_the_readers_code(grader):
    def sigmoid(z):
        raise ZeroDivisionError("oops")

    report = grader.check("q2", global_env={"sigmoid": sigmoid})
    assert report.cases[0].detail == "your code raised ZeroDivisionError: oops"


def test_check_stops_an_endless_loop_with_a_message(grader):
    def weighted_sum(x, w, b):
        while True:
            pass

    start = time.perf_counter()
    report = grader.check("q1", global_env={"weighted_sum": weighted_sum})
    assert time.perf_counter() - start < 30
    assert not report.passed
    assert all("ran for more than 2 s and was stopped" in case.detail for case in report.cases)


def test_check_uses_the_callers_variables(grader):
    global sigmoid
    sigmoid = correct_sigmoid
    try:
        assert grader.check("q2").passed
    finally:
        del sigmoid


def test_score_adds_up_the_visible_points(grader):
    report = grader.score(global_env={"sigmoid": correct_sigmoid})
    assert [r.question for r in report.reports] == ["q1", "q2", "q3", "q4", "q5"]
    assert report.score == 2 and report.possible == 10
    assert "Score so far: 2 / 10 points" in repr(report)


def test_an_unknown_set_or_question_says_what_exists():
    report = Checks("ch99-nothing").check("q1", global_env={})
    assert not report.passed and "no exercise set 'ch99-nothing'" in report.problem
    assert "ch03-losses" in report.problem
    assert "has no question 'q9'" in Checks("ch01-neurons").check("q9", global_env={}).problem


def test_the_worked_solution_comes_only_after_a_first_check(grader):
    first = grader.solution("q2")
    assert isinstance(first, str) and first.startswith("Try q2 first")
    grader.check("q2", global_env={})
    solution = grader.solution("q2")
    assert "def sigmoid(" in solution.code and "SOLUTION" not in solution.code
    assert "Worked solution of q2" in repr(solution) and "<pre><code>" in solution._repr_html_()
    # The worked solution passes its own check.
    namespace = {"np": np}
    exec(solution.code, namespace)
    assert grader.check("q2", global_env=namespace).passed


def test_a_course_without_solutions_says_so(grader, monkeypatch):
    for question in grader.data["questions"].values():
        question.pop("solution", None)
    grader.check("q1", global_env={})
    assert "not included in this course" in grader.solution("q1")


def test_the_package_data_holds_only_public_tests():
    for path in sorted(backprop_checks.checks.SETS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for question, entry in data["questions"].items():
            tests = backprop_checks.load_test_file(entry["tests"], question)
            assert tests.cases and not any(case.hidden for case in tests.cases), (path.name, question)


def test_time_limits_degrade_to_no_limit_where_signals_cannot_interrupt(monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")  # what Pyodide reports
    assert not backprop_checks.can_interrupt()
    with time_limit(0.01):
        time.sleep(0.05)  # not interrupted, and no error
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


BLOCK_OTTER = """
import sys
class BlockOtter:
    def find_spec(self, name, path=None, target=None):
        if name == "otter" or name.startswith("otter."):
            raise ImportError("otter-grader is not installed here")
sys.meta_path.insert(0, BlockOtter())
"""


def run_without_otter(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter, in a folder without any notebook, where otter cannot be
    imported (as on Colab or in Pyodide)."""
    return subprocess.run([sys.executable, "-c", BLOCK_OTTER + code], cwd=cwd, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "JPY_SESSION_NAME": "", "PYTHONPATH": str(REPOSITORY)})


def test_a_whole_set_checks_and_scores_without_otter_and_without_the_notebook_file(tmp_path):
    """The exercise notebook's cells, run in order with the master's solutions filled in: the checks
    need neither otter-grader nor the notebook file. Blank, the same set scores 0."""
    code = f"""
import json
from grading.run_one import runnable  # the setup cell's Colab line is an IPython magic
exercise = json.load(open({str(REPOSITORY / "exercises" / "ch03-losses.ipynb")!r}))
solved = json.load(open({str(REPOSITORY / "solutions" / "ch03-losses.ipynb")!r}))
environment = {{"__name__": "__main__"}}
cells = [runnable("".join(c["source"])) for c in exercise["cells"] if c["cell_type"] == "code"]
exec(cells[-1], environment)  # the score cell before the setup cell: one line, no traceback
for source in cells[:-1]:
    exec(source, environment)
blank = environment["grader"].score(global_env=environment)
grader = environment["grader"]
for question in grader.questions():
    grader.check(question)
    exec(grader.solution(question).code, environment)
solved = grader.score(global_env=environment)
print(blank.score, blank.possible, solved.score, solved.possible)
assert "otter" not in sys.modules, "otter was imported"
"""
    done = run_without_otter(code, tmp_path)
    assert done.returncode == 0, done.stderr
    first, *_, last = done.stdout.strip().splitlines()
    assert first == backprop_checks.SETUP_FIRST
    assert last == "0.0 10.0 10.0 10.0"


def test_a_first_edition_notebook_that_passes_otter_notebook_still_works():
    assert Checks("ch01-neurons", object).check("q2", global_env={"sigmoid": correct_sigmoid}).passed
