"""Checks for the graded exercise notebooks in `exercises/`: plain-word results, time limits, a score.

An exercise notebook's first cell builds its `grader`:

    from backprop.exercises import Checks
    grader = Checks("ch03-losses")

and the cell under each question runs `grader.check("q1")`. The question's public tests are stored
in the notebook file's metadata, in otter-grader's format (otter grades the submissions, with
hidden tests added); `Checks` runs them without otter, so checks work wherever the notebook runs,
the live book in the browser included, and adds three things a reader needs:

- it finds the notebook file even after it was renamed or moved (`find_notebook`), or says what to do;
- it stops a check that runs too long (`time_limit`) with a message instead of a hung kernel;
- it shows which test cases passed and which failed, in plain words, and `score()` adds them up.

The tests themselves use `expect_array`, `expect_close`, `expect_tuple`, `expect_function`, `expect`
and `as_array`, which fail with a `CheckFailed` message that says what was checked, what was expected
and what came back.
"""

from __future__ import annotations

import html
import inspect
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SECONDS = 30.0
REPOSITORY_EXERCISES = Path(__file__).resolve().parents[2] / "exercises"


# --- Messages in plain words -------------------------------------------------------------------

class CheckFailed(AssertionError):
    """A test case found a wrong answer; the message says what was checked, expected and got."""


