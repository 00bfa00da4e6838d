"""The graded exercise sets in Chinese: same questions, same tests, messages from catalogs.

Like the book (tools/i18n.py), the Chinese exercise sets are generated from the English ones through
gettext catalogs, one per set, in `locales/zh_CN/LC_MESSAGES/exercises/`:

- `NAME.po` holds the set's markdown (question text, hints, the notes between questions) and the
  strings of its public tests: each case's description (its docstring) and each message it can fail
  with. A message written as an f-string is one template, e.g. `{what} returned shape {got.shape}`:
  the translation keeps every `{…}` field and may move it.
- `checks.po` holds the sentences of `backprop_checks` itself (`tr("...")`/`N_("...")` in its code):
  "2 of 3 test cases passed", "expected …, got …", the time limit, the score table.

`build` (run by `make exercises`) writes, from the committed English sets and the catalogs:

- `exercises/zh_CN/NAME.ipynb`: the student notebook with its markdown translated; its code is the
  English notebook's, except that the setup cell asks for `Checks(NAME, language="zh_CN")` and the
  check cells' "run the setup cell first" line is in Chinese. Cell ids, question ids, answer cells
  and metadata are the same, so the batch grader grades it like the English one;
- `src/backprop_checks/sets/zh_CN/NAME.json`: the public tests with their strings translated: the
  same syntax tree as the English tests with only those strings swapped (a test checks that);
- `src/backprop_checks/sets/zh_CN/checks.json`: the checks' own sentences.

    python tools/exercise_i18n.py update   # re-extract the English messages into the catalogs
    python tools/exercise_i18n.py build    # write the Chinese sets (make exercises runs this)

`python tools/i18n.py update` and `coverage` include these catalogs: an English edit to a set leaves
its messages fuzzy or untranslated, and tests/test_i18n.py fails until they are translated again.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import string
import sys
from pathlib import Path

from backprop_checks import SETUP_FIRST

sys.path.insert(0, str(Path(__file__).resolve().parent))
import i18n  # noqa: E402

ROOT = i18n.ROOT
LANGUAGE = i18n.LANGUAGE
CATALOGS = i18n.CATALOGS / "exercises"
CHECKS_CATALOG = CATALOGS / "checks.po"
EXERCISES = ROOT / "exercises"
SETS = ROOT / "src" / "backprop_checks" / "sets"
CHECKS_SOURCES = sorted((ROOT / "src" / "backprop_checks").glob("*.py"))
SUMMARY = re.compile(r"(<summary>)(.*?)(</summary>)", re.S)


def exercise_sets() -> list[str]:
    return sorted(p.stem for p in EXERCISES.glob("*.ipynb"))


# --- Markdown ------------------------------------------------------------------------------------

def markdown_messages(text: str) -> list[str]:
    """The messages of one markdown cell, keyed as i18n.translate_markdown looks them up: every
    paragraph, heading, list item and table cell, and each hint's <summary> line."""
    found: list[str] = []
    in_table = False
    for token in i18n._markdown_parser().parse(text):
        if token.type == "table_open":
            in_table = True
        elif token.type == "table_close":
            in_table = False
        elif token.type == "inline" and token.content.strip():
            found.append(token.content.strip() if in_table else i18n._key(token.content))
        elif token.type == "html_block":
            found += [m.group(2).strip() for m in SUMMARY.finditer(token.content)]
        elif token.type in ("fence", "colon_fence") and token.info.startswith("{"):
            body = [line for line in token.content.split("\n") if not line.startswith(":")]
            found += markdown_messages("\n".join(body))
    return found


def translate_markdown(text: str, table: dict[str, str]) -> str:
    text = i18n.translate_markdown(text, table)
    return SUMMARY.sub(lambda m: m.group(1) + table.get(m.group(2).strip(), m.group(2)) + m.group(3), text)


# --- Test strings --------------------------------------------------------------------------------

def is_prose(text: str) -> bool:
    """A string a reader sees: words with spaces ("expected shape (2,)"), not a name or a code."""
    return bool(re.search(r"[A-Za-z]{2}", text)) and " " in text.strip()


def field(node: ast.FormattedValue) -> str:
    """`{expression!r:spec}` as it appears in a template."""
    conversion = f"!{chr(node.conversion)}" if node.conversion != -1 else ""
    spec = ""
    if node.format_spec is not None:
        spec = ":" + "".join(part.value if isinstance(part, ast.Constant) else field(part)
                             for part in node.format_spec.values)
    return "{" + ast.unparse(node.value) + conversion + spec + "}"


