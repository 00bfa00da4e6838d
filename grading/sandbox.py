"""Run one untrusted command (a student's submission being graded) inside limits and, where it can,
inside bubblewrap (`bwrap`, the sandbox Flatpak uses).

With bwrap the command sees: the system's programs and libraries and the Python environment, all
read-only; the package source (read-only); its own working folder (read-write); a private, empty
/tmp; no network (only its own loopback); no other submission and none of the instructor's files.
When the grader runs as root, the command itself runs as an unprivileged uid of its own
(`sandbox_uid()`), because root ignores the process-count limit.

Limits (all in `Limits`, all configurable): wall time, CPU time, address space (memory), number of
processes, size of any file written (this also caps captured output, which goes to a file), and how
much of that output is kept. The rlimits are set by the command itself (a `prlimit` prefix), never
by a `preexec_fn`, which is not safe in the grader's threads; the command gets a session of its own.
Why a command stopped is read from its wait status (our timeout, SIGXCPU, SIGXFSZ, SIGKILL after
its CPU time) or, for a Python process, from the exception it died of.

Without bwrap the same limits apply, but the command can see the machine's files and the network;
`isolation_status()` says so and says how to enable isolation.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1 << 20


_uids = itertools.count()


def sandbox_uid() -> int:
    """A fresh unprivileged uid for one run when the grader is root (61000-64999, cycling), so one
    submission's fork bomb cannot use up the process quota of another graded at the same time.
    Such uids own no files and run nothing else."""
    return 61000 + next(_uids) % 4000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission. Defaults suit grading one exercise notebook."""

    wall_seconds: float = 300.0      # the whole run, from start to finish
    cpu_seconds: int = 300           # CPU time of each process
    memory_bytes: int = 4096 * MiB   # address space of each process (RLIMIT_AS)
    processes: int = 128             # processes and threads of the submission's user
    file_bytes: int = 64 * MiB       # largest file it may write, captured output included
    output_bytes: int = 1 * MiB      # how much of stdout and of stderr is kept

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"limit {name} must be positive, got {value}")


@dataclass
class Outcome:
    """What happened. `reason` is None for a normal exit, else a short phrase such as
    "time limit (300 s)" or "memory limit"; `isolated` says whether bwrap was used."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    reason: str | None = None
    isolated: bool = False
    notes: list[str] = field(default_factory=list)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def isolation_status() -> tuple[bool, str]:
    """(available, message). Tries bwrap once with the options the grader uses."""
    path = bwrap_path()
    if path is None:
        return False, ("isolation reduced: bubblewrap (bwrap) is not installed, so submissions can read "
                       "the machine's files and use the network; limits still apply. Install it with "
                       "`apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`.")
    return _probe_bwrap(path)


@functools.cache
def _probe_bwrap(path: str) -> tuple[bool, str]:
    """Start one empty sandbox; remembered, since every submission of a run asks the same question."""
    probe = subprocess.run([path, *_namespace_args(), "--ro-bind", "/", "/", "--", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return False, ("isolation reduced: bwrap is installed but cannot create a sandbox here "
                       f"({probe.stderr.strip() or probe.returncode}); on some systems unprivileged user "
                       "namespaces are disabled (sysctl kernel.unprivileged_userns_clone=1) or a container "
                       "forbids them; limits still apply.")
    return True, "isolation: bubblewrap sandbox (no network, read-only system, private /tmp)"


def _namespace_args() -> list[str]:
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        args.insert(0, "--unshare-user")
    return args


def _readonly_roots() -> list[str]:
    """System folders, the Python installation and environment, and where the package lives."""
    roots = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"]
    roots += [sys.base_prefix, sys.prefix]
    import backprop  # the package the submissions import; its source folder is bound read-only

    roots.append(str(Path(backprop.__file__).resolve().parent.parent))
    return [r for r in dict.fromkeys(roots) if os.path.exists(r)]


def _bwrap_argv(argv: list[str], workdir: Path, extra_readonly: list[str], uid: int) -> list[str]:
    args = [bwrap_path() or "bwrap", *_namespace_args(), "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp"]
    roots = _readonly_roots() + extra_readonly
    # bwrap creates the parents of a bind (/work, /root, ...) as 0700; the submission's uid must be
    # able to pass through them, so create them first as 0755 (their other contents stay hidden).
    parents = sorted({str(p) for r in [*roots, str(workdir)] for p in Path(r).parents if str(p) != "/"})
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for root in roots:
        if os.path.islink(root):
            args += ["--symlink", os.readlink(root), root]
        else:
            args += ["--ro-bind", root, root]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    if os.geteuid() == 0:  # root ignores RLIMIT_NPROC: run the submission as an unprivileged uid
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        argv = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--", *argv]
    return [*args, "--", *argv]


LIMIT_SHIM = """\
import json, os, resource, sys
for name, (soft, hard) in json.loads(sys.argv[1]).items():
    resource.setrlimit(getattr(resource, "RLIMIT_" + name.upper()), (soft, hard))
