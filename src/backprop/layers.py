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

import numpy as np

from . import init as initializers
from .functional import sigmoid, softmax

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
    also override `named_parameters`."""

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
                if isinstance(layer, (Linear, Sequential)):
                    layer.backward(grad_out, input_grad=False)
                else:
                    layer.backward(grad_out)
                return None
            grad_out = layer.backward(grad_out)
        return grad_out

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"{i}.{name}", p

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(repr(layer) for layer in self.layers) + ")"


def backward_to_parameters(model: Layer, grad_out: np.ndarray) -> None:
    """The backward pass of a training step: fill every parameter's .grad without computing dL/dx
    where the model can skip it. For a Sequential this is simply `model.backward(grad_out)`."""
    if isinstance(model, (Linear, Sequential)):
        model.backward(grad_out, input_grad=False)
    else:
        model.backward(grad_out)
