"""The `grader` of an exercise notebook: checks in plain words, hints, a worked solution, a score.

An exercise notebook's first cell builds its `grader`:

    import numpy as np
    from backprop_checks import Checks
    grader = Checks("ch03-losses")

and the cell under each question runs `grader.check("q1")`. The public tests of every set ship with
this package (`sets/NAME.json`, written by `make exercises` from the masters in `solutions/`), so a
check never looks for the notebook file and never needs otter-grader: it works the same in Jupyter,
on Binder, on Colab and in the in-browser book (Pyodide). The hidden tests are only in the autograder
zips. `Checks` runs a question's test cases against the reader's variables, each under a time limit
where the platform can interrupt running code, and shows which passed and which failed, in plain
words; `score()` adds them up; `solution("q1")` shows a worked solution once q1 has been checked.
"""

from __future__ import annotations

import html
import inspect
import json
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .expect import CheckFailed
from .i18n import LANGUAGES, N_, tr, using

DEFAULT_SECONDS = 30.0
SETS = Path(__file__).resolve().with_name("sets")
SETUP_FIRST = N_("Run the setup cell at the top of the notebook first (it defines `grader`), "
                 "then this cell again.")


# --- Time limits --------------------------------------------------------------------------------

class TimeLimitExceeded(Exception):
    """Raised inside code that ran longer than its time limit."""


def can_interrupt() -> bool:
    """Whether running code can be stopped by a timer signal here: the main thread of CPython on
    Linux or macOS. Not on Windows, in other threads, or in the browser (Pyodide has no timer signals)."""
    return (hasattr(signal, "setitimer") and sys.platform not in ("emscripten", "wasi")
            and threading.current_thread() is threading.main_thread())


