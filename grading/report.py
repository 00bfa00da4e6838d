"""What an instructor reads after a class run, besides grades.csv (all written by `write_reports`):

- `feedback/<submission>.html`: one page per student, with the points, each public and hidden test
  case (passed or failed) and, for a failed one, what to look at. With `hide_hidden=True` the hidden
  cases are counted but their descriptions and messages are not shown (they would reveal the tests).
- `report.html` with `totals.png`: the class report: the mean score per question, the most-failed
  test cases, and a histogram of the totals.
- `canvas.csv` and `moodle.csv`: the totals in the layouts Canvas's and Moodle's gradebook imports
  read. The student is named by the submission's file name without `.ipynb` (name the files by login
  or SIS id, e.g. `jdoe.ipynb`, and the imports match them); one grade column per exercise set.
"""

from __future__ import annotations

import csv
import html
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from . import EXERCISE_SETS


def _e(text: Any) -> str:
    return html.escape(str(text))


def _code(text: str) -> str:
    """Escape a message for HTML and show `code` in backticks as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


STYLE = ("body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
         "line-height:1.45;color:#1d1d1f}table{border-collapse:collapse}td,th{padding:.25rem .6rem;"
         "border-bottom:1px solid #ddd;text-align:left}.ok{color:#1b7f3b}.no{color:#b3261e}"
         ".what{margin:.1rem 0 .4rem 1.6rem;white-space:pre-wrap}.hidden{color:#555}")


def feedback_html(row: Any, *, hide_hidden: bool = False) -> str:
    """One student's page: total, note, and every case of every question."""
    title = f"Feedback for {row.submission}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>"]
    if row.error:
        parts.append(f"<p class='no'><strong>Not graded:</strong> {_e(row.error)}</p>")
    else:
        parts.append(f"<p>Exercise set <strong>{_e(row.exercise_set)}</strong>: <strong>{row.total:g} / "
                     f"{row.total_possible:g} points</strong></p>")
    if row.note:
        parts.append(f"<p><strong>Note:</strong> {_e(row.note)}</p>")
    for question, cases in row.cases.items():
        points = f"{row.scores[question]:g} / {row.possible[question]:g} points"
        parts.append(f"<h2>{_e(question)}: {points}</h2><ul>")
        for case in cases:
            mark = ("<span class='ok'>✔ passed</span>" if case["passed"]
                    else "<span class='no'>✘ failed</span>")
            if case["hidden"] and hide_hidden:
                parts.append(f"<li class='hidden'>{mark}: a hidden test case</li>")
                continue
            kind = "hidden" if case["hidden"] else "public"
            parts.append(f"<li>{mark} ({kind}): {_e(case.get('description') or case['name'])}")
            if not case["passed"] and case.get("message"):
                parts.append(f"<div class='what'>What to look at: {_code(case['message'])}</div>")
            parts.append("</li>")
        parts.append("</ul>")
    return "".join(parts) + "</body></html>\n"


def class_summary(rows: list[Any]) -> dict:
    """{"sets": {set: {"n", "mean_total", "possible", "questions": {q: (mean, possible)}}},
    "failed": [(count, set, question, description, hidden), ...] most-failed first, "totals": [...]}."""
    sets: dict[str, dict] = {}
    failures: Counter = Counter()
    totals = []
    for row in rows:
        if row.error or not row.scores:
            continue
        totals.append((row.exercise_set, row.total, row.total_possible))
        entry = sets.setdefault(row.exercise_set, {"rows": []})
        entry["rows"].append(row)
        for question, cases in row.cases.items():
            for case in cases:
                if not case["passed"]:
                    failures[(row.exercise_set, question, case.get("description") or case["name"],
                              case["hidden"])] += 1
    summary = {}
    for name in sorted(sets, key=EXERCISE_SETS.index):
        graded = sets[name]["rows"]
        questions = {q: (statistics.fmean(r.scores.get(q, 0.0) for r in graded), graded[0].possible[q])
                     for q in graded[0].possible}
        summary[name] = {"n": len(graded), "mean_total": statistics.fmean(r.total for r in graded),
                         "possible": graded[0].total_possible, "questions": questions}
    failed = [(count, *key) for key, count in failures.most_common()]
    return {"sets": summary, "failed": failed, "totals": totals}


