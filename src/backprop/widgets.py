"""Interactive explorers, in two forms built from the same two functions (used in chapter 7, whose
learning-rate and batch-size sliders they build):

- `run(**params) -> result` does the computation (e.g. trains a small model at one learning rate);
- `draw(ax, result, **params)` draws one picture of it.

`live_explorer` wraps them in ipywidgets sliders that re-run and redraw (Jupyter, Binder).
`precomputed_explorer` runs them once per slider value and returns a kernel-free slider (a
labelled HTML range input and one picture per value) that still moves in the static HTML book.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter, NullLocator

from .data import batches, regression_1d, regression_net
from .layers import Sequential
from .losses import MSELoss
from .optim import SGD
from .train import train_step

Run = Callable[..., Any]
Draw = Callable[..., None]


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def _png(fig: plt.Figure):
    """The figure as a PNG for display, rendered once, then closed.

    Jupyter's inline backend saves with bbox_inches="tight", and a constrained layout measures every
    label: either costs a second drawing, about half the time of a slider update. The live figure
    has fixed margins instead and is drawn once.
    """
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return Image(data=buffer.getvalue(), format="png")


def live_explorer(run: Run, draw: Draw, *, figsize: tuple[float, float] = (6.4, 3.8),
                  **sliders: Sequence[Any]):
    """Sliders (one per keyword, each over its list of values) that call run and draw on change.

    Returns an ipywidgets VBox; display it as a cell's last expression. Needs a live kernel.
    """
    import ipywidgets as widgets  # only here: the rest of the package works without ipywidgets
    from IPython.display import display

    controls = {
        name: widgets.SelectionSlider(
            options=[(_format(v), v) for v in values], value=values[len(values) // 2],
            description=name, continuous_update=False,
            layout=widgets.Layout(width="420px"), style={"description_width": "60px"})
        for name, values in sliders.items()
    }
    output = widgets.Output()

    def redraw(_change=None) -> None:
        params = {name: control.value for name, control in controls.items()}
        with output:
            output.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=figsize, layout="none")  # fixed margins: see _png
            fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
            draw(ax, run(**params), **params)
            display(_png(fig))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([*controls.values(), output])


@dataclass
class PrecomputedExplorer:
    """A kernel-free slider: `values` it was computed at, their `results`, and the `html` player.

    verdicts: what each frame shows, in words (shown beside the picture and read out by screen
    readers); alts: each frame's alt text; label: the slider's visible name.
    """

    name: str
    values: list[Any]
    results: list[Any]
    html: str
    verdicts: list[str] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)
    label: str = ""

    def _repr_html_(self) -> str:
        return self.html


# What a slider's keyword means, written out for its visible label (anything else: the keyword).
PARAMETER_LABELS = {"lr": "learning rate η", "beta": "momentum β", "batch_size": "batch size B"}


def _frame_png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _describe_axes(ax: plt.Axes) -> str:
    """Alt text read off a drawn axes: what is plotted against what, and its title (its message)."""
    y, x, title = ax.get_ylabel(), ax.get_xlabel(), ax.get_title()
    scale = ", log scale" if ax.get_yscale() == "log" else ""
    what = f"Plot of {y or 'a curve'} against {x or 'its input'}{scale}."
    return f"{what} {title[0].upper() + title[1:]}." if title else what


# The player: a labelled range input (keyboard: arrows, Home, End), the value and the frame's
# verdict as text, one <img> whose picture and alt text follow the slider. Plain DOM, no library:
# it runs in the static HTML book and in JupyterLab or the live book (trusted output).
_SCRIPT = """\
(function () {
  var root = document.getElementById("%(id)s");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var frames = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var slider = root.querySelector("input[type=range]"), image = root.querySelector("img");
  var value = root.querySelector("output"), verdict = root.querySelector(".explorer-verdict");
  function show() {
    var frame = frames[Number(slider.value)];
    image.src = frame.src;
    image.alt = frame.alt;
    value.textContent = frame.value;
    verdict.textContent = frame.verdict;
    slider.setAttribute("aria-valuetext", frame.value + ": " + frame.verdict);
  }
  slider.addEventListener("input", show);
})();
"""


def _player_html(key: str, label: str, frames: list[dict[str, str]], start: int) -> str:
    first = frames[start]
    ident = f"explorer-{key}"
    data = json.dumps(frames).replace("</", "<\\/")  # no "</script>" inside the data block
    return f"""\
<div class="precomputed-explorer" id="{ident}">
<div class="explorer-controls">
<label for="{ident}-slider">{html.escape(label)}</label>
<input type="range" id="{ident}-slider" min="0" max="{len(frames) - 1}" step="1" value="{start}"
 aria-valuetext="{html.escape(first['value'] + ': ' + first['verdict'])}">
