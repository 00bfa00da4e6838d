"""The live book's build (tools/build_live_site.py): verified downloads and a complete, offline site.

The first tests need no network and no build. The others read the site `make book` built in
`_build/html/lite/` and skip without it, except under CI (CI=true), where it must exist.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_live_site as live  # noqa: E402

LITE = live.OUTPUT


def test_a_download_that_differs_from_its_pin_is_refused_with_a_clear_message():
    good = b"pyodide"
    assert live.verified(good, hashlib.sha256(good).hexdigest(), "x") == good
    with pytest.raises(live.Tampered, match="does not match the pinned .* do not use this network"):
        live.verified(b"pyodide, changed", hashlib.sha256(good).hexdigest(), "pyodide-0.27.7.tgz")


def test_a_tampered_download_fails_the_build_and_an_unreachable_registry_only_skips(monkeypatch, capsys):
    def tampered():
        raise live.Tampered("numpy.whl: sha256 0 does not match the pinned 1")

    monkeypatch.setattr(live, "build", tampered)
    assert live.main() == 1
    assert "live book: FAILED: numpy.whl" in capsys.readouterr().err

    def unreachable():
        raise live.Unreachable("the npm registry (timed out)")

    monkeypatch.setattr(live, "build", unreachable)
    assert live.main() == 0
    assert "live book: SKIPPED: could not reach the npm registry" in capsys.readouterr().err


def test_the_site_ships_the_wanted_packages_and_everything_they_depend_on_only(monkeypatch):
    lock = {"packages": {
        "numpy": {"depends": []}, "matplotlib": {"depends": ["numpy", "python_dateutil"]},
        "python-dateutil": {"depends": ["six"]}, "six": {"depends": []}, "pandas": {"depends": ["numpy"]},
    }}
    monkeypatch.setattr(live, "PYODIDE_PACKAGES", ("matplotlib",))
    assert sorted(live.needed_packages(lock)) == ["matplotlib", "numpy", "python-dateutil", "six"]


# ------------------------------------------------------------------------------ the built site

@pytest.fixture(scope="module")
def site() -> Path:
    if not (LITE / "index.html").is_file():
        message = f"no live site in {LITE}: `make book` builds it (its log says why it was skipped)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return LITE


def test_the_kernel_loads_python_from_the_site_and_never_from_an_index(site):
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.js"
    assert kernel["disablePyPIFallback"] is True
    assert all("://" not in url for url in kernel.get("pipliteUrls", []))
    preloaded = kernel.get("loadPyodideOptions", {}).get("packages", [])
    assert not {"scikit-learn", "scipy"} & set(preloaded), "only the chapters that need them load them"


def test_every_shipped_pyodide_package_matches_pyodides_own_lock(site):
    folder = site / "static" / "pyodide"
    lock = json.loads((folder / "pyodide-lock.json").read_text())
    assert lock["info"]["version"] == live.PYODIDE_VERSION
    assert {"numpy", "matplotlib", "scikit-learn", "ipython"} <= set(lock["packages"])
    assert "pandas" not in lock["packages"]
    for entry in lock["packages"].values():
        data = (folder / entry["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file_name"]


def test_every_chapter_and_exercise_set_is_in_the_file_browser(site):
    listed = {f"book/{item['name']}" for item in
              json.loads((site / "api" / "contents" / "book" / "all.json").read_text())["content"]}
    listed |= {f"exercises/{item['name']}" for item in
               json.loads((site / "api" / "contents" / "exercises" / "all.json").read_text())["content"]}
    wanted = {str(p.relative_to(ROOT)) for pattern in live.NOTEBOOKS for p in ROOT.glob(pattern)}
    assert wanted <= listed, sorted(wanted - listed)
    # the Chinese exercise sets, beside the Chinese chapters in zh_CN/
    contents = site / "api" / "contents" / "zh_CN" / "exercises" / "all.json"
    chinese = {item["name"] for item in json.loads(contents.read_text())["content"]}
    assert {p.name for p in (ROOT / "exercises" / "zh_CN").glob("*.ipynb")} <= chinese


def test_the_book_wheel_carries_the_chinese_checks(site):
    import zipfile

    wheel = next((site / "pypi").glob("backprop_book-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "backprop_checks/sets/zh_CN/checks.json" in names
    sets = {f"backprop_checks/sets/zh_CN/{p.stem}.json" for p in (ROOT / "exercises").glob("*.ipynb")}
    assert sets <= names


def test_the_sites_own_package_index_has_the_book_and_its_widgets(site):
    index = json.loads((site / "pypi" / "all.json").read_text())
    assert {"backprop-book", "ipywidgets", "jupyterlab-widgets", "tqdm", "comm"} <= set(index)


def test_the_site_is_at_most_120_mb(site):
    # Pyodide and its wheels take ~75 MB; each edition's executed notebooks (English, 中文) ~12 MB
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert size <= 120e6, f"{size / 1e6:.0f} MB"
