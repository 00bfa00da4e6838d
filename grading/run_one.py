"""Grade ONE submission with otter-grader, in the current folder, and write the result as JSON.

    python grading/run_one.py SUBMISSION.ipynb AUTOGRADER.zip RESULT.json

This is what `grading.grade.execute_submission` runs in a fresh temporary folder, in its own process
(group), under a time limit. It is `otter run` (otter.run.main: the notebook executed top to bottom
in a new kernel with the autograder's public and hidden tests), plus a JSON summary that the parent
reads instead of otter's pickle, so nothing the submission produced is ever unpickled outside.
Only otter-grader and the standard library are imported here.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def cell_errors(notebook) -> list[dict[str, str]]:
    """Every error output of the executed notebook: the cell's source and the exception."""
    errors = []
    for cell in notebook.cells if notebook is not None else []:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                errors.append({"source": cell.get("source", ""), "ename": output.get("ename", ""),
                               "evalue": output.get("evalue", "")})
    return errors


def summarise(results) -> dict:
    """otter's GradingResults -> {"questions": {...}, "cell_errors": [...], "failure": str | None}."""
    failure = results.catastrophic_error
    questions = {}
    for name, test_file in results.results.items():
        questions[name] = {
            "score": float(test_file.score),
            "possible": float(test_file.possible),
            "cases": [{"name": outcome.test_case.name, "hidden": bool(outcome.test_case.hidden),
                       "passed": bool(outcome.passed), "message": outcome.message or ""}
                      for outcome in test_file.test_case_results],
        }
    return {"questions": questions, "cell_errors": cell_errors(results.notebook),
            "failure": None if failure is None else f"{type(failure).__name__}: {failure}"}


def main(submission: str, autograder: str, result_path: str) -> int:
    import otter.run

    try:
        results = otter.run.main(submission, autograder=autograder, output_dir=None, no_logo=True)
        summary = summarise(results)
    except BaseException as error:  # report every failure as data; the parent decides what to say
        summary = {"questions": {}, "cell_errors": [],
                   "failure": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    Path(result_path).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
