"""The checks in the reader's language: English, or Chinese in the Chinese exercise notebooks.

Every sentence the checks print is written in English in the code, as `tr("...")` (or `N_("...")`
for a constant), and translated here from `sets/<language>/checks.json`, which `make exercises`
compiles from the catalog `locales/zh_CN/LC_MESSAGES/exercises/checks.po` (tools/exercise_i18n.py).
A sentence without a translation is shown in English: a check never fails for want of one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh_CN")
SETS = Path(__file__).resolve().with_name("sets")
_language = "en"


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "a message, translated where it is used")
    """Mark `text` as a message to translate without translating it yet."""
    return text


@cache
def messages(language: str) -> dict[str, str]:
    """English template -> its translation, for `language` ({} for English or a missing table)."""
    path = SETS / language / "checks.json"
    if language == "en" or not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["messages"]


def current_language() -> str:
    return _language


@contextmanager
def using(language: str) -> Iterator[None]:
    """Print the checks' messages in `language` inside the block (how `Checks` runs a test case)."""
    global _language
    previous, _language = _language, language
    try:
        yield
    finally:
        _language = previous


def tr(template: str, /, language: str | None = None, **fields: object) -> str:
    """`template` in `language` (default: the current one), with `fields` filled in by str.format."""
    text = messages(language or _language).get(template, template)
    return text.format(**fields) if fields else text
