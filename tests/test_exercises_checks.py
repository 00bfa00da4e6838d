"""The student side of the graded exercises: backprop.exercises (messages, time limits, finding the
notebook, the grader's reports and score). The grader's tests run twice: with the package's own test
runner (what the notebooks use, and all the live book in the browser has) and through otter-grader,
and must give the same feedback."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backprop import exercises
from backprop.exercises import (
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
    find_notebook,
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


# --- Finding the notebook ---

@pytest.fixture
def no_repository_copy(monkeypatch, tmp_path):
    """Pretend the repository's exercises/ folder is elsewhere, and no Jupyter session is running."""
    monkeypatch.setattr(exercises, "REPOSITORY_EXERCISES", tmp_path / "no-repository")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def test_find_notebook_finds_a_renamed_copy_by_its_metadata(no_repository_copy, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(CH01, folder / "ch01-neurons (alice's copy).ipynb")
    shutil.copy(REPOSITORY / "exercises" / "ch02-chain-rule.ipynb", folder / "other.ipynb")
    assert find_notebook("ch01-neurons", folder) == folder / "ch01-neurons (alice's copy).ipynb"
    assert find_notebook("ch02-chain-rule", folder) == folder / "other.ipynb"


def test_find_notebook_prefers_the_jupyter_session(no_repository_copy, tmp_path, monkeypatch):
    for name in ("a.ipynb", "b.ipynb"):
        shutil.copy(CH01, tmp_path / name)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "b.ipynb"))
    assert find_notebook("ch01-neurons", tmp_path) == tmp_path / "b.ipynb"


def test_find_notebook_falls_back_to_the_repository_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert find_notebook("ch01-neurons", tmp_path) == exercises.REPOSITORY_EXERCISES / "ch01-neurons.ipynb"


def test_find_notebook_ignores_broken_files_and_returns_none(no_repository_copy, tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    (tmp_path / "empty.ipynb").write_text("", encoding="utf-8")
    assert find_notebook("ch01-neurons", tmp_path) is None


# --- The grader, with its own test runner and with otter-grader ---

@pytest.fixture(params=["own runner", "otter"])
def grader(request, no_repository_copy, tmp_path, monkeypatch):
    """Checks for a renamed copy of the ch01 set, as a reader's kernel would build them."""
    notebook_class = pytest.importorskip("otter").Notebook if request.param == "otter" else None
    monkeypatch.chdir(tmp_path)
    shutil.copy(CH01, tmp_path / "my ch01 attempt.ipynb")
    return Checks("ch01-neurons", notebook_class, seconds=2.0)


def test_checks_run_without_otter(tmp_path):
    """The notebooks' checks must not need otter-grader, which cannot run in the browser."""
    shutil.copy(CH01, tmp_path / "ch01-neurons.ipynb")
    script = (
        "import sys; sys.modules['otter'] = None  # importing otter now fails\n"
        "import numpy as np\n"
        "from backprop.exercises import Checks\n"
        "grader = Checks('ch01-neurons')\n"
        "sigmoid = lambda z: 1 / (1 + np.exp(-np.asarray(z, dtype=float)))\n"
        "print(grader.check('q2').headline()); sigmoid = lambda z: z\n"
        "print(grader.check('q2').headline())\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["q2: 2 of 2 test cases passed", "q2: 0 of 2 test cases passed"]


def test_a_question_without_tests_says_which_questions_there_are(grader):
    report = grader.check("q9", global_env={})
    assert not report.passed and report.problem


def correct_sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def test_check_lists_passed_and_failed_cases_in_plain_words(grader):
    student = {"sigmoid": correct_sigmoid, "weighted_sum": lambda x, w, b: x * w + b}
    passed = grader.check("q2", global_env=student)
    assert passed.passed and passed.score == passed.possible == 2
    failed = grader.check("q1", global_env=student)
    assert [case.passed for case in failed.cases] == [False, False]
    assert failed.cases[0].description.startswith("the weighted sum of x = [1, 2]")
    assert "expected shape ()" in failed.cases[0].detail or "single number" in failed.cases[0].detail
    text = repr(failed)
    assert "q1: 0 of 2 test cases passed" in text and "Stuck? Open the hint" in text
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


def test_checks_without_the_notebook_say_what_to_do(no_repository_copy, tmp_path, monkeypatch):
    otter = pytest.importorskip("otter")
    monkeypatch.chdir(tmp_path)
    grader = Checks("ch01-neurons", otter.Notebook)
    report = grader.check("q1", global_env={})
    assert not report.passed
    assert "Cannot find the notebook file" in report.problem and "run the first cell again" in report.problem
    assert grader.score().reports == []


def test_checks_survive_a_notebook_class_that_fails(no_repository_copy, tmp_path, monkeypatch):
    shutil.copy(CH01, tmp_path / "ch01-neurons.ipynb")
    monkeypatch.chdir(tmp_path)

    def broken_notebook(path):
        raise RuntimeError("no kernel")

    report = Checks("ch01-neurons", broken_notebook).check("q1", global_env={})
    assert report.problem == "The checks could not start: RuntimeError: no kernel"
