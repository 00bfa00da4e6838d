"""Grade a folder of submitted exercise notebooks: one CSV row and one feedback file per submission.

Each `.ipynb` in the folder is read (never written), matched to its exercise set (from the notebook's
metadata, which survives renaming, or else from its file name), copied into a fresh temporary folder
and graded there by `execute_submission`: `run_one.py` with the set's autograder zip (public and
hidden tests), in its own process group, killed when it exceeds the time limit. Several submissions
run at once, one per core. Whatever goes wrong with one submission (not JSON, empty, unknown set, a
cell that raises, an endless loop) becomes the `error` or `note` of its row; the others are graded.
Submitted code runs only in `execute_submission`, through `sandbox.run_limited`.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import EXERCISE_SETS
from .build import AUTOGRADER, available_cores, build, out_of_date
from .report import write_reports
from .sandbox import Limits, isolation_status, run_limited

RUN_ONE = Path(__file__).resolve().with_name("run_one.py")
DEFAULT_TIME_LIMIT = 300.0  # seconds per submission: a full set runs in well under a minute
DEFAULT_CELL_TIME_LIMIT = 60.0  # seconds per cell: the slowest solution cell takes a few seconds


@dataclass
class Submission:
    """One file to grade and what is known about it before it runs."""

    path: Path
    exercise_set: str | None = None
    error: str = ""  # why it cannot be graded; empty when it can
    note: str = ""  # something the instructor should know about a graded submission
    notebook: dict | None = None


@dataclass
class Row:
    """The outcome for one submission: per-question points, or the reason there are none."""

    submission: str
    exercise_set: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    possible: dict[str, float] = field(default_factory=dict)
    error: str = ""
    note: str = ""
    feedback: str = ""
    seconds: float = 0.0
    cases: dict[str, list[dict]] = field(default_factory=dict)  # per question, as run_one reports them

    @property
    def total(self) -> float | None:
        return round(sum(self.scores.values()), 4) if self.scores else None

    @property
    def total_possible(self) -> float | None:
        return round(sum(self.possible.values()), 4) if self.possible else None


# --- Which exercise set is this? ----------------------------------------------------------------

def file_name_sets(path: Path) -> list[str]:
    """The exercise sets a file name points at: their full name, or their chapter ("ch03")."""
    stem = path.stem.lower()
    return [s for s in EXERCISE_SETS
            if s in stem or re.search(rf"(^|[^a-z0-9]){s.split('-')[0]}($|[^0-9])", stem)]


def identify(path: Path) -> Submission:
    """Read a submission and decide which exercise set it belongs to (or why it cannot be graded)."""
    submission = Submission(path)
    data = path.read_bytes()
    if not data.strip():
        submission.error = f"the file is empty ({len(data)} bytes)"
        return submission
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        submission.error = f"not a notebook: the file is not valid JSON ({error})"
        return submission
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        submission.error = "not a notebook: the JSON has no list of cells"
        return submission
    submission.notebook = notebook
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    otter = metadata.get("otter") if isinstance(metadata.get("otter"), dict) else {}
    name = otter.get("assignment_name")
    if name in EXERCISE_SETS:
        submission.exercise_set = name
        named = file_name_sets(path)
        if named and name not in named:  # only when the file name says something else
            submission.note = (f"the file name suggests {', '.join(named)}, but the notebook's metadata "
                               f"says {name}; graded as {name}")
        return submission
    by_file_name = file_name_sets(path)
    if len(by_file_name) == 1:
        submission.exercise_set = by_file_name[0]
        submission.note = "the notebook's exercise metadata is missing; identified by its file name"
        return submission
    submission.error = ("cannot tell which exercise set this is: the notebook has no exercise metadata "
                        "and its file name does not start with a set's name (e.g. ch03-losses)")
    return submission


# --- Running one submission: the only place where submitted code runs --------------------------

def execute_submission(notebook: dict, file_name: str, autograder_zip: Path,
                       limits: Limits | None = None, cell_seconds: float | None = None,
                       run: str = "") -> dict:
    """Grade one submission with run_one.py in a fresh temporary folder and return its summary.

    notebook: the submission's JSON (written to the temporary folder, so the original file is never
    touched); file_name: its name there; autograder_zip: the set's zip with every test.
    The worker (run_one.py) and the autograder zip are copied into the folder, and the worker runs
    there through `sandbox.run_limited`: inside bubblewrap where available (no network, read-only
    system, nothing else visible), always under `limits` (time, memory, CPU, processes, file size).
    cell_seconds: a cell running longer is interrupted and the next cells still run (default:
    DEFAULT_CELL_TIME_LIMIT, at most the wall time).
    Returns run_one's JSON summary, or {"limit": "time limit (300 s)"} / {"failure": "..."}.
    """
    limits = limits or Limits(wall_seconds=DEFAULT_TIME_LIMIT)
    cell_seconds = min(cell_seconds or DEFAULT_CELL_TIME_LIMIT, limits.wall_seconds)
    with tempfile.TemporaryDirectory(prefix="grade-") as folder:
        work = Path(folder)
        (work / "tmp").mkdir()
        (work / file_name).write_text(json.dumps(notebook), encoding="utf-8")
        shutil.copy(RUN_ONE, work / "run_one.py")
        shutil.copy(autograder_zip, work / "autograder.zip")
        environment = {"TMPDIR": str(work / "tmp"), "MKL_NUM_THREADS": "1",
                       "PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PLATFORM_DIRS": "1",
                       "PYTHONWARNINGS": "ignore"}
        command = [sys.executable, "run_one.py", file_name, "autograder.zip", "result.json",
                   f"{cell_seconds:g}", str(limits.output_bytes)]
        outcome = run_limited(command, work, limits, env=environment, run=run)
        result = work / "result.json"
        if outcome.reason and (outcome.returncode is None or not result.exists()):
            return {"limit": outcome.reason}
        if not result.exists():
            tail = (outcome.stdout + outcome.stderr)[-2000:]
            return {"failure": f"the grader stopped without a result (exit code "
                               f"{outcome.returncode}): {tail}"}
        try:
            summary = json.loads(result.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):  # the submission can write to its own folder
            return {"failure": "the result file was damaged (did the submission overwrite it?)"}
        summary["cell_seconds"] = cell_seconds
        return summary


# --- From otter's results to a row and a feedback text ------------------------------------------

def test_descriptions(autograder_zip: Path) -> dict[str, str]:
    """{"q1 - 1": "what test case 1 of q1 checks", ...} from the docstrings of the zip's test files."""
    descriptions = {}
    with zipfile.ZipFile(autograder_zip) as archive:
        for member in archive.namelist():
            if not re.fullmatch(r"tests/[^/]+\.py", member):
                continue
            question = Path(member).stem
            tree = ast.parse(archive.read(member).decode("utf-8"))
            functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
            for number, function in enumerate(functions, start=1):
                text = ast.get_docstring(function) or ""
                descriptions[f"{question} - {number}"] = " ".join(text.split())
    return descriptions


