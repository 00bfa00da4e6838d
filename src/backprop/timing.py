"""Timing small computations on a busy computer, and in a browser whose clock is coarse: used by
chapter 5 (backward against forward, backpropagation against finite differences) and chapter 12
(the scalar engine against an array layer).

Both timers keep the fastest of several runs, the one least disturbed by other programs, and
repeat a fast call within a run until the run is long enough for the clock to resolve it (a
browser rounds `time.perf_counter` to about 0.1 ms or coarser).
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable

import numpy as np


def best_times(*functions: Callable[[], object], repeat: int = 10,
               at_least: float = 2e-3) -> np.ndarray:
    """Each function's fastest time per call, in seconds: an array of shape (len(functions),).

    The functions are called in turn, `repeat` rounds, so that all of them meet the same
    disturbances. In the first round each call is repeated, doubling the count, until a round lasts
    `at_least` seconds; later rounds use that count.
    """
    calls = [1] * len(functions)
    timings = np.full((repeat, len(functions)), np.inf)
    for r in range(repeat):
        for i, fn in enumerate(functions):
            while True:
                start = time.perf_counter()
                for _ in range(calls[i]):
                    fn()
                seconds = time.perf_counter() - start
                if seconds >= at_least or r > 0:
                    break
                calls[i] *= 2  # first round only: find how many calls fill `at_least`
            timings[r, i] = seconds / calls[i]
    return timings.min(axis=0)


def best_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """Seconds per call of fn(), the fastest of `repeat` runs. Each run repeats fn for at least
    0.2 s (timeit's autorange), so even a coarse clock measures it well."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat, number)) / number