<output for="{ident}-slider">{html.escape(first['value'])}</output>
</div>
<p class="explorer-verdict">{html.escape(first['verdict'])}</p>
<img src="{first['src']}" alt="{html.escape(first['alt'])}">
<script type="application/json">{data}</script>
<script>{_SCRIPT % {"id": ident}}</script>
</div>"""


def precomputed_explorer(run: Run, draw: Draw, *, figsize: tuple[float, float] = (6.4, 3.8),
                         interval_ms: int | None = None, label: str | None = None,
                         verdict: Callable[[Any], str] | None = None,
                         alt: Callable[[Any, Any], str] | None = None,
                         start: int | None = None,
                         **slider: Sequence[Any]) -> PrecomputedExplorer:
    """Run once per value of the single keyword slider and render every picture into a labelled,
    keyboard-operable HTML slider that needs no kernel. Fix other parameters with a lambda or
    functools.partial.

    label: the slider's visible name (default: PARAMETER_LABELS[name], else the keyword).
    verdict(result) -> str: what a frame shows, in words, beside the picture (default: the
        result's `verdict` attribute, else the drawn axes' title).
    alt(result, value) -> str: a frame's alt text (default: read off the drawn axes).
    start: index of the value shown first (default: the middle one).
    interval_ms: ignored (the old player's animation speed); kept so old calls still work.
    """
    del interval_ms
    if len(slider) != 1:
        raise ValueError(f"precomputed_explorer takes exactly one slider, got {sorted(slider)}")
    (name, values), = slider.items()
    values = list(values)
    if not values:
        raise ValueError(f"the slider {name!r} has no values: pass a non-empty list, e.g. {name}=[0.1, 1]")
    start = len(values) // 2 if start is None else start
    if not 0 <= start < len(values):
        raise ValueError(f"start must index one of the {len(values)} values, got {start}")
    label = label or PARAMETER_LABELS.get(name, name)
    symbol = label.split()[-1] if len(label.split()) > 1 and len(label.split()[-1]) <= 2 else label
    results = [run(**{name: v}) for v in values]
    frames, verdicts, alts = [], [], []
    for value, result in zip(values, results, strict=True):
        fig, ax = plt.subplots(figsize=figsize)
        draw(ax, result, **{name: value})
        said = verdict(result) if verdict else getattr(result, "verdict", None) or ax.get_title()
        text = alt(result, value) if alt else _describe_axes(ax)
        frames.append({"value": f"{symbol} = {_format(value)}", "verdict": str(said), "alt": text,
                       "src": _frame_png(fig)})
        plt.close(fig)
        verdicts.append(str(said))
        alts.append(text)
    key = hashlib.sha1(json.dumps([name, [f["src"][-64:] for f in frames]]).encode()).hexdigest()[:10]
    return PrecomputedExplorer(name, values, results, _player_html(key, label, frames, start),
                               verdicts, alts, label)


# ----------------------------------------------------------------------------- the lr explorer

# Too small (0.001, 0.003), converging (0.01 to 0.3), oscillating (0.6 to 0.8), diverging (1, 2).
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.6, 0.7, 0.8, 1.0, 2.0]


@dataclass
class LossCurve:
    """Losses of one training run; `diverged_at` is the step where the loss left all bounds."""

    losses: np.ndarray
    diverged_at: int | None

    @property
    def verdict(self) -> str:
        if self.diverged_at is not None:
            return f"diverges at step {self.diverged_at}"
        rises = np.sum(np.diff(self.losses) > 0)
        if self.losses[-1] > 0.5 * self.losses[0]:
            return "too small: barely moves" if rises == 0 else "no progress"
        return "oscillates, then converges" if rises > 0 else "converges"


def _regression_net(hidden: int, seed: int) -> Sequential:
    """The 1-`hidden`-1 tanh network of both chapter-7 explorers, seeded (same start for every run)."""
    return regression_net(hidden, seed)


def train_regression(lr: float, steps: int = 100, hidden: int = 16, seed: int = 0) -> LossCurve:
    """Full-batch gradient descent on a 1-16-1 tanh network fitting a noisy sine (64 points).

    Small enough to retrain on every slider move. Stops when the loss is no longer finite or grows
    past 1e4 times its start: that is divergence, reported as such rather than as overflow.
    """
    X, y = regression_1d(64, noise=0.1, rng=seed)
    model = _regression_net(hidden, seed)
    loss, optimizer = MSELoss(), SGD(model.parameters(), lr=lr)
    losses: list[float] = []
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps):
            value = train_step(model, loss, optimizer, X, y)  # the loss before this step's update
            if not np.isfinite(value) or (losses and value > 1e4 * losses[0]):
                return LossCurve(np.array(losses), diverged_at=step)
            losses.append(value)
    return LossCurve(np.array(losses), diverged_at=None)


def draw_loss_curve(ax: plt.Axes, curve: LossCurve, lr: float, steps: int = 100) -> None:
    """One learning rate's loss curve on fixed axes, titled with what happened."""
    ax.plot(np.arange(len(curve.losses)), curve.losses, color="#3b6ea8")
    if curve.diverged_at is not None:
        ax.axvline(curve.diverged_at, color="#c0392b", linestyle="--")
        ax.text(curve.diverged_at, 1, "  diverged: loss left all bounds", color="#c0392b",
                va="center", fontsize=9)
    ax.set_yscale("log")
    # Plain labels (0.01 ... 100) and no minor ticks, for speed: mathtext labels like $10^{-2}$
    # and the minor ticks of a log axis take most of a redraw, and a live update (retrain +
    # redraw) should stay under 150 ms (benchmarks/slider_update.py).
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(0, steps)
    ax.set_ylim(1e-2, 1e2)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (MSE)")
    ax.set_title(f"learning rate η = {lr:g}: {curve.verdict}")


def learning_rate_explorer(learning_rates: Sequence[float] = LEARNING_RATES, *, live: bool = False):
    """Chapter 7's explorer: the loss curve of `train_regression` as the learning rate moves.

    live=True: ipywidgets slider (needs a kernel). live=False: PrecomputedExplorer for the HTML book.
    """
    if live:
        return live_explorer(train_regression, draw_loss_curve, lr=list(learning_rates))
    return precomputed_explorer(train_regression, draw_loss_curve, lr=list(learning_rates))


# ----------------------------------------------------------------------------- the batch-size explorer

BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64]


