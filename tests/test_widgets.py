"""The chapter-7 explorers: what their training runs report, and that both forms build."""

import matplotlib

matplotlib.use("Agg")

import re

import numpy as np
import pytest

from backprop import widgets


def test_train_regression_reports_each_regime():
    assert widgets.train_regression(0.001).verdict == "too small: barely moves"
    assert widgets.train_regression(0.3).verdict == "converges"
    diverged = widgets.train_regression(3.0)
    assert diverged.diverged_at is not None and diverged.verdict.startswith("diverges")
    assert np.all(np.isfinite(diverged.losses)) and len(diverged.losses) == diverged.diverged_at


def test_every_batch_size_pays_the_same_number_of_gradients_for_different_updates():
    runs = {b: widgets.train_minibatch(b, epochs=3) for b in (1, 8, 64)}
    for b, run in runs.items():
        assert run.gradients[-1] == 3 * 64                 # the cost: 3 epochs of 64 examples
        assert run.updates == 3 * (64 // b)               # what that cost buys
        assert len(run.gradients) == len(run.losses) == run.updates + 1
    assert runs[64].rise_fraction == 0                      # full batch, small rate: monotone
    assert runs[1].rise_fraction > 0.2                      # one example per step: noisy


def test_train_minibatch_refuses_an_impossible_batch_size():
    with pytest.raises(ValueError, match="between 1 and 64"):
        widgets.train_minibatch(0)


def test_precomputed_explorer_has_one_frame_per_value_and_no_kernel_needed():
    explorer = widgets.batch_size_explorer([4, 64])
    assert explorer.values == [4, 64] and [r.batch_size for r in explorer.results] == [4, 64]
    html = explorer._repr_html_()
    # one picture per value in the frame data, plus the first one shown in the <img>
    assert html.count("data:image/png;base64") == 3 and '<input type="range"' in html


def test_precomputed_explorer_is_a_labelled_slider_with_its_value_and_verdict_as_text():
    explorer = widgets.learning_rate_explorer([0.01, 0.3, 2.0])
    html = explorer._repr_html_()
    slider_id = re.search(r'<input type="range" id="([^"]+)"', html).group(1)
    assert f'<label for="{slider_id}">learning rate η</label>' in html
    assert f'<output for="{slider_id}">η = 0.3</output>' in html       # the middle value first
    assert 'aria-valuetext="η = 0.3: converges"' in html
    assert explorer.verdicts == ["converges", "converges", "diverges at step 5"]
    assert '<p class="explorer-verdict">converges</p>' in html
    # alt text says what each frame shows, never a file name; no animation buttons
    assert all(alt.startswith("Plot of training loss") for alt in explorer.alts)
    assert "diverges at step 5" in explorer.alts[2] and 'alt="Plot of training loss' in html
    assert "<button" not in html and "Play" not in html and "https://" not in html


def test_precomputed_explorer_takes_a_label_a_verdict_and_alt_text():
    explorer = widgets.precomputed_explorer(
        widgets.train_regression, widgets.draw_loss_curve, lr=[0.1, 2.0], label="step size",
        verdict=lambda curve: f"{len(curve.losses)} steps", alt=lambda curve, lr: f"curve at {lr}",
        start=0)
    assert explorer.label == "step size" and explorer.verdicts == ["100 steps", "5 steps"]
    assert explorer.alts == ["curve at 0.1", "curve at 2.0"]
    assert 'value="0"' in explorer.html and ">step size = 0.1</output>" in explorer.html
    with pytest.raises(ValueError, match="start must index"):
        widgets.precomputed_explorer(widgets.train_regression, widgets.draw_loss_curve, lr=[0.1], start=1)
    with pytest.raises(ValueError, match="no values"):
        widgets.precomputed_explorer(widgets.train_regression, widgets.draw_loss_curve, lr=[])


def test_precomputed_explorer_takes_exactly_one_slider():
    with pytest.raises(ValueError, match="exactly one slider"):
        widgets.precomputed_explorer(widgets.train_regression, widgets.draw_loss_curve,
                                     lr=[0.1], steps=[10])


def test_live_explorer_builds_one_slider_per_parameter():
    box = widgets.learning_rate_explorer([0.01, 0.1], live=True)
    sliders = box.children[:-1]
    assert [s.description for s in sliders] == ["lr"] and sliders[0].value == 0.1


def test_precomputed_explorer_links_nothing_off_the_page():
    """The static book works offline and the live book (Pyodide) sends no request off the site."""
    html = widgets.learning_rate_explorer([0.1])._repr_html_()
    assert "https://" not in html and "http://" not in html and "<link" not in html
