"""Hostile submissions, graded in one run beside correct ones (`make grade` on a class folder).

Each hostile notebook is the chapter-1 solution with one extra cell that attacks: it writes outside
its folder, reads another student's notebook, connects to a server on the grader's machine, asks
for far more memory than allowed, prints forever, forks without end, sleeps past the time limit,
or deletes every file it can reach. The tests check containment (the outside file does not exist,
the secret does not leak, the server saw nobody, nothing was deleted), that the grader finished
with a row and a reason for each, and that the correct submissions still score 10 / 10.

Isolation (bubblewrap) assertions are skipped, with the reason, where bwrap cannot run; the limit
assertions run everywhere. The destructive attacks (deleting files, fork bomb as root) are only
graded when the sandbox is there to contain them.
"""

from __future__ import annotations

import csv
import hashlib
import os
import socket
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grading.build import build
from grading.grade import grade_folder
from grading.sandbox import Limits, MiB, Outcome, isolation_status, run_limited

REPOSITORY = Path(__file__).resolve().parents[1]

ISOLATED, ISOLATION_MESSAGE = isolation_status()
needs_isolation = pytest.mark.skipif(not ISOLATED, reason=ISOLATION_MESSAGE)
SET = "ch01-neurons"
SECRET = "SECRET-ANSWER-OF-ANOTHER-STUDENT-4f1c9e"
LIMITS = Limits(wall_seconds=90, cpu_seconds=60, memory_bytes=3 * 1024 * MiB, processes=96,
                file_bytes=16 * MiB, output_bytes=64 * 1024)
CELL_SECONDS = 15
RUN = f"test-hostile-{os.getpid()}"  # the SANDBOX_RUN marker of this test's grading run


