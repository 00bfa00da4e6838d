"""Run one untrusted command (a student's submission being graded) inside limits and, where it can,
inside bubblewrap (`bwrap`, the sandbox Flatpak uses).

With bwrap the command sees: the system's programs and libraries and the Python environment, all
read-only; the package source (read-only); its own working folder (read-write); a private, empty
/tmp; no network (only its own loopback); no other submission and none of the instructor's files.
When the grader runs as root, the command itself runs as an unprivileged uid of its own
(`sandbox_uid()`), because root ignores the process-count limit.

Limits (all in `Limits`, all configurable): wall time, CPU time, address space (memory), number of
processes, size of any file written (this also caps captured output, which goes to a file), and how
much of that output is kept.

Without bwrap the same limits apply, but the command can see the machine's files and the network;
`isolation_status()` says so and says how to enable isolation.
"""

from __future__ import annotations

import functools
import itertools
import os
import resource
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


def _set_limits(limits: Limits) -> None:
    """Runs in the child between fork and exec."""
    os.setsid()  # its own process group, so a timeout kills everything it started
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # RLIMIT_NPROC counts every process of the user: for an ordinary user, add the submission's
    # allowance to what the user already runs; as root the submission gets a uid that runs nothing else.
    already = 0 if os.geteuid() == 0 else _processes_of_user(os.getuid())
    resource.setrlimit(resource.RLIMIT_NPROC, (already + limits.processes,) * 2)


def _processes_of_user(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
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


def _reason(returncode: int | None, timed_out: bool, limits: Limits, stderr: str) -> str | None:
    if timed_out:
        return f"time limit ({limits.wall_seconds:g} s)"
    if returncode is None or returncode == 0:
        return None
    signals = {signal.SIGXCPU: f"CPU time limit ({limits.cpu_seconds} s)",
               signal.SIGXFSZ: f"file or output size limit ({limits.file_bytes // MiB} MiB)",
               signal.SIGKILL: "killed (memory or time limit)"}
    if returncode < 0:
        return signals.get(-returncode, f"crashed (signal {signal.Signals(-returncode).name})")
    if "File too large" in stderr:  # Python ignores SIGXFSZ and raises OSError instead
        return f"file or output size limit ({limits.file_bytes // MiB} MiB)"
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
        return f"memory limit ({limits.memory_bytes // MiB} MiB)"
    if "Resource temporarily unavailable" in stderr or "BlockingIOError" in stderr:
        return f"process limit ({limits.processes})"
    return None  # an ordinary non-zero exit: the caller decides what it means


def run_limited(argv: list[str], workdir: Path, limits: Limits | None = None, *,
                env: dict[str, str] | None = None, isolate: bool | None = None,
                extra_readonly: list[str] | None = None) -> Outcome:
    """Run argv in workdir under `limits`; inside bwrap when `isolate` (default: when available).

    workdir must be a folder that belongs to this one submission (a fresh copy): it is the only
    place the command may write, and it is handed to `sandbox_uid()` when running as root.
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
    marker = f"SANDBOX_RUN={uuid.uuid4().hex}"  # inherited by everything the command starts
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
            process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err, env=base_env, preexec_fn=lambda: _set_limits(limits))
            timed_out = too_many = False
            try:
                # Wait, and stop a fork bomb as soon as it reaches the process limit: it would
                # otherwise keep both cores busy (and starve the other submissions) until the wall time.
                while process.poll() is None:
                    if time.monotonic() - start > limits.wall_seconds:
                        timed_out = True
                        break
                    if _tasks_marked(marker) >= limits.processes:
                        too_many = True
                        break
                    time.sleep(0.2)
            finally:
                _kill_group(process)
                _kill_marked(marker)  # a Jupyter kernel runs in a session of its own
        stdout = _read_capped(out_path, limits.output_bytes)
        stderr = _read_capped(err_path, limits.output_bytes)
    returncode = None if timed_out or too_many else process.returncode
    reason = (f"process limit ({limits.processes} processes and threads)" if too_many
              else _reason(returncode, timed_out, limits, stderr))
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
