"""Grade ONE submission with otter-grader, in the current folder, and write the result as JSON.

    python grading/run_one.py SUBMISSION.ipynb AUTOGRADER.zip RESULT.json [CELL_SECONDS OUTPUT_BYTES]

This is what `grading.grade.execute_submission` runs in a fresh temporary folder, in its own process
(group), under a time limit. It is `otter run` (otter.run.main: the notebook executed top to bottom
in a new kernel with the autograder's public and hidden tests), plus a JSON summary that the parent
reads instead of otter's pickle, so nothing the submission produced is ever unpickled outside.
With CELL_SECONDS, a cell still running after that many seconds is interrupted (KeyboardInterrupt),
so the cells after it still run and earn their points; with OUTPUT_BYTES, the outputs kept from the
executed notebook are capped (a cell that prints forever cannot fill the grader's memory).
Only otter-grader, nbconvert (which otter uses) and the standard library are imported here.
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


def limit_cells(cell_seconds: float, output_bytes: int) -> None:
    """Make otter's ExecutePreprocessor interrupt a cell after cell_seconds and keep at most
    output_bytes of outputs. otter imports the class from nbconvert.preprocessors when it runs, so
    replacing it there is enough."""
    import nbconvert.preprocessors

    base = nbconvert.preprocessors.ExecutePreprocessor

    class LimitedExecutePreprocessor(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.timeout = max(1, round(cell_seconds))
            self.interrupt_on_timeout = True  # KeyboardInterrupt in that cell; the next cells run
            self.kept_bytes = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            if self.kept_bytes + size > output_bytes and msg["msg_type"] != "error":
                if self.kept_bytes <= output_bytes:  # say so once, then drop the rest
                    self.kept_bytes = output_bytes + 1
                    note = f"[output beyond {output_bytes} bytes dropped by the grader]"
                    outs.append(nbformat_stream(note))
                return None
            self.kept_bytes += size  # errors are always kept: they say why a cell stopped
            return super().output(outs, msg, display_id, cell_index)

    nbconvert.preprocessors.ExecutePreprocessor = LimitedExecutePreprocessor


def nbformat_stream(text: str):
    import nbformat

    return nbformat.v4.new_output("stream", name="stderr", text=text + "\n")


def main(submission: str, autograder: str, result_path: str, cell_seconds: str = "",
         output_bytes: str = "") -> int:
    import otter.run

    if cell_seconds:
        limit_cells(float(cell_seconds), int(output_bytes or 1 << 20))
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
