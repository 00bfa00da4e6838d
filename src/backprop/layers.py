"""Layers with an explicit forward and backward pass, batch-first. Taught in chapter 5 (Linear,
Sequential; activations in chapter 4, Softmax in chapter 3), checked in chapter 6.

Every layer maps an input `x` of shape (batch, ...) to an output of shape (batch, ...). `forward`
remembers what `backward` will need; `backward(grad_out)` receives dL/d(output), adds the gradients of
the layer's parameters into their `.grad` (accumulating, like PyTorch, until `zero_grad()`), and
returns dL/d(input), of the same shape as the input.

A layer's parameters fix its dtype (float64 by default, float32 on request). Inputs of another
numeric dtype are converted to it, so a float32 model never silently computes in float64.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import numpy as np

from . import init as initializers
from .functional import sigmoid, softmax
from .init import RNG, make_rng

DType = np.dtype | type


class Parameter:
    """A trainable array and its gradient, of the same shape and dtype (PyTorch's naming).

    data: the values, any shape.  grad: dL/d(data), same shape, zero after `zero_grad()`.
    """

    def __init__(self, data: np.ndarray, name: str = "") -> None:
        self.data = np.asarray(data)
        if not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(f"Parameter {name!r} must hold floats, got dtype {self.data.dtype}")
        self.grad = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def zero_grad(self) -> None:
        self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.shape}, dtype={self.dtype})"


class Layer:
    """Base class. Subclasses implement `forward` and `backward`; layers with weights
    also override `named_parameters`.

    `training` is True in training mode (the default) and False in evaluation mode; only layers
    that behave differently in the two (Dropout, BatchNorm1d) read it. `train()` and `eval()`
    switch it and return the layer, as in PyTorch.
    """

    training: bool = True  # a class default, so every subclass starts in training mode

    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (mode=True) or evaluation mode (mode=False); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"{self!r}: train(mode) expects True or False, got {mode!r}")
        self.training = mode
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode, the same as train(False); returns self."""
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; empty for layers without weights."""
        return iter(())

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, array) pairs of state that is not trained by gradients but saved with the
        model, such as BatchNorm1d's running statistics; empty for most layers."""
        return iter(())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # Helpers shared by the layers below.
    def _check_grad_out(self, grad_out: np.ndarray, expected_shape: tuple[int, ...]) -> None:
        if grad_out.shape != expected_shape:
            raise ValueError(
                f"{self!r}: backward expected grad_out of shape {expected_shape} (the shape of the "
                f"forward output), got {grad_out.shape}"
            )


def _as_float_array(layer: Layer, x: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    """Convert x to `dtype` (or keep its float dtype when dtype is None), with a clear error."""
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{layer!r}: expected a numeric array, got dtype {x.dtype}")
    if dtype is None:
        return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    return x.astype(dtype, copy=False)


class Linear(Layer):
    """Affine layer z = x @ W + b.

    x: (batch, in_features) -> z: (batch, out_features)
    W: (in_features, out_features), b: (out_features,)
    backward(grad_out: (batch, out_features)) -> grad_in: (batch, in_features),
    adding x.T @ grad_out into W.grad and grad_out summed over the batch into b.grad.
    `backward(grad_out, input_grad=False)` skips grad_in (returns None): for a first layer, whose
    input is data, that product is wasted work (PyTorch skips it for inputs without requires_grad).

    The forward cache: after `forward(x)`, `layer.x` holds that input, (batch, in_features) in W's
    dtype, which `backward` needs for x.T @ grad_out (what PyTorch keeps with
    `ctx.save_for_backward`); None before the first forward. Subclasses may read it.

    `init` says how W is drawn: a name, "default" (PyTorch's U(-1/sqrt(in), 1/sqrt(in))),
    "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "normal"; or a function
    (shape, rng=..., dtype=...) -> array of that shape, e.g. `bp.init.xavier_uniform` or
    `functools.partial(bp.init.normal, std=0.01)`. b starts at zero. `rng` is a seed (default 0, as
    everywhere in the package) or a numpy Generator, so the same seed gives the same weights; pass
    one Generator to all the layers of a network to draw each layer's weights independently.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str | initializers.Initializer = "default",
        rng: initializers.RNG = 0,
        dtype: DType = np.float64,
    ) -> None:
        self.in_features = in_features
        self.out_features = out_features
        W = initializers.initialize(init, (in_features, out_features), rng=rng, dtype=dtype)
        self.W = Parameter(W, "W")
        self.b = Parameter(np.zeros(out_features, dtype=dtype), "b") if bias else None
        self.x: np.ndarray | None = None  # the forward cache: the last input, for backward

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        yield "W", self.W
        if self.b is not None:
            yield "b", self.b

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, self.W.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            hint = ""
            if x.ndim > 2:
                hint = " Did you forget to flatten the images? Use x.reshape(len(x), -1)."
            elif x.ndim == 1:
                hint = " A single example needs a batch axis too: use x.reshape(1, -1)."
            else:
                hint = " Check in_features against the number of columns of x."
            raise ValueError(
                f"{self!r}: expected input of shape (batch, {self.in_features}), "
                f"got {x.shape}.{hint}"
            )
        self.x = x
        z = x @ self.W.data
        if self.b is not None:
            z += self.b.data  # in place: z is a fresh array, no need for a second one
        return z

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        if self.x is None:
            raise RuntimeError(f"{self!r}: backward() was called before forward()")
        x = self.x
        grad_out = _as_float_array(self, grad_out, self.W.dtype)
        self._check_grad_out(grad_out, (x.shape[0], self.out_features))
        self.W.grad += x.T @ grad_out  # dL/dW = x^T delta, summed over the batch by the product
        if self.b is not None:
            self.b.grad += grad_out.sum(axis=0)  # the bias is shared by every example
        return grad_out @ self.W.data.T if input_grad else None

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"


class _Elementwise(Layer):
    """An activation applied elementwise: output and gradients keep the input's shape and dtype."""

    def __init__(self) -> None:
        self._local: np.ndarray | None = None

    def _activate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (output, d(output)/d(input)); both have the shape and dtype of x."""
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, None)
        out, self._local = self._activate(x)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._local is None:
            raise RuntimeError(f"{self!r}: backward() was called before forward()")
        self._check_grad_out(grad_out, self._local.shape)
        return grad_out * self._local


class ReLU(_Elementwise):
    """max(0, x), any shape. Derivative: 1 where x > 0, else 0 (0 is used at the kink x = 0)."""

    def _activate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(x, 0), x > 0  # a boolean mask: grad_out * mask keeps the float dtype


class LeakyReLU(_Elementwise):
    """x for x > 0, negative_slope * x otherwise, any shape. Derivative: 1 or negative_slope."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def _activate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        slope = np.where(x > 0, 1, self.negative_slope).astype(x.dtype)
        return x * slope, slope

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(_Elementwise):
    """s = 1 / (1 + exp(-x)), any shape. Derivative: s (1 - s), at most 1/4."""

    def _activate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = sigmoid(x)
        return s, s * (1 - s)


class Tanh(_Elementwise):
    """t = tanh(x), any shape. Derivative: 1 - t**2, at most 1."""

    def _activate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.tanh(x)
        return t, 1 - t * t


class GELU(_Elementwise):
    """Gaussian error linear unit, tanh approximation (as in GPT-2), any shape.

    gelu(x) = 0.5 x (1 + t), t = tanh(c (x + 0.044715 x^3)), c = sqrt(2 / pi).
    Derivative: 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2).
    """

    _c = float(np.sqrt(2 / np.pi))

    def _activate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.tanh(self._c * (x + 0.044715 * x**3))
        local = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * self._c * (1 + 3 * 0.044715 * x**2)
        return 0.5 * x * (1 + t), local


class Softmax(Layer):
    """Row-wise softmax: x (batch, classes) -> p (batch, classes), each row summing to 1.

    backward(grad_out: (batch, classes)) -> p * (grad_out - sum(grad_out * p, axis=1)).
    For training a classifier prefer SoftmaxCrossEntropyLoss on the logits: it fuses
    this Jacobian with the loss into the simpler and more accurate (p - y) / n.
    """

    def __init__(self) -> None:
        self._p: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, None)
        if x.ndim != 2:
            raise ValueError(f"{self!r}: expected input of shape (batch, classes), got {x.shape}")
        self._p = softmax(x, axis=1)
        return self._p.copy()  # the caller's own array: changing it must not change backward

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._p is None:
            raise RuntimeError(f"{self!r}: backward() was called before forward()")
        p = self._p
        self._check_grad_out(grad_out, p.shape)
        return p * (grad_out - np.sum(grad_out * p, axis=1, keepdims=True))


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...); backward restores the shape."""

    def __init__(self) -> None:
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, None)
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward() was called before forward()")
        return grad_out.reshape(self._shape)


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse (the chain rule, layer by layer).

    model = Sequential(Linear(2, 3), Tanh(), Linear(3, 1))
    forward: x (batch, in) -> (batch, out).  backward: dL/d(out) -> None, or dL/d(x) when asked
    with `backward(grad_out, input_grad=True)`.
    Parameters are named "<index>.<name>", e.g. "0.W", "2.b".
    """

    def __init__(self, *layers: Layer) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: item {i} is {layer!r}, not a Layer. "
                    "Did you pass a class instead of an instance, e.g. ReLU instead of ReLU()?"
                )
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except (ValueError, TypeError) as error:
                error.add_note(f"(raised by layer {i} of {self!r})")
                raise
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = False) -> np.ndarray | None:
        """dL/d(out) (batch, out) -> dL/d(x) (batch, in), filling every parameter's .grad.

        By default the gradient for the input is not computed and None is returned: the input of a
        model is usually data, which is never updated, so the backward pass stops at the first layer
        with parameters, and a first Linear skips its product grad_out @ W.T (PyTorch likewise
        skips inputs without requires_grad). Pass input_grad=True for dL/dx, e.g. to check it
        against finite differences or to chain this model after another. A model without any
        parameters always returns dL/dx, the only thing its backward pass computes.
        """
        first = next((i for i, layer in enumerate(self.layers) if layer.parameters()), None)
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == first and not input_grad:
                _backward(layer, grad_out, input_grad=False)
                return None
            grad_out = cast(np.ndarray, _backward(layer, grad_out, input_grad=True))
        return grad_out

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"{i}.{name}", p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, buffer in layer.named_buffers():
                yield f"{i}.{name}", buffer

    def train(self, mode: bool = True) -> Sequential:
        """Set the mode of this Sequential and of every layer in it; returns self."""
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(layer) for layer in self.layers) + ")"