os.execvp(sys.argv[3], sys.argv[3:])
"""


def _limit_values(limits: Limits) -> dict[str, tuple[int, int]]:
    """The rlimits of one run, as (soft, hard). RLIMIT_NPROC counts every process of the user: for an
    ordinary user, the submission's allowance is added to what the user already runs; as root the
    submission gets a uid of its own (`sandbox_uid`) that runs nothing else."""
    already = 0 if os.geteuid() == 0 else _processes_of_user(os.getuid())
    return {"as": (limits.memory_bytes,) * 2, "cpu": (limits.cpu_seconds, limits.cpu_seconds + 5),
            "fsize": (limits.file_bytes,) * 2, "core": (0, 0), "nproc": (already + limits.processes,) * 2}


def _limit_prefix(limits: Limits) -> list[str]:
    """A command prefix that sets the limits and then execs the command: util-linux's `prlimit`, or a
    few lines of Python where it is missing. The limits are set in the command itself, never in a
    `preexec_fn` (which is not safe in a process with threads, as the grader is)."""
    values = _limit_values(limits)
    prlimit = shutil.which("prlimit")
    if prlimit:
        return [prlimit, *(f"--{name}={soft}:{hard}" for name, (soft, hard) in values.items()), "--"]
    return [sys.executable, "-I", "-c", LIMIT_SHIM, json.dumps(values), "--"]


def _processes_of_user(uid: int) -> int:
    """How many processes `uid` runs now (counted in the grader, before the command starts)."""
    count = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                count += os.stat(f"/proc/{entry}").st_uid == uid
            except OSError:
                pass
    return count


def _read_capped(path: Path, cap: int) -> str:
    with open(path, "rb") as f:
        data = f.read(cap + 1)
    text = data[:cap].decode("utf-8", errors="replace")
    return text + ("\n[output truncated]" if len(data) > cap else "")


def _died_of(stderr: str) -> str:
    """The exception a Python process died of: the last line of its traceback, e.g.
    "OSError: [Errno 27] File too large" (empty if stderr does not end with a traceback)."""
    if "Traceback (most recent call last)" not in stderr:
        return ""
    lines = [line for line in stderr.strip().splitlines() if line and not line.startswith(" ")]
    return lines[-1] if lines else ""


def _reason(returncode: int | None, timed_out: bool, limits: Limits, stderr: str,
            cpu_used: float = 0.0) -> str | None:
    """Why the command stopped, from what is known for sure: our own timeout, the signal that ended it
    (SIGXCPU/SIGXFSZ are the kernel's limit signals; SIGKILL after the CPU time was used up is the
    hard CPU limit), or, for a Python process, the exception it died of (its type and errno)."""
    if timed_out:
        return f"time limit ({limits.wall_seconds:g} s)"
    if returncode is None or returncode == 0:
        return None
    cpu = f"CPU time limit ({limits.cpu_seconds} s)"
    files = f"file or output size limit ({limits.file_bytes // MiB} MiB)"
    if returncode < 0:
        number = -returncode
        if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu_used >= limits.cpu_seconds):
            return cpu
        if number == signal.SIGXFSZ:
            return files
        if number == signal.SIGKILL:
            return "killed by the system (most likely out of memory)"
        return f"crashed (signal {signal.Signals(number).name})"
    died_of = _died_of(stderr)
    kind = died_of.split(":", 1)[0].split(".")[-1]
    errno = died_of.split("[Errno ", 1)[1].split("]", 1)[0] if "[Errno " in died_of else ""
    if kind == "MemoryError" or errno == "12":  # ENOMEM
        return f"memory limit ({limits.memory_bytes // MiB} MiB)"
    if errno == "27":  # EFBIG: Python ignores SIGXFSZ, so the write fails with "File too large"
        return files
    if kind == "BlockingIOError" or errno == "11":  # EAGAIN from fork at RLIMIT_NPROC
        return f"process limit ({limits.processes})"
    return None  # an ordinary non-zero exit: the caller decides what it means


def run_limited(argv: list[str], workdir: Path, limits: Limits | None = None, *,
                env: dict[str, str] | None = None, isolate: bool | None = None,
                extra_readonly: list[str] | None = None, run: str = "") -> Outcome:
    """Run argv in workdir under `limits`; inside bwrap when `isolate` (default: when available).

    workdir must be a folder that belongs to this one submission (a fresh copy): it is the only
    place the command may write, and it is handed to `sandbox_uid()` when running as root.
    run: a name for the whole grading run; every process of the command carries
    SANDBOX_RUN=<run>-<random>, so a run (or a test) can find its own processes and no one else's.
    """
    limits = limits or Limits()
    workdir = Path(workdir).resolve()
    available, message = isolation_status()
    if isolate is None:
        isolate = available
    notes = []
    if isolate:
        uid = sandbox_uid()
        if os.geteuid() == 0:
            for path in [workdir, *workdir.rglob("*")]:
                os.chown(path, uid, uid, follow_symlinks=False)
        command = _bwrap_argv(argv, workdir, extra_readonly or [], uid)
    else:
        command = argv
        notes.append(message)
    marker = f"SANDBOX_RUN={run}-{uuid.uuid4().hex}"  # inherited by everything the command starts
    base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(workdir),
                "VIRTUAL_ENV": sys.prefix,
                "LANG": "C.UTF-8", "TMPDIR": "/tmp" if isolate else str(workdir),
                "MPLCONFIGDIR": str(workdir / ".matplotlib"), "MPLBACKEND": "Agg",
                "JUPYTER_RUNTIME_DIR": str(workdir / ".jupyter-runtime"),
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    base_env.update(env or {})
    base_env.update([marker.split("=")])
    with tempfile.TemporaryDirectory(prefix="grading-capture-") as capture:
        out_path, err_path = Path(capture) / "stdout", Path(capture) / "stderr"
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            # Its own session and process group (a timeout kills everything it started); the limits
            # are set by the command's prefix, so nothing runs between fork and exec.
            process = subprocess.Popen([*_limit_prefix(limits), *command], cwd=workdir,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=base_env,
                                       start_new_session=True)
            timed_out = too_many = False
            cpu_used = 0.0
            try:
                # Wait, and stop a fork bomb as soon as it reaches the process limit: it would
                # otherwise keep both cores busy (and starve the other submissions) until the wall time.
                delay = 0.02
                while True:
                    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid:
                        process.returncode = os.waitstatus_to_exitcode(status)
                        cpu_used = usage.ru_utime + usage.ru_stime
                        break
                    if time.monotonic() - start > limits.wall_seconds:
                        timed_out = True
                        break
                    if _tasks_marked(marker) >= limits.processes:
                        too_many = True
                        break
                    time.sleep(delay)
                    delay = min(0.2, delay * 1.5)
            finally:
                _kill_group(process)
                _kill_marked(marker)  # a Jupyter kernel runs in a session of its own
        stdout = _read_capped(out_path, limits.output_bytes)
        stderr = _read_capped(err_path, limits.output_bytes)
    returncode = None if timed_out or too_many else process.returncode
    reason = (f"process limit ({limits.processes} processes and threads)" if too_many
              else _reason(returncode, timed_out, limits, stderr, cpu_used))
    return Outcome(returncode, stdout, stderr, time.monotonic() - start, reason, isolate, notes)


def _marked_pids(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (Linux /proc; empty elsewhere)."""
    needle = f"{marker}\0".encode()
    pids = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if needle in f.read():
                        pids.append(int(entry))
            except OSError:  # ended meanwhile, or not ours to read
                continue
    return pids


def _tasks_marked(marker: str) -> int:
    """Processes and threads (what RLIMIT_NPROC counts) of the marked processes."""
    tasks = 0
    for pid in _marked_pids(marker):
        try:
            tasks += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return tasks


def _kill_marked(marker: str) -> None:
    for _ in range(3):  # a process may fork while we kill its siblings
        pids = _marked_pids(marker)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
        time.sleep(0.05)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the process group the command started (a fork bomb's children included)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
