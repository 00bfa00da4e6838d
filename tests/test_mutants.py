"""Behaviour that a mutation run found unguarded: each test here fails on a mutant that used to pass
every test (fit ignoring `clip_norm` or `scheduler`, clipping that scales below `max_norm`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop import data, optim
from backprop.layers import Parameter
from backprop.train import fit

clip_grad_norm_ = optim.clip_grad_norm_


class RecordingSGD(bp.SGD):
    """Plain SGD that records, at every step, the joint gradient norm and the learning rate it uses."""

    def __init__(self, params, lr):
        super().__init__(params, lr)
        self.norms: list[float] = []
        self.lrs: list[float] = []

    def step(self) -> None:
        self.norms.append(math.sqrt(sum(float(np.sum(p.grad**2)) for p in self.params)))
        self.lrs.append(self.lr)
        super().step()


def regression(seed=0):
    X, y = data.regression_1d(40, rng=0)
    model = bp.Sequential(bp.Linear(1, 8, rng=seed), bp.Tanh(), bp.Linear(8, 1, rng=seed + 1))
    return model, X, 10 * y  # large targets: large gradients, so clipping has work to do


def test_fit_clips_every_step_to_clip_norm():
    model, X, y = regression()
    free = RecordingSGD(model.parameters(), lr=1e-3)
    fit(model, bp.MSELoss(), free, X, y, epochs=2, batch_size=10, progress=False)
    assert max(free.norms) > 1.0  # without clipping the gradients are larger than the limit below

    model, X, y = regression()
    clipped = RecordingSGD(model.parameters(), lr=1e-3)
    fit(model, bp.MSELoss(), clipped, X, y, epochs=2, batch_size=10, clip_norm=1.0, progress=False)
    assert len(clipped.norms) == 8
    assert max(clipped.norms) <= 1.0 + 1e-6
    assert min(clipped.norms) > 0.99  # every one of these steps was over the limit, and was scaled to it


def test_fit_steps_the_scheduler_once_per_epoch():
    model, X, y = regression()
    optimizer = RecordingSGD(model.parameters(), lr=1e-3)
    scheduler = optim.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, bp.MSELoss(), optimizer, X, y, epochs=3, batch_size=20, scheduler=scheduler,
                  progress=False)
    expected = [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4]  # two steps per epoch, halved after each epoch
    np.testing.assert_allclose(optimizer.lrs, expected, rtol=1e-15)
    np.testing.assert_allclose(history.lr, expected, rtol=1e-15)
    assert scheduler.epoch == 3 and optimizer.lr == pytest.approx(1.25e-4)


def test_clip_grad_norm_leaves_gradients_below_max_norm_untouched():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(1))
    a.grad[:] = [0.3, 0.0]
    b.grad[:] = [0.4]
    assert clip_grad_norm_([a, b], max_norm=1.0) == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_array_equal(a.grad, [0.3, 0.0])
    np.testing.assert_array_equal(b.grad, [0.4])


def test_clip_grad_norm_above_max_norm_keeps_the_direction():
    a = Parameter(np.zeros(3))
    a.grad[:] = [6.0, 0.0, -8.0]
    assert clip_grad_norm_([a], max_norm=2.0) == pytest.approx(10.0)
    np.testing.assert_allclose(a.grad, [1.2, 0.0, -1.6], rtol=1e-6)


def test_fit_refuses_validation_inputs_without_their_targets():
    model, X, y = regression()
    with pytest.raises(ValueError, match="both X_val and y_val"):
        fit(model, bp.MSELoss(), bp.SGD(model.parameters(), lr=1e-3), X, y, X_val=X, progress=False)
