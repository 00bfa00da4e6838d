"""The landscape helpers: Hessians of functions whose Hessian is known exactly (quadratics, a
linear model's MSE), Rosenbrock's known minimum and gradient, and `flat_gradient` against the layers'
own gradients. `regression_net` is chapter 7's network."""

import numpy as np
import pytest

import backprop as bp
from backprop.landscape import (
    flat_gradient,
    hessian,
    model_hessian,
    rosenbrock,
    rosenbrock_grad,
)


def test_hessian_of_a_quadratic_is_its_matrix():
    rng = np.random.default_rng(0)
    B = rng.normal(size=(4, 4))
    A = B @ B.T + np.eye(4)                       # symmetric (4, 4)
    H = hessian(lambda w: A @ w, rng.normal(size=4))
    assert H.shape == (4, 4) and H.dtype == np.float64
    np.testing.assert_allclose(H, A, atol=1e-8)


def test_hessian_is_symmetric_and_exact_for_a_cubic():
    # f(x, y) = x^3 + x y^2: H = [[6x, 2y], [2y, 2x]]; central differences are exact for cubics
    def grad(p):
        x, y = p
        return np.array([3 * x**2 + y**2, 2 * x * y])

    x, y = 1.5, -0.5
    np.testing.assert_allclose(hessian(grad, [x, y]), [[6 * x, 2 * y], [2 * y, 2 * x]], atol=1e-7)


def test_hessian_catches_a_wrong_gradient():
    # a deliberately wrong gradient (one factor of 2 lost) must give a visibly different Hessian
    A = np.diag([1.0, 10.0])
    assert not np.allclose(hessian(lambda w: 0.5 * A @ w, np.ones(2)), A, atol=1e-3)


def test_hessian_rejects_a_matrix_point():
    with pytest.raises(ValueError, match=r"shape \(d,\)"):
        hessian(lambda w: w, np.ones((2, 2)))


def test_rosenbrock_minimum_gradient_and_curvature():
    assert rosenbrock(1.0, 1.0) == 0.0 and rosenbrock(-1.2, 1.0) == pytest.approx(24.2)
    np.testing.assert_array_equal(rosenbrock_grad(np.ones(2)), [0.0, 0.0])
    # the classic start (-1.2, 1): gradient (-215.6, -88) by hand
    np.testing.assert_allclose(rosenbrock_grad(np.array([-1.2, 1.0])), [-215.6, -88.0])
    # exact Hessian at the minimum: [[802, -400], [-400, 200]]
    np.testing.assert_allclose(hessian(rosenbrock_grad, np.ones(2)),
                               [[802, -400], [-400, 200]], atol=1e-6)


def test_rosenbrock_grad_matches_finite_differences_of_rosenbrock():
    rng = np.random.default_rng(1)
    for point in rng.normal(size=(5, 2)):
        eps = 1e-6
        numeric = [(rosenbrock(*(point + eps * e)) - rosenbrock(*(point - eps * e))) / (2 * eps)
                   for e in np.eye(2)]
        np.testing.assert_allclose(rosenbrock_grad(point), numeric, rtol=1e-6, atol=1e-6)


def test_rosenbrock_grad_takes_a_batch_of_points():
    points = np.array([[1.0, 1.0], [-1.2, 1.0], [0.0, 0.0]])
    batch = rosenbrock_grad(points)
    assert batch.shape == (3, 2)
    np.testing.assert_array_equal(batch, [rosenbrock_grad(p) for p in points])
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        rosenbrock_grad(np.ones(3))


def test_flat_gradient_concatenates_every_parameter_gradient_in_order():
    X, y = bp.data.regression_1d(20, rng=0)
    model, loss = bp.data.regression_net(), bp.MSELoss()
    g = flat_gradient(model, loss, X, y)
    assert g.shape == (49,)
    model.zero_grad()
    loss(model(X), y)
    model.backward(loss.backward())
    np.testing.assert_array_equal(g, np.concatenate([p.grad.ravel() for p in model.parameters()]))
    g_again = flat_gradient(model, loss, X, y)     # .grad is cleared first, not accumulated
    np.testing.assert_array_equal(g_again, g)


def test_model_hessian_of_linear_least_squares_is_known():
    # MSE of a Linear(3, 1) on n points: L = mean((X W + b - y)^2); with Z = [X, 1] the Hessian in
    # the order (W, b) is 2 Z^T Z / n, whatever the weights
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    model = bp.Linear(3, 1, rng=0)
    Z = np.hstack([X, np.ones((10, 1))])
    H = model_hessian(model, bp.MSELoss(), X, y)
    assert H.shape == (4, 4)
    np.testing.assert_allclose(H, 2 * Z.T @ Z / 10, atol=1e-8)
    np.testing.assert_array_equal(H, H.T)


def test_model_hessian_puts_the_weights_back_and_refuses_float32():
    X, y = bp.data.regression_1d(16, rng=0)
    model = bp.data.regression_net(hidden=4)
    before = [p.data.copy() for p in model.parameters()]
    assert model_hessian(model, bp.MSELoss(), X, y).shape == (13, 13)
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)
    small = bp.Linear(2, 1, rng=0, dtype=np.float32)
    with pytest.raises(TypeError, match="float64"):
        model_hessian(small, bp.MSELoss(), np.ones((3, 2)), np.ones((3, 1)))


def test_regression_net_is_seeded_and_has_chapter_7_shape():
    a, b = bp.data.regression_net(), bp.data.regression_net()
    assert [p.shape for p in a.parameters()] == [(1, 16), (16,), (16, 1), (1,)]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    # the layers are seeded seed and seed + 1 (chapter 7's printed numbers depend on it)
    np.testing.assert_array_equal(a[0].W.data, bp.Linear(1, 16, init="xavier_normal", rng=0).W.data)
    np.testing.assert_array_equal(a[2].W.data, bp.Linear(16, 1, init="xavier_normal", rng=1).W.data)
    assert not np.array_equal(a[0].W.data, bp.data.regression_net(seed=1)[0].W.data)
    with pytest.raises(ValueError, match="hidden unit"):
        bp.data.regression_net(hidden=0)


def test_widgets_explorers_use_regression_net():
    widgets = pytest.importorskip("backprop.widgets")
    a, b = widgets._regression_net(16, 0), bp.data.regression_net(16, 0)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
