"""The book's figures: one style (set when this module is imported) and the plots chapters share.
Not taught itself; the chapters use it from chapter 2 on (the graph drawing, from `graph`), loss
curves from chapter 3, contours of a loss surface in chapters 7 to 9, digits and the confusion
matrix in chapter 10.

Every function draws into `ax` when given one, else into a new figure, and returns the Axes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler  # matplotlib's own dependency (mpl.cycler is the same, but untyped)

from .graph import draw_graph  # re-exported, so chapters find every drawing here
from .layers import Layer
from .train import History, predict

__all__ = [
    "use_book_style", "loss_curves", "decision_boundary", "contour_paths", "digit_grid",
    "confusion_matrix_heatmap", "draw_graph", "COLORS",
]

COLORS = ["#3b6ea8", "#d1603d", "#4f9a58", "#8e5ea2", "#c9a227", "#5b5b5b"]


def use_book_style() -> None:
    """Consistent, readable figures: sizes, fonts, grid, colour cycle, high-resolution PNG."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 3.8),
        "figure.dpi": 100,
        "savefig.dpi": 120,
        "figure.constrained_layout.use": True,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=COLORS),
        "lines.linewidth": 1.8,
        "legend.frameon": False,
        "image.cmap": "viridis",
        "svg.hashsalt": "backprop-book",  # stable ids in saved SVGs
    })


use_book_style()


def _axes(ax: plt.Axes | None, figsize: tuple[float, float] | None = None) -> plt.Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def loss_curves(curves: Mapping[str, Sequence[float]] | History, ax: plt.Axes | None = None, *,
                log: bool = True, xlabel: str = "step", ylabel: str = "loss",
                title: str | None = None) -> plt.Axes:
    """Loss against step (or epoch), one line per entry of `curves` ({label: losses}).

    A History is drawn as its per-epoch training and validation losses. Curves may have
    different lengths (a diverged run stops early). log: logarithmic y axis, for losses that
    span decades.
    """
    if isinstance(curves, History):
        xlabel = "epoch"
        curves = {"training": curves.train_loss, **({"validation": curves.val_loss}
                                                    if curves.val_loss else {})}
    ax = _axes(ax)
    for label, values in curves.items():
        ys = np.asarray(values, dtype=float)
        start = 1 if xlabel == "epoch" else 0
        ax.plot(np.arange(start, start + len(ys)), ys, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return ax


def decision_boundary(model: Layer | Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      y: np.ndarray, ax: plt.Axes | None = None, *, threshold: float = 0.5,
                      resolution: int = 200, title: str | None = None) -> plt.Axes:
    """Colour the plane by the model's predicted class and scatter the data on top.

    X: (n, 2) points, y: (n,) labels. The model maps (m, 2) -> (m, classes) (argmax decides) or
    (m, 1) (output > threshold decides: 0.5 for probabilities, 0 for logits).
    """
    ax = _axes(ax, (4.2, 3.8))
    pad = 0.25 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = predict(model, grid) if isinstance(model, Layer) else model(grid)
    classes = out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(-1) > threshold
    n_classes = max(int(np.max(y)) + 1, 2)
    cmap = mpl.colors.ListedColormap(COLORS[:n_classes])
    ax.contourf(gx, gy, classes.reshape(gx.shape).astype(float), levels=np.arange(n_classes + 1) - 0.5,
                cmap=cmap, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).reshape(-1), cmap=cmap, s=18, edgecolors="white",
               linewidths=0.5, vmin=-0.5, vmax=n_classes - 0.5)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def contour_paths(f: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  paths: Mapping[str, np.ndarray], xlim: tuple[float, float],
                  ylim: tuple[float, float], ax: plt.Axes | None = None, *, levels: int = 25,
                  log_levels: bool = True, minimum: tuple[float, float] | None = None,
                  title: str | None = None) -> plt.Axes:
    """Contours of f(x, y) with optimiser paths drawn on top.

    f: vectorised, f(X, Y) on meshgrid arrays.  paths: {label: points (k, 2)} from
    `optim.trajectory`.  log_levels: contour levels spaced geometrically, which shows narrow
    valleys better.  minimum: marked with a star.
    """
    ax = _axes(ax, (5.2, 4.2))
    gx, gy = np.meshgrid(np.linspace(*xlim, 300), np.linspace(*ylim, 300))
    values = f(gx, gy)
    contour_levels: np.ndarray | int = levels
    if log_levels:
        low = max(values.min(), 1e-3 * (values.max() - values.min()) / levels, 1e-12)
        contour_levels = np.geomspace(low, values.max(), levels)
    ax.contour(gx, gy, values, levels=contour_levels, colors="0.7", linewidths=0.7)
    for (label, path), color in zip(paths.items(), COLORS, strict=False):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "-o", color=color, markersize=2.5, linewidth=1.2,
                label=f"{label} ({len(path) - 1} steps)")
    if minimum is not None:
        ax.plot(*minimum, "*", color="black", markersize=12, label="minimum")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.grid(False)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def digit_grid(images: np.ndarray, labels: Sequence[int] | None = None,
               predicted: Sequence[int] | None = None, *, ncols: int = 10,
               title: str | None = None) -> plt.Figure:
    """A grid of square grey-scale images: images (n, side*side) or (n, side, side).

    Under each image: its label, and with `predicted` also the prediction (red when wrong).
    """
    images = np.asarray(images)
    n = len(images)
    side = int(round(np.sqrt(images[0].size)))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.3 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=images.max())
        if predicted is not None and labels is not None:
            wrong = predicted[i] != labels[i]
            ax.set_title(f"true {labels[i]}, pred {predicted[i]}", fontsize=7,
                         color="#c0392b" if wrong else "black")
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def confusion_matrix_heatmap(matrix: np.ndarray, ax: plt.Axes | None = None, *,
                             title: str | None = None) -> plt.Axes:
    """Draw a confusion matrix (classes, classes), as computed by `train.confusion_matrix` (rows
    true class, columns predicted), as a heatmap with the counts written in."""
    ax = _axes(ax, (4.6, 4.2))
    ax.imshow(matrix, cmap="Blues")
    classes = len(matrix)
    for i in range(classes):
        for j in range(classes):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax
