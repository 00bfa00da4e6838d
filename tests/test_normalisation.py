"""Dropout, BatchNorm1d, Residual and the train/eval modes: gradients against finite differences
(and deliberately wrong backward passes that must fail), the modes' semantics, running statistics,
error messages, and equality with PyTorch's layers where torch is installed."""

import numpy as np
import pytest

import backprop as bp
from backprop.gradcheck import check_layer

try:
    import torch
except ImportError:  # the package is NumPy-only; PyTorch is an optional reference
    torch = None

needs_torch = pytest.mark.skipif(
    torch is None,
    reason="PyTorch is not installed, so equality with torch.nn is not checked "
           "(pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)",
)


def random_batch(shape, seed=0, scale=1.0, shift=0.0):
    return shift + scale * np.random.default_rng(seed).standard_normal(shape)


class FixedMaskDropout(bp.Dropout):
    """Dropout whose mask is drawn once, so repeated forward passes (finite differences) agree."""

    def __init__(self, p, mask):
        super().__init__(p)
        self.mask = mask

    def _keep_mask(self, shape):
        assert shape == self.mask.shape
        return self.mask


def bernoulli_mask(shape, p, seed=0):
    return np.random.default_rng(seed).random(shape) >= p


# ---- deliberately wrong backward passes: each test below must reject them -----------------------

class BatchNormWithoutMeanTerm(bp.BatchNorm1d):
    """Forgets that the batch mean depends on every row (drops the -sum(g) term)."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        if self.training:
            g = grad_out * self.weight.data
            grad_in = grad_in + g.sum(axis=0) * self._inv_std / len(g)
        return grad_in


class BatchNormWithoutVarianceTerm(bp.BatchNorm1d):
    """Treats the batch variance as a constant (drops the -x_hat * sum(g * x_hat) term)."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        if self.training:
            g = grad_out * self.weight.data
            grad_in = grad_in + self._x_hat * np.sum(g * self._x_hat, axis=0) * self._inv_std / len(g)
        return grad_in


