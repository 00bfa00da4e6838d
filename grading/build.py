"""Masters -> student notebooks and autograder zips, with `otter assign`.

For each exercise set NAME, the master `solutions/NAME.ipynb` is copied into a temporary folder and
`otter assign` runs there (in its own process: it changes directory). Before that, the copy's
ASSIGNMENT CONFIG gets what the autograder needs to run anywhere, so the masters need not repeat it:
the pinned NumPy and scikit-learn of requirements.txt, and the packages `backprop` and
`backprop_checks` as files of the zip (the tests use both; Gradescope cannot pip-install this
repository). Then:

- the student notebook (solutions and hidden tests removed) is normalised (cell ids numbered, editor
  metadata dropped) so that the same master always gives the same file, and written to
  `exercises/NAME.ipynb`;
  Its check cells are written so that, run before the setup cell, they say so in one line;
- the public tests, points and worked solutions go to `src/backprop_checks/sets/NAME.json`, the data
  the notebook's `grader` reads (shipped in the wheel; no notebook file needed). With
  `EXERCISE_SOLUTIONS=omit` in the environment (`make exercises SOLUTIONS=omit`), the worked
  solutions are left out, for a graded course;
- the autograder zip (every test, hidden ones included) goes to `autograder/NAME.zip`, and the
  solved notebook in student layout to `autograder/NAME.ipynb` (both git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

from backprop_checks import SETUP_FIRST, load_test_file

from . import EXERCISE_SETS

REPOSITORY = Path(__file__).resolve().parents[1]
SOLUTIONS = REPOSITORY / "solutions"
EXERCISES = REPOSITORY / "exercises"
AUTOGRADER = REPOSITORY / "autograder"
PACKAGE = REPOSITORY / "src" / "backprop"
CHECKS_PACKAGE = REPOSITORY / "src" / "backprop_checks"
SETS = CHECKS_PACKAGE / "sets"
REQUIREMENTS = REPOSITORY / "requirements.txt"
# What the grading image needs besides otter-grader, pinned as in requirements.txt.
GRADING_REQUIREMENTS = ("numpy", "scikit-learn")
ASSIGN_TIME_LIMIT = 600  # seconds for one `otter assign`, which runs the master's tests


def pinned_requirements() -> list[str]:
    """The lines of requirements.txt that pin GRADING_REQUIREMENTS, e.g. ["numpy==2.4.6", ...]."""
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        name = line.split("==")[0].strip().lower()
        if name in GRADING_REQUIREMENTS:
            pins[name] = line.strip()
    missing = set(GRADING_REQUIREMENTS) - set(pins)
    if missing:
        raise RuntimeError(f"requirements.txt does not pin {sorted(missing)}")
    return [pins[name] for name in GRADING_REQUIREMENTS]


def config_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The raw `# ASSIGNMENT CONFIG` cell of a master notebook."""
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().upper().startswith("# ASSIGNMENT CONFIG"):
            return cell
    raise ValueError("the master has no raw '# ASSIGNMENT CONFIG' cell")


