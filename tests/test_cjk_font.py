"""The Chinese web font (tools/cjk_font.py): exactly the CJK characters of every built page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import cjk_font  # noqa: E402


def _site(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch.html").write_text("<p>backpropagation (反向传播)</p>", encoding="utf-8")
    (tmp_path / "zh_CN" / "book").mkdir(parents=True)  # a Chinese edition grows the set
    (tmp_path / "zh_CN" / "book" / "ch.html").write_text("<p>梯度下降，学习率</p>", encoding="utf-8")
    (tmp_path / "lite").mkdir()  # the live book is not scanned
    (tmp_path / "lite" / "x.html").write_text("<p>龘</p>", encoding="utf-8")
    for static in (tmp_path / "_static", tmp_path / "zh_CN" / "_static"):
        static.mkdir()
        (static / cjk_font.CSS_NAME).write_text("/* placeholder */")
    return tmp_path


def test_site_characters_reads_every_edition_and_skips_the_live_book(tmp_path):
    found = cjk_font.site_characters(_site(tmp_path))
    assert found == set("反向传播梯度下降，学习率")  # the full-width comma is CJK punctuation
    assert "龘" not in found and "a" not in found


def test_unicode_range_merges_neighbours():
    assert cjk_font._unicode_range({"\u4e00", "\u4e01", "\u4e02", "\u4e10"}) == "U+4E00-4E02, U+4E10"


def test_build_writes_a_font_with_exactly_the_sites_characters_into_every_static_folder(tmp_path):
    from fontTools.ttLib import TTFont

    site = _site(tmp_path)
    try:
        cjk_font.fetch(cjk_font.NOTO_SANS_SC)
    except (OSError, ValueError) as error:
        pytest.skip(f"Noto Sans SC is not cached and the npm registry is unreachable ({error})")
    message = cjk_font.build(site)
    assert "in 2 _static/" in message, message
    wanted = {ord(c) for c in cjk_font.site_characters(site)}
    for static in (site / "_static", site / "zh_CN" / "_static"):
        font = TTFont(static / cjk_font.FONT_NAME)
        assert set(font.getBestCmap()) == wanted
        assert (static / cjk_font.FONT_NAME).stat().st_size < 20_000  # a handful of glyphs
        assert "U+4E0B" in (static / cjk_font.CSS_NAME).read_text()  # 下