class BatchNormUnsummedWeightGrad(bp.BatchNorm1d):
    """Takes the weight gradient from the first example instead of summing over the batch."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.weight.grad[...] = grad_out[0] * self._x_hat[0]
        return grad_in


class DropoutUnscaledBackward(FixedMaskDropout):
    """Scales the forward pass by 1 / (1 - p) but passes the gradient back through the bare mask."""

    def backward(self, grad_out):
        return super().backward(grad_out) * (1 - self.p)


class ResidualWithoutSkipGradient(bp.Residual):
    """Forgets the identity path's gradient: returns only the block's."""

    def backward(self, grad_out, *, input_grad=True):
        return self.block.backward(grad_out, input_grad=True)


def residual_block(seed=0, width=4):
    return bp.Residual(bp.Sequential(bp.Linear(width, width, rng=seed), bp.Tanh(),
                                     bp.Linear(width, width, rng=seed + 1)))


# ---- gradient checks ----------------------------------------------------------------------------

GOOD = {
    "BatchNorm1d, training mode": lambda: bp.BatchNorm1d(4),
    "BatchNorm1d, evaluation mode": lambda: bp.BatchNorm1d(4).eval(),
    "Dropout p=0.5 (fixed mask)": lambda: FixedMaskDropout(0.5, bernoulli_mask((6, 4), 0.5)),
    "Dropout p=0.2 (fixed mask)": lambda: FixedMaskDropout(0.2, bernoulli_mask((6, 4), 0.2, 1)),
    "Dropout, evaluation mode": lambda: bp.Dropout(0.5, rng=0).eval(),
    "Residual": residual_block,
    # No bias before BatchNorm1d: the batch mean removes it, so its gradient is exactly 0 and a
    # relative error against finite differences of size 1e-11 would be meaningless.
    "MLP with BatchNorm1d, Dropout and Residual": lambda: bp.Sequential(
        bp.Linear(4, 5, bias=False, rng=0), bp.BatchNorm1d(5), bp.Tanh(),
        FixedMaskDropout(0.3, bernoulli_mask((6, 5), 0.3, 2)), residual_block(3, width=5),
        bp.Linear(5, 3, rng=9)),
}


@pytest.mark.parametrize("name", GOOD)
def test_layer_backward_matches_finite_differences(name):
    layer = GOOD[name]()
    if isinstance(layer, bp.BatchNorm1d):  # non-trivial weight and bias, so their role is tested
        layer.weight.data[...] = [0.5, -1.5, 2.0, 1.2]
        layer.bias.data[...] = [0.1, 0.0, -0.3, 0.7]
        layer.running_mean[...] = [0.2, -0.1, 0.0, 0.4]
        layer.running_var[...] = [0.5, 2.0, 1.0, 1.5]
    report = check_layer(layer, random_batch((6, 4), seed=1, scale=2.0, shift=0.5), eps=1e-5)
    assert report.passed, str(report)
    assert set(report.errors) == {"input"} | {n for n, _ in layer.named_parameters()}


@pytest.mark.parametrize("broken, bad_key", [
    (lambda: BatchNormWithoutMeanTerm(4), "input"),
    (lambda: BatchNormWithoutVarianceTerm(4), "input"),
    (lambda: BatchNormUnsummedWeightGrad(4), "weight"),
    (lambda: DropoutUnscaledBackward(0.5, bernoulli_mask((6, 4), 0.5)), "input"),
    (lambda: ResidualWithoutSkipGradient(bp.Sequential(bp.Linear(4, 4, rng=0), bp.Tanh())), "input"),
])
def test_gradient_check_fails_a_deliberately_wrong_backward(broken, bad_key):
    layer = broken()
    report = check_layer(layer, random_batch((6, 4), seed=1, scale=2.0, shift=0.5), eps=1e-5)
    assert not report.passed
    assert report.errors[bad_key] > 1e-3


def test_batchnorm_backward_equals_the_step_by_step_graph():
    """The compact formula equals backprop through the graph mu, var, x_hat, out one node at a time."""
    x, grad_out = random_batch((5, 3), 2, 1.5, 1.0), random_batch((5, 3), 3)
    layer = bp.BatchNorm1d(3)
    layer.weight.data[...] = [2.0, -0.5, 1.0]
    layer(x)
    compact = layer.backward(grad_out)
    n, eps, gamma = len(x), layer.eps, layer.weight.data
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc**2, axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = xc * inv_std
    d_x_hat = grad_out * gamma
    d_inv_std = np.sum(d_x_hat * xc, axis=0)
    d_var = d_inv_std * -0.5 * (var + eps) ** -1.5
    d_xc = d_x_hat * inv_std + d_var * 2 * xc / n
    d_mu = -d_xc.sum(axis=0)
    step_by_step = d_xc + d_mu / n
    np.testing.assert_allclose(compact, step_by_step, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, np.sum(grad_out * x_hat, axis=0), rtol=1e-12)
    # The input gradient sums to zero over the batch: shifting a feature by the same amount in
    # every row leaves the normalised output, and so the loss, unchanged.
    np.testing.assert_allclose(compact.sum(axis=0), 0, atol=1e-12)


# ---- semantics of the modes ---------------------------------------------------------------------

def test_train_and_eval_set_training_and_return_the_layer():
    for layer in (bp.Linear(2, 2, rng=0), bp.ReLU(), bp.Dropout(), bp.BatchNorm1d(3)):
        assert layer.training is True
        assert layer.eval() is layer and layer.training is False
        assert layer.train() is layer and layer.training is True
        assert layer.train(False) is layer and layer.training is False
    with pytest.raises(TypeError, match="True or False"):
        bp.ReLU().train("eval")


def test_sequential_and_residual_pass_the_mode_down():
    inner = bp.Sequential(bp.Linear(3, 3, rng=0), bp.BatchNorm1d(3), bp.Dropout(0.2))
    model = bp.Sequential(bp.Linear(3, 3, rng=1), bp.Residual(inner), bp.Dropout(0.5))
    everything = [model, *model.layers, inner, *inner.layers]
    assert model.eval() is model
    assert not any(layer.training for layer in everything)
    model.train()
    assert all(layer.training for layer in everything)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "1.block.0.W", "1.block.0.b", "1.block.1.weight", "1.block.1.bias"]
    assert [name for name, _ in model.named_buffers()] == ["1.block.1.running_mean",
                                                           "1.block.1.running_var"]


def test_dropout_zeroes_about_p_and_scales_the_rest_in_training():
    x = np.ones((200, 50))
    out = bp.Dropout(0.3, rng=0)(x)
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    assert abs(out.mean() - 1) < 0.02  # inverted scaling keeps the expected value


def test_dropout_is_the_identity_in_evaluation_and_for_p_zero():
    x = random_batch((4, 5))
    layer = bp.Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    np.testing.assert_array_equal(bp.Dropout(0.0)(x), x)


def test_dropout_backward_uses_the_forward_mask_and_the_same_seed_gives_the_same_mask():
    x = random_batch((6, 7)) + 5  # no zeros, so out == 0 marks exactly the dropped entries
    layer = bp.Dropout(0.4, rng=3)
    out = layer(x)
    grad = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(grad == 0, out == 0)
    np.testing.assert_allclose(grad[out != 0], 1 / 0.6)
    np.testing.assert_array_equal(bp.Dropout(0.4, rng=3)(x), out)
    assert not np.array_equal(layer(x), out)  # a new mask on every forward pass


def test_dropout_keeps_a_float32_input_in_float32():
    out = bp.Dropout(0.5, rng=0)(np.ones((3, 4), dtype=np.float32))
    assert out.dtype == np.float32


def test_batchnorm_training_output_is_normalised_per_feature():
    x = random_batch((64, 3), 4, scale=[1.0, 5.0, 0.1], shift=[0.0, 10.0, -3.0])
    out = bp.BatchNorm1d(3)(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-3)  # eps makes it slightly below 1


def test_batchnorm_running_statistics_follow_pytorchs_momentum_convention():
    layer = bp.BatchNorm1d(2, momentum=0.1)
    x1, x2 = random_batch((5, 2), 5), random_batch((5, 2), 6, shift=3.0)
    layer(x1)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x1.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x1.var(axis=0, ddof=1), rtol=1e-12)
    expected_mean = 0.9 * layer.running_mean + 0.1 * x2.mean(axis=0)
    expected_var = 0.9 * layer.running_var + 0.1 * x2.var(axis=0, ddof=1)  # unbiased
    layer(x2)
    np.testing.assert_allclose(layer.running_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, expected_var, rtol=1e-12)


def test_batchnorm_evaluation_uses_the_running_statistics_and_leaves_them_alone():
    layer = bp.BatchNorm1d(2)
    layer.running_mean[...] = [1.0, -2.0]
    layer.running_var[...] = [4.0, 0.25]
    x = random_batch((3, 2), 7)
    out = layer.eval()(x)
    np.testing.assert_allclose(out, (x - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5))
    np.testing.assert_array_equal(layer.running_mean, [1.0, -2.0])
    np.testing.assert_allclose(layer(x[:1]), out[:1])  # a single example is fine in evaluation


def test_batchnorm_parameters_and_buffers_have_pytorchs_names_and_order():
    layer = bp.BatchNorm1d(3)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.parameters() == [layer.weight, layer.bias]
    np.testing.assert_array_equal(layer.weight.data, 1)
    np.testing.assert_array_equal(layer.bias.data, 0)
    assert dict(layer.named_buffers()).keys() == {"running_mean", "running_var"}


def test_residual_adds_the_input_and_passes_the_gradient_through_the_skip():
    block = bp.Sequential(bp.Linear(3, 3, rng=0))
    block[0].W.data[...] = 0  # a block that outputs only its bias: dL/dx flows through the skip
    layer = bp.Residual(block)
    x = random_batch((2, 3))
    np.testing.assert_allclose(layer(x), x)
    np.testing.assert_allclose(layer.backward(np.ones((2, 3))), 1)


def test_fit_trains_in_training_mode_validates_in_evaluation_and_restores_the_mode():
    seen = []

    class Spy(bp.Layer):
        def forward(self, x):
            seen.append(self.training)
            return x

        def backward(self, grad_out):
            return grad_out

    model = bp.Sequential(bp.Linear(2, 2, rng=0), Spy()).eval()
    X, y = random_batch((8, 2)), np.array([0, 1] * 4)
    bp.fit(model, bp.SoftmaxCrossEntropyLoss(), bp.SGD(model.parameters(), lr=0.1), X, y,
           epochs=2, batch_size=4, X_val=X, y_val=y, progress=False)
    assert seen == [True, True, False] * 2
    assert model.training is False and model[1].training is False


# ---- clear errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_rejects_p_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        bp.Dropout(p)


def test_batchnorm_rejects_a_wrong_feature_count():
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 4\), got \(6, 3\)"):
        bp.BatchNorm1d(4)(np.ones((6, 3)))


def test_batchnorm_rejects_a_batch_of_one_in_training_and_says_what_to_do():
    with pytest.raises(ValueError, match="at least 2 rows.*eval()"):
        bp.BatchNorm1d(3)(np.ones((1, 3)))


def test_backward_before_forward_is_a_clear_error():
    for layer in (bp.Dropout(), bp.BatchNorm1d(2)):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((2, 2)))


def test_residual_rejects_a_block_that_changes_the_shape():
    with pytest.raises(ValueError, match="same shape"):
        bp.Residual(bp.Linear(3, 2, rng=0))(np.ones((4, 3)))


# ---- the same as PyTorch ------------------------------------------------------------------------

def torch_batchnorm_like(layer):
    reference = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                                     dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.data))
        reference.bias.copy_(torch.from_numpy(layer.bias.data))
    return reference


@needs_torch
@pytest.mark.parametrize("layer_class", [bp.BatchNorm1d, BatchNormWithoutVarianceTerm])
def test_batchnorm_forward_backward_and_running_statistics_equal_pytorchs(layer_class):
    layer = layer_class(4, eps=1e-3, momentum=0.2)
    layer.weight.data[...] = [0.5, -1.5, 2.0, 1.2]
    layer.bias.data[...] = [0.1, 0.0, -0.3, 0.7]
    reference = torch_batchnorm_like(layer)
    for step in range(3):  # training mode: three batches, so the running statistics build up
        x = random_batch((6, 4), 10 + step, scale=2.0, shift=1.0)
        grad_out = random_batch((6, 4), 20 + step)
        x_torch = torch.tensor(x, requires_grad=True)
        out_torch = reference(x_torch)
        out_torch.backward(torch.from_numpy(grad_out))
        layer.zero_grad()
        np.testing.assert_allclose(layer(x), out_torch.detach().numpy(), rtol=1e-12, atol=1e-12)
        grad_in = layer.backward(grad_out)
        if layer_class is not bp.BatchNorm1d:  # the planted mistake must be caught here too
            assert not np.allclose(grad_in, x_torch.grad.numpy(), rtol=1e-6)
            return
        np.testing.assert_allclose(grad_in, x_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.weight.grad, reference.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.bias.grad, reference.bias.grad.numpy(), rtol=1e-10)
        reference.weight.grad = reference.bias.grad = None
        np.testing.assert_allclose(layer.running_mean, reference.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(layer.running_var, reference.running_var.numpy(), rtol=1e-12)
    layer.eval()
    reference.eval()
    x = random_batch((3, 4), 30)
    x_torch = torch.tensor(x, requires_grad=True)
    out_torch = reference(x_torch)
    out_torch.backward(torch.ones(3, 4, dtype=torch.float64))
    np.testing.assert_allclose(layer(x), out_torch.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.backward(np.ones((3, 4))), x_torch.grad.numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("layer_class", [FixedMaskDropout, DropoutUnscaledBackward])
def test_dropout_equals_pytorchs_given_the_same_mask(layer_class):
    """PyTorch draws its own mask; read it off torch's output, give it to ours, and compare."""
    p = 0.4
    x = random_batch((8, 5), 40) + 5  # no zeros: torch's output is 0 exactly where it dropped
    grad_out = random_batch((8, 5), 41)
    torch.manual_seed(0)
    reference = torch.nn.Dropout(p)
    x_torch = torch.tensor(x, requires_grad=True)
    out_torch = reference(x_torch)
    out_torch.backward(torch.from_numpy(grad_out))
    mask = out_torch.detach().numpy() != 0
    layer = layer_class(p, mask)
    np.testing.assert_allclose(layer(x), out_torch.detach().numpy(), rtol=1e-15)
    matches = np.allclose(layer.backward(grad_out), x_torch.grad.numpy(), rtol=1e-15)
    assert matches is (layer_class is FixedMaskDropout)
    np.testing.assert_array_equal(layer.eval()(x), reference.eval()(torch.from_numpy(x)).numpy())


def test_batchnorm_keeps_a_float32_model_in_float32():
    layer = bp.BatchNorm1d(3, dtype=np.float32)
    out = layer(random_batch((4, 3)))
    assert out.dtype == np.float32 and layer.running_var.dtype == np.float32
    assert layer.backward(np.ones((4, 3))).dtype == np.float32


def test_early_stopping_puts_back_the_running_statistics_of_the_best_epoch():
    from backprop.train import _restore, _snapshot
    model = bp.Sequential(bp.Linear(2, 3, rng=0), bp.BatchNorm1d(3))
    saved = _snapshot(model)
    model(random_batch((5, 2), shift=4.0))  # training mode: moves the running statistics
    assert not np.allclose(model[1].running_mean, 0)
    _restore(model, saved)
    np.testing.assert_array_equal(model[1].running_mean, 0)
    np.testing.assert_array_equal(model[1].running_var, 1)
