"""Grading at class scale: grade N generated submissions of one exercise set, as `make grade` does
(each in a fresh sandboxed process, `--jobs` at once), and print seconds per submission and
submissions per hour.

    .venv/bin/python -m benchmarks.grading                      # 60 submissions of ch09, all cores
    .venv/bin/python -m benchmarks.grading --set ch03-losses -n 300 --jobs 2

The submissions are a mix, in turn: the solved notebook, the solved notebook with its first answer
cell left blank (one wrong question), and the blank exercise. The autograder is built first if it
is missing or stale (that time is not counted). Goal (issue 14): 300 submissions of one set in at
most 10 minutes on 2 cores, i.e. about 2 s of wall time per submission.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not __package__:
    sys.exit("run this from the repository's folder as: .venv/bin/python -m benchmarks.grading")

import nbformat  # noqa: E402

from grading import EXERCISE_SETS  # noqa: E402
from grading.build import AUTOGRADER, EXERCISES, available_cores, build, out_of_date  # noqa: E402
from grading.grade import grade_folder  # noqa: E402


def one_wrong(solved: nbformat.NotebookNode, blank: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solved notebook with its first answer cell as the blank exercise has it."""
    answers = [c for c in blank.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    notebook = nbformat.from_dict(solved)
    cells = [c for c in notebook.cells if "otter_assign_solution_cell" in c.metadata.get("tags", [])]
    if not answers or len(cells) != len(answers):
        raise RuntimeError("the solved and the blank notebook do not have the same answer cells")
    cells[0].source = answers[0].source
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="ch09-adaptive-methods", choices=EXERCISE_SETS)
    parser.add_argument("-n", type=int, default=60, help="submissions (default: 60)")
    parser.add_argument("--jobs", type=int, default=available_cores(), help="at once (default: the cores)")
    args = parser.parse_args(argv)
    if out_of_date(args.set):
        build([args.set], run_tests=False)
    solved = nbformat.read(AUTOGRADER / f"{args.set}.ipynb", as_version=4)
    blank = nbformat.read(EXERCISES / f"{args.set}.ipynb", as_version=4)
    kinds = {"solved": solved, "one-wrong": one_wrong(solved, blank), "blank": blank}
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
        submissions = Path(folder) / "submissions"
        submissions.mkdir()
        for number in range(args.n):
            kind = list(kinds)[number % 3]
            nbformat.write(kinds[kind], submissions / f"{kind}-{number:04d}.ipynb")
        start = time.perf_counter()
        rows = grade_folder(submissions, Path(folder) / "output", jobs=args.jobs, echo=lambda *a: None)
        wall = time.perf_counter() - start
    errors = [row for row in rows if row.error]
    totals = {kind: sorted({row.total for row in rows if row.submission.startswith(kind)}) for kind in kinds}
    latency = statistics.median(row.seconds for row in rows)
    print(f"{args.n} submissions of {args.set}, {args.jobs} at once: {wall:.1f} s of wall time")
    print(f"  {wall / args.n:.2f} s per submission (wall), {3600 * args.n / wall:.0f} submissions per hour")
    print(f"  each took {latency:.2f} s (median, start to result, sandbox included)")
    print(f"  totals by kind: {totals}; rows with an error: {len(errors)}")
    print(f"  300 submissions would take {300 * wall / args.n / 60:.1f} min (goal: at most 10 on 2 cores)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
