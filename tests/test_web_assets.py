"""tools/fetch_web_assets.py: the offline MathJax and widget JavaScript, and its Sphinx extension.

No network here: the download is pointed at a closed port or at a registry served on 127.0.0.1,
and the tarballs are built in memory.
"""

from __future__ import annotations

import http.server
import importlib.util
import io
import sys
import tarfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("fetch_web_assets", ROOT / "tools" / "fetch_web_assets.py")
web_assets = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = web_assets  # dataclasses look their module up there
_spec.loader.exec_module(web_assets)

MATHJAX = next(p for p in web_assets.PACKAGES if p.name == "mathjax")
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tarball_that_does_not_match_the_pinned_digest_is_rejected():
    with pytest.raises(ValueError, match="does not match the pinned"):
        web_assets._check_integrity(b"not the real mathjax", MATHJAX.integrity, "mathjax")


def test_only_the_listed_files_are_unpacked_and_nothing_outside_the_folder(tmp_path):
    data = _tarball({"package/es5/tex-mml-chtml.js": b"mathjax", "package/es5/output/svg.js": b"svg",
                     "package/es5/input/tex/extensions/cancel.js": b"cancel",
                     "package/es5/../../escape.js": b"no", "package/README.md": b"readme"})
    count = web_assets._unpack(MATHJAX, data, tmp_path)
    kept = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert kept == ["mathjax/input/tex/extensions/cancel.js", "mathjax/tex-mml-chtml.js"]
    assert count == 2


def test_config_points_only_at_files_the_fetch_provides():
    wanted = [CONFIG["mathjax_path"], *CONFIG["nb_ipywidgets_js"]]
    for path in wanted:
        provided = path in web_assets.GENERATED or any(
            path.startswith(p.target) and p.keeps(path[len(p.target):]) for p in web_assets.PACKAGES)
        assert provided, f"_config.yml asks for {path}, which tools/fetch_web_assets.py never writes"


def test_without_a_registry_the_fetch_says_so_and_lets_the_build_go_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(web_assets, "ASSETS", tmp_path / ".web_assets")
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(web_assets.time, "sleep", lambda seconds: None)
    assert web_assets.main() == 0
    message = capsys.readouterr().err
    assert "could not reach the npm registry" in message and "CDN" in message
    assert not (tmp_path / ".web_assets").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no staging folder left behind


@pytest.fixture
def registry(monkeypatch):
    """A registry on 127.0.0.1 that answers every request with `answer["status"]` and `answer["body"]`."""
    answer = {"status": 200, "body": _tarball({"package/es5/tex-mml-chtml.js": b"// not mathjax"})}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(answer["status"])
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setattr(web_assets.time, "sleep", lambda seconds: None)
    yield answer
    server.shutdown()
    server.server_close()


def test_a_tampered_download_fails_the_build_and_keeps_the_old_copy(tmp_path, monkeypatch, capsys, registry):
    assets = tmp_path / ".web_assets"
    assets.mkdir()
    (assets / "kept.js").write_text("// from an earlier, checked fetch")
    monkeypatch.setattr(web_assets, "ASSETS", assets)
    assert web_assets.main() == 1
    message = capsys.readouterr().err
    assert "FAILED" in message and "does not match the pinned" in message and "mathjax@3.2.2" in message
    assert "CDN" not in message  # no quiet fallback for a mismatch
    assert [p.name for p in assets.iterdir()] == ["kept.js"]
    assert [p.name for p in tmp_path.iterdir()] == [".web_assets"]  # no staging folder left behind


def test_a_registry_without_the_pinned_version_fails_the_build(tmp_path, monkeypatch, capsys, registry):
    registry.update(status=404, body=b"not found")
    monkeypatch.setattr(web_assets, "ASSETS", tmp_path / ".web_assets")
    assert web_assets.main() == 1
    message = capsys.readouterr().err
    assert "FAILED" in message and "404" in message and "NPM_CONFIG_REGISTRY" in message


