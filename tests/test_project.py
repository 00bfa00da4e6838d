"""The project's own contracts: the Python version it promises, and the test markers it documents."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

from conftest import MARKS_BY_FILE

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def minimum_python() -> tuple[int, int]:
    match = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"].strip())
    assert match, "requires-python should be a plain lower bound, e.g. '>=3.11'"
    return int(match[1]), int(match[2])


def test_requires_python_is_what_binder_and_this_interpreter_use():
    binder = re.fullmatch(r"python-(\d+)\.(\d+)\s*", (ROOT / "runtime.txt").read_text())
    assert binder and (int(binder[1]), int(binder[2])) == minimum_python(), \
        "runtime.txt (Binder's Python) should be the oldest version pyproject.toml promises"
    assert sys.version_info[:2] >= minimum_python()


def test_the_package_parses_with_the_oldest_promised_python():
    """ast with feature_version rejects syntax newer than that version (e.g. 3.12's `type X = ...`)."""
    for path in sorted((ROOT / "src").rglob("*.py")):
        ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=minimum_python())


def test_every_marker_used_is_registered_and_every_listed_file_exists():
    registered = {line.split(":")[0] for line in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"slow", "grading", "browser"} <= registered
    for name, marks in MARKS_BY_FILE.items():
        assert (ROOT / "tests" / name).is_file(), f"tests/conftest.py marks {name}, which does not exist"
        assert set(marks) <= registered
