"""Offline web assets for the HTML book: MathJax and the JavaScript that draws Jupyter widgets.

Jupyter Book loads both from CDNs by default, so without a network the math stays raw LaTeX and
widgets (chapter 10's progress bar) stay blank. This file makes the built site complete offline.
It has two roles:

1. A script, run by `make book` before the build:

       python tools/fetch_web_assets.py

   downloads pinned npm packages (MathJax, RequireJS, @jupyter-widgets/html-manager) from the npm
   registry (or $NPM_CONFIG_REGISTRY), checks each tarball against its pinned sha512 digest and
   unpacks the files the book needs into `.web_assets/` (git-ignored, never committed; a second run
   finds them up to date and downloads nothing). When the registry cannot be reached (no network,
   a refused connection, a timeout, a server error) it says so and exits 0: the book still builds,
   with the CDN defaults. Anything else fails the build with exit 1 and a message: a tarball that
   does not match its pinned digest (tampered, or a wrong pin), a registry that answers "not found",
   a tarball that does not unpack.

2. A Sphinx extension (`sphinx.local_extensions` in `_config.yml`). `_config.yml` points
   `mathjax_path` and `nb_ipywidgets_js` at files inside `.web_assets/`; when those files exist the
   extension adds `.web_assets/` to the site's static files (they end up in `_build/html/_static/`);
   when they are missing it puts the CDN defaults back and says so in the build log.

The folder is deliberately not the book's `_static/`: Jupyter Book 1 adds every `.js` file found
under a source `_static/` folder to every page, which would be hundreds of MathJax components.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".web_assets"
MANIFEST = "manifest.json"
REGISTRY = "https://registry.npmjs.org"


def tarball_url(name: str, version: str) -> str:
    """Where the registry ($NPM_CONFIG_REGISTRY, else npm's) serves a package's tarball."""
    registry = os.environ.get("NPM_CONFIG_REGISTRY", REGISTRY).rstrip("/")
    return f"{registry}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


@dataclass(frozen=True)
class Package:
    """One npm package: where its files go inside .web_assets/ and which of them to keep."""

    name: str
    version: str
    integrity: str  # the registry's dist.integrity, "sha512-<base64>"
    source: str  # folder inside the tarball
    target: str  # folder inside .web_assets/
    keep: tuple[str, ...]  # paths below `source` to keep (a trailing "/" keeps a whole folder)

    @property
    def tarball_url(self) -> str:
        return tarball_url(self.name, self.version)

    def keeps(self, relative: str) -> bool:
        return any(relative == k or (k.endswith("/") and relative.startswith(k)) for k in self.keep)


FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")

PACKAGES = (
    # MathJax 3, the version Sphinx 7 configures; the CHTML output with its fonts, and the
    # components MathJax loads on demand (TeX extensions, the accessibility menu, speech).
    Package("mathjax", "3.2.2",
            "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
            "package/es5/", "mathjax/",
            ("tex-mml-chtml.js", "core.js", "loader.js", "startup.js", "a11y/", "adaptors/", "input/",
             "output/chtml.js", "output/chtml/", "sre/", "ui/")),
    # RequireJS loads the widget manager (the AMD build that myst-nb expects).
    Package("requirejs", "2.3.8",
            "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
            "package/", "jupyter-widgets/", ("require.js",)),
    # The ipywidgets 8 HTML manager: renders saved widget state without a kernel. Its icon fonts
    # sit beside it and are found relative to the script.
    Package("@jupyter-widgets/html-manager", "1.0.15",
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
            "package/dist/", "jupyter-widgets/html-manager/", ("embed-amd.js",)),
)


# Files written next to the downloaded ones (part of the manifest, so a change re-runs the fetch).
GENERATED = {
    "jupyter-widgets/paths.js": """\
// Written by tools/fetch_web_assets.py; loaded after require.js, before embed-amd.js.
// embed-amd.js defines the widget modules below and finds its icon fonts relative to each
// module's RequireJS path, which by default is the page's own folder. Point every one of them
// at the folder of embed-amd.js (beside this file), where the fonts are.
(function () {
  var dir = document.currentScript.src.replace(/[^/]*$/, "") + "html-manager";
  var paths = {"@jupyter-widgets/html-manager/dist": dir};
  ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = dir + "/" + name;
  });
  require.config({paths: paths});
})();
""",
}


def _wanted(package: Package, member: tarfile.TarInfo) -> str | None:
    """Path below package.target for a tarball member we keep, else None."""
    if not member.isfile() or not member.name.startswith(package.source):
        return None
    relative = member.name[len(package.source):]
    if ".." in Path(relative).parts:
        return None
    font = package.name == "@jupyter-widgets/html-manager" and "/" not in relative and \
        relative.endswith(FONT_SUFFIXES)
    return relative if package.keeps(relative) or font else None


class RegistryUnreachable(ConnectionError):
    """The registry could not be reached: the one failure after which the build may go on (with CDNs).
    A ConnectionError, so that every caller that tolerates a missing network (the live book, the
    font and axe-core of tools/npm_assets.py) recognises it."""


class IntegrityError(ValueError):
    """A download that is not the pinned tarball: never used, and the build fails."""


def _download(url: str, attempts: int = 3, timeout: float = 60) -> bytes:
    """The bytes at `url`. Raises RegistryUnreachable when no answer came (after `attempts` tries)
    or the server failed (5xx); an HTTPError for any other refusal (404: no such version there)."""
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise  # the registry answered, and said no: a wrong pin or registry, not a network problem
            failure: Exception = error
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            failure = error
        if attempt == attempts:
            raise RegistryUnreachable(f"{url}: {failure}") from failure
        time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _check_integrity(data: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise IntegrityError(f"{what}: {algorithm} digest {actual} does not match the pinned {expected}")


def _unpack(package: Package, data: bytes, into: Path) -> int:
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            relative = _wanted(package, member)
            if relative is None:
                continue
            destination = into / package.target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(tar.extractfile(member).read())
            count += 1
    if count == 0:
        raise ValueError(f"{package.name}@{package.version}: no files matched {package.keep}")
    return count


def pinned() -> dict[str, str]:
    versions = {p.name: p.version for p in PACKAGES}
    for name, text in GENERATED.items():
        versions[name] = hashlib.sha256(text.encode()).hexdigest()[:12]
    return versions


def up_to_date(folder: Path) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text())["packages"] == pinned()
    except (OSError, ValueError, KeyError):
        return False


def fetch(folder: Path) -> None:
    """Download, verify and unpack every package into a fresh copy of `folder`, then swap it in."""
    staging = Path(tempfile.mkdtemp(prefix=".web_assets-", dir=folder.parent))
    try:
        for package in PACKAGES:
            start = time.perf_counter()
            data = _download(package.tarball_url)
            _check_integrity(data, package.integrity, f"{package.name}@{package.version}")
            count = _unpack(package, data, staging)
            print(f"web assets: {package.name}@{package.version}: {len(data) / 1e6:.1f} MB, "
                  f"kept {count} files ({time.perf_counter() - start:.1f} s)")
        for name, text in GENERATED.items():
            (staging / name).write_text(text)
        (staging / MANIFEST).write_text(json.dumps({"packages": pinned()}, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> int:
    if up_to_date(ASSETS):
        versions = ", ".join(f"{p.name} {p.version}" for p in PACKAGES)
        print(f"web assets: up to date in {ASSETS.name}/ ({versions})")
        return 0
    try:
        fetch(ASSETS)
    except RegistryUnreachable as error:
        print(f"web assets: could not reach the npm registry ({error}).\n"
              "web assets: the book still builds, but it loads MathJax and the widget JavaScript from "
              "their CDNs,\nweb assets: so its math and widgets need a network connection to display. "
              "Run `make book` again when the npm registry is reachable.", file=sys.stderr)
        return 0
    except IntegrityError as error:
        print(f"web assets: FAILED: {error}.\n"
              "web assets: the download is not the pinned package (tampered with, or served by a "
              "registry or proxy that changed it), so it was not used. Check NPM_CONFIG_REGISTRY and "
              "your network's proxy; if the package was deliberately updated, update its pin in "
              "tools/fetch_web_assets.py.", file=sys.stderr)
        return 1
    except (urllib.error.HTTPError, OSError, ValueError, tarfile.TarError) as error:
        print(f"web assets: FAILED: {error}.\n"
              "web assets: the registry was reached but did not deliver the pinned package intact "
              "(a 404 means it has no such version: check NPM_CONFIG_REGISTRY), or the files could "
              "not be written. Nothing in .web_assets/ was changed.", file=sys.stderr)
        return 1
    print(f"web assets: ready in {ASSETS.name}/; the built book shows math and widgets offline")
    return 0


# ------------------------------------------------------------------------ the Sphinx extension

def _is_url(path: str) -> bool:
    return "://" in path or path.startswith("//")


def _use_local_assets_or_cdn(app, config) -> None:
    from sphinx.ext.mathjax import MATHJAX_URL
    from sphinx.util import logging
    from sphinx.util.console import bold

    logger = logging.getLogger(__name__)
    missing: list[str] = []
    if not _is_url(config.mathjax_path) and not (ASSETS / config.mathjax_path).is_file():
        missing.append(config.mathjax_path)
        config.mathjax_path = MATHJAX_URL
    widget_files = [path for path in config.nb_ipywidgets_js if not _is_url(path)]
    if any(not (ASSETS / path).is_file() for path in widget_files):
        from myst_nb.core.config import ipywidgets_js_factory

        missing += widget_files
        config.nb_ipywidgets_js = ipywidgets_js_factory()
    if missing:
        logger.info(bold("web assets: ") + "not found in %s/ (%s); using the CDN defaults, so math "
                    "and widgets need a network. Run `python tools/fetch_web_assets.py` to fetch them.",
                    ASSETS.name, ", ".join(missing))
    local = not _is_url(config.mathjax_path) or any(not _is_url(p) for p in config.nb_ipywidgets_js)
    if local:
        # A config value that changes with the assets makes Sphinx rewrite every page (and copy the
        # static files again) when the pinned versions change, even if no chapter did.
        config.web_assets = json.dumps(pinned(), sort_keys=True)
        # Added here, after Jupyter Book has scanned html_static_path for files to inject.
        config.html_static_path = [*config.html_static_path, str(ASSETS)]
        logger.info(bold("web assets: ") + "serving MathJax and the widget JavaScript from the book "
                    "(%s/ -> _static/)", ASSETS.name)


def _page_without_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    # Sphinx 7 lists an inline script that an extension adds after the builder started twice
    # (once with filename None, once with ""); sphinx-thebe's `const THEBE_JS_URL = ...` then
    # throws "Identifier has already been declared" on every page. Keep the first of each.
    if "script_files" in context:
        seen, unique = set(), []
        for script in context["script_files"]:
            key = (getattr(script, "filename", script) or "", repr(getattr(script, "attributes", "")))
            if key not in seen:
                seen.add(key)
                unique.append(script)
        context["script_files"] = unique


def setup(app) -> dict:
    # Before myst-nb reads nb_ipywidgets_js (builder-inited) and Sphinx compares the configuration
    # with the cached environment, so switching between local and CDN assets re-renders every page.
    app.add_config_value("web_assets", "", "html")
    app.connect("config-inited", _use_local_assets_or_cdn, priority=100)
    app.connect("html-page-context", _page_without_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    sys.exit(main())