def _backward(layer: Layer, grad_out: np.ndarray, *, input_grad: bool) -> np.ndarray | None:
    """layer.backward(grad_out), telling the layers that can skip their input gradient whether it is
    wanted (Linear, Sequential, Residual); any other layer, a reader's own included, just computes it."""
    if isinstance(layer, (Linear, Sequential, Residual)):
        return layer.backward(grad_out, input_grad=input_grad)
    return layer.backward(grad_out)


def backward_to_parameters(model: Layer, grad_out: np.ndarray) -> None:
    """The backward pass of a training step: fill every parameter's .grad without computing dL/dx
    where the model can skip it. For a Sequential this is simply `model.backward(grad_out)`."""
    _backward(model, grad_out, input_grad=False)


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014), any shape: x -> x * mask / (1 - p).

    In training mode each entry of x is zeroed with probability p, independently, and the kept
    entries are scaled by 1 / (1 - p), so that every entry's expected value stays x: the next
    layer sees inputs of the same size in training and in evaluation. In evaluation mode
    (`eval()`) the layer is the identity.
    x: (batch, ...) -> out: same shape and dtype.
    backward(grad_out: same shape) -> grad_out * mask / (1 - p), the same mask as the forward pass
    (the identity in evaluation mode).
    `rng` is a seed or a numpy Generator (see `init.make_rng`): the same seed, the same masks.
    """

    def __init__(self, p: float = 0.5, *, rng: RNG = None) -> None:
        if not (isinstance(p, (int, float, np.floating)) and 0 <= p < 1):
            raise ValueError(
                f"Dropout: p is the probability of zeroing an entry and must lie in [0, 1), got "
                f"{p!r}. (p = 1 would zero everything and divide by 1 - p = 0.)"
            )
        self.p = float(p)
        self.rng = make_rng(rng)
        self._scaled_mask: np.ndarray | None = None  # mask / (1 - p); None: the identity was used
        self._shape: tuple[int, ...] | None = None

    def _keep_mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """A boolean array of `shape`, True (keep) with probability 1 - p."""
        return self.rng.random(shape) >= self.p

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, None)
        self._shape = x.shape
        if not self.training or self.p == 0:
            self._scaled_mask = None
            return x
        # Inverted dropout: scale at training time, so evaluation needs no change at all.
        self._scaled_mask = self._keep_mask(x.shape).astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._scaled_mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward() was called before forward()")
        self._check_grad_out(grad_out, self._shape)
        if self._scaled_mask is None:
            return grad_out
        return grad_out * self._scaled_mask  # dropped entries pass no gradient back

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class BatchNorm1d(Layer):
    """Batch normalisation (Ioffe & Szegedy, 2015) over a batch of feature vectors, as PyTorch's.

    x: (batch, num_features) -> out: (batch, num_features), out = weight * x_hat + bias, where
    x_hat = (x - mean) / sqrt(var + eps) per feature (column).
    Parameters: weight (num_features,), starting at 1; bias (num_features,), starting at 0.
    Buffers: running_mean (num_features,), starting at 0; running_var (num_features,), at 1.

    Training mode: mean and var are the batch's, var the biased one (divided by batch), which
    needs batch >= 2. Each forward pass also updates the running statistics, with PyTorch's
    convention running = (1 - momentum) * running + momentum * batch_statistic, using the
    unbiased variance (divided by batch - 1) for running_var.
    Evaluation mode: mean and var are running_mean and running_var, so each example's output no
    longer depends on the rest of its batch.

    backward(grad_out: (batch, num_features)) -> grad_in: (batch, num_features), adding
    sum over the batch of grad_out * x_hat into weight.grad and of grad_out into bias.grad.
    In training mode, with g = grad_out * weight and n = batch (sums over the batch axis),
        grad_in = (n * g - sum(g) - x_hat * sum(g * x_hat)) / (n * sqrt(var + eps)),
    since the batch mean and variance depend on every row; in evaluation mode
    grad_in = g / sqrt(running_var + eps).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *,
                 dtype: DType = np.float64) -> None:
        if not (isinstance(num_features, (int, np.integer)) and num_features >= 1):
            raise ValueError(f"BatchNorm1d: num_features must be a positive int, got {num_features!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm1d: momentum must lie in [0, 1], got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be positive (it keeps 1/sqrt(var + eps) finite), "
                             f"got {eps!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype), "weight")
        self.bias = Parameter(np.zeros(num_features, dtype=dtype), "bias")
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self._x_hat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None  # 1 / sqrt(var + eps), (num_features,)
        self._batch_statistics = True  # whether the last forward used the batch's statistics

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        yield "weight", self.weight
        yield "bias", self.bias

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        yield "running_mean", self.running_mean
        yield "running_var", self.running_var

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, self.weight.dtype)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input of shape (batch, {self.num_features}), got {x.shape}. "
                "Check num_features against the number of columns of x (the width of the layer "
                "before it)."
            )
        n = x.shape[0]
        if self.training:
            if n < 2:
                raise ValueError(
                    f"{self!r}: training mode needs a batch of at least 2 rows to compute a "
                    f"variance, got {n}. Use a larger batch, or call eval() to use the running "
                    "statistics (for predictions on single examples)."
                )
            mean = x.mean(axis=0)
            var = x.var(axis=0)  # biased (divided by n): what the batch is normalised with
            m = self.momentum
            # In place, so that references to the buffers (named_buffers) stay valid.
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += m * var * (n / (n - 1))  # unbiased, as PyTorch stores it
        else:
            mean, var = self.running_mean, self.running_var
        self._batch_statistics = self.training
        self._inv_std = 1 / np.sqrt(var + self.eps)
        self._x_hat = (x - mean) * self._inv_std
        return self._x_hat * self.weight.data + self.bias.data

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._x_hat is None or self._inv_std is None:
            raise RuntimeError(f"{self!r}: backward() was called before forward()")
        x_hat, inv_std = self._x_hat, self._inv_std
        grad_out = _as_float_array(self, grad_out, self.weight.dtype)
        self._check_grad_out(grad_out, x_hat.shape)
        self.weight.grad += np.sum(grad_out * x_hat, axis=0)
        self.bias.grad += grad_out.sum(axis=0)
        g = grad_out * self.weight.data  # dL/d(x_hat), (batch, num_features)
        if not self._batch_statistics:
            return g * inv_std  # running statistics are constants: a per-feature scaling
        n = x_hat.shape[0]
        # The mean and the variance depend on every row: two corrections to g * inv_std, which
        # remove the components of g along the constant column and along x_hat.
        return (n * g - g.sum(axis=0) - x_hat * np.sum(g * x_hat, axis=0)) * (inv_std / n)

    def __repr__(self) -> str:
        return f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"


