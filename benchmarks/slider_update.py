"""One live update of chapter 7's learning-rate explorer: move the slider, retrain, redraw.

    .venv/bin/python benchmarks/slider_update.py [--repeats 21]

Builds the real ipywidgets explorer (`widgets.learning_rate_explorer(live=True)`) under an IPython
shell with matplotlib's inline backend on Agg, the same path as in JupyterLab: each slider move
calls `train_regression` (100 full-batch steps) and `draw_loss_curve`, and `plt.show()` renders
the figure to a PNG for the page. Times each move (no kernel round trip, no browser), prints the
median and the spread, and checks the median against the book's goal of 150 ms (exit status 1 if
missed). Wall time varies with machine load, so the process's CPU time is printed too: run it on a
quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time

from IPython.core.interactiveshell import InteractiveShell

GOAL_MS = 150.0


class _Shell(InteractiveShell):
    """A kernel-less IPython shell: enough for `display` and the inline backend."""

    def enable_gui(self, gui=None):  # no GUI event loop: inline figures only
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="slider moves to time")
    args = parser.parse_args()

    shell = _Shell.instance()
    shell.enable_matplotlib("inline")  # plt.show() -> display(figure) -> PNG, as in Jupyter
    pngs = []
    shell.display_pub.publish = lambda data, metadata=None, **_: pngs.append("image/png" in data)

    from backprop import plot, widgets  # after the backend is set; plot sets the book's style

    assert plot.mpl.rcParams["figure.constrained_layout.use"]  # as in the chapter

    with contextlib.redirect_stdout(io.StringIO()):  # clear_output writes escape codes here
        explorer = widgets.learning_rate_explorer(live=True)
        slider = explorer.children[0]
        values = [value for _, value in slider.options]
        times, cpu_times = [], []
        for i in range(args.repeats + 2):  # two warm-up moves
            value = values[i % len(values)]
            if value == slider.value:
                value = values[(i + 1) % len(values)]
            start, cpu_start = time.perf_counter(), time.process_time()
            slider.value = value
            times.append(1000 * (time.perf_counter() - start))
            cpu_times.append(1000 * (time.process_time() - cpu_start))
    times, cpu_times = times[2:], cpu_times[2:]
    if not all(pngs) or len(pngs) != args.repeats + 3:  # + the first drawing
        print(f"expected one PNG per update, got {sum(pngs)} PNGs for {len(pngs)} displays")
        return 1

    median = statistics.median(times)
    print(f"learning-rate explorer, one live update (retrain 100 steps + redraw + PNG), "
          f"{args.repeats} moves over lr = {', '.join(f'{v:g}' for v in values)}")
    print(f"median {median:.0f} ms  (min {min(times):.0f}, max {max(times):.0f})  "
          f"goal <= {GOAL_MS:.0f} ms: {'met' if median <= GOAL_MS else 'MISSED'}")
    print(f"CPU time of this process per update: median {statistics.median(cpu_times):.0f} ms "
          f"(wall time above it means other processes share the CPU)")
    return 0 if median <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