class Listener:
    """A TCP server on the grader's loopback that records whoever connects."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    self.connections.append(connection.recv(100))
                except OSError:
                    self.connections.append(b"")


def with_cell(source: Path, target: Path, code: str) -> None:
    """Copy the solution notebook `source` to `target` with `code` as a new second code cell."""
    notebook = nbformat.read(source, as_version=4)
    first = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first + 1, nbformat.v4.new_code_cell(code))
    nbformat.write(notebook, target)


def tree_fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


ATTACKS = {
    # name: (needs bubblewrap to be graded safely, code of the extra cell)
    "writes-outside": (False, "open({outside!r} + '/escaped.txt', 'w').write('I was here')"),
    "reads-another": (False, "raise RuntimeError(open({other!r}).read()[-3000:])"),
    "network": (False, "import socket\n"
                       "socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'LEAK')"),
    "memory": (False, "hog = bytearray(64 * 2**30)  # 64 GiB"),
    "prints-forever": (False, "while True:\n    print('spam ' * 200)"),
    "sleeps": (False, "import time\ntime.sleep(10**6)"),
    "forks": (True, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
                    "        pass"),
    "deletes": (True, "import os, shutil\n"
                      "for root in [{outside!r}, {submissions!r}, {autograder!r}, {repository!r}, "
                      "os.path.expanduser('~'), '/tmp', '.']:\n"
                      "    for path, folders, files in os.walk(root):\n"
                      "        for name in files:\n"
                      "            try:\n"
                      "                os.remove(os.path.join(path, name))\n"
                      "            except OSError:\n"
                      "                pass"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    """Grade a class folder: two correct submissions and every attack, in one run."""
    root = tmp_path_factory.mktemp("hostile")
    autograder = root / "autograder"
    build([SET], exercises=root / "exercises", autograder=autograder, run_tests=False)
    solution = autograder / f"{SET}.ipynb"
    submissions, outside = root / "submissions", root / "instructor-files"
    submissions.mkdir()
    outside.mkdir()
    (outside / "canary.txt").write_text("the instructor's file", encoding="utf-8")
    # The victim: a correct submission with a secret in it, and a second correct one.
    notebook = nbformat.read(solution, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(SECRET))
    nbformat.write(notebook, submissions / "alice.ipynb")
    nbformat.write(nbformat.read(solution, as_version=4), submissions / "zoe.ipynb")
    listener = Listener()
    values = {"outside": str(outside), "other": str(submissions / "alice.ipynb"), "port": listener.port,
              "submissions": str(submissions), "autograder": str(autograder),
              "repository": str(REPOSITORY)}
    graded = []
    for name, (destructive, code) in ATTACKS.items():
        if destructive and not ISOLATED:
            continue  # without the sandbox this would really delete files / flood the machine
        with_cell(solution, submissions / f"{name}.ipynb", code.format(**values))
        graded.append(name)
    before = tree_fingerprint(submissions)
    autograder_before = tree_fingerprint(autograder)
    repository_before = hashlib.sha256((REPOSITORY / "src/backprop/__init__.py").read_bytes()).hexdigest()
    output = root / "output"
    start = time.monotonic()
    grade_folder(submissions, output, autograder=autograder, limits=LIMITS, cell_time_limit=CELL_SECONDS,
                 echo=lambda *args: None, run=RUN)
    seconds = time.monotonic() - start
    with open(output / "grades.csv", newline="", encoding="utf-8") as file:
        rows = {row["submission"].removesuffix(".ipynb"): row for row in csv.DictReader(file)}
    everything = (output / "grades.csv").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in (output / "feedback").glob("*.txt"))
    return {"rows": rows, "graded": graded, "seconds": seconds, "outside": outside, "listener": listener,
            "changed": tree_fingerprint(submissions) != before,
            "autograder_changed": tree_fingerprint(autograder) != autograder_before,
            "repository_changed": repository_before != hashlib.sha256(
                (REPOSITORY / "src/backprop/__init__.py").read_bytes()).hexdigest(),
            "output": output, "everything": everything}


def test_the_grader_finishes_with_a_row_for_every_submission(hostile):
    assert sorted(hostile["rows"]) == sorted(["alice", "zoe", *hostile["graded"]])
    # Submissions run two at a time under a 90 s wall limit; nothing may hold the run up longer.
    assert hostile["seconds"] < 90 * len(hostile["rows"]) / 2 + 60


def test_correct_submissions_beside_hostile_ones_score_full_marks(hostile):
    for name in ("alice", "zoe"):
        row = hostile["rows"][name]
        assert row["error"] == "" and float(row["total"]) == float(row["possible"]) == 10, row


def test_nothing_a_submission_did_changed_the_submissions_or_the_autograder(hostile):
    assert not hostile["changed"]
    assert not hostile["autograder_changed"]
    assert not hostile["repository_changed"]
    assert (hostile["outside"] / "canary.txt").read_text(encoding="utf-8") == "the instructor's file"


@needs_isolation
def test_a_write_outside_the_working_folder_lands_nowhere(hostile):
    assert not (hostile["outside"] / "escaped.txt").exists()
    row = hostile["rows"]["writes-outside"]
    assert float(row["total"]) == 10 and "raised FileNotFoundError" in row["note"]


@needs_isolation
def test_another_students_notebook_cannot_be_read(hostile):
    assert SECRET not in hostile["everything"]
    row = hostile["rows"]["reads-another"]
    assert float(row["total"]) == 10 and "raised FileNotFoundError" in row["note"]


@needs_isolation
def test_no_network_connection_leaves_the_sandbox(hostile):
    assert hostile["listener"].connections == []
    row = hostile["rows"]["network"]
    assert float(row["total"]) == 10 and "raised ConnectionRefusedError" in row["note"]


@needs_isolation
def test_deleting_every_visible_file_harms_only_the_submissions_own_copy(hostile):
    assert "deletes" in hostile["graded"]
    # Nothing outside its own folder was deleted: the instructor's file, every other submission, the
    # autograder zips, the repository, and the other students' grades and feedback are all there.
    assert (hostile["outside"] / "canary.txt").read_text(encoding="utf-8") == "the instructor's file"
    assert not hostile["changed"] and not hostile["autograder_changed"] and not hostile["repository_changed"]
    assert (REPOSITORY / "src" / "backprop" / "__init__.py").is_file()
    for name in ("alice", "zoe"):
        assert (hostile["output"] / "feedback" / f"{name}.txt").is_file()
        assert float(hostile["rows"][name]["total"]) == 10
    # Its own copy lost its files, but the tests were read before its cells ran: it is graded in full.
    row = hostile["rows"]["deletes"]
    assert row["error"] == "" and float(row["total"]) == 10, row


def test_asking_for_too_much_memory_fails_that_cell_only(hostile):
    row = hostile["rows"]["memory"]
    assert float(row["total"]) == 10 and "raised MemoryError" in row["note"], row


def test_printing_forever_is_interrupted_and_its_output_capped(hostile):
    row = hostile["rows"]["prints-forever"]
    assert float(row["total"]) == 10 and "stopped at the cell time limit" in row["note"], row
    assert (hostile["output"] / "grades.csv").stat().st_size < 20_000
    assert max(p.stat().st_size for p in (hostile["output"] / "feedback").glob("*.txt")) < 20_000


def test_sleeping_past_the_cell_limit_loses_only_that_cell(hostile):
    row = hostile["rows"]["sleeps"]
    assert float(row["total"]) == 10 and "stopped at the cell time limit (15 s" in row["note"], row


@needs_isolation
def test_a_fork_bomb_is_stopped_at_the_process_limit(hostile):
    row = hostile["rows"]["forks"]
    assert row["error"].startswith("stopped: process limit (96"), row
    assert row["total"] == ""


def test_no_process_of_any_submission_is_left_running(hostile):
    leftovers = []  # only this run's processes: another grading may be running on this machine
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"SANDBOX_RUN={RUN}-".encode() in (entry / "environ").read_bytes():
                leftovers.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    assert leftovers == []


# --- The sandbox alone, on small commands (fast) -------------------------------------------------

def run_python(code: str, tmp_path: Path, **limits) -> Outcome:
    return run_limited([sys.executable, "-c", code], tmp_path, Limits(**{"wall_seconds": 20, **limits}))


def test_wall_time_limit_stops_a_sleeping_command(tmp_path):
    outcome = run_python("import time; time.sleep(60)", tmp_path, wall_seconds=2)
    assert outcome.reason == "time limit (2 s)" and outcome.seconds < 10


def test_memory_limit_gives_a_memory_error(tmp_path):
    outcome = run_python("b = bytearray(8 * 2**30)", tmp_path, memory_bytes=1024 * MiB)
    assert outcome.reason == "memory limit (1024 MiB)", outcome


def test_file_size_limit_stops_a_huge_file(tmp_path):
    outcome = run_python("open('big', 'wb').write(b'x' * 8 * 2**20)", tmp_path, file_bytes=2 * MiB)
    assert outcome.reason == "file or output size limit (2 MiB)", outcome
    assert (tmp_path / "big").stat().st_size <= 2 * MiB


def test_captured_output_is_capped(tmp_path):
    outcome = run_python("import sys\nwhile True: sys.stdout.write('y' * 4096)", tmp_path,
                         wall_seconds=3, output_bytes=10_000, file_bytes=4 * MiB)
    assert outcome.reason is not None
    assert len(outcome.stdout) < 10_100 and outcome.stdout.endswith("[output truncated]")


def test_a_normal_command_runs_and_its_output_is_returned(tmp_path):
    outcome = run_python("print(6 * 7)", tmp_path)
    assert outcome.reason is None and outcome.returncode == 0 and outcome.stdout.strip() == "42"


@needs_isolation
def test_inside_the_sandbox_the_home_folder_and_network_are_gone(tmp_path):
    code = ("import os, socket\n"
            "print(os.path.exists(os.path.expanduser('~root/.bashrc')), os.path.exists({repo!r}))\n"
            "print(socket.if_nameindex())").format(repo=str(REPOSITORY / "README.md"))
    outcome = run_python(code, tmp_path)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.splitlines()[0] == "False False"
    assert "eth" not in outcome.stdout.splitlines()[1]


def test_without_bwrap_the_log_says_isolation_is_reduced_and_how_to_enable_it(monkeypatch):
    import grading.sandbox as sandbox

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    available, message = sandbox.isolation_status()
    assert not available
    assert message.startswith("isolation reduced") and "apt-get install bubblewrap" in message


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="memory_bytes must be positive"):
        Limits(memory_bytes=0)


@pytest.mark.skipif(os.geteuid() == 0 and not ISOLATED,
                    reason="as root without bubblewrap the process limit does not hold")
def test_a_fork_bomb_alone_is_stopped_quickly(tmp_path):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    outcome = run_python(code, tmp_path, processes=40)
    assert outcome.reason == "process limit (40 processes and threads)", outcome
    assert outcome.seconds < 10
