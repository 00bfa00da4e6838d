"""Execute notebooks top to bottom in a fresh kernel and save them with their outputs.

    .venv/bin/python tools/execute_notebooks.py book/03-losses.ipynb [more.ipynb ...]
    make execute                      # every notebook in book/

This is how every committed notebook is produced: seeded, run once from a clean kernel, so that
strict nbval (make test) can re-run it and compare the text outputs. Prints each notebook's run time
(chapters must run in at most 30 s). Volatile metadata (timings) is dropped so diffs stay small.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    for name in paths:
        seconds = execute(Path(name))
        flag = "" if seconds <= 30 else "   <-- over the 30 s budget"
        print(f"{name}: executed in {seconds:.1f} s{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
