"""Layers: gradients against finite differences (and a broken layer that must fail), shapes, dtypes,
error messages."""

import numpy as np
import pytest

import backprop as bp
from backprop.gradcheck import check_layer

RNG = np.random.default_rng(42)


def away_from_kinks(shape, rng=None, margin=0.05):
    """Random float64 inputs with |x| >= margin, so ReLU-like kinks are never crossed by eps.

    A fresh seeded generator by default: with one shared by the module, a test's input depended on
    which tests ran before it, and mutmut, which runs them in another order, drew an input on which
    the MLP's gradient check failed."""
    rng = np.random.default_rng(42) if rng is None else rng
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin, x)


LAYERS = {
    "Linear": lambda: bp.Linear(5, 3, rng=0),
    "Linear without bias": lambda: bp.Linear(5, 3, bias=False, rng=0),
    "ReLU": bp.ReLU,
    "LeakyReLU": lambda: bp.LeakyReLU(0.1),
    "Sigmoid": bp.Sigmoid,
    "Tanh": bp.Tanh,
    "GELU": bp.GELU,
    "Softmax": bp.Softmax,
    "Flatten": bp.Flatten,
    "Sequential MLP": lambda: bp.Sequential(bp.Linear(5, 4, rng=1), bp.Tanh(), bp.Linear(4, 4, rng=2),
                                            bp.ReLU(), bp.Linear(4, 2, rng=3), bp.Softmax()),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_backward_matches_finite_differences(name):
    layer = LAYERS[name]()
    # The composite MLP has input-gradient entries near 2e-4, where round-off / eps dominates at
    # eps = 1e-6 (about 3e-7); eps = 1e-5 balances truncation and round-off for it.
    eps = 1e-5 if name == "Sequential MLP" else 1e-6
    report = check_layer(layer, away_from_kinks((6, 5)), eps=eps)
    assert report.passed, str(report)
    assert report.max_error <= 1e-7
    expected_keys = {"input"} | {n for n, _ in layer.named_parameters()}
    assert set(report.errors) == expected_keys


class LinearWithTransposedWeightGrad(bp.Linear):
    """A classic bug: dL/dW computed as (x^T delta)^T with a square W, so the shapes still fit."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.W.grad[...] = self.W.grad.T
        return grad_in


class LinearWithUnsummedBias(bp.Linear):
    """A classic bug: the bias gradient taken from the first example instead of summed over the batch."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.b.grad[...] = grad_out[0]
        return grad_in


@pytest.mark.parametrize("broken, bad_key", [(LinearWithTransposedWeightGrad, "W"),
                                             (LinearWithUnsummedBias, "b")])
def test_gradient_check_fails_a_deliberately_broken_backward(broken, bad_key):
    report = check_layer(broken(4, 4, rng=0), away_from_kinks((5, 4)))
    assert not report.passed
    assert report.errors[bad_key] > 1e-3
    assert report.errors["input"] <= 1e-7
    assert "FAILED" in str(report)


def test_linear_shapes_follow_the_docstring():
    layer = bp.Linear(3, 2, rng=0)
    assert layer.W.shape == (3, 2) and layer.b.shape == (2,)
    out = layer(np.ones((7, 3)))
    assert out.shape == (7, 2)
    assert layer.backward(np.ones((7, 2))).shape == (7, 3)


def test_gradients_accumulate_until_zero_grad():
    layer, x, g = bp.Linear(3, 2, rng=0), RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    once = layer.W.grad.copy()
    layer(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.W.grad, 2 * once)
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_end_to_end(dtype):
    model = bp.Sequential(bp.Linear(4, 8, rng=0, dtype=dtype), bp.ReLU(), bp.Linear(8, 8, rng=1, dtype=dtype),
                          bp.LeakyReLU(), bp.Linear(8, 8, rng=2, dtype=dtype), bp.GELU(), bp.Tanh(),
                          bp.Sigmoid(), bp.Linear(8, 3, rng=3, dtype=dtype))
    x = np.random.default_rng(0).standard_normal((5, 4))  # float64 on purpose: converted to the model's dtype
    out = model(x)
    assert out.dtype == dtype
    loss = bp.SoftmaxCrossEntropyLoss()
    loss(out, np.array([0, 1, 2, 0, 1]))
    grad = loss.backward()
    assert grad.dtype == dtype
    assert model.backward(grad, input_grad=True).dtype == dtype
    for p in model.parameters():
        assert p.data.dtype == dtype and p.grad.dtype == dtype
    optimizer = bp.Adam(model.parameters(), lr=1e-3)
    optimizer.step()
    assert all(p.data.dtype == dtype for p in model.parameters())
    assert all(buffer.dtype == dtype for state in optimizer.state.values() for buffer in state.values())


def test_wrong_input_shape_names_the_layer_and_both_shapes():
    model = bp.Sequential(bp.Linear(64, 10, rng=0))
    with pytest.raises(ValueError) as info:
        model(np.zeros((32, 8, 8)))
    message = str(info.value)
    assert "Linear(64, 10)" in message and "(batch, 64)" in message and "(32, 8, 8)" in message
    assert "flatten" in message
    assert any("layer 0" in note for note in info.value.__notes__)


def test_single_example_without_batch_axis_gets_a_hint():
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        bp.Linear(3, 2, rng=0)(np.zeros(3))


def test_non_numeric_input_is_refused():
    with pytest.raises(TypeError, match="numeric"):
        bp.Linear(1, 1, rng=0)(np.array([["a"]]))


def test_backward_before_forward_is_a_clear_error():
    for layer in [bp.Linear(2, 2, rng=0), bp.ReLU(), bp.Softmax()]:
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((1, 2)))


