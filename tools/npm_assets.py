"""Pinned files from npm packages, fetched once into a git-ignored cache (`.build_assets/`).

Used by tools/cjk_font.py (the Chinese font the subset is cut from) and by
tests/test_accessibility.py (axe-core). Each package is pinned by version and by the registry's
sha512 digest of its tarball; a tarball that does not match is refused. The cache is never
committed: a second call finds the files there and downloads nothing.

    python tools/npm_assets.py            # fetch every package below (e.g. before going offline)
"""

from __future__ import annotations

import io
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# One downloader for every pinned asset of the book: retries, and a clear line between "no network"
# (RegistryUnreachable, an OSError) and "the registry answered wrongly" (HTTPError, IntegrityError).
from fetch_web_assets import _check_integrity, _download, tarball_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".build_assets"


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity, "sha512-<base64>"
    keep: str  # a path prefix inside the tarball: the files kept

    @property
    def folder(self) -> Path:
        return CACHE / f"{self.name.replace('/', '+')}-{self.version}"

    @property
    def tarball_url(self) -> str:
        return tarball_url(self.name, self.version)


# axe-core: the accessibility rules run by tests/test_accessibility.py.
AXE_CORE = NpmPackage(
    "axe-core", "4.14.1",
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    "package/axe.min.js")
# Noto Sans SC (SIL Open Font License), regular weight, as Google Fonts serves it: about a hundred
# WOFF2 slices, each holding the characters of one `unicode-range` in css.css.
NOTO_SANS_SC = NpmPackage(
    "noto-sans-sc", "37.0.0",
    "sha512-1gPL5phDXMTIWsjwxk9674DVIyf+ANIk4UKlWEKGIDYPQqBJpDZ0Y2gfAkXr0j/+5S1EcJ7FgLz7f5uSQsVnaw==",
    "package/noto_sans_sc_regular/")
PACKAGES = (AXE_CORE, NOTO_SANS_SC)


def fetch(package: NpmPackage) -> Path:
    """The folder holding the package's kept files (below `package/`), downloading them if needed.

    Raises OSError without a network (RegistryUnreachable) or when the registry refuses (HTTPError),
    ValueError when the tarball does not match its digest (IntegrityError)."""
    done = package.folder / ".complete"
    if done.is_file():
        return package.folder
    data = _download(package.tarball_url, timeout=120)
    _check_integrity(data, package.integrity, f"{package.name}@{package.version}")
    kept = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(package.keep):
                continue
            relative = member.name[len("package/"):]
            if ".." in Path(relative).parts:
                continue
            destination = package.folder / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(tar.extractfile(member).read())
            kept += 1
    if not kept:
        raise ValueError(f"{package.name}@{package.version}: nothing in the tarball under {package.keep}")
    done.write_text(f"{package.integrity}\n")
    return package.folder


def main() -> int:
    for package in PACKAGES:
        try:
            print(f"{package.name}@{package.version}: {fetch(package)}")
        except (OSError, ValueError, tarfile.TarError) as error:
            print(f"{package.name}@{package.version}: could not fetch it ({error})", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