def _show(value: Any) -> str:
    """A short, rounded rendering of a number or a small array for messages."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # e.g. a ragged list
        array = np.asarray(None)
    if array.dtype.kind in "fiub":
        if array.ndim == 0:
            return f"{array.item():.6g}" if array.dtype.kind == "f" else str(array.item())
        if array.size <= 12:
            text = np.array2string(array, separator=", ", formatter={"float_kind": lambda v: f"{v:.4g}"})
            return " ".join(text.split())
        return f"an array of shape {array.shape}"
    return repr(value) if len(repr(value)) <= 80 else f"a {type(value).__name__}"


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


def expect_function(function: Any, name: str) -> None:
    """Fail unless `function` (the reader's `name`) is defined and callable."""
    if function is None:
        raise CheckFailed(f"`{name}` is not defined yet: run the cell where you wrote it, then run this "
                          f"check again.")
    if not callable(function):
        raise CheckFailed(f"`{name}` should be a function, but it is {_show(function)}.")


def as_array(got: Any, what: str) -> np.ndarray:
    """The reader's answer `got` as a float64 array, or a CheckFailed that says why it is not one
    (None, a leftover `...`, or something that is not numbers). `what` names it in the message."""
    if got is None:
        raise CheckFailed(f"{what} returned None: replace the `...` with your code and `return` the result.")
    if got is Ellipsis:
        raise CheckFailed(f"{what} is still `...`: replace it with your answer.")
    if isinstance(got, (list, tuple)) and any(item is None for item in got):
        raise CheckFailed(f"{what} returned None: replace the `...` with your code and `return` the result.")
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number or an array of numbers, got {_show(got)}.") from None


def expect_tuple(got: Any, length: int, what: str) -> tuple:
    """Fail unless `got` is a tuple (or list) of `length` values; return it as a tuple.

    For functions that return several results, e.g. `(grad_X, grad_W, grad_b)`.
    """
    if got is None or got is Ellipsis:
        raise CheckFailed(f"{what} returned {'None' if got is None else '...'}: replace the `...` with "
                          f"your code and `return` a tuple of {length} values.")
    if not isinstance(got, (tuple, list)) or len(got) != length:
        raise CheckFailed(f"{what} should return a tuple of {length} values, got {_show(got)}.")
    return tuple(got)


def expect_close(got: Any, expected: float, what: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless `got` is one number within rtol * |expected| + atol of `expected`.

    `what` names the computation in the message, e.g. "mse(pred, target) for the example above".
    """
    value = as_array(got, what)
    if value.size != 1:
        raise CheckFailed(f"{what} should be a single number, got an array of shape {value.shape}.")
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise CheckFailed(f"{what}: expected {_show(expected)}, got {value}. Look for an overflow or a "
                          f"division by zero.")
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise CheckFailed(f"{what}: expected {_show(expected)}, got {_show(value)}.")


def expect_array(got: Any, expected: Any, what: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless `got` has the shape of `expected` and every entry is close to it.

    Compares shapes first (the commonest slip), then finiteness, then values; the message shows the
    two arrays when they are small, otherwise the entry that is furthest off.
    """
    value = as_array(got, what)
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        raise CheckFailed(f"{what}: expected shape {expected.shape}, got shape {value.shape}.")
    bad = ~np.isfinite(value)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailed(f"{what}: entry {index} is {value[index]}; expected {_show(expected[index])}. "
                          f"Look for an overflow or a division by zero.")
    close = np.isclose(value, expected, rtol=rtol, atol=atol)
    if not close.all():
        if expected.size <= 12:
            raise CheckFailed(f"{what}: expected {_show(expected)}, got {_show(value)}.")
        index = np.unravel_index(np.argmax(np.abs(value - expected)), expected.shape)
        index = tuple(int(i) for i in index)
        raise CheckFailed(f"{what}: {int((~close).sum())} of {expected.size} entries are wrong; at "
                          f"{index} expected {_show(expected[index])}, got {_show(value[index])}.")


# --- Time limits --------------------------------------------------------------------------------

class TimeLimitExceeded(Exception):
    """Raised inside code that ran longer than its time limit."""


@contextmanager
def time_limit(seconds: float, what: str = "this code") -> Iterator[None]:
    """Raise TimeLimitExceeded inside the running code after `seconds`, and every `seconds` after
    that, until the block ends (so each later test case of a check gets a fresh budget too).

    Uses a timer signal (SIGALRM), so it works in the main thread on Linux and macOS, which is where
    a Jupyter kernel runs cells; elsewhere (Windows, other threads, Python in the browser, which
    has no timer signals) the block runs without a limit.
    Code stuck inside one long NumPy call is stopped when that call returns.
    """
    if (sys.platform == "emscripten" or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"{what} ran for more than {seconds:g} s and was stopped. Does a loop "
                                f"never end, or does it run far more steps than it needs?")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- Finding the notebook that holds the tests --------------------------------------------------

def _exercise_set_of(path: Path) -> str | None:
    """The exercise-set name stored in a notebook's metadata (otter's assignment_name), if any."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)["metadata"]["otter"]["assignment_name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_notebook(name: str, folder: str | os.PathLike = ".") -> Path | None:
    """The notebook file that holds the tests of exercise set `name` (e.g. "ch03-losses"), or None.

    Tries, in order: the notebook this kernel was started for (Jupyter and VS Code say which),
    `<name>.ipynb` in `folder`, any notebook in `folder` whose metadata names the set (a renamed
    copy), and the untouched copy in the repository's `exercises/` folder (a copy moved elsewhere:
    the tests are the same).
    """
    folder = Path(folder)
    candidates = [os.environ.get("JPY_SESSION_NAME"),
                  getattr(sys.modules.get("__main__"), "__vsc_ipynb_file__", None),
                  folder / f"{name}.ipynb"]
    candidates += sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)
    candidates.append(REPOSITORY_EXERCISES / f"{name}.ipynb")
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _exercise_set_of(Path(candidate)) == name:
            return Path(candidate)
    return None


# --- Results a reader can read ------------------------------------------------------------------

@dataclass
class CaseResult:
    """One test case: did it pass, what it checks, and (if it failed) what went wrong."""

    passed: bool
    description: str
    detail: str = ""


@dataclass
class CheckReport:
    """The result of one `grader.check(question)`, shown as a list of passed and failed test cases."""

    question: str
    cases: list[CaseResult] = field(default_factory=list)
    score: float = 0.0
    possible: float = 0.0
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem and all(case.passed for case in self.cases)

    def headline(self) -> str:
        if self.problem:
            return f"{self.question}: could not be checked"
        passed = sum(case.passed for case in self.cases)
        return f"{self.question}: {passed} of {len(self.cases)} test cases passed"

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.problem:
            lines.append(f"  {self.problem}")
        for case in self.cases:
            lines.append(f"  {'✔ passed' if case.passed else '✘ FAILED'}: {case.description}")
            if case.detail:
                lines.append(f"      {case.detail}")
        if not self.passed and not self.problem:
            lines.append("  Stuck? Open the hint under the question.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#b3261e"
        parts = [f"<div><p style='margin:0.2em 0'><strong style='color:{colour}'>"
                 f"{html.escape(self.headline())}</strong></p>"]
        if self.problem:
            parts.append(f"<p style='margin:0.2em 0'>{_html(self.problem)}</p>")
        parts.append("<ul style='margin:0.2em 0; list-style:none; padding-left:0.5em'>")
        for case in self.cases:
            mark = ("<span style='color:#1b7f3b'>✔ passed</span>" if case.passed
                    else "<span style='color:#b3261e'>✘ failed</span>")
            parts.append(f"<li>{mark}: {_html(case.description)}")
            if case.detail:
                parts.append(f"<br><span style='margin-left:1.6em; display:inline-block; "
                             f"white-space:pre-wrap'>{_html(case.detail)}</span>")
            parts.append("</li>")
        parts.append("</ul>")
        if not self.passed and not self.problem:
            parts.append("<p style='margin:0.2em 0'>Stuck? Open the <em>Hint</em> under the question.</p>")
        return "".join(parts) + "</div>"


def _html(text: str) -> str:
    """Escape text for HTML and show `code` in backticks as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _failure_detail(message: str) -> str:
    """The useful part of otter's failure message: the exception's text, without the test's source."""
    lines = (message or "").strip().splitlines()
    # otter writes: "❌ Test case failed", "Error at line N in test q1:", "  <test line>", "Type: text".
    if len(lines) >= 4 and lines[1].startswith("Error at line"):
        kind, _, text = "\n".join(lines[3:]).partition(": ")
        if kind in ("CheckFailed", "AssertionError"):
            return text or "the answer is not right yet."
        if kind == "TimeLimitExceeded":
            return text
        return f"your code raised {kind}: {text}"
    return "\n".join(lines[1:]) if len(lines) > 1 else "".join(lines)


def _report_from_otter(question: str, result: Any) -> CheckReport:
    """Turn otter's TestFile (duck-typed) into a CheckReport."""
    report = CheckReport(question, score=float(result.score), possible=float(result.possible))
    for number, outcome in enumerate(result.test_case_results, start=1):
        test_function = getattr(outcome.test_case.body, "test_func", None)
        description = (getattr(test_function, "__doc__", None) or f"test case {number}").strip()
        detail = "" if outcome.passed else _failure_detail(outcome.message)
        report.cases.append(CaseResult(outcome.passed, " ".join(description.split()), detail))
    return report


def _run_test_file(question: str, source: str, environment: dict[str, Any]) -> CheckReport:
    """Run one question's tests, written in otter-grader's test-file format, without otter.

    `source` defines `points` and test functions decorated with otter's `@test_case`; each function
    takes the reader's variables as arguments, by name. The file's points are shared equally among
    its test cases, as otter shares them. This needs nothing but Python and NumPy, so the checks run
    the same in Jupyter, on Colab and in the live book in the browser, where otter cannot.
    """
    cases: list[Any] = []

    def test_case(points: Any = None, hidden: bool = False, **options: Any) -> Any:
        def record(function: Any) -> Any:
            cases.append(function)
            return function
        return record

    namespace: dict[str, Any] = {"test_case": test_case, "__name__": f"tests_{question}"}
    exec(compile(source.replace("from otter.test_files import test_case", ""), f"<tests of {question}>",
                 "exec"), namespace)
    report = CheckReport(question, possible=float(namespace.get("points", len(cases))))
    for number, function in enumerate(cases, start=1):
        description = " ".join((function.__doc__ or f"test case {number}").split())
        arguments = {name: environment.get(name) for name in inspect.signature(function).parameters}
        try:
            function(**arguments)
        except (CheckFailed, AssertionError) as error:
            report.cases.append(CaseResult(False, description, str(error) or "the answer is not right yet."))
        except TimeLimitExceeded:
            raise
        except Exception as error:  # the reader's code raised: say what, and go on with the next case
            report.cases.append(CaseResult(False, description, f"your code raised {type(error).__name__}: "
                                                               f"{error}"))
        else:
            report.cases.append(CaseResult(True, description))
    if cases:
        report.score = report.possible * sum(case.passed for case in report.cases) / len(cases)
    return report


@dataclass
class ScoreReport:
    """Points on the tests a reader can see, per question; hidden tests are added at grading."""

    reports: list[CheckReport]

    @property
    def score(self) -> float:
        return sum(report.score for report in self.reports)

    @property
    def possible(self) -> float:
        return sum(report.possible for report in self.reports)

    def _rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for report in self.reports:
            if report.problem:
                rows.append((report.question, "—", report.problem))
            else:
                passed = sum(case.passed for case in report.cases)
                rows.append((report.question, f"{report.score:g} / {report.possible:g}",
                             f"{passed} of {len(report.cases)} test cases passed"))
        return rows

    NOTE = ("Points here come from the tests you can see. When your work is graded, hidden tests "
            "(other inputs, edge cases) share each question's points with them.")

    def __repr__(self) -> str:
        lines = [f"Score so far: {self.score:g} / {self.possible:g} points"]
        lines += [f"  {question:<4} {points:>9}   {text}" for question, points, text in self._rows()]
        return "\n".join(lines + [self.NOTE])

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td>{html.escape(q)}</td><td style='text-align:right'>{html.escape(p)}</td>"
                       f"<td style='text-align:left'>{html.escape(t)}</td></tr>" for q, p, t in self._rows())
        return (f"<div><p><strong>Score so far: {self.score:g} / {self.possible:g} points</strong></p>"
                f"<table><tr><th>question</th><th>points</th><th>test cases</th></tr>{body}</table>"
                f"<p>{html.escape(self.NOTE)}</p></div>")


