"""Forward values against reference numbers: closed formulas evaluated with `math`, known values,
and PyTorch where it is installed.

A gradient check compares a layer's backward with its own forward, so a wrong constant used in both
(GELU's 0.044715, LeakyReLU's slope) passes it. These tests pin the forward values themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop.functional import log_softmax, logsumexp, sigmoid, softmax
from backprop.gradcheck import check_layer

X = np.array([[-3.0, -1.5, -0.5, -0.01], [0.0, 0.01, 0.7, 2.5]])  # (2, 4), both signs, a zero


def elementwise(f, x=X):
    return np.vectorize(f, otypes=[float])(x)


def forward_and_local_slope(layer, x=X):
    """The layer's output and its derivative per element (backward of ones)."""
    out = layer(x)
    return out, layer.backward(np.ones_like(out))


# ------------------------------------------------------------------------ activations

def gelu_tanh(v: float) -> float:
    """GELU's tanh approximation (Hendrycks & Gimpel 2016; GPT-2; torch approximate='tanh')."""
    return 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))


def test_gelu_forward_is_the_tanh_approximation():
    out, slope = forward_and_local_slope(bp.GELU())
    np.testing.assert_allclose(out, elementwise(gelu_tanh), rtol=1e-14, atol=1e-16)
    h = 1e-6
    central = elementwise(lambda v: (gelu_tanh(v + h) - gelu_tanh(v - h)) / (2 * h))
    np.testing.assert_allclose(slope, central, rtol=1e-7, atol=1e-9)


def test_gelu_known_values():
    # gelu(0) = 0 and gelu'(0) = 1/2 for any form; gelu(1) with the tanh form is 0.841192 (the
    # exact erf form gives 0.841345: the approximation differs in the fourth decimal).
    out, slope = forward_and_local_slope(bp.GELU(), np.array([[0.0, 1.0, -1.0]]))
    np.testing.assert_allclose(out, [[0.0, 0.8411919906082768, -0.15880800939172324]], rtol=1e-12)
    assert slope[0, 0] == 0.5
    exact_erf = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert abs(out[0, 1] - exact_erf) > 1e-4  # documented as the tanh approximation, and it is


@pytest.mark.parametrize("slope", [0.01, 0.1, 0.3])
def test_leaky_relu_uses_its_negative_slope(slope):
    layer = bp.LeakyReLU(slope)
    out, local = forward_and_local_slope(layer)
    np.testing.assert_array_equal(out, np.where(X > 0, X, slope * X))
    np.testing.assert_array_equal(local, np.where(X > 0, 1.0, slope))


def test_leaky_relu_default_slope_is_pytorchs_0_01():
    out, local = forward_and_local_slope(bp.LeakyReLU(), np.array([[-2.0, 3.0]]))
    np.testing.assert_array_equal(out, [[-0.02, 3.0]])
    np.testing.assert_array_equal(local, [[0.01, 1.0]])


def test_relu_values_and_zero_slope_at_the_kink():
    out, local = forward_and_local_slope(bp.ReLU())
    np.testing.assert_array_equal(out, np.maximum(X, 0))
    np.testing.assert_array_equal(local, (X > 0).astype(float))  # 0 at x = 0, as documented


def test_sigmoid_and_tanh_match_their_formulas_and_known_values():
    out, local = forward_and_local_slope(bp.Sigmoid())
    s = elementwise(lambda v: 1 / (1 + math.exp(-v)))
    np.testing.assert_allclose(out, s, rtol=1e-14)
    np.testing.assert_allclose(local, s * (1 - s), rtol=1e-13)
    np.testing.assert_allclose(sigmoid(np.array([0.0, 1.0, -2.0])),
                               [0.5, 0.7310585786300049, 0.11920292202211755], rtol=1e-15)
    out, local = forward_and_local_slope(bp.Tanh())
    np.testing.assert_allclose(out, elementwise(math.tanh), rtol=1e-15)
    np.testing.assert_allclose(local, elementwise(lambda v: 1 / math.cosh(v) ** 2), rtol=1e-13)
    assert bp.Tanh()(np.array([[0.5]]))[0, 0] == pytest.approx(0.46211715726000974, rel=1e-15)


