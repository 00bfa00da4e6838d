"""backprop.plot: each figure draws what it is given (data, labels, scales), checked on its artists."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import backprop as bp
from backprop import data, plot


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def draw_confusion(matrix):
    return plot.confusion_matrix_heatmap(matrix)


def test_loss_curves_draw_one_line_per_run_on_a_log_scale():
    ax = plot.loss_curves({"a": [1, 0.5, 0.2], "b": [1, 2]}, title="two runs")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(lines[0].get_ydata(), [1, 0.5, 0.2])
    np.testing.assert_array_equal(lines[1].get_ydata(), [1, 2])  # a shorter (diverged) run is kept
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    assert ax.get_title() == "two runs"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_loss_curves_of_a_history_are_per_epoch_from_1():
    history = bp.History(train_loss=[0.9, 0.4], val_loss=[1.0, 0.6])
    ax = plot.loss_curves(history, log=False)
    train, val = ax.get_lines()
    assert (train.get_label(), val.get_label()) == ("training", "validation")
    np.testing.assert_array_equal(train.get_xdata(), [1, 2])
    np.testing.assert_array_equal(val.get_ydata(), [1.0, 0.6])
    assert ax.get_xlabel() == "epoch" and ax.get_yscale() == "linear"


def test_decision_boundary_colours_the_plane_and_shows_every_point():
    X, y = data.moons(40, rng=0)
    model = bp.Sequential(bp.Linear(2, 8, rng=0), bp.ReLU(), bp.Linear(8, 2, rng=1))
    ax = plot.decision_boundary(model, X, y, resolution=30, title="moons")
    points = [c for c in ax.collections if len(c.get_offsets()) == len(X)]
    assert len(points) == 1, "one scatter of the data"
    np.testing.assert_array_equal(points[0].get_offsets(), X)
    np.testing.assert_array_equal(points[0].get_array(), y)
    assert len(ax.collections) >= 2, "the filled regions under the points"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$x_1$", "$x_2$", "moons")
    x0, x1 = ax.get_xlim()
    assert x0 < X[:, 0].min() and X[:, 0].max() < x1  # the padding shows every point


def test_decision_boundary_thresholds_a_single_output():
    X, y = np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([0, 1])
    region = {}

    def model(grid):
        region["classes"] = grid[:, 0] > 0
        return grid[:, :1]  # a logit: positive on the right

    ax = plot.decision_boundary(model, X, y, threshold=0.0, resolution=10)
    assert region["classes"].any() and not region["classes"].all()
    assert ax.collections


def test_contour_paths_draw_each_path_with_its_step_count_and_the_minimum():
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]])
    ax = plot.contour_paths(lambda a, b: a**2 + 10 * b**2, {"GD": path}, (-2, 2), (-1, 1),
                            minimum=(0, 0))
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"GD (2 steps)", "minimum"}
    np.testing.assert_array_equal(lines["GD (2 steps)"].get_xydata(), path)
    np.testing.assert_array_equal(lines["minimum"].get_xydata(), [[0, 0]])
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 1)
    assert ax.collections, "the contour lines"


def test_digit_grid_titles_each_image_and_marks_wrong_predictions_red():
    images = data.digits().X_test[:12]
    fig = plot.digit_grid(images, [1] * 12, [1] * 6 + [2] * 6, ncols=6)
    assert len(fig.axes) == 12
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:6] == ["true 1, pred 1"] * 6 and titles[6:] == ["true 1, pred 2"] * 6
    colours = [matplotlib.colors.to_hex(ax.title.get_color()) for ax in fig.axes]
    assert colours[:6] == ["#000000"] * 6 and colours[6:] == ["#c0392b"] * 6
    np.testing.assert_array_equal(fig.axes[0].get_images()[0].get_array(), images[0].reshape(8, 8))


def test_confusion_matrix_draws_the_counts():
    matrix = np.array([[5, 1, 0], [0, 4, 2], [0, 0, 6]])
    ax = draw_confusion(matrix)
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), matrix)
    texts = sorted((int(t.get_position()[1]), int(t.get_position()[0]), t.get_text()) for t in ax.texts)
    assert texts == [(0, 0, "5"), (0, 1, "1"), (1, 1, "4"), (1, 2, "2"), (2, 2, "6")]  # zeros left blank
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
