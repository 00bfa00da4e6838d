"""Grade a folder of submitted exercise notebooks: `python -m grading FOLDER` (or `make grade`).

Writes OUTPUT/grades.csv (one row per submission: exercise set, points per question, total,
possible, error, note) and OUTPUT/feedback/<submission>.txt. Submissions are never modified.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import AUTOGRADER, available_cores
from .grade import DEFAULT_TIME_LIMIT, grade_folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, help="folder holding the submitted .ipynb files")
    parser.add_argument("--output", type=Path, default=Path("grading_output"),
                        help="where grades.csv and feedback/ go (default: grading_output)")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                        help=f"seconds allowed per submission (default: {DEFAULT_TIME_LIMIT:g})")
    parser.add_argument("--jobs", type=int, default=available_cores(),
                        help="submissions graded at once (default: the available cores)")
    parser.add_argument("--autograder", type=Path, default=AUTOGRADER,
                        help="folder of autograder zips, built from solutions/ when missing or stale")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    try:
        grade_folder(args.submissions, args.output, autograder=args.autograder,
                     time_limit=args.time_limit, jobs=args.jobs)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
