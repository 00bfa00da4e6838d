"""Regenerate the student notebooks in exercises/ (and the autograder zips) from solutions/.

    .venv/bin/python tools/make_exercises.py [NAME ...]     # e.g. ch03-losses; default: every set
    make exercises

Runs `otter assign` on every master `solutions/NAME.ipynb`, in parallel; otter assign also grades
the solved notebook and fails unless it scores 100 %. Writes `exercises/NAME.ipynb` (commit these)
and `autograder/NAME.zip` with `autograder/NAME.ipynb` (git-ignored: they hold the hidden tests).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grading import EXERCISE_SETS  # noqa: E402
from grading.build import build  # noqa: E402


def main(names: list[str]) -> int:
    start = time.perf_counter()
    seconds = build(names or EXERCISE_SETS)
    for name, taken in seconds.items():
        print(f"{name}: exercises/{name}.ipynb and autograder/{name}.zip in {taken:.1f} s")
    print(f"{len(seconds)} exercise sets built in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