@dataclass
class MinibatchRun:
    """One training run at one batch size, measured against the work it cost.

    gradients: (updates + 1,) per-example gradients computed so far (0 at the start), the cost.
    losses: (updates + 1,) loss on the whole training set at the start and after each update.
    """

    batch_size: int
    gradients: np.ndarray
    losses: np.ndarray

    @property
    def updates(self) -> int:
        return len(self.losses) - 1

    @property
    def rise_fraction(self) -> float:
        """Fraction of updates after which the whole-set loss went up: how noisy the descent is."""
        return float(np.mean(np.diff(self.losses) > 0))


def train_minibatch(batch_size: int, epochs: int = 20, lr: float = 0.2, hidden: int = 16,
                    seed: int = 0) -> MinibatchRun:
    """Mini-batch SGD on `train_regression`'s problem (64 points) for a fixed number of epochs.

    batch_size = 64 is batch gradient descent (every example per update), 1 is stochastic gradient
    descent, anything in between is mini-batch. Every run computes the same number of per-example
    gradients (epochs * 64); what changes is how many updates they buy and how noisy those are.
    """
    X, y = regression_1d(64, noise=0.1, rng=seed)
    if not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}")
    model = _regression_net(hidden, seed)
    loss, optimizer = MSELoss(), SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    gradients, losses = [0], [loss.forward(model.forward(X), y)]
    for _ in range(epochs):
        for xb, yb in batches(X, y, batch_size, rng=rng):
            train_step(model, loss, optimizer, xb, yb)
            gradients.append(gradients[-1] + len(xb))
            losses.append(loss.forward(model.forward(X), y))  # for the plot; not part of training
    return MinibatchRun(batch_size, np.array(gradients), np.array(losses))


def draw_minibatch_curve(ax: plt.Axes, run: MinibatchRun, batch_size: int) -> None:
    """Whole-set loss against per-example gradients computed, on fixed axes."""
    ax.plot(run.gradients, run.losses, color="#3b6ea8", linewidth=1.2,
            marker="o" if run.updates <= 80 else None, markersize=3)
    ax.set_yscale("log")
    ax.set_yticks([0.02, 0.05, 0.1, 0.2, 0.5])
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))  # plain labels, as in draw_loss_curve
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(0, run.gradients[-1])
    ax.set_ylim(0.02, 0.6)
    ax.set_xlabel("per-example gradients computed (cost)")
    ax.set_ylabel("training loss (MSE, all 64 points)")
    ax.set_title(f"batch size {batch_size}: {run.updates} updates, loss rose after "
                 f"{run.rise_fraction:.0%} of them")


def batch_size_explorer(batch_sizes: Sequence[int] = BATCH_SIZES, *, live: bool = False):
    """Chapter 7's second explorer: the loss of `train_minibatch` as the batch size moves.

    live=True: ipywidgets slider (needs a kernel). live=False: PrecomputedExplorer for the HTML book.
    """
    if live:
        return live_explorer(train_minibatch, draw_minibatch_curve, batch_size=list(batch_sizes))
    return precomputed_explorer(
        train_minibatch, draw_minibatch_curve, batch_size=list(batch_sizes),
        verdict=lambda run: f"{run.updates} updates; the loss rose after {run.rise_fraction:.0%} of them")
