"""Behaviour that a mutation run found unguarded: each test here fails on a mutant that used to pass
every test (fit ignoring `clip_norm` or `scheduler`, clipping that scales below `max_norm`)."""

from __future__ import annotations

import math
import re

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


# --- survivors of the first mutation run (`make mutation`), killed one behaviour at a time ---

def test_a_value_used_twice_accumulates_both_gradients():
    from backprop.autodiff import Value

    x = Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0  # `=` instead of `+=` in the sum's backward would leave 1
    y = Value(3.0)
    (y * y + y).backward()
    assert y.grad == 7.0  # 2y + 1
    # Both orders of the same sum: whichever branch runs its backward second must add, not overwrite.
    for f, slope in [(lambda v: (v + 1) + (v * 2), 3.0), (lambda v: (v * 2) + (v + 1), 3.0),
                     (lambda v: (v + 1) * (v + 2), 9.0)]:  # d/dv at v = 3: 3, 3, 2v + 3
        v = Value(3.0)
        f(v).backward()
        assert v.grad == slope


def test_values_record_the_operation_that_made_them():
    from backprop.autodiff import Value

    x = Value(2.0)
    ops = [(x + 1)._op, (x * 3)._op, (x**2)._op, x.exp()._op, x.log()._op]
    assert ops == ["+", "*", "**2", "exp", "log"]


def test_value_log_accepts_every_positive_number_and_refuses_zero():
    from backprop.autodiff import Value

    assert Value(0.5).log().data == pytest.approx(math.log(0.5))
    with pytest.raises(ValueError, match="non-positive"):
        Value(0.0).log()


def test_softmax_and_logsumexp_stay_finite_for_rows_of_very_different_size():
    from backprop.functional import log_softmax, logsumexp, softmax

    z = np.array([[1000.0, 999.0], [-1000.0, -1001.0]])  # a shift by the global max would underflow row 2
    with np.errstate(all="raise"):
        p = softmax(z)
        lse = logsumexp(z, axis=1)
    expected_row = [1 / (1 + math.exp(-1)), 1 / (1 + math.e)]
    np.testing.assert_allclose(p, [expected_row, expected_row], rtol=1e-14)
    np.testing.assert_allclose(lse, [1000 + math.log1p(math.exp(-1)), -1000 + math.log1p(math.exp(-1))])
    assert logsumexp(z, axis=0).shape == (2,) and logsumexp(z, axis=0, keepdims=True).shape == (1, 2)
    np.testing.assert_allclose(log_softmax(z, axis=0)[:, 0], [0.0, -2000.0], atol=1e-12)


def test_relative_error_of_two_empty_arrays_is_zero():
    from backprop.gradcheck import relative_error

    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0


def test_clipping_never_leaves_the_norm_above_max_norm():
    a = Parameter(np.zeros(2))
    a.grad[:] = [3.0, 4.0]
    clip_grad_norm_([a], max_norm=1.0)
    assert math.hypot(*a.grad) <= 1.0


def test_linear_bias_gradient_accumulates_too():
    layer, x = bp.Linear(3, 2, rng=0), np.ones((4, 3))
    for _ in range(2):
        layer(x)
        layer.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(layer.b.grad, [8.0, 8.0])  # 4 rows, twice


@pytest.mark.parametrize("name, spread", [
    ("xavier_uniform", lambda W, n_in, n_out: np.abs(W).max() / math.sqrt(6 / (n_in + n_out))),
    ("xavier_normal", lambda W, n_in, n_out: W.std() / math.sqrt(2 / (n_in + n_out))),
    ("he_uniform", lambda W, n_in, n_out: np.abs(W).max() / math.sqrt(6 / n_in)),
    ("he_normal", lambda W, n_in, n_out: W.std() / math.sqrt(2 / n_in)),
    ("default", lambda W, n_in, n_out: np.abs(W).max() / (1 / math.sqrt(n_in))),
])
def test_every_initializer_has_its_scale_seed_and_dtype(name, spread):
    from backprop import init

    W = init.initialize(name, (400, 300), rng=0)
    assert spread(W, 400, 300) == pytest.approx(1.0, abs=0.03)
    np.testing.assert_array_equal(W, init.initialize(name, (400, 300), rng=0))
    assert not np.array_equal(W, init.initialize(name, (400, 300), rng=1))
    assert init.initialize(name, (4, 3), rng=0, dtype=np.float32).dtype == np.float32


def test_nesterov_without_momentum_is_refused():
    with pytest.raises(ValueError, match="Nesterov"):
        bp.SGD([Parameter(np.zeros(1))], lr=0.1, nesterov=True, momentum=0.0)


def test_bce_refuses_values_above_one():
    with pytest.raises(ValueError, match="probabilities"):
        bp.BCELoss()(np.array([[1.5]]), np.array([[1.0]]))


def test_fit_records_each_steps_loss_and_follows_shuffle():
    X, y = np.arange(8.0).reshape(8, 1), np.arange(8.0).reshape(8, 1)

    def run(shuffle):
        model = bp.Linear(1, 1, rng=0)
        history = fit(model, bp.MSELoss(), bp.SGD(model.parameters(), lr=1e-3), X, y, epochs=1,
                      batch_size=2, shuffle=shuffle, progress=False)
        return model, history

    model, history = run(shuffle=False)
    replay = bp.Linear(1, 1, rng=0)
    optimizer, loss, expected = bp.SGD(replay.parameters(), lr=1e-3), bp.MSELoss(), []
    for start in range(0, 8, 2):  # the same steps by hand, in order
        optimizer.zero_grad()
        expected.append(loss(replay(X[start:start + 2]), y[start:start + 2]))
        replay.backward(loss.backward())
        optimizer.step()
    assert history.step_loss == expected and history.lr == [1e-3] * 4
    assert run(shuffle=True)[1].step_loss != expected


def test_divergence_message_names_the_step_and_a_ten_times_smaller_rate():
    X, y = data.regression_1d(50, rng=0)
    model = bp.Sequential(bp.Linear(1, 16, rng=0), bp.Tanh(), bp.Linear(16, 1, rng=1))
    with pytest.raises(bp.TrainingDiverged) as info:
        fit(model, bp.MSELoss(), bp.SGD(model.parameters(), lr=50.0), X, y, epochs=100, progress=False)
    steps = len(info.value.history.step_loss)
    assert f"step {steps + 1}:" in str(info.value)
    assert re.search(r"try lr=5\.$", str(info.value))


def test_fit_reports_validation_accuracy_only_for_classifiers():
    model, X, y = regression()
    history = fit(model, bp.MSELoss(), bp.SGD(model.parameters(), lr=1e-4), X, y, epochs=2,
                  X_val=X, y_val=y, progress=False)
    assert len(history.val_loss) == 2 and history.val_accuracy == []