def plain_failure(message: str) -> str:
    """The exception line of otter's failure message (what was checked, expected and got)."""
    lines = message.strip().splitlines()
    if len(lines) >= 4 and lines[1].startswith("Error at line"):
        kind, _, text = "\n".join(lines[3:]).partition(": ")
        return text if kind in ("CheckFailed", "AssertionError", "TimeLimitExceeded") else f"{kind}: {text}"
    return " ".join(lines[1:]) or message.strip()


def first_cell_error(summary: dict, notebook: dict) -> str:
    """'code cell 4 raised NameError: ...' for the first cell of the submission that raised."""
    errors = summary.get("cell_errors") or []
    if not errors:
        return ""
    sources = ["".join(cell.get("source", "")) for cell in notebook.get("cells", [])
               if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    first = errors[0]
    where = "a code cell"
    if first["source"] in sources:
        where = f"code cell {sources.index(first['source']) + 1}"
    more = f" ({len(errors) - 1} more cells raised too)" if len(errors) > 1 else ""
    if first["ename"] == "KeyboardInterrupt":  # how the cell time limit stops a cell
        what = (f"was stopped at the cell time limit ({summary.get('cell_seconds', 0):g} s; an endless "
                "loop, or far too much work?)")
    else:
        what = f"raised {first['ename']}" + (f": {first['evalue']}" if first["evalue"] else "")
    return f"{where} {what}{more}; the cells after it still ran"


def make_row(submission: Submission, summary: dict, descriptions: dict[str, str], seconds: float) -> Row:
    row = Row(submission.path.name, submission.exercise_set or "", note=submission.note, seconds=seconds)
    if summary.get("limit"):
        reason = summary["limit"]
        hint = " (an endless loop, or far too much work?)" if reason.startswith("time") else ""
        row.error = f"stopped: {reason}{hint}"
        return row
    if summary.get("failure") or not summary.get("questions"):
        row.error = "grading failed: " + (summary.get("failure") or "the grader returned no results")
        return row
    lines = [f"Feedback for {row.submission} (exercise set {row.exercise_set})", ""]
    for question, result in summary["questions"].items():
        row.scores[question] = round(result["score"], 4)
        row.possible[question] = round(result["possible"], 4)
        row.cases[question] = [
            {**case, "description": case.get("description") or descriptions.get(case["name"]) or case["name"],
             "message": plain_failure(case["message"]) if case["message"] else ""}
            for case in result["cases"]]
        lines.append(f"{question}: {result['score']:.4g} / {result['possible']:.4g} points")
        for case in result["cases"]:
            mark = "passed" if case["passed"] else "FAILED"
            kind = "hidden" if case["hidden"] else "public"
            what = case.get("description") or descriptions.get(case["name"]) or case["name"]
            lines.append(f"  [{mark}] ({kind}) {what}")
            if not case["passed"]:
                lines.append(f"      {plain_failure(case['message'])}")
        lines.append("")
    cell_error = first_cell_error(summary, submission.notebook or {})
    row.note = "; ".join(text for text in (row.note, cell_error) if text)
    lines.insert(1, f"Total: {row.total:.4g} / {row.total_possible:.4g} points")
    if row.note:
        lines.insert(2, f"Note: {row.note}")
    row.feedback = "\n".join(lines).rstrip() + "\n"
    return row


def grade_one(submission: Submission, autograder: Path, limits: Limits,
              cell_seconds: float | None = None, run: str = "") -> Row:
    if submission.error:
        return Row(submission.path.name, submission.exercise_set or "", error=submission.error,
                   note=submission.note)
    notebook = dict(submission.notebook)
    metadata = dict(notebook.get("metadata") or {})
    # The copy (never the original) gets what otter needs: the set's name and a Python 3 kernel.
    metadata["otter"] = {**(metadata.get("otter") or {}), "assignment_name": submission.exercise_set}
    metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook["metadata"] = metadata
    zip_file = autograder / f"{submission.exercise_set}.zip"
    start = time.perf_counter()
    summary = execute_submission(notebook, "submission.ipynb", zip_file, limits, cell_seconds, run)
    return make_row(submission, summary, test_descriptions(zip_file), time.perf_counter() - start)


# --- A whole folder ------------------------------------------------------------------------------

def grade_folder(folder: Path, output: Path, *, autograder: Path = AUTOGRADER,
                 time_limit: float = DEFAULT_TIME_LIMIT, jobs: int | None = None,
                 limits: Limits | None = None, cell_time_limit: float | None = None,
                 echo=print, run: str | None = None, hide_hidden: bool = False) -> list[Row]:
    """Grade every .ipynb directly in `folder`; write output/grades.csv and output/feedback/*.txt.

    limits: per-submission resource limits (default: `Limits` with `time_limit` as the wall time);
    cell_time_limit: seconds before a single cell is interrupted (default DEFAULT_CELL_TIME_LIMIT).
    hide_hidden: the HTML feedback and the class report count the hidden cases but do not describe them.
    run: the name every process of this run carries (SANDBOX_RUN=<run>-...; default: a random one),
    so that runs on one machine never touch each other's processes.
    """
    run = run or f"grade{uuid.uuid4().hex[:12]}"
    limits = limits or Limits(wall_seconds=time_limit)
    echo(isolation_status()[1])
    folder, output = Path(folder), Path(output)
    paths = sorted(path for path in folder.glob("*.ipynb") if path.is_file())
    if not paths:
        raise FileNotFoundError(f"no .ipynb files in {folder}")
    submissions = [identify(path) for path in paths]
    needed = sorted({s.exercise_set for s in submissions if s.exercise_set})
    stale = [name for name in needed if out_of_date(name, autograder)]
    if stale:
        echo(f"building the autograder for {', '.join(stale)} (otter assign) ...")
        build(stale, jobs=jobs, autograder=autograder, exercises=autograder / "student", run_tests=False)
    rows: list[Row] = []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs or available_cores()) as pool:
        futures = {pool.submit(grade_one, s, autograder, limits, cell_time_limit, run): s
                   for s in submissions}
        for done, future in enumerate(as_completed(futures), start=1):
            try:
                row = future.result()
            except Exception as error:  # the grader's side failed for this one (e.g. a corrupt zip)
                submission = futures[future]
                row = Row(submission.path.name, submission.exercise_set or "", note=submission.note,
                          error=f"grader error (not the student's fault): {type(error).__name__}: {error}")
            rows.append(row)
            outcome = row.error or f"{row.total:g} / {row.total_possible:g}"
            echo(f"[{done}/{len(futures)}] {row.submission}: {row.exercise_set or '?'}: {outcome}"
                 f"{f' ({row.seconds:.0f} s)' if row.seconds else ''}")
    rows.sort(key=lambda row: row.submission)
    write_outputs(rows, output, hide_hidden=hide_hidden)
    graded = sum(1 for row in rows if not row.error)
    echo(f"graded {graded} of {len(rows)} submissions in {time.perf_counter() - start:.0f} s; "
         f"wrote {output / 'grades.csv'} and {output / 'feedback'}/")
    return rows