class Residual(Layer):
    """A skip connection (He et al., 2016): out = x + block(x).

    x: (batch, features) -> out: (batch, features); the block must keep the shape of its input.
    backward(grad_out: (batch, features)) -> grad_out + block.backward(grad_out): the identity
    path hands the gradient back unchanged, however small the block's own gradient is
    (input_grad=False, as for a model's first layer, fills the block's .grad and returns None).
    Parameters and buffers are the block's, named "block.<name>"; train() and eval() reach it.
    """

    def __init__(self, block: Layer) -> None:
        if not isinstance(block, Layer):
            raise TypeError(f"Residual: block must be a Layer (e.g. a Sequential), got {block!r}")
        self.block = block

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_float_array(self, x, None)
        out = self.block.forward(x)
        if out.shape != x.shape:
            raise ValueError(
                f"{self!r}: the block maps shape {x.shape} to {out.shape}, but x + block(x) needs "
                "the same shape: make the block's last layer as wide as its input."
            )
        return x + out

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        block_grad = _backward(self.block, grad_out, input_grad=input_grad)
        return grad_out + block_grad if input_grad else None

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, p in self.block.named_parameters():
            yield f"block.{name}", p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for name, buffer in self.block.named_buffers():
            yield f"block.{name}", buffer

    def train(self, mode: bool = True) -> Residual:
        """Set the mode of this layer and of its block; returns self."""
        super().train(mode)
        self.block.train(mode)
        return self

    def __repr__(self) -> str:
        return f"Residual({self.block!r})"