def prepare_master(name: str, master: Path, work: Path) -> Path:
    """Copy the master into `work` with the grading requirements and the package added to its config."""
    notebook = nbformat.read(master, as_version=4)
    cell = config_cell(notebook)
    config = yaml.safe_load(cell.source) or {}
    if config.get("name") != name:
        raise ValueError(f"{master.name}: the ASSIGNMENT CONFIG name is {config.get('name')!r}, not {name!r}")
    config["requirements"] = pinned_requirements()
    config["autograder_files"] = ["backprop", "backprop_checks"]
    cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    for package in (PACKAGE, CHECKS_PACKAGE):
        shutil.copytree(package, work / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    copy = work / f"{name}.ipynb"
    nbformat.write(notebook, copy)
    return copy


CHECK_CELL = re.compile(r'grader\.(check\("q\w+"\)|score\(\))')


def guarded(source: str) -> str:
    """A check cell that, run before the setup cell, prints one line instead of a NameError."""
    if CHECK_CELL.fullmatch(source.strip()):
        return f'{source.strip()} if "grader" in globals() else print({SETUP_FIRST!r})'
    return source


def is_mistakes_cell(cell: nbformat.NotebookNode) -> bool:
    """A master's raw `# COMMON MISTAKES` cell: for authors and tests, not for students."""
    return cell.cell_type == "raw" and cell.source.lstrip().upper().startswith("# COMMON MISTAKES")


def common_mistakes(master: nbformat.NotebookNode) -> dict[str, list[dict]]:
    """{question: its listed mistakes} from the master's `# COMMON MISTAKES` cells (YAML lists of
    `mistake`, `kind`, `replace` (how to plant it in the solution: [old, new] pairs) and `message`
    (what the public check must say))."""
    mistakes, question = {}, None
    for cell in master.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().upper().startswith("# BEGIN QUESTION"):
            question = (yaml.safe_load(cell.source.split("\n", 1)[1]) or {}).get("name")
        elif is_mistakes_cell(cell) and question:
            mistakes[question] = yaml.safe_load(cell.source.split("\n", 1)[1]) or []
    return mistakes


def normalise(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Same master, same bytes: number the cell ids and drop editor metadata (jupytext's). The tests
    leave the notebook's metadata (they are package data now); check cells are guarded."""
    notebook.metadata.pop("jupytext", None)
    notebook.metadata.get("otter", {}).pop("tests", None)
    notebook.cells = [cell for cell in notebook.cells if not is_mistakes_cell(cell)]
    for number, cell in enumerate(notebook.cells, start=1):
        cell["id"] = f"{name.split('-')[0]}-{number:02d}"
        cell.metadata.pop("lines_to_next_cell", None)
        if cell.cell_type == "code":
            cell.source = guarded(cell.source)
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    nbformat.validate(notebook)
    return notebook


def worked_solutions(master: nbformat.NotebookNode) -> dict[str, str]:
    """{question: the code of its solution cells, without otter's solution markers}."""
    solutions: dict[str, list[str]] = {}
    question, inside = None, False
    for cell in master.cells:
        head = cell.source.lstrip().upper()
        if cell.cell_type == "raw" and head.startswith("# BEGIN QUESTION"):
            question = (yaml.safe_load(cell.source.split("\n", 1)[1]) or {}).get("name")
        elif cell.cell_type == "raw" and head.startswith("# END QUESTION"):
            question = None
        elif cell.cell_type == "raw" and head.startswith("# BEGIN SOLUTION"):
            inside = True
        elif cell.cell_type == "raw" and head.startswith("# END SOLUTION"):
            inside = False
        elif cell.cell_type == "code" and inside and question:
            lines = [line.replace(" # SOLUTION", "") for line in cell.source.splitlines()
                     if line.strip().upper() not in ("# BEGIN SOLUTION", "# END SOLUTION")]
            solutions.setdefault(question, []).append("\n".join(lines).strip())
    return {question: "\n\n\n".join(parts) for question, parts in solutions.items()}


def set_data(name: str, student: nbformat.NotebookNode, master: nbformat.NotebookNode,
             *, with_solutions: bool) -> dict:
    """What `backprop_checks.Checks(name)` reads: each question's points, public tests and solution."""
    solutions = worked_solutions(master)
    questions = {}
    for question, source in student.metadata["otter"]["tests"].items():
        tests = load_test_file(source, question)  # fails here, not in a reader's notebook
        if any(case.hidden for case in tests.cases):
            raise ValueError(f"{name} {question}: a hidden test would be shipped in the package")
        questions[question] = {"points": tests.points, "tests": source}
        if with_solutions:
            questions[question]["solution"] = solutions.get(question)
    return {"name": name, "questions": questions}


def solutions_included() -> bool:
    """False when EXERCISE_SOLUTIONS=omit (a graded course: no worked solutions in the package)."""
    value = os.environ.get("EXERCISE_SOLUTIONS", "include").strip().lower()
    if value not in ("include", "omit"):
        raise ValueError(f"EXERCISE_SOLUTIONS must be 'include' or 'omit', not {value!r}")
    return value == "include"


def build_one(name: str, *, exercises: Path = EXERCISES, autograder: Path = AUTOGRADER,
              sets: Path | None = None, run_tests: bool = True) -> float:
    """Run otter assign on solutions/NAME.ipynb; write the student notebook and the autograder.

    run_tests: let otter assign grade the solved notebook and fail unless it scores 100 %.
    sets: where the set's checks data goes (default: the package's `sets/` when writing the
    repository's exercises/, else a `sets` folder beside `exercises`).
    Returns the seconds it took. Raises RuntimeError with otter's output when assign fails.
    """
    if sets is None:
        sets = SETS if Path(exercises) == EXERCISES else Path(exercises).parent / "sets"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as folder:
        work = Path(folder)
        master = prepare_master(name, SOLUTIONS / f"{name}.ipynb", work)
        command = [sys.executable, "-m", "otter", "assign", master.name, "dist"]
        if not run_tests:
            command.append("--no-run-tests")
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=ASSIGN_TIME_LIMIT)
        if done.returncode != 0:
            raise RuntimeError(f"otter assign failed for {name}:\n{done.stdout}\n{done.stderr}")
        student = nbformat.read(work / "dist" / "student" / master.name, as_version=4)
        data = set_data(name, student, nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4),
                        with_solutions=solutions_included())
        sets.mkdir(parents=True, exist_ok=True)
        (sets / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        exercises.mkdir(parents=True, exist_ok=True)
        nbformat.write(normalise(student, name), exercises / f"{name}.ipynb")
        autograder.mkdir(parents=True, exist_ok=True)
        (zip_file,) = (work / "dist" / "autograder").glob(f"{name}-autograder_*.zip")
        shutil.copyfile(zip_file, autograder / f"{name}.zip")
        solved = nbformat.read(work / "dist" / "autograder" / master.name, as_version=4)
        nbformat.write(normalise(solved, name), autograder / f"{name}.ipynb")
    return time.perf_counter() - start


def build(names: list[str] | tuple[str, ...] = EXERCISE_SETS, *, jobs: int | None = None,
          **options) -> dict[str, float]:
    """build_one for several sets at once (each in its own process); {name: seconds}."""
    unknown = sorted(set(names) - set(EXERCISE_SETS))
    if unknown:
        raise ValueError(f"unknown exercise sets {unknown}; known: {', '.join(EXERCISE_SETS)}")
    with ThreadPoolExecutor(max_workers=jobs or available_cores()) as pool:
        seconds = pool.map(lambda name: build_one(name, **options), names)
        return dict(zip(names, seconds, strict=True))


def available_cores() -> int:
    """The cores this process may run on (os.cpu_count where affinity is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def out_of_date(name: str, autograder: Path = AUTOGRADER) -> bool:
    """Whether autograder/NAME.zip is missing or older than its master or the package."""
    zip_file = autograder / f"{name}.zip"
    if not zip_file.exists():
        return True
    sources = [SOLUTIONS / f"{name}.ipynb", REQUIREMENTS, *PACKAGE.glob("*.py"), *CHECKS_PACKAGE.glob("*.py")]
    return zip_file.stat().st_mtime < max(path.stat().st_mtime for path in sources)


def main(names: list[str]) -> int:
    """`python -m grading.build [NAME ...]` (`make exercises`): build the named sets, default all."""
    start = time.perf_counter()
    seconds = build(names or EXERCISE_SETS)
    for name, taken in seconds.items():
        print(f"{name}: exercises/{name}.ipynb, src/backprop_checks/sets/{name}.json and "
              f"autograder/{name}.zip in {taken:.1f} s")
    print(f"{len(seconds)} exercise sets built in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
