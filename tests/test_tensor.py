"""The array engine: every operation against finite differences, broadcasting, reused nodes, and
a whole MLP against the Layer API (and against PyTorch where torch is installed)."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.gradcheck import numerical_gradient, relative_error
from backprop.tensor import Tensor, unbroadcast


def rng(seed=0):
    return np.random.default_rng(seed)


def away_from_zero(shape, seed=0):
    """Entries with |x| in [0.2, 1.5]: relu's kink stays further away than the step size."""
    r = rng(seed)
    return r.uniform(0.2, 1.5, shape) * r.choice([-1.0, 1.0], shape)


# Each case: the operation on Tensors, and the float64 arrays it is applied to.
OPS = {
    "add": (lambda a, b: a + b, [(3, 4), (3, 4)]),
    "add_broadcast_row": (lambda a, b: a + b, [(3, 4), (4,)]),
    "add_broadcast_column": (lambda a, b: a + b, [(3, 4), (3, 1)]),
    "add_broadcast_both": (lambda a, b: a + b, [(3, 1), (1, 4)]),
    "sub_broadcast": (lambda a, b: a - b, [(2, 3, 4), (3, 1)]),
    "mul": (lambda a, b: a * b, [(3, 4), (3, 4)]),
    "mul_broadcast": (lambda a, b: a * b, [(2, 3, 4), (4,)]),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "relu": (lambda a: a.relu(), [(3, 4)]),
    "tanh": (lambda a: a.tanh(), [(3, 4)]),
    "exp": (lambda a: a.exp(), [(3, 4)]),
    "log": (lambda a: (a * a).log(), [(3, 4)]),
    "sum_all": (lambda a: a.sum(), [(3, 4)]),
    "sum_axis0": (lambda a: a.sum(axis=0), [(3, 4)]),
    "sum_axis1_keepdims": (lambda a: a.sum(axis=1, keepdims=True), [(3, 4)]),
    "sum_axes": (lambda a: a.sum(axis=(0, 2)), [(2, 3, 4)]),
    "mean_all": (lambda a: a.mean(), [(3, 4)]),
    "mean_axis0": (lambda a: a.mean(axis=0), [(3, 4)]),
    "mean_last_keepdims": (lambda a: a.mean(axis=-1, keepdims=True), [(2, 3, 4)]),
    "reshape": (lambda a: a.reshape(4, 3) @ a, [(3, 4)]),
    "reused": (lambda a, b: (a + b) * a.tanh() - a @ b.reshape(4, 1), [(3, 4), (4,)]),
    "log_softmax": (lambda a: a.log_softmax(axis=1), [(3, 4)]),
    "log_softmax_axis0": (lambda a: a.log_softmax(axis=0), [(3, 4)]),
    "cross_entropy": (lambda a: a.cross_entropy(np.array([2, 0, 3])), [(3, 4)]),
    "nll_loss": (lambda a: a.nll_loss(np.array([1, 1, 0])), [(3, 4)]),
}


def check_op(op, shapes, seed=0) -> float:
    """Largest relative error between backward and central differences over all operands, for
    f = sum(r * op(*inputs)) with fixed random weights r."""
    arrays = [away_from_zero(shape, seed + i) for i, shape in enumerate(shapes)]
    r = rng(seed + 10).standard_normal(op(*[Tensor(a) for a in arrays]).shape)

    def f() -> float:
        return float(np.sum(op(*[Tensor(a) for a in arrays]).data * r))

    inputs = [Tensor(a) for a in arrays]
    (op(*inputs) * r).sum().backward()
    return max(relative_error(t.grad, numerical_gradient(f, a)) for t, a in zip(inputs, arrays, strict=True))


@pytest.mark.parametrize("name", OPS)
def test_every_operation_matches_finite_differences(name):
    op, shapes = OPS[name]
    assert check_op(op, shapes) < 1e-7


def test_a_wrong_backward_fails_the_finite_difference_check(monkeypatch):
    """The check can fail: each broken vector-Jacobian product is caught."""
    original_unbroadcast = bp.tensor.unbroadcast
    broken = {
        "add_broadcast_row": ("unbroadcast", lambda grad, shape: original_unbroadcast(
            grad, shape) if len(shape) == grad.ndim else grad[0]),  # takes one row, not the sum
        "mean_axis0": ("_spread", lambda grad, shape, axes, keepdims: np.broadcast_to(
            np.expand_dims(grad, axes) * shape[0], shape)),  # multiplies by count
        "tanh": ("_unary", None),
    }
    for name, (attribute, replacement) in broken.items():
        with monkeypatch.context() as m:
            if attribute == "_unary":  # a local derivative 1 - t instead of 1 - t**2
                m.setattr(Tensor, "tanh", lambda self: self._unary(
                    np.tanh(self.data), 1 - np.tanh(self.data), "tanh"))
            else:
                m.setattr(bp.tensor, attribute, replacement)
            op, shapes = OPS[name]
            assert check_op(op, shapes) > 1e-3, name