def test_softmax_log_softmax_and_logsumexp_known_values():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = [[0.09003057317038046, 0.24472847105479764, 0.6652409557748219], [1 / 3, 1 / 3, 1 / 3]]
    np.testing.assert_allclose(softmax(z), expected, rtol=1e-14)
    np.testing.assert_allclose(bp.Softmax()(z), expected, rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z)[0], [-2.40760596444438, -1.40760596444438, -0.40760596444438],
                               rtol=1e-13)
    np.testing.assert_allclose(logsumexp(z, axis=1), [3.40760596444438, math.log(3)], rtol=1e-14)
    np.testing.assert_allclose(softmax(z, axis=0)[:, 0], [math.e / (math.e + 1), 1 / (math.e + 1)])


def test_softmax_backward_is_the_jacobian_vector_product():
    z, g = np.array([[1.0, 2.0, 3.0]]), np.array([[0.5, -1.0, 2.0]])
    layer = bp.Softmax()
    p = layer(z)[0]
    jacobian = np.diag(p) - np.outer(p, p)  # d p_i / d z_j
    np.testing.assert_allclose(layer.backward(g)[0], jacobian.T @ g[0], rtol=1e-13)


def test_one_hot_rows():
    np.testing.assert_array_equal(bp.functional.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


# ------------------------------------------------------------------------ Flatten on images

class FlattenThatForgetsTheShape(bp.Flatten):
    """The mutant the issue found: passes a check on a 2-D input, where Flatten does nothing."""

    def backward(self, grad_out):
        return grad_out


class FlattenThatTransposes(bp.Flatten):
    """Right shape, wrong order: rows and columns of each image swapped on the way back."""

    def backward(self, grad_out):
        batch, height, width = self._shape
        return grad_out.reshape(batch, width, height).transpose(0, 2, 1)


IMAGES = np.random.default_rng(5).standard_normal((4, 2, 3))  # (batch, height, width), not square


def test_flatten_is_gradient_checked_on_images():
    layer = bp.Flatten()
    assert layer(IMAGES).shape == (4, 6)
    report = check_layer(layer, IMAGES)
    assert report.passed and report.max_error <= 1e-7, str(report)
    np.testing.assert_array_equal(layer.backward(np.arange(24.0).reshape(4, 6)),
                                  np.arange(24.0).reshape(4, 2, 3))


def test_gradient_check_on_images_fails_a_flatten_that_forgets_the_shape():
    with pytest.raises(ValueError, match=r"shapes \(4, 6\) and \(4, 2, 3\)"):
        check_layer(FlattenThatForgetsTheShape(), IMAGES)


def test_gradient_check_on_images_fails_a_flatten_that_transposes():
    assert not check_layer(FlattenThatTransposes(), IMAGES).passed


def test_flatten_then_linear_trains_on_images():
    model = bp.Sequential(bp.Flatten(), bp.Linear(6, 3, rng=0))
    report = check_layer(model, IMAGES)
    assert report.passed, str(report)


# ------------------------------------------------------------------------ losses

def test_losses_against_known_values():
    assert bp.MSELoss()(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])) == pytest.approx(2.5, rel=1e-15)
    assert bp.BCELoss()(np.array([[0.8]]), np.array([[1.0]])) == pytest.approx(-math.log(0.8), rel=1e-15)
    assert bp.BCELoss()(np.array([[0.8]]), np.array([[0.0]])) == pytest.approx(-math.log(0.2), rel=1e-14)
    assert bp.BCEWithLogitsLoss()(np.array([[0.0]]), np.array([[1.0]])) == pytest.approx(math.log(2))
    # log(1 + e^-2) for a positive example with logit 2, and 2 + log(1 + e^-2) for a negative one
    both = bp.BCEWithLogitsLoss(reduction="sum")(np.array([[2.0], [2.0]]), np.array([[1.0], [0.0]]))
    assert both == pytest.approx(2 + 2 * math.log1p(math.exp(-2)), rel=1e-15)
    ce = bp.SoftmaxCrossEntropyLoss()
    assert ce(np.array([[1.0, 2.0, 3.0]]), np.array([2])) == pytest.approx(0.40760596444438, rel=1e-13)
    assert ce(np.zeros((2, 4)), np.array([0, 3])) == pytest.approx(math.log(4), rel=1e-15)