def question_columns(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(column name, set, question) for every question of the sets present, in set order."""
    sets = sorted({row.exercise_set for row in rows if row.possible}, key=EXERCISE_SETS.index)
    columns = []
    for name in sets:
        questions = next(row.possible for row in rows if row.exercise_set == name and row.possible)
        for question in questions:
            columns.append((question if len(sets) == 1 else f"{name}/{question}", name, question))
    return columns


def write_outputs(rows: list[Row], output: Path, *, hide_hidden: bool = False) -> None:
    """grades.csv (submission, exercise_set, one column per question, total, possible, error, note),
    feedback/<submission>.txt and .html for every submission, report.html (with totals.png),
    canvas.csv and moodle.csv (see grading.report)."""
    output.mkdir(parents=True, exist_ok=True)
    feedback = output / "feedback"
    if feedback.exists():
        shutil.rmtree(feedback)
    feedback.mkdir()
    columns = question_columns(rows)
    with open(output / "grades.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", "exercise_set", *(c[0] for c in columns), "total", "possible",
                         "error", "note"])
        for row in rows:
            scores = [row.scores.get(question, "") if row.exercise_set == name else ""
                      for _, name, question in columns]
            writer.writerow([row.submission, row.exercise_set, *scores,
                             "" if row.total is None else row.total,
                             "" if row.total_possible is None else row.total_possible,
                             row.error, row.note])
    for row in rows:
        text = row.feedback or (f"{row.submission} was not graded: {row.error}\n" if row.error else "")
        (feedback / f"{Path(row.submission).stem}.txt").write_text(text, encoding="utf-8")
    write_reports(rows, output, hide_hidden=hide_hidden)