def test_a_broadcast_bias_gets_the_gradient_summed_over_the_batch():
    x = Tensor(rng().standard_normal((5, 3)))
    b = Tensor(np.zeros(3))
    g = rng(1).standard_normal((5, 3))
    (x + b).backward(g)
    np.testing.assert_allclose(b.grad, g.sum(axis=0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(x.grad, g, rtol=0, atol=0)
    assert b.grad.shape == (3,)


def test_unbroadcast_sums_prepended_and_stretched_axes():
    grad = np.arange(24.0).reshape(2, 3, 4)
    assert unbroadcast(grad, (2, 3, 4)) is grad
    np.testing.assert_array_equal(unbroadcast(grad, (4,)), grad.sum(axis=(0, 1)))
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1)), grad.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(grad, (1, 1, 4)), grad.sum(axis=(0, 1), keepdims=True))
    assert unbroadcast(grad, ()).shape == () and unbroadcast(grad, ()) == grad.sum()


def test_a_tensor_used_twice_accumulates_both_contributions():
    a = rng().standard_normal((3, 3))
    x = Tensor(a)
    y = x * x + x  # x feeds the product twice and the sum once
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * a + 1, rtol=1e-15)
    x = Tensor(a)
    ((x + 1.0) * x).sum().backward()  # here the sum's backward runs after the product's
    np.testing.assert_allclose(x.grad, 2 * a + 1, rtol=1e-15)
    W = Tensor(rng(1).standard_normal((3, 3)))
    (W @ W).sum().backward()  # W on both sides of one product
    expected = np.ones((3, 3)) @ W.data.T + W.data.T @ np.ones((3, 3))
    np.testing.assert_allclose(W.grad, expected, rtol=1e-14)


def test_leaves_accumulate_across_backward_calls_until_zero_grad():
    x = Tensor(np.array([1.0, 2.0]))
    loss = (x * x).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # two copies of 2x
    loss.zero_grad()
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def mlp_parameters(seed=0):
    model = bp.Sequential(bp.Linear(4, 6, rng=seed), bp.ReLU(), bp.Linear(6, 5, rng=seed + 1),
                          bp.Tanh(), bp.Linear(5, 3, rng=seed + 2))
    for layer in model.layers:  # nonzero biases, so their gradients are tested too
        if isinstance(layer, bp.Linear):
            layer.b.data[...] = rng(seed + 3).standard_normal(layer.b.shape)
    return model


def tensor_mlp(model, x, y):
    """The same MLP as `model`, built from Tensor operations; returns (loss, parameter tensors)."""
    params = [Tensor(p.data.copy(), label=name) for name, p in model.named_parameters()]
    W1, b1, W2, b2, W3, b3 = params
    h = (Tensor(x) @ W1 + b1).relu()
    h = (h @ W2 + b2).tanh()
    return (h @ W3 + b3).cross_entropy(y), params


def layer_api_gap() -> float:
    """Largest |difference| between the Tensor MLP's and the Layer API's loss and gradients."""
    model = mlp_parameters()
    x, y = rng(5).standard_normal((8, 4)), rng(6).integers(0, 3, 8)
    loss_fn = bp.SoftmaxCrossEntropyLoss()
    layer_loss = loss_fn(model(x), y)
    model.backward(loss_fn.backward())
    loss, params = tensor_mlp(model, x, y)
    loss.backward()
    gaps = [abs(loss.item() - layer_loss)]
    for tensor, p in zip(params, model.parameters(), strict=True):
        assert tensor.grad.shape == p.grad.shape == p.data.shape, tensor.label
        gaps.append(float(np.max(np.abs(tensor.grad - p.grad))))
    return max(gaps)


def test_an_mlp_from_tensors_has_the_layer_apis_gradients():
    assert layer_api_gap() < 1e-12


def test_the_mlp_comparison_can_fail(monkeypatch):
    """The classic bug, a bias gradient taken from one example instead of summed over the batch,
    is caught by the comparison."""
    original = bp.tensor.unbroadcast
    monkeypatch.setattr(bp.tensor, "unbroadcast", lambda grad, shape: (
        grad[-1] if grad.ndim > len(shape) else original(grad, shape)))
    assert layer_api_gap() > 1e-3


