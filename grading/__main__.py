"""Grade a folder of submitted exercise notebooks: `python -m grading FOLDER` (or `make grade`).

Writes OUTPUT/grades.csv (one row per submission: exercise set, points per question, total,
possible, error, note), OUTPUT/feedback/<submission>.txt and .html (per student), OUTPUT/report.html
with totals.png (the class report), and OUTPUT/canvas.csv and moodle.csv (gradebook imports).
Submissions are never modified.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import AUTOGRADER, available_cores
from .grade import DEFAULT_CELL_TIME_LIMIT, DEFAULT_TIME_LIMIT, grade_folder
from .sandbox import Limits, MiB

DEFAULTS = Limits()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, help="folder holding the submitted .ipynb files")
    parser.add_argument("--output", type=Path, default=Path("grading_output"),
                        help="where grades.csv and feedback/ go (default: grading_output)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        help=f"seconds allowed per submission (default: {DEFAULT_TIME_LIMIT:g})")
    parser.add_argument("--cell-time-limit", type=float, default=DEFAULT_CELL_TIME_LIMIT,
                        help="seconds before one cell is interrupted; the cells after it still run "
                             f"(default: {DEFAULT_CELL_TIME_LIMIT:g})")
    limits = parser.add_argument_group("limits per submission (each process of it)")
    limits.add_argument("--memory-mb", type=int, default=DEFAULTS.memory_bytes // MiB,
                        help="address space per process, MiB (default: %(default)s)")
    limits.add_argument("--cpu-seconds", type=int, default=DEFAULTS.cpu_seconds,
                        help="CPU time per process (default: %(default)s)")
    limits.add_argument("--max-processes", type=int, default=DEFAULTS.processes,
                        help="processes and threads (default: %(default)s)")
    limits.add_argument("--max-file-mb", type=int, default=DEFAULTS.file_bytes // MiB,
                        help="largest file it may write, MiB (default: %(default)s)")
    limits.add_argument("--max-output-kb", type=int, default=DEFAULTS.output_bytes // 1024,
                        help="output kept from its run and from its notebook, KiB (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=available_cores(),
                        help="submissions graded at once (default: the available cores)")
    parser.add_argument("--hide-hidden-details", action="store_true",
                        help="in the HTML feedback and the class report, count the hidden test cases but "
                             "do not describe them")
    parser.add_argument("--autograder", type=Path, default=AUTOGRADER,
                        help="folder of autograder zips, built from solutions/ when missing or stale")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    try:
        limits = Limits(wall_seconds=args.time_limit, cpu_seconds=args.cpu_seconds,
                        memory_bytes=args.memory_mb * MiB, processes=args.max_processes,
                        file_bytes=args.max_file_mb * MiB, output_bytes=args.max_output_kb * 1024)
    except ValueError as error:
        parser.error(str(error))
    try:
        grade_folder(args.submissions, args.output, autograder=args.autograder, jobs=args.jobs,
                     limits=limits, cell_time_limit=args.cell_time_limit,
                     hide_hidden=args.hide_hidden_details)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