@contextmanager
def time_limit(seconds: float, what: str = "") -> Iterator[None]:
    """Raise TimeLimitExceeded inside the running code after `seconds`, and every `seconds` after
    that, until the block ends.

    Uses a timer signal (SIGALRM) where `can_interrupt()`; elsewhere the block runs without a limit
    (in the browser a stuck loop is stopped with the kernel's stop button). Code stuck inside one long
    NumPy call is stopped when that call returns.
    """
    if not can_interrupt():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(tr("{what} ran for more than {seconds} s and was stopped. Does a loop never "
                                   "end, or does it run far more steps than it needs?",
                                   what=what or tr("this code"), seconds=f"{seconds:g}"))

    try:
        previous = signal.signal(signal.SIGALRM, stop)
    except (ValueError, OSError):  # signals unavailable after all
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- Test files (otter-grader's format, run without otter) --------------------------------------

@dataclass
class TestCase:
    """One test function of a question: `function(**variables)` raises when the answer is wrong."""

    name: str
    description: str
    hidden: bool
    points: float | None
    function: Any


@dataclass
class TestFile:
    """A question's tests, as in otter's `tests/q1.py`: `name`, `points` and @test_case functions."""

    question: str
    points: float | None
    cases: list[TestCase]

    def case_points(self) -> list[float]:
        """Points per case, as otter shares them: cases without points share what the others leave."""
        given = [case.points for case in self.cases]
        total = self.points if self.points is not None else float(len(self.cases))
        free = [p for p in given if p is None]
        share = (total - sum(p for p in given if p is not None)) / len(free) if free else 0.0
        return [share if p is None else float(p) for p in given]


def load_test_file(source: str, question: str = "") -> TestFile:
    """Read an otter-format test file (`from otter.test_files import test_case`, `name`, `points`,
    functions decorated with `@test_case(points=..., hidden=...)`) without importing otter."""
    cases: list[TestCase] = []

    def test_case(points: float | None = None, hidden: bool = False, **_: Any):
        def decorate(function: Any) -> Any:
            text = " ".join((function.__doc__ or function.__name__).split())
            cases.append(TestCase(function.__name__, text, bool(hidden), points, function))
            return function
        return decorate

    code = re.sub(r"^from otter\.test_files import test_case[ \t]*$", "", source, flags=re.M)
    namespace: dict[str, Any] = {"test_case": test_case, "__name__": f"tests_{question or 'q'}"}
    exec(compile(code, f"<tests of {question or 'a question'}>", "exec"), namespace)
    return TestFile(str(namespace.get("name", question)), namespace.get("points"), cases)


def run_case(case: TestCase, variables: dict[str, Any], seconds: float) -> tuple[bool, str]:
    """Run one test case on the reader's variables (missing ones are None); (passed, message)."""
    arguments = {name: variables.get(name) for name in inspect.signature(case.function).parameters}
    try:
        with time_limit(seconds, tr("The test case '{description}'", description=case.description)):
            case.function(**arguments)
    except (CheckFailed, AssertionError) as error:
        return False, str(error) or tr("the answer is not right yet.")
    except TimeLimitExceeded as error:
        return False, str(error)
    except Exception as error:  # the reader's code raised: say what, never stop the notebook
        return False, tr("your code raised {kind}: {error}", kind=type(error).__name__, error=error)
    return True, ""


def run_test_file(tests: TestFile, variables: dict[str, Any], seconds: float = DEFAULT_SECONDS) -> dict:
    """Every case of `tests`: {"score", "possible", "cases": [{"name", "description", "hidden",
    "passed", "message", "points"}]}; the format the batch grader writes, too."""
    cases, score = [], 0.0
    for case, points in zip(tests.cases, tests.case_points(), strict=True):
        passed, message = run_case(case, variables, seconds)
        score += points if passed else 0.0
        cases.append({"name": case.name, "description": case.description, "hidden": case.hidden,
                      "passed": passed, "message": message, "points": points})
    possible = tests.points if tests.points is not None else float(len(tests.cases))
    return {"score": round(score, 6), "possible": float(possible), "cases": cases}


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
    language: str = "en"

    @property
    def passed(self) -> bool:
        return not self.problem and all(case.passed for case in self.cases)

    def headline(self) -> str:
        if self.problem:
            return tr("{question}: could not be checked", self.language, question=self.question)
        passed = sum(case.passed for case in self.cases)
        return tr(CASES_PASSED_OF, self.language, question=self.question, passed=passed,
                  cases=len(self.cases))

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.problem:
            lines.append(f"  {self.problem}")
        for case in self.cases:
            mark = tr("✔ passed", self.language) if case.passed else tr("✘ FAILED", self.language)
            lines.append("  " + tr(MARKED, self.language, mark=mark, description=case.description))
            if case.detail:
                lines.append(f"      {case.detail}")
        if not self.passed and not self.problem:
            lines.append("  " + tr("Stuck? Open the hint under the question.", self.language))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#b3261e"
        parts = [f"<div><p style='margin:0.2em 0'><strong style='color:{colour}'>"
                 f"{html.escape(self.headline())}</strong></p>"]
        if self.problem:
            parts.append(f"<p style='margin:0.2em 0'>{_html(self.problem)}</p>")
        parts.append("<ul style='margin:0.2em 0; list-style:none; padding-left:0.5em'>")
        for case in self.cases:
            mark = (f"<span style='color:#1b7f3b'>{tr('✔ passed', self.language)}</span>" if case.passed
                    else f"<span style='color:#b3261e'>{tr('✘ failed', self.language)}</span>")
            parts.append(f"<li>{tr(MARKED, self.language, mark=mark, description=_html(case.description))}")
            if case.detail:
                parts.append(f"<br><span style='margin-left:1.6em; display:inline-block; "
                             f"white-space:pre-wrap'>{_html(case.detail)}</span>")
            parts.append("</li>")
        parts.append("</ul>")
        if not self.passed and not self.problem:
            stuck = tr("Stuck? Open the <em>Hint</em> under the question.", self.language)
            parts.append(f"<p style='margin:0.2em 0'>{stuck}</p>")
        return "".join(parts) + "</div>"


MARKED = N_("{mark}: {description}")  # "✔ passed: the derivative of x**3 at x = 2 is 12"
CASES_PASSED = N_("{passed} of {cases} test cases passed")
CASES_PASSED_OF = N_("{question}: {passed} of {cases} test cases passed")


def _html(text: str) -> str:
    """Escape text for HTML and show `code` in backticks as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


@dataclass
class ScoreReport:
    """Points on the tests a reader can see, per question; hidden tests are added at grading."""

    reports: list[CheckReport]
    language: str = "en"

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
                             tr(CASES_PASSED, self.language, passed=passed, cases=len(report.cases))))
        return rows

    NOTE = N_("Points here come from the tests you can see. When your work is graded, hidden tests "
              "(other inputs, edge cases) share each question's points with them.")

    def _headline(self) -> str:
        return tr("Score so far: {score} / {possible} points", self.language, score=f"{self.score:g}",
                  possible=f"{self.possible:g}")

    def __repr__(self) -> str:
        lines = [self._headline()]
        lines += [f"  {question:<4} {points:>9}   {text}" for question, points, text in self._rows()]
        return "\n".join([*lines, tr(self.NOTE, self.language)])

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td>{html.escape(q)}</td><td style='text-align:right'>{html.escape(p)}</td>"
                       f"<td style='text-align:left'>{html.escape(t)}</td></tr>" for q, p, t in self._rows())
        head = "".join(f"<th>{html.escape(tr(h, self.language))}</th>"
                       for h in (N_("question"), N_("points"), N_("test cases")))
        return (f"<div><p><strong>{html.escape(self._headline())}</strong></p>"
                f"<table><tr>{head}</tr>{body}</table>"
                f"<p>{html.escape(tr(self.NOTE, self.language))}</p></div>")


# --- The grader of an exercise notebook ---------------------------------------------------------

def load_set(name: str) -> dict:
    """The public tests, hints and solutions of exercise set `name`, from this package's data."""
    path = SETS / f"{name}.json"
    if not re.fullmatch(r"[a-z0-9-]+", name or "") or not path.is_file():
        known = ", ".join(sorted(p.stem for p in SETS.glob("*.json")))
        raise LookupError(tr("There is no exercise set {name!r}; the known sets are: {known}.", name=name,
                             known=known))
    return json.loads(path.read_text(encoding="utf-8"))


def load_translated_tests(name: str, language: str) -> dict[str, str]:
    """Question -> its public tests with their messages in `language` ({} for English or when the
    set has no translation): the same tests as `load_set(name)`'s, only their strings translated."""
    path = SETS / language / f"{name}.json"
    if language == "en" or not path.is_file():
        return {}
    questions = json.loads(path.read_text(encoding="utf-8"))["questions"]
    return {question: data["tests"] for question, data in questions.items()}


@dataclass
class Solution:
    """A worked solution, shown as code."""

    question: str
    code: str
    note: str = ""
    language: str = "en"

    def __repr__(self) -> str:
        title = tr("Worked solution of {question}:", self.language, question=self.question)
        return "\n".join(filter(None, [title, self.note, "", self.code]))

    def _repr_html_(self) -> str:
        note = f"<p>{_html(self.note)}</p>" if self.note else ""
        title = tr("Worked solution of {question}", self.language, question=self.question)
        return (f"<div><p><strong>{html.escape(title)}</strong></p>{note}"
                f"<pre><code>{html.escape(self.code)}</code></pre></div>")


class Checks:
    """The `grader` of an exercise notebook: checks with a time limit per test case, results in plain
    words, a running score, and worked solutions after a first try.

    name: the exercise set ("ch03-losses"); seconds: the time limit of one test case; language: "en",
    or "zh_CN" in the Chinese notebooks (the same tests, their messages in Chinese). A second
    positional argument (`otter.Notebook`, from the first edition of the notebooks) is accepted and
    ignored. Never raises: if the set is unknown, every check says why and what to do.
    """

    def __init__(self, name: str, _otter_notebook: Any = None, *, seconds: float = DEFAULT_SECONDS,
                 language: str = "en") -> None:
        self.name, self.seconds = name, seconds
        self.language = language if language in LANGUAGES else "en"
        self.problem = ""
        self.checked: set[str] = set()
        self.translated_tests: dict[str, str] = {}
        try:
            if language not in LANGUAGES:
                raise LookupError(f"There is no language {language!r} for the checks; the languages are: "
                                  f"{', '.join(LANGUAGES)}.")
            self.data = load_set(name)
            self.translated_tests = load_translated_tests(name, self.language)
        except (LookupError, OSError, ValueError) as error:
            self.data = {"questions": {}}
            self.problem = str(error)
            print(self.problem)

    def questions(self) -> list[str]:
        """The names of the questions of this set, in order."""
        return list(self.data["questions"])

    def _tests(self, question: str) -> TestFile:
        source = self.translated_tests.get(question) or self.data["questions"][question]["tests"]
        return load_test_file(source, question)

    def check(self, question: str, global_env: dict[str, Any] | None = None) -> CheckReport:
        """Run the public tests of `question` against the caller's variables (or `global_env`)."""
        environment = sys._getframe(1).f_globals if global_env is None else global_env
        return self._check(question, environment)

    def _check(self, question: str, environment: dict[str, Any]) -> CheckReport:
        with using(self.language):
            return self._check_in_language(question, environment)

    def _no_question(self, question: str) -> str:
        return tr("{name} has no question {question!r}; its questions are {questions}.", self.language,
                  name=self.name, question=question, questions=", ".join(self.questions()))

    def _check_in_language(self, question: str, environment: dict[str, Any]) -> CheckReport:
        if self.problem:
            return CheckReport(question, problem=self.problem, language=self.language)
        if question not in self.data["questions"]:
            return CheckReport(question, problem=self._no_question(question), language=self.language)
        self.checked.add(question)
        try:
            result = run_test_file(self._tests(question), environment, self.seconds)
        except Exception as error:  # a check must report, never stop the notebook
            return CheckReport(question, problem=tr("The tests could not run: {kind}: {error}",
                                                    kind=type(error).__name__, error=error),
                               language=self.language)
        report = CheckReport(question, score=result["score"], possible=result["possible"],
                             language=self.language)
        for case in result["cases"]:
            report.cases.append(CaseResult(case["passed"], case["description"], case["message"]))
        return report

    def score(self, global_env: dict[str, Any] | None = None) -> ScoreReport:
        """Run every question's check (as it stands now) and add up the points."""
        environment = sys._getframe(1).f_globals if global_env is None else global_env
        return ScoreReport([self._check(question, environment) for question in self.questions()],
                           self.language)

    def solution(self, question: str) -> Solution | str:
        """A worked solution of `question`, once its check has run at least once (try first!)."""
        if question not in self.data["questions"]:
            return self._no_question(question)
        code = self.data["questions"][question].get("solution")
        if code is None:
            return tr("The solutions are not included in this course's copy of the exercises.", self.language)
        if question not in self.checked:
            return tr("Try {question} first: write your answer and run its check (grader.check({quoted})); "
                      "then the worked solution is yours.", self.language, question=question,
                      quoted=repr(question))
        return Solution(question, code, language=self.language)