def histogram(totals: list[tuple[str, float, float]], path: Path) -> None:
    """A histogram of the totals (one colour per set), saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    by_set: dict[str, list[float]] = {}
    for name, total, _ in totals:
        by_set.setdefault(name, []).append(total)
    top = max((possible for *_, possible in totals), default=10) or 10
    bins = [i - 0.5 for i in range(int(top) + 2)]
    axes.hist(list(by_set.values()), bins=bins, stacked=True, label=list(by_set), edgecolor="white")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("total points")
    axes.set_ylabel("submissions")
    axes.set_title("Totals of the graded submissions")
    if len(by_set) > 1:
        axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def class_report_html(summary: dict, *, figure: str = "totals.png", most_failed: int = 10,
                      hide_hidden: bool = False) -> str:
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Class report</title>"
             f"<style>{STYLE}</style></head><body><h1>Class report</h1>"]
    for name, entry in summary["sets"].items():
        parts.append(f"<h2>{_e(name)}: {entry['n']} graded, mean {entry['mean_total']:.2f} / "
                     f"{entry['possible']:g}</h2><table><tr><th>question</th><th>mean points</th>"
                     f"<th>possible</th><th>mean %</th></tr>")
        for question, (mean, possible) in entry["questions"].items():
            percent = 100 * mean / possible if possible else 0
            parts.append(f"<tr><td>{_e(question)}</td><td>{mean:.2f}</td><td>{possible:g}</td>"
                         f"<td>{percent:.0f} %</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Most-failed test cases</h2><table><tr><th>failed by</th><th>set</th>"
                 "<th>question</th><th>test case</th></tr>")
    for count, name, question, description, hidden in summary["failed"][:most_failed]:
        what = "(a hidden case)" if hidden and hide_hidden else _e(description)
        kind = " <em>hidden</em>" if hidden else ""
        parts.append(f"<tr><td>{count}</td><td>{_e(name)}</td><td>{_e(question)}</td><td>{what}{kind}</td></tr>")
    parts.append("</table>")
    if summary["totals"]:
        parts.append(f"<h2>Totals</h2><img src='{_e(figure)}' alt='Histogram of the total points of the "
                     f"graded submissions' width='640'>")
    return "".join(parts) + "</body></html>\n"


def student_name(row: Any) -> str:
    return Path(row.submission).stem


def write_canvas(rows: list[Any], path: Path) -> None:
    """Canvas gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, one column per set,
    and the "Points Possible" row Canvas's own export has. The login is the file name's stem."""
    sets = sorted({r.exercise_set for r in rows if r.exercise_set}, key=EXERCISE_SETS.index)
    possible = {name: next((r.total_possible for r in rows
                            if r.exercise_set == name and r.total_possible), "") for name in sets}
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *sets])
        writer.writerow(["    Points Possible", "", "", "", "", *(possible[name] for name in sets)])
        for row in rows:
            grades = [(row.total if row.total is not None else "") if row.exercise_set == name else ""
                      for name in sets]
            writer.writerow([student_name(row), "", "", student_name(row), "", *grades])


def write_moodle(rows: list[Any], path: Path) -> None:
    """Moodle grade import (Grades > Import > CSV file): an identifier column to map to the username,
    one grade column per set, and a feedback column per set (map each at import)."""
    sets = sorted({r.exercise_set for r in rows if r.exercise_set}, key=EXERCISE_SETS.index)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Username", *(f"{name}" for name in sets), *(f"{name} feedback" for name in sets)])
        for row in rows:
            grades = [(row.total if row.total is not None else "") if row.exercise_set == name else ""
                      for name in sets]
            note = f"; {row.note}" if row.note else ""
            text = row.error or f"{row.total:g} / {row.total_possible:g}{note}"
            notes = [text if row.exercise_set == name else "" for name in sets]
            writer.writerow([student_name(row), *grades, *notes])


def write_reports(rows: list[Any], output: Path, *, hide_hidden: bool = False) -> None:
    """feedback/<submission>.html for each row, report.html + totals.png, canvas.csv, moodle.csv."""
    for row in rows:
        (output / "feedback" / f"{student_name(row)}.html").write_text(
            feedback_html(row, hide_hidden=hide_hidden), encoding="utf-8")
    summary = class_summary(rows)
    if summary["totals"]:
        histogram(summary["totals"], output / "totals.png")
    (output / "report.html").write_text(class_report_html(summary, hide_hidden=hide_hidden), encoding="utf-8")
    write_canvas(rows, output / "canvas.csv")
    write_moodle(rows, output / "moodle.csv")