def template(node: ast.JoinedStr) -> str:
    """An f-string's text with its literal braces doubled and each value as its `{…}` field."""
    return "".join(part.value.replace("{", "{{").replace("}", "}}") if isinstance(part, ast.Constant)
                   else field(part) for part in node.values)


def fstring_from(translation: str, original: ast.JoinedStr) -> ast.JoinedStr:
    """The f-string `original` with its text replaced by `translation`, a template with the same
    `{…}` fields (in any order); each field keeps the original's expression node."""
    fields = {field(part): part for part in original.values if isinstance(part, ast.FormattedValue)}
    wanted = sorted(field(part) for part in original.values if isinstance(part, ast.FormattedValue))
    values: list[ast.expr] = []
    used: list[str] = []
    literal, i = "", 0
    while i < len(translation):
        if translation.startswith(("{{", "}}"), i):
            literal, i = literal + translation[i], i + 2
        elif translation[i] == "{":
            longest_first = sorted(fields, key=len, reverse=True)
            name = next((f for f in longest_first if translation.startswith(f, i)), None)
            if name is None:
                raise ValueError(f"the translation {translation!r} has a field that the English "
                                 f"{template(original)!r} does not have; keep its fields {wanted} as they "
                                 f"are")
            if literal:
                values.append(ast.Constant(literal))
            values.append(copy.deepcopy(fields[name]))
            used.append(name)
            literal, i = "", i + len(name)
        else:
            literal, i = literal + translation[i], i + 1
    if literal:
        values.append(ast.Constant(literal))
    if sorted(used) != wanted:
        raise ValueError(f"the translation {translation!r} must have the fields {wanted} of "
                         f"{template(original)!r} once each")
    return ast.JoinedStr(values)


def translate_tests(source: str, table: dict[str, str]) -> str:
    """A test file with its strings translated through `table`; everything else (the syntax tree
    apart from those strings) unchanged."""
    tree = ast.parse(source)
    replacements = {}
    for node, message in visible_strings(tree):
        new = table.get(message)
        if new is None:
            continue
        is_fstring = isinstance(node, ast.JoinedStr)
        replacements[id(node)] = fstring_from(new, node) if is_fstring else ast.Constant(new)

    class Swap(ast.NodeTransformer):
        def visit_JoinedStr(self, node):  # noqa: N802 (ast's naming)
            return replacements.get(id(node), node)

        def visit_Constant(self, node):  # noqa: N802
            return replacements.get(id(node), node)

    return ast.unparse(ast.fix_missing_locations(Swap().visit(tree))) + "\n"


def visible_strings(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """(node, message) for each string of a parsed test file that a reader can see, in source order:
    docstrings, messages and labels; an f-string is one message, its template."""
    inside_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                       for part in ast.walk(node) if part is not node}
    found = []
    for node in ast.walk(tree):
        if id(node) in inside_fstrings:
            continue
        if isinstance(node, ast.JoinedStr):
            if is_prose("".join(p.value for p in node.values if isinstance(p, ast.Constant))):
                found.append((node, template(node)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and is_prose(node.value):
            found.append((node, node.value))
    return sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset))


def masked(source: str) -> str:
    """The syntax tree of a test file with every string replaced by one placeholder: equal for a
    set's English and Chinese tests, since they differ only in strings (tests/test_i18n.py)."""
    class Mask(ast.NodeTransformer):
        def visit_JoinedStr(self, node):  # noqa: N802 (ast's naming)
            return ast.Constant("…")

        def visit_Constant(self, node):  # noqa: N802
            return ast.Constant("…") if isinstance(node.value, str) else node

    return ast.dump(Mask().visit(ast.parse(source)))


# --- The checks' own sentences -------------------------------------------------------------------

def checks_messages() -> list[tuple[str, str, int]]:
    """(message, file, line) of every tr("…") and N_("…") in backprop_checks."""
    found = []
    for path in CHECKS_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("tr", "N_") and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.append((node.args[0].value, f"src/backprop_checks/{path.name}", node.lineno))
    return found


# --- Catalogs ------------------------------------------------------------------------------------

