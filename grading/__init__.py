"""Build and grade the book's graded exercise sets with otter-grader (no Docker needed).

    python -m grading.build                 # masters in solutions/ -> exercises/ and autograder/
    python -m grading SUBMISSIONS_FOLDER    # grade every .ipynb there -> grading_output/grades.csv

`build`: runs `otter assign` on each master notebook `solutions/chNN-<topic>.ipynb` (solution code,
public and hidden tests, points, hints) and writes the student notebook to `exercises/` (committed)
and the Gradescope autograder zip to `autograder/` (git-ignored, with the hidden tests).
`grade`: finds each submission's exercise set, runs it (`run_one.py`: its cells, then the zip's
public and hidden tests, in one fresh Python process) in a fresh temporary folder inside the sandbox
(`sandbox.py`), several at once, and writes one CSV row per submission, feedback files, a class
report and gradebook exports (`report.py`). A submission is never modified.
"""

EXERCISE_SETS = (
    "ch01-neurons",
    "ch02-chain-rule",
    "ch03-losses",
    "ch04-activations",
    "ch05-backprop",
    "ch06-gradient-checking",
    "ch07-gradient-descent",
    "ch08-momentum",
    "ch09-adaptive-methods",
    "ch10-digit-classifier",
    "ch11-initialisation-regularisation",
)
