"""Losses: values from their formulas, gradients against finite differences, reductions, errors."""

import numpy as np
import pytest

import backprop as bp
from backprop.functional import logsumexp, softmax
from backprop.gradcheck import check_loss

RNG = np.random.default_rng(3)


def cases():
    pred = RNG.standard_normal((6, 3))
    probs = RNG.uniform(0.05, 0.95, (6, 1))
    yield "MSE", bp.MSELoss(), pred, RNG.standard_normal((6, 3))
    yield "MSE sum", bp.MSELoss(reduction="sum"), pred, RNG.standard_normal((6, 3))
    yield "BCE", bp.BCELoss(), probs, RNG.integers(0, 2, (6, 1)).astype(float)
    yield "BCE soft", bp.BCELoss(), probs, RNG.uniform(0, 1, (6, 1))
    yield "BCEWithLogits", bp.BCEWithLogitsLoss(), pred[:, :1], RNG.integers(0, 2, (6, 1))
    yield "CE labels", bp.SoftmaxCrossEntropyLoss(), pred, RNG.integers(0, 3, 6)
    yield "CE one-hot", bp.SoftmaxCrossEntropyLoss(), pred, np.eye(3)[RNG.integers(0, 3, 6)]
    yield "CE sum", bp.SoftmaxCrossEntropyLoss(reduction="sum"), pred, RNG.integers(0, 3, 6)


CASES = list(cases())


@pytest.mark.parametrize("name, loss, pred, target", CASES, ids=[c[0] for c in CASES])
def test_loss_backward_matches_finite_differences(name, loss, pred, target):
    report = check_loss(loss, pred, target)
    assert report.passed, str(report)


def test_gradient_check_fails_a_loss_that_forgets_the_mean():
    class ForgetfulMSE(bp.MSELoss):
        def backward(self):
            return super().backward() * self._grad.size  # the gradient of the sum, not of the mean

    assert not check_loss(ForgetfulMSE(), RNG.standard_normal((4, 2)), RNG.standard_normal((4, 2))).passed


def test_mse_values_and_reductions():
    pred, target = np.array([[1.0], [2.0], [4.0]]), np.array([[0.0], [2.0], [2.0]])
    assert bp.MSELoss()(pred, target) == pytest.approx(5 / 3)
    sum_loss = bp.MSELoss(reduction="sum")
    assert sum_loss(pred, target) == pytest.approx(5.0)
    np.testing.assert_allclose(sum_loss.backward(), 2 * (pred - target))


def test_cross_entropy_equals_its_definition_and_gradient_is_p_minus_y_over_n():
    z, labels = RNG.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    loss = bp.SoftmaxCrossEntropyLoss()
    expected = np.mean(logsumexp(z, axis=1) - z[np.arange(5), labels])
    assert loss(z, labels) == pytest.approx(expected)
    np.testing.assert_allclose(loss.backward(), (softmax(z) - np.eye(4)[labels]) / 5)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise"):  # underflow to 0 is harmless
        value = bp.SoftmaxCrossEntropyLoss()(z, np.array([0, 1]))
    assert value == pytest.approx(np.log(2) / 2)


def test_bce_with_logits_is_stable_for_huge_logits():
    with np.errstate(over="raise"):
        value = bp.BCEWithLogitsLoss()(np.array([[800.0], [-800.0]]), np.array([[0.0], [1.0]]))
    assert value == pytest.approx(800.0)


def test_bce_clamps_log_of_zero_like_pytorch():
    value = bp.BCELoss()(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    assert value == pytest.approx(100.0)


def test_n_vs_n1_target_is_refused_with_the_broadcasting_explanation():
    with pytest.raises(ValueError, match=r"\(4, 4\).*reshape\(-1, 1\)"):
        bp.MSELoss()(np.zeros((4, 1)), np.zeros(4))


def test_bce_refuses_logits_and_says_which_loss_to_use():
    with pytest.raises(ValueError, match="BCEWithLogitsLoss"):
        bp.BCELoss()(np.array([[2.5]]), np.array([[1.0]]))


@pytest.mark.parametrize("labels, error, pattern", [
    (np.array([0, 3]), ValueError, r"\[0, 3\)"),
    (np.array([0.0, 1.0]), TypeError, "integers"),
    (np.array([[0, 1]]), ValueError, "shape"),
])
def test_bad_labels_say_what_was_expected(labels, error, pattern):
    with pytest.raises(error, match=pattern):
        bp.SoftmaxCrossEntropyLoss()(np.zeros((2, 3)), labels)


def test_unknown_reduction_is_refused():
    with pytest.raises(ValueError, match="reduction"):
        bp.MSELoss(reduction="avg")


def test_backward_returns_a_new_array_each_time():
    loss = bp.MSELoss()
    loss(np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]]))
    grad = loss.backward()
    grad *= 100  # the caller's array: scaling it must not change the next call
    np.testing.assert_array_equal(loss.backward(), [[1.0], [3.0]])