def test_a_registry_that_fails_on_its_side_counts_as_unreachable(tmp_path, monkeypatch, capsys, registry):
    registry.update(status=503, body=b"overloaded")
    monkeypatch.setattr(web_assets, "ASSETS", tmp_path / ".web_assets")
    assert web_assets.main() == 0
    assert "could not reach" in capsys.readouterr().err


def _sphinx_config():
    return SimpleNamespace(mathjax_path=CONFIG["mathjax_path"],
                           nb_ipywidgets_js=dict(CONFIG["nb_ipywidgets_js"]),
                           html_static_path=["_static"], web_assets="")


def test_the_build_falls_back_to_the_cdns_when_the_copies_are_missing(tmp_path, monkeypatch):
    from myst_nb.core.config import ipywidgets_js_factory
    from sphinx.ext.mathjax import MATHJAX_URL

    monkeypatch.setattr(web_assets, "ASSETS", tmp_path)
    config = _sphinx_config()
    web_assets._use_local_assets_or_cdn(None, config)
    assert config.mathjax_path == MATHJAX_URL
    assert config.nb_ipywidgets_js == ipywidgets_js_factory()
    assert config.html_static_path == ["_static"]


def test_the_build_serves_the_copies_when_they_are_there(tmp_path, monkeypatch):
    monkeypatch.setattr(web_assets, "ASSETS", tmp_path)
    config = _sphinx_config()
    for path in [config.mathjax_path, *config.nb_ipywidgets_js]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("// test")
    web_assets._use_local_assets_or_cdn(None, config)
    assert config.mathjax_path == CONFIG["mathjax_path"]
    assert config.nb_ipywidgets_js == CONFIG["nb_ipywidgets_js"]
    assert config.html_static_path == ["_static", str(tmp_path)]
    assert config.web_assets  # changes with the pins, so a new version rewrites every page


def test_pages_lose_doubled_scripts():
    """(The book's figures and sliders link nothing remote; tests/test_book_build.py checks every page.)"""
    first, again = SimpleNamespace(filename=None, attributes={"body": "const A = 1"}), \
        SimpleNamespace(filename="", attributes={"body": "const A = 1"})
    other = SimpleNamespace(filename="_static/x.js", attributes={})
    context = {"body": "<p>before</p>", "script_files": [first, other, again]}
    web_assets._page_without_duplicate_scripts(None, "page", "page.html", context, None)
    assert context["body"] == "<p>before</p>"
    assert context["script_files"] == [first, other]


def test_every_pinned_asset_goes_through_one_downloader_that_reports_a_missing_network(monkeypatch):
    """The font, axe-core and the live book's npm packages use this module's downloader, whose "no
    network" is a ConnectionError: each caller that goes on without the network recognises it."""
    sys.path.insert(0, str(ROOT / "tools"))
    import build_live_site
    import npm_assets

    for module in (npm_assets, build_live_site):  # (identity depends on import order: compare the code)
        assert module._download.__module__ == "fetch_web_assets"
        assert module._download.__code__.co_filename == web_assets._download.__code__.co_filename
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9")  # a closed port: nobody answers
    with pytest.raises(ConnectionError):
        web_assets._download(web_assets.tarball_url("mathjax", "3.2.2"), attempts=1, timeout=2)
    once = lambda url, timeout=2: web_assets._download(url, attempts=1, timeout=timeout)  # noqa: E731
    monkeypatch.setattr(build_live_site, "_download", once)
    with pytest.raises(build_live_site.Unreachable, match="npm registry"):
        build_live_site._npm_tarball("pyodide", "0.27.7")
    monkeypatch.setattr(npm_assets, "_download", once)
    package = npm_assets.NpmPackage("axe-core", "0.0.0-test", "sha512-x", "package/axe.min.js")
    monkeypatch.setattr(npm_assets, "CACHE", Path("/nonexistent-cache"))
    with pytest.raises(OSError):
        npm_assets.fetch(package)
