"""Optimisers: the first three updates against the formulas worked out by hand, on f(p) = sum(p^2)
(gradient 2p); schedules; clipping; trajectories."""

import math

import numpy as np
import pytest

import backprop as bp
from backprop.layers import Parameter
from backprop.optim import (
    CosineAnnealingLR,
    ExponentialLR,
    StepLR,
    clip_grad_norm_,
    lr_range_test,
    trajectory,
)

P0 = np.array([1.0, -2.0])


def three_steps(optimizer_class, **settings):
    p = Parameter(P0.copy())
    optimizer = optimizer_class([p], **settings)
    seen = []
    for _ in range(3):
        optimizer.zero_grad()
        p.grad += 2 * p.data
        optimizer.step()
        seen.append(p.data.copy())
    return seen


def by_hand(update, state):
    """Apply update(p, g, t, state) three times from P0; the expected values of the test."""
    p, seen = P0.copy(), []
    for t in range(1, 4):
        p = update(p, 2 * p, t, state)
        seen.append(p.copy())
    return seen


def assert_same(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)


def test_sgd_plain():
    assert_same(three_steps(bp.SGD, lr=0.1), by_hand(lambda p, g, t, s: p - 0.1 * g, {}))


def test_sgd_momentum():
    def update(p, g, t, s):
        s["v"] = 0.9 * s.get("v", 0) + g
        return p - 0.1 * s["v"]
    assert_same(three_steps(bp.SGD, lr=0.1, momentum=0.9), by_hand(update, {}))


def test_sgd_nesterov_and_weight_decay():
    def update(p, g, t, s):
        g = g + 0.01 * p
        s["v"] = 0.9 * s.get("v", 0) + g
        return p - 0.1 * (g + 0.9 * s["v"])
    assert_same(three_steps(bp.SGD, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                by_hand(update, {}))


def test_adagrad():
    def update(p, g, t, s):
        s["sum"] = s.get("sum", 0) + g * g
        return p - 0.5 * g / (np.sqrt(s["sum"]) + 1e-10)
    assert_same(three_steps(bp.Adagrad, lr=0.5), by_hand(update, {}))


def test_rmsprop_with_momentum():
    def update(p, g, t, s):
        s["sq"] = 0.9 * s.get("sq", 0) + 0.1 * g * g
        s["v"] = 0.5 * s.get("v", 0) + g / (np.sqrt(s["sq"]) + 1e-8)
        return p - 0.01 * s["v"]
    assert_same(three_steps(bp.RMSprop, lr=0.01, alpha=0.9, momentum=0.5), by_hand(update, {}))


def adam_by_hand(weight_decay=0.0, decoupled=False, correct=True):
    def update(p, g, t, s):
        if decoupled:
            p = p * (1 - 0.1 * weight_decay)
        else:
            g = g + weight_decay * p
        s["m"] = 0.9 * s.get("m", 0) + 0.1 * g
        s["v"] = 0.999 * s.get("v", 0) + 0.001 * g * g
        m_hat = s["m"] / (1 - 0.9**t) if correct else s["m"]
        v_hat = s["v"] / (1 - 0.999**t) if correct else s["v"]
        return p - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    return by_hand(update, {})


def test_adam():
    assert_same(three_steps(bp.Adam, lr=0.1), adam_by_hand())


def test_adam_first_step_moves_every_coordinate_by_lr():
    # With bias correction, m_hat / sqrt(v_hat) = g / |g| on step 1: a step of exactly lr.
    first = three_steps(bp.Adam, lr=0.1)[0]
    np.testing.assert_allclose(np.abs(first - P0), 0.1, rtol=1e-6)


def test_adam_without_bias_correction():
    assert_same(three_steps(bp.Adam, lr=0.1, bias_correction=False), adam_by_hand(correct=False))


def test_adam_l2_vs_adamw_decoupled():
    assert_same(three_steps(bp.Adam, lr=0.1, weight_decay=0.1), adam_by_hand(weight_decay=0.1))
    assert_same(three_steps(bp.AdamW, lr=0.1, weight_decay=0.1),
                adam_by_hand(weight_decay=0.1, decoupled=True))


def test_optimizer_refuses_bad_settings():
    with pytest.raises(ValueError, match="positive"):
        bp.SGD([Parameter(P0.copy())], lr=0)
    with pytest.raises(TypeError, match="Parameters"):
        bp.SGD([P0], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        bp.Adam([], lr=0.1)


def test_schedules_follow_their_formulas():
    def lrs(make):
        optimizer = bp.SGD([Parameter(P0.copy())], lr=1.0)
        scheduler = make(optimizer)
        out = []
        for _ in range(6):
            scheduler.step()
            last = scheduler.get_last_lr()
            assert last == [optimizer.lr]  # a list, one entry per parameter group, as in PyTorch
            out.append(last[0])
        return out
    assert lrs(lambda o: StepLR(o, step_size=2, gamma=0.5)) == [1, 0.5, 0.5, 0.25, 0.25, 0.125]
    np.testing.assert_allclose(lrs(lambda o: ExponentialLR(o, gamma=0.9)), 0.9 ** np.arange(1, 7))
    cosine = lrs(lambda o: CosineAnnealingLR(o, T_max=4, eta_min=0.1))
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 5)]
    np.testing.assert_allclose(cosine[:4], expected)
    assert cosine[3] == pytest.approx(0.1)


def test_clip_grad_norm_scales_in_place_to_max_norm_and_reports_the_norm_before():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(1))
    a.grad[:] = [3.0, 0.0]
    b.grad[:] = [4.0]
    grad_a = a.grad
    assert clip_grad_norm_([a, b], max_norm=1.0) == pytest.approx(5.0)
    assert a.grad is grad_a  # in place: the same array, scaled
    assert math.hypot(*a.grad, *b.grad) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(a.grad / b.grad[0], [0.75, 0.0])  # one factor for every parameter