def template_catalog(name: str):
    """The English messages of one set (or of the checks, name == "checks") as a Babel catalog."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale=None, project="Backpropagation from Scratch", fuzzy=False)
    if name == "checks":
        for message, path, line in checks_messages():
            catalog.add(message, locations=[(path, line)], auto_comments=["a sentence of the checks"])
        return catalog
    notebook = json.loads((EXERCISES / f"{name}.ipynb").read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown":
            for message in markdown_messages("".join(cell["source"])):
                catalog.add(message, locations=[(f"exercises/{name}.ipynb", index)])
    data = json.loads((SETS / f"{name}.json").read_text(encoding="utf-8"))
    for question, content in data["questions"].items():
        tree = ast.parse(content["tests"])
        docstrings = {id(function.body[0].value) for function in ast.walk(tree)
                      if isinstance(function, ast.FunctionDef) and ast.get_docstring(function) is not None}
        for node, message in visible_strings(tree):
            kind = "a test case's description" if id(node) in docstrings else "a check message"
            comment = kind + (": keep every {…} field" if "{" in message else "")
            catalog.add(message, locations=[(f"tests/{name}/{question}", node.lineno)],
                        auto_comments=[comment])
    return catalog


def catalog_names() -> list[str]:
    return ["checks", *exercise_sets()]


def update() -> None:
    """Merge the current English messages into the catalogs: new ones empty, changed ones fuzzy."""
    for name in catalog_names():
        i18n.merge(template_catalog(name), CATALOGS / f"{name}.po")
    for path in sorted(CATALOGS.glob("*.po")):
        if path.stem not in catalog_names():
            print(f"i18n: {path.relative_to(ROOT)} has no exercise set any more: removed")
            path.unlink()


def table(name: str) -> dict[str, str]:
    """msgid -> msgstr of a catalog (translated and not fuzzy only)."""
    path = CATALOGS / f"{name}.po"
    if not path.exists():
        return {}
    return {m.id: m.string for m in i18n._read_po(path) if m.id and m.string and not m.fuzzy}


# --- Build ---------------------------------------------------------------------------------------

def translate_notebook(name: str, messages: dict[str, str], checks: dict[str, str],
                       notebook: dict | None = None) -> dict:
    """The Chinese twin of a student notebook of set `name` (by default the committed blank one;
    also a learner's or the solved one): markdown translated, the setup cell's `Checks` in Chinese."""
    if notebook is None:
        notebook = json.loads((EXERCISES / f"{name}.ipynb").read_text(encoding="utf-8"))
    notebook = copy.deepcopy(notebook)
    chinese_setup_first = checks.get(SETUP_FIRST, SETUP_FIRST)
    constructor = re.compile(rf'Checks\("{re.escape(name)}"(.*?)\)')
    found_constructor = False
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            text = translate_markdown(text, messages)
        elif cell["cell_type"] == "code":
            if constructor.search(text):
                text = constructor.sub(lambda m: f'Checks("{name}"{m.group(1)}, language="{LANGUAGE}")', text)
                found_constructor = True
            text = text.replace(f"print({SETUP_FIRST!r})", f"print({chinese_setup_first!r})")
        cell["source"] = text.splitlines(keepends=True)
    if not found_constructor:
        raise ValueError(f'exercises/{name}.ipynb has no setup cell with Checks("{name}")')
    notebook["metadata"]["language"] = LANGUAGE  # the batch grader's feedback follows it
    return notebook


def translated_set(name: str, messages: dict[str, str]) -> dict:
    data = json.loads((SETS / f"{name}.json").read_text(encoding="utf-8"))
    return {"name": name, "language": LANGUAGE,
            "questions": {question: {"tests": translate_tests(content["tests"], messages)}
                          for question, content in data["questions"].items()}}


def fields(template: str) -> list[str]:
    """The str.format fields of a template, e.g. ["what", "got"]."""
    return sorted(f"{name}!{conversion}" for _, name, _, conversion in string.Formatter().parse(template)
                  if name is not None)


def checks_table() -> dict[str, str]:
    """The checks' sentences, each translation checked to keep its template's fields."""
    checks = table("checks")
    for english, chinese in checks.items():
        if fields(english) != fields(chinese):
            raise ValueError(f"{CHECKS_CATALOG.relative_to(ROOT)}: the translation {chinese!r} must keep the "
                             f"fields of {english!r}: {fields(english)}")
    return checks


def build(exercises: Path = EXERCISES / LANGUAGE, sets: Path = SETS / LANGUAGE) -> None:
    """Write the Chinese notebooks and test data of every set, and the checks' sentences."""
    exercises.mkdir(parents=True, exist_ok=True)
    sets.mkdir(parents=True, exist_ok=True)
    checks = checks_table()
    _write_json(sets / "checks.json", {"language": LANGUAGE, "messages": checks})
    for name in exercise_sets():
        messages = table(name)
        notebook = translate_notebook(name, messages, checks)
        (exercises / f"{name}.ipynb").write_text(json.dumps(notebook, ensure_ascii=False, indent=1) + "\n",
                                                 encoding="utf-8")
        _write_json(sets / f"{name}.json", translated_set(name, messages))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["update", "build"])
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    else:
        build()
        print(f"exercise_i18n: {len(exercise_sets())} Chinese exercise sets in "
              f"{(EXERCISES / LANGUAGE).relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
