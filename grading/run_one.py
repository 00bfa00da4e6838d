"""Grade ONE submission, in the current folder, in this fresh process, and write the result as JSON.

    python run_one.py SUBMISSION.ipynb AUTOGRADER.zip RESULT.json [CELL_SECONDS OUTPUT_BYTES]

This is what `grading.grade.execute_submission` runs in a fresh temporary folder, inside the sandbox.
It does what `otter run` did, without a Jupyter kernel and without otter-grader: the submission's code
cells run top to bottom in one namespace of this process (IPython magics and shell lines are skipped;
the check cells are skipped, since their tests run below anyway), then every test of the autograder
zip, public and hidden, runs against that namespace with `backprop_checks` (otter's test format,
otter's way of sharing a question's points among its cases). Starting a kernel and exporting the
notebook took most of otter's 10-13 s per submission; this takes about the time of the cells.

With CELL_SECONDS, a cell still running after that many seconds is interrupted (the error is recorded
as a KeyboardInterrupt, as the kernel used to), so the cells after it still run and earn their
points; OUTPUT_BYTES caps what is kept of the cells' printed output (a cell that prints forever cannot
fill the grader's memory). The parent reads the JSON, never a pickle. Only the standard library and
`backprop_checks` (NumPy) are imported here; the submission imports what it imports.
"""

from __future__ import annotations

import builtins
import io
import json
import re
import signal
import sys
import time
import traceback
import zipfile
from pathlib import Path

STARTED = time.perf_counter()  # "start" in the timings: the interpreter's own start is before this

CHECK_CELL = re.compile(r'\s*grader\.(check\("\w+"\)|score\(\))'
                        r'(\s+if\s+"grader"\s+in\s+globals\(\)\s+else\s+print\(.*\))?\s*', re.S)


class CellTimeLimit(BaseException):
    """Raised inside a cell that ran past the cell time limit (a BaseException: `except Exception`
    in the submission does not swallow it)."""


class CappedText(io.TextIOBase):
    """A stdout/stderr that keeps the first `cap` characters and drops the rest."""

    def __init__(self, cap: int) -> None:
        self.cap, self.parts, self.size = cap, [], 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.size < self.cap:
            kept = text[: self.cap - self.size]
            self.parts.append(kept)
            self.size += len(kept)
        return len(text)


def runnable(source: str) -> str:
    """The cell's Python: IPython magics (`%...`, `%%...`) and shell lines (`!...`) become `pass`."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        lines.append(line)
    return "\n".join(lines)


def code_cells(notebook: dict) -> list[str]:
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("the notebook has no list of cells")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def run_cells(sources: list[str], namespace: dict, cell_seconds: float) -> list[dict[str, str]]:
    """Run each cell in `namespace`; the errors, one per cell that raised or was stopped."""
    errors = []

    def stop(signum, frame):
        raise CellTimeLimit()

    signal.signal(signal.SIGALRM, stop)
    for number, source in enumerate(sources, start=1):
        if CHECK_CELL.fullmatch(source):
            continue
        try:
            code = compile(runnable(source), f"<cell {number}>", "exec")
            signal.setitimer(signal.ITIMER_REAL, cell_seconds, 1.0)  # and every second after, until it ends
            try:
                exec(code, namespace)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except CellTimeLimit:
            errors.append({"source": source, "ename": "KeyboardInterrupt", "evalue": ""})
        except BaseException as error:  # SystemExit and KeyboardInterrupt of the submission included
            errors.append({"source": source, "ename": type(error).__name__, "evalue": str(error)[:500]})
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    return errors


def question_order(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def read_tests(autograder: str) -> dict[str, str]:
    """{question: the source of tests/<question>.py} from the autograder zip, in question order."""
    with zipfile.ZipFile(autograder) as archive:
        tests = {Path(member).stem: archive.read(member).decode("utf-8") for member in archive.namelist()
                 if re.fullmatch(r"tests/[^/]+\.py", member)}
    return {question: tests[question] for question in sorted(tests, key=question_order)}


def grade(submission: str, autograder: str, cell_seconds: float, output_bytes: int) -> dict:
    started = time.perf_counter()
    notebook = json.loads(Path(submission).read_text(encoding="utf-8"))
    tests = read_tests(autograder)  # before the submission runs: it can write to this folder
    sources = code_cells(notebook)
    from backprop_checks import load_test_file, run_test_file  # before: the submission may shadow names

    seconds = {"start": round(started - STARTED, 3), "imports": round(time.perf_counter() - started, 3)}

    namespace = {"__name__": "__main__", "__builtins__": builtins,
                 "display": lambda *objects, **options: None}
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = CappedText(output_bytes)
    try:
        mark = time.perf_counter()
        errors = run_cells(sources, namespace, cell_seconds)
        seconds["cells"] = round(time.perf_counter() - mark, 3)
        mark = time.perf_counter()
        questions = {}
        for question, source in tests.items():
            result = run_test_file(load_test_file(source, question), namespace, cell_seconds)
            for number, case in enumerate(result["cases"], start=1):
                case["name"] = f"{question} - {number}"
            questions[question] = result
        seconds["tests"] = round(time.perf_counter() - mark, 3)
    finally:
        sys.stdout, sys.stderr = saved
    return {"questions": questions, "cell_errors": errors, "failure": None, "seconds": seconds}


def main(submission: str, autograder: str, result_path: str, cell_seconds: str = "",
         output_bytes: str = "") -> int:
    try:
        summary = grade(submission, autograder, float(cell_seconds or 60), int(output_bytes or 1 << 20))
    except BaseException as error:  # report every failure as data; the parent decides what to say
        summary = {"questions": {}, "cell_errors": [],
                   "failure": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    Path(result_path).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