def test_clip_grad_norm_leaves_gradients_below_max_norm_untouched():
    a = Parameter(np.zeros(2))
    a.grad[:] = [0.3, 0.4]
    assert clip_grad_norm_([a], max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, [0.3, 0.4])


def test_old_names_say_what_they_are_called_now():
    with pytest.raises(AttributeError, match="Adagrad"):
        bp.AdaGrad  # noqa: B018
    with pytest.raises(AttributeError, match="SoftmaxCrossEntropyLoss"):
        bp.CrossEntropyLoss  # noqa: B018
    with pytest.raises(AttributeError, match="clip_grad_norm_"):
        bp.optim.clip_grad_norm  # noqa: B018


@pytest.mark.parametrize("make, names", [
    (lambda ps: bp.SGD(ps, lr=0.1), []),
    (lambda ps: bp.SGD(ps, lr=0.1, momentum=0.9), ["momentum_buffer"]),
    (lambda ps: bp.Adagrad(ps), ["sum"]),
    (lambda ps: bp.RMSprop(ps, momentum=0.5), ["square_avg", "momentum_buffer"]),
    (lambda ps: bp.Adam(ps), ["exp_avg", "exp_avg_sq"]),
    (lambda ps: bp.AdamW(ps), ["exp_avg", "exp_avg_sq"]),
])
def test_optimizer_state_uses_pytorchs_names_per_parameter(make, names):
    p = Parameter(P0.astype(np.float32))
    optimizer = make([p])
    p.grad[:] = [1.0, -1.0]
    optimizer.step()
    assert sorted(optimizer.state[p]) == sorted(names)
    for buffer in optimizer.state[p].values():
        assert buffer.shape == p.shape and buffer.dtype == np.float32 and np.any(buffer != 0)


def test_trajectory_stops_when_the_optimizer_diverges():
    converging = trajectory(lambda p: 2 * p, [1.0, 1.0], lambda ps: bp.SGD(ps, lr=0.1), steps=50)
    assert converging.shape == (51, 2) and np.abs(converging[-1]).max() < 1e-3
    with np.errstate(all="raise"):
        diverging = trajectory(lambda p: 2 * p, [1.0, 1.0], lambda ps: bp.SGD(ps, lr=2.0), steps=5000)
    assert len(diverging) < 5001 and np.all(np.isfinite(diverging))


def test_lr_range_test_rises_then_stops_when_the_loss_explodes():
    X, y = bp.data.spirals(50, rng=0)
    model = bp.Sequential(bp.Linear(2, 16, rng=0), bp.ReLU(), bp.Linear(16, 2, rng=1))
    lrs, losses = lr_range_test(model, bp.SoftmaxCrossEntropyLoss(), lambda ps: bp.SGD(ps, lr=1e-5), X, y,
                                lr_min=1e-4, lr_max=1e3, steps=200, rng=0)
    assert len(lrs) == len(losses) < 200  # stopped early: huge rates blow the loss up
    assert np.all(np.diff(lrs) > 0) and np.all(np.isfinite(losses))


def test_lr_range_test_shuffles_every_pass_over_the_data_anew(monkeypatch):
    """An integer seed seeds one generator for the whole test: the second pass over the data is in a
    new order, not the first pass again (it was, when each pass re-seeded from the integer)."""
    import backprop.data

    orders, real = [], backprop.data.batches

    def recording(X, y, batch_size, **options):
        orders.append([])
        for xb, yb in real(X, y, batch_size, **options):
            orders[-1] += xb[:, 0].tolist()
            yield xb, yb

    monkeypatch.setattr(backprop.data, "batches", recording)
    X, y = np.arange(16.0).reshape(16, 1), np.zeros((16, 1))
    lr_range_test(bp.Sequential(bp.Linear(1, 1, rng=0)), bp.MSELoss(), lambda ps: bp.SGD(ps, lr=1e-5), X, y,
                  lr_min=1e-6, lr_max=1e-5, steps=8, batch_size=4, rng=0, stop_factor=1e9)
    assert len(orders) == 2 and sorted(orders[0]) == sorted(orders[1]) == X[:, 0].tolist()
    assert orders[0] != orders[1]


def test_steps_to_tolerance_finds_the_first_close_point_or_none():
    from backprop.optim import steps_to_tolerance

    path = np.array([[4.0, 0.0], [2.0, 0.0], [0.5, 0.0], [0.05, 0.0], [0.2, 0.0]])
    assert steps_to_tolerance(path, np.zeros(2), 0.1) == 3
    assert steps_to_tolerance(path, np.zeros(2), 0.01) is None
    assert steps_to_tolerance(np.array([[1e300, 1e300]]), np.zeros(2), 1.0) is None  # no warning


def test_adam_without_bias_correction_takes_larger_early_steps():
    # Constant gradient 1: the corrected step is lr; the uncorrected one (1 - b1^t) / sqrt(1 - b2^t)
    # times lr, 3.16 lr on step 1 with the default betas.
    corrected = trajectory(lambda p: np.ones(1), [0.0], lambda ps: bp.Adam(ps, lr=0.01), 3)
    raw = trajectory(lambda p: np.ones(1), [0.0], lambda ps: bp.Adam(ps, lr=0.01, bias_correction=False), 3)
    t = np.arange(1, 4)
    np.testing.assert_allclose(-np.diff(corrected[:, 0]), 0.01, rtol=1e-6)
    np.testing.assert_allclose(-np.diff(raw[:, 0]), 0.01 * (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rtol=1e-6)