def test_loss_gradients_against_known_values():
    mse = bp.MSELoss()
    mse(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    np.testing.assert_allclose(mse.backward(), [[1.0, 2.0]])  # 2 (pred - target) / 2 elements
    bce = bp.BCELoss()
    bce(np.array([[0.8], [0.4]]), np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(bce.backward(), [[-1 / 0.8 / 2], [1 / 0.6 / 2]], rtol=1e-13)
    logits = bp.BCEWithLogitsLoss()
    logits(np.array([[0.0], [2.0]]), np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(logits.backward(), [[-0.25], [0.5 * 0.8807970779778823]], rtol=1e-13)
    ce = bp.SoftmaxCrossEntropyLoss(reduction="sum")
    ce(np.array([[1.0, 2.0, 3.0]]), np.array([0]))
    np.testing.assert_allclose(ce.backward(), [[0.09003057317038046 - 1, 0.24472847105479764,
                                                0.6652409557748219]], rtol=1e-13)


def test_bce_with_logits_equals_bce_of_the_sigmoid():
    z = np.array([[-4.0], [-0.3], [0.0], [1.2], [5.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    assert bp.BCEWithLogitsLoss()(z, y) == pytest.approx(bp.BCELoss()(sigmoid(z), y), rel=1e-12)


# ------------------------------------------------------------------------ PyTorch, where installed

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed (optional: pip install torch); "
                                               "the formula and known-value tests above still ran")


@pytest.mark.parametrize("ours, theirs", [
    (lambda: bp.GELU(), lambda t: t.nn.GELU(approximate="tanh")),
    (lambda: bp.LeakyReLU(), lambda t: t.nn.LeakyReLU()),
    (lambda: bp.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2)),
    (lambda: bp.ReLU(), lambda t: t.nn.ReLU()),
    (lambda: bp.Sigmoid(), lambda t: t.nn.Sigmoid()),
    (lambda: bp.Tanh(), lambda t: t.nn.Tanh()),
    (lambda: bp.Softmax(), lambda t: t.nn.Softmax(dim=1)),
], ids=["GELU", "LeakyReLU", "LeakyReLU(0.2)", "ReLU", "Sigmoid", "Tanh", "Softmax"])
def test_activations_match_pytorch(torch, ours, theirs):
    layer, module = ours(), theirs(torch)
    g = np.random.default_rng(1).standard_normal(X.shape)
    x = torch.tensor(X, requires_grad=True)
    out = module(x)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(layer(X), out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.backward(g), x.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_losses_match_pytorch(torch):
    rng = np.random.default_rng(2)
    z, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    p, y = rng.uniform(0.05, 0.95, (5, 1)), rng.integers(0, 2, (5, 1)).astype(float)
    nn = torch.nn
    pairs = [(bp.MSELoss(), nn.MSELoss(), z, rng.standard_normal((5, 4))),
             (bp.BCELoss(), nn.BCELoss(), p, y),
             (bp.BCEWithLogitsLoss(), nn.BCEWithLogitsLoss(), z[:, :1], y),
             (bp.SoftmaxCrossEntropyLoss(), nn.CrossEntropyLoss(), z, labels),
             (bp.SoftmaxCrossEntropyLoss(reduction="sum"), nn.CrossEntropyLoss(reduction="sum"), z, labels)]
    for ours, theirs, pred, target in pairs:
        t_pred = torch.tensor(pred, requires_grad=True)
        value = theirs(t_pred, torch.tensor(target))
        value.backward()
        assert ours(pred, target) == pytest.approx(value.item(), rel=1e-12), ours
        np.testing.assert_allclose(ours.backward(), t_pred.grad.numpy(), rtol=1e-10, atol=1e-15)