def test_backward_with_wrong_grad_shape_is_a_clear_error():
    layer = bp.Linear(3, 2, rng=0)
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"grad_out of shape \(4, 2\)"):
        layer.backward(np.ones((4, 3)))


def test_sequential_refuses_a_class_instead_of_an_instance():
    with pytest.raises(TypeError, match=r"ReLU\(\)"):
        bp.Sequential(bp.Linear(2, 2), bp.ReLU)


def test_same_seed_gives_same_weights_and_different_seeds_differ():
    a, b, c = bp.Linear(4, 4, rng=7), bp.Linear(4, 4, rng=7), bp.Linear(4, 4, rng=8)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert not np.array_equal(a.W.data, c.W.data)


def test_sigmoid_is_finite_for_huge_inputs():
    with np.errstate(all="raise"):
        out = bp.Sigmoid()(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])


def test_skipping_the_input_gradient_leaves_parameter_gradients_unchanged():
    def grads(input_grad):
        model = bp.Sequential(bp.Linear(4, 3, rng=0), bp.ReLU(), bp.Linear(3, 2, rng=1))
        out = model(away_from_kinks((5, 4), rng=np.random.default_rng(0)))
        returned = model.backward(np.ones_like(out), input_grad=input_grad)
        return returned, [p.grad.copy() for p in model.parameters()]

    full, with_input = grads(True)
    skipped, without_input = grads(False)
    assert full.shape == (5, 4) and skipped is None
    for a, b in zip(with_input, without_input, strict=True):
        np.testing.assert_array_equal(a, b)


def test_linear_init_accepts_a_name_or_a_function():
    from functools import partial

    by_name = bp.Linear(3, 4, init="xavier_uniform", rng=5)
    by_function = bp.Linear(3, 4, init=bp.init.xavier_uniform, rng=5)
    np.testing.assert_array_equal(by_name.W.data, by_function.W.data)
    small = bp.Linear(3, 4, init=partial(bp.init.normal, std=1e-3), rng=5, dtype=np.float32)
    assert small.W.dtype == np.float32 and np.abs(small.W.data).max() < 1e-2
    with pytest.raises(ValueError, match=r"shape \(4, 3\), expected \(3, 4\)"):
        bp.Linear(3, 4, init=lambda shape, rng, dtype: np.zeros(shape[::-1]))
    with pytest.raises(ValueError, match="unknown init"):
        bp.Linear(3, 4, init="glorot")


def test_rng_defaults_to_the_same_seed_everywhere():
    np.testing.assert_array_equal(bp.Linear(3, 4).W.data, bp.Linear(3, 4, rng=0).W.data)
    np.testing.assert_array_equal(bp.init.he_normal((3, 4)), bp.init.he_normal((3, 4), rng=0))
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    first = [yb.tolist() for _, yb in bp.data.batches(X, y, 2)]
    assert first == [yb.tolist() for _, yb in bp.data.batches(X, y, 2, rng=0)]


def test_softmax_output_is_the_callers_to_change():
    softmax = bp.Softmax()
    x = np.array([[1.0, 2.0, 3.0]])
    p = softmax(x)
    expected = softmax.backward(np.ones_like(p) * [[1.0, 0.0, 0.0]])
    p[:] = 0  # a caller reusing the output must not change the backward pass
    np.testing.assert_array_equal(softmax.backward(np.ones_like(p) * [[1.0, 0.0, 0.0]]), expected)


def test_sequential_skips_the_input_gradient_unless_asked():
    calls = []

    class Spy(bp.Linear):
        def backward(self, grad_out, *, input_grad=True):
            calls.append(input_grad)
            return super().backward(grad_out, input_grad=input_grad)

    class NoBackward(bp.Flatten):
        def backward(self, grad_out):
            raise AssertionError("a layer before the first parameters was run backwards")

    model = bp.Sequential(NoBackward(), Spy(4, 3, rng=0), bp.Tanh(), Spy(3, 2, rng=1))
    out = model(np.ones((5, 4)))
    assert model.backward(np.ones_like(out)) is None
    assert calls == [True, False]  # the last layer passes its input gradient on; the first skips it
    calls.clear()
    single = bp.Sequential(Spy(4, 3, rng=0))
    single(np.ones((5, 4)))
    assert single.backward(np.ones((5, 3)), input_grad=True).shape == (5, 4)
    assert calls == [True]
    without_parameters = bp.Sequential(bp.Tanh(), bp.Flatten())
    without_parameters(np.zeros((2, 3)))
    assert without_parameters.backward(np.ones((2, 3))).shape == (2, 3)  # nothing else to compute
