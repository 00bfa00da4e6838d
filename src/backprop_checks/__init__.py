"""Checks for the graded exercise notebooks in `exercises/`, separate from the NumPy teaching package.

`Checks` is each notebook's `grader` (checks, score, worked solutions); the test cases use the helpers
of `expect`. The public tests of every set are package data (`sets/`), written by `make exercises`.
Only NumPy and the standard library are needed, so this runs in Jupyter, on Colab and in Pyodide.
"""

from .checks import (
    DEFAULT_SECONDS,
    SETUP_FIRST,
    CaseResult,
    CheckReport,
    Checks,
    ScoreReport,
    Solution,
    TestCase,
    TestFile,
    TimeLimitExceeded,
    can_interrupt,
    load_set,
    load_test_file,
    run_case,
    run_test_file,
    time_limit,
)
from .expect import (
    CheckFailed,
    as_array,
    expect,
    expect_array,
    expect_close,
    expect_function,
    expect_not,
    expect_tuple,
    matches,
)

__all__ = [
    "DEFAULT_SECONDS", "SETUP_FIRST", "CaseResult", "CheckFailed", "CheckReport", "Checks", "ScoreReport",
    "Solution", "TestCase", "TestFile", "TimeLimitExceeded", "as_array", "can_interrupt", "expect",
    "expect_array", "expect_close", "expect_function", "expect_not", "expect_tuple", "load_set",
    "load_test_file", "matches", "run_case", "run_test_file", "time_limit",
]