# --- The grader of an exercise notebook ---------------------------------------------------------

class Checks:
    """The `grader` of an exercise notebook: its public tests, with a time limit per check, results
    in plain words, and a running score.

    name: the exercise set ("ch03-losses"); seconds: the time limit of one check (renewed after each
    stop). The tests are read from the notebook file's metadata (otter-grader's format) and run by
    `_run_test_file`, which needs no otter, so checks work in the live book in the browser too.
    notebook_class: optionally `otter.Notebook`, to run the same tests through otter instead.
    Never raises: if the tests cannot be loaded, every check says why and what to do.
    """

    def __init__(self, name: str, notebook_class: Any = None, *, seconds: float = DEFAULT_SECONDS) -> None:
        self.name, self.seconds = name, seconds
        self.path = find_notebook(name)
        self.problem = ""
        self._otter = self._tests = None
        if self.path is None:
            self.problem = (
                f"Cannot find the notebook file of exercise set {name!r}, which holds the tests. Save "
                f"this notebook as an .ipynb file in the folder Jupyter runs it from (any file name "
                f"works), then run the first cell again. On Colab checks do not work: use Binder, the "
                f"live book in your browser, or a local copy of the repository (see its README).")
        try:
            if notebook_class is not None:
                self._otter = notebook_class(None if self.path is None else str(self.path))
            elif self.path is not None:
                with open(self.path, encoding="utf-8") as file:
                    self._tests = json.load(file)["metadata"]["otter"]["tests"]
        except Exception as error:  # any failure here must not stop the reader's notebook
            self._otter = self._tests = None
            self.problem = self.problem or f"The checks could not start: {type(error).__name__}: {error}"
        if self.problem:
            print(self.problem)

    def check(self, question: str, global_env: dict[str, Any] | None = None) -> CheckReport:
        """Run the tests of `question` against the caller's variables (or `global_env`), within the
        time limit."""
        environment = sys._getframe(1).f_globals if global_env is None else global_env
        return self._check(question, environment)

    def _check(self, question: str, environment: dict[str, Any]) -> CheckReport:
        if self._otter is None and self._tests is None:
            return CheckReport(question, problem=self.problem)
        if self._tests is not None and question not in self._tests:
            return CheckReport(question, problem=f"This notebook has no tests for {question!r}; its "
                                                 f"questions are {', '.join(self._tests)}.")
        try:
            with time_limit(self.seconds, f"The check of {question}"):
                if self._tests is not None:
                    return _run_test_file(question, self._tests[question], environment)
                result = self._otter.check(question, global_env=environment)
        except Exception as error:  # a check must report, never stop the notebook
            if self.problem:
                return CheckReport(question, problem=self.problem)
            text = str(error) if isinstance(error, TimeLimitExceeded) else f"{type(error).__name__}: {error}"
            return CheckReport(question, problem=text)
        return _report_from_otter(question, result)

    def questions(self) -> list[str]:
        """The names of the questions whose tests this notebook holds, in order."""
        if self.path is None:
            return []
        with open(self.path, encoding="utf-8") as file:
            return list(json.load(file)["metadata"]["otter"]["tests"])

    def score(self, global_env: dict[str, Any] | None = None) -> ScoreReport:
        """Run every question's check (as it stands now) and add up the points."""
        environment = sys._getframe(1).f_globals if global_env is None else global_env
        return ScoreReport([self._check(question, environment) for question in self.questions()])