def pytorch_gap(torch) -> float:
    """Largest |difference| between the Tensor MLP's and PyTorch autograd's loss and gradients."""
    model = mlp_parameters()
    x, y = rng(5).standard_normal((8, 4)), rng(6).integers(0, 3, 8)
    loss, params = tensor_mlp(model, x, y)
    loss.backward()
    t = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in model.parameters()]
    h = (torch.tensor(x) @ t[0] + t[1]).relu()
    h = (h @ t[2] + t[3]).tanh()
    torch_loss = torch.nn.functional.cross_entropy(h @ t[4] + t[5], torch.tensor(y))
    torch_loss.backward()
    gaps = [abs(torch_loss.item() - loss.item())]
    gaps += [float(np.max(np.abs(ours.grad - theirs.grad.numpy())))
             for ours, theirs in zip(params, t, strict=True)]
    return max(gaps)


def test_the_mlp_matches_pytorch(monkeypatch):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the comparison with "
                                                 "torch.autograd is skipped (pip install torch)")
    assert pytorch_gap(torch) < 1e-12
    # and the comparison can fail: a tanh whose local derivative is 1 - t instead of 1 - t**2
    monkeypatch.setattr(Tensor, "tanh", lambda self: self._unary(
        np.tanh(self.data), 1 - np.tanh(self.data), "tanh"))
    assert pytorch_gap(torch) > 1e-3


def test_the_recorded_operations_are_pytorchs_grad_fn_chain():
    """The ops our graph records for an MLP are the nodes PyTorch's autograd records, in order."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the grad_fn comparison "
                                                 "is skipped (pip install torch)")
    names = {"@": "MmBackward0", "+": "AddBackward0", "relu": "ReluBackward0",
             "tanh": "TanhBackward0", "log_softmax": "LogSoftmaxBackward0",
             "nll_loss": "NllLossBackward0"}
    model = mlp_parameters()
    x, y = rng(5).standard_normal((8, 4)), rng(6).integers(0, 3, 8)
    loss, _ = tensor_mlp(model, x, y)
    ours = [names[node._op] for node in loss.topological_order() if node._op]
    t = [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]
    h = (torch.tensor(x) @ t[0] + t[1]).relu()
    h = (h @ t[2] + t[3]).tanh()
    torch_loss = torch.nn.functional.cross_entropy(h @ t[4] + t[5], torch.tensor(y))
    theirs, node = [], torch_loss.grad_fn
    while node is not None:  # the graph of an MLP is a chain: follow the non-leaf input
        theirs.append(type(node).__name__)
        node = next((f for f, _ in node.next_functions
                     if f is not None and type(f).__name__ != "AccumulateGrad"), None)
    assert ours == theirs[::-1]


# ------------------------------------------------------------------------------ bad input

def test_integer_data_is_refused_with_a_hint():
    with pytest.raises(TypeError, match=r"float array, got dtype int64.*dtype=np.float64"):
        Tensor(np.arange(3))


def test_matmul_shape_mismatch_says_which_sizes_differ():
    with pytest.raises(ValueError, match=r"\(5, 3\) @ \(4, 2\).*3 columns.*4 rows"):
        Tensor(np.ones((5, 3))) @ Tensor(np.ones((4, 2)))
    with pytest.raises(ValueError, match="2-D matrices.*reshape"):
        Tensor(np.ones(3)) @ Tensor(np.ones((3, 2)))


def test_backward_on_a_non_scalar_needs_a_seed():
    z = Tensor(np.ones((2, 3))) * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*\.sum\(\).*backward\(grad\)"):
        z.backward()
    with pytest.raises(ValueError, match=r"seed gradient must have the tensor's shape \(2, 3\)"):
        z.backward(np.ones(3))
    z.backward(np.ones((2, 3)))  # a seed of the right shape works


def test_bad_labels_and_axes_are_refused():
    logits = Tensor(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="labels must be integers"):
        logits.cross_entropy(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        logits.cross_entropy(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        logits.cross_entropy(np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        logits.sum(axis=2)
    with pytest.raises(ValueError, match="non-positive"):
        (logits - 1.0).log()


def test_numbers_and_arrays_mix_with_tensors_as_constants():
    x = Tensor(np.array([1.0, 2.0]))
    y = (2.0 * x + np.array([1.0, 1.0]) - 1.0) * x  # 2 x^2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    assert (x * np.float32(2)).dtype == np.float64
