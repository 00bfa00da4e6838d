"""Reverse-mode automatic differentiation on arrays: chapter 2's `Value`, one array per node.

A `Tensor` holds a float array (`data`), the gradient of a scalar output with respect to it
(`grad`, always of the same shape as `data`), and the tensors it was computed from. Each operation
computes its output and sets a `_backward` closure that turns the output's gradient into its
inputs' gradients: a vector-Jacobian product, computed without ever forming the Jacobian.
`backward()` runs the closures in reverse topological order, adding (not assigning) into `grad`,
so a tensor used twice receives both contributions.

Broadcasting: when NumPy stretched an operand of `+` or `*` to the output's shape, each entry of
the operand was used many times, so its gradient is the output's gradient summed over the
stretched axes (`unbroadcast`). A bias of shape (features,) added to a batch (batch, features)
gets the gradient summed over the batch, as `Linear.backward` does by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autodiff import topological_order
from .functional import log_softmax


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum grad, of an operation's output shape, down to `shape`, the shape of one operand.

    NumPy broadcasts an operand in two steps: it prepends axes of length 1 until the ranks match,
    then stretches every axis of length 1 to the other operand's length. The gradient undoes both:
    it sums over the prepended axes, then over the stretched ones (keeping them, with length 1).
    grad: (*leading, *stretched) -> (*shape); e.g. (batch, features) -> (features,) or (1, features).
    """
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _reduced_axes(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """The axes a reduction removes, as non-negative ints (all of them for axis=None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % ndim for a in axes))


def _spread(grad: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...],
            keepdims: bool) -> np.ndarray:
    """The gradient of a sum over `axes`: grad (the reduced shape) copied back along those axes.

    grad: the output's shape, without the axes (keepdims=False) or with them as length 1;
    returns an array of `shape` (a read-only broadcast view: callers only add it into .grad).
    """
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Tensor:
    """A node of a computational graph that holds a whole float array.

    data: a float array of any shape, kept as given (not copied).  grad: d(output)/d(data), same
    shape and dtype, filled in by `backward()` on the output.  label: an optional name.
    Operations (`+`, `-`, `*`, `@`, `relu`, `tanh`, `exp`, `log`, `sum`, `mean`, `reshape`,
    `log_softmax`, `nll_loss`, `cross_entropy`) return new Tensors that remember their inputs.
    Plain numbers and arrays combined with a Tensor become constant Tensors of its dtype.
    """

    __array_ufunc__ = None  # ndarray * Tensor calls Tensor.__rmul__ instead of looping over it

    def __init__(self, data: np.ndarray | float, _children: tuple[Tensor, ...] = (),
                 _op: str = "", label: str = "") -> None:
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(
                f"Tensor needs a float array, got dtype {data.dtype}: gradients are fractions. "
                "Convert it first, e.g. Tensor(np.asarray(x, dtype=np.float64))."
            )
        self.data = data
        self.grad = np.zeros_like(data)
        self._prev = _children
        self._op = _op
        self.label = label
        # Adds this node's vector-Jacobian products into its inputs' grads; set by each operation.
        self._backward: Callable[[], None] = lambda: None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(()))

    def _as_tensor(self, other: Tensor | np.ndarray | float) -> Tensor:
        """other as a Tensor; a number or array becomes a constant of this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        return Tensor(np.asarray(other, dtype=self.dtype))

    # ------------------------------------------------------------------ elementwise with broadcasting
    def __add__(self, other: Tensor | np.ndarray | float) -> Tensor:
        """z = x + y, broadcast: z has the broadcast shape; dz/dx = 1, so x.grad += sum of z.grad
        over the axes along which x was broadcast (`unbroadcast`), and likewise for y."""
        other = self._as_tensor(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += unbroadcast(out.grad, self.shape)
            other.grad += unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __mul__(self, other: Tensor | np.ndarray | float) -> Tensor:
        """z = x * y elementwise, broadcast: x.grad += unbroadcast(z.grad * y) to x's shape."""
        other = self._as_tensor(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += unbroadcast(out.grad * other.data, self.shape)
            other.grad += unbroadcast(out.grad * self.data, other.shape)

        out._backward = _backward
        return out

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other: Tensor | np.ndarray | float) -> Tensor:
        return self + (-self._as_tensor(other))

    def __radd__(self, other: np.ndarray | float) -> Tensor:
        return self + other

    def __rmul__(self, other: np.ndarray | float) -> Tensor:
        return self * other

    def __rsub__(self, other: np.ndarray | float) -> Tensor:
        return self._as_tensor(other) - self

    # ------------------------------------------------------------------ matrix product
    def __matmul__(self, other: Tensor | np.ndarray) -> Tensor:
        """Z = X @ W: X (n, k), W (k, m) -> Z (n, m).

        Backward, with G = dL/dZ of shape (n, m): X.grad += G @ W.T, (n, m)(m, k) -> (n, k);
        W.grad += X.T @ G, (k, n)(n, m) -> (k, m).
        """
        other = self._as_tensor(other)
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(
                f"matmul: both operands must be 2-D matrices, got shapes {self.shape} and "
                f"{other.shape}. A single example needs a batch axis too: use x.reshape(1, -1)."
            )
        if self.shape[1] != other.shape[0]:
            raise ValueError(
                f"matmul: {self.shape} @ {other.shape} does not fit: the first operand has "
                f"{self.shape[1]} columns but the second has {other.shape[0]} rows. With weights "
                "W of shape (in_features, out_features), write x @ W; did you mean the transpose?"
            )
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward() -> None:
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad

        out._backward = _backward
        return out

    def __rmatmul__(self, other: np.ndarray) -> Tensor:
        return self._as_tensor(other) @ self

    # ------------------------------------------------------------------ elementwise functions
    def _unary(self, value: np.ndarray, local_grad: np.ndarray, op: str) -> Tensor:
        """A one-input elementwise operation: output `value` and derivative `local_grad`, both of
        self's shape. Its Jacobian is diagonal, so the vector-Jacobian product is elementwise:
        self.grad += out.grad * local_grad."""
        out = Tensor(value, (self,), op)

        def _backward() -> None:
            self.grad += out.grad * local_grad

        out._backward = _backward
        return out

    def relu(self) -> Tensor:
        """max(0, x), any shape. Local derivative: 1 where x > 0, else 0 (0 at the kink)."""
        return self._unary(np.maximum(self.data, 0), self.data > 0, "relu")

    def tanh(self) -> Tensor:
        """tanh(x), any shape. Local derivative: 1 - tanh(x)**2."""
        t = np.tanh(self.data)
        return self._unary(t, 1 - t * t, "tanh")

    def exp(self) -> Tensor:
        """e**x, any shape. Local derivative: e**x itself."""
        e = np.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Tensor:
        """Natural log, any shape, every entry > 0. Local derivative: 1 / x."""
        if np.any(self.data <= 0):
            raise ValueError(
                f"log of a tensor with non-positive entries (smallest {self.data.min():.4g}); "
                "for log-probabilities from logits use log_softmax, which never takes log(0)"
            )
        return self._unary(np.log(self.data), 1 / self.data, "log")

    # ------------------------------------------------------------------ reductions and shapes
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (all axes when None), as np.sum. (n, m) -> (m,) for axis=0,
        (1, m) with keepdims. Every entry enters the sum with weight 1, so x.grad += z.grad
        copied back along the summed axes."""
        axes = _reduced_axes(axis, self.ndim)
        out = Tensor(np.sum(self.data, axis=axes, keepdims=keepdims), (self,), "sum")

        def _backward() -> None:
            self.grad += _spread(out.grad, self.shape, axes, keepdims)

        out._backward = _backward
        return out

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over `axis` (all axes when None), as np.mean; shapes as in `sum`. Each entry
        enters with weight 1/count, count = the number of entries averaged, so x.grad +=
        z.grad / count copied back along the averaged axes."""
        axes = _reduced_axes(axis, self.ndim)
        count = int(np.prod([self.shape[a] for a in axes]))
        out = Tensor(np.mean(self.data, axis=axes, keepdims=keepdims), (self,), "mean")

        def _backward() -> None:
            self.grad += _spread(out.grad / count, self.shape, axes, keepdims)

        out._backward = _backward
        return out

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same entries in a new shape, as np.reshape: x.reshape(2, 6) or x.reshape((2, 6)),
        one -1 allowed; (*any) -> shape. The gradient is the output's gradient reshaped back to
        self's shape."""
        new_shape: Any = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        out = Tensor(self.data.reshape(new_shape), (self,), "reshape")

        def _backward() -> None:
            self.grad += out.grad.reshape(self.shape)

        out._backward = _backward
        return out

    # ------------------------------------------------------------------ classification
    def log_softmax(self, axis: int = -1) -> Tensor:
        """y = x - logsumexp(x) along `axis` (stable), same shape as x, e.g. (batch, classes).

        Backward, with g = dL/dy and p = softmax(x) = exp(y):
        x.grad += g - p * sum(g, axis, keepdims=True).
        """
        _reduced_axes(axis, self.ndim)  # a clear error for a bad axis
        y = log_softmax(self.data, axis=axis)
        out = Tensor(y, (self,), "log_softmax")

        def _backward() -> None:
            g = out.grad
            self.grad += g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)

        out._backward = _backward
        return out

    def nll_loss(self, labels: np.ndarray) -> Tensor:
        """Negative log-likelihood (PyTorch: nll_loss): self holds log-probabilities (batch, classes),
        labels are integers (batch,); L = -mean over the batch of self[i, labels[i]], a scalar.
        Backward: self.grad[i, labels[i]] += -L.grad / batch; every other entry gets 0."""
        labels = _check_labels(self, labels)
        batch = self.shape[0]
        rows = np.arange(batch)
        out = Tensor(-np.mean(self.data[rows, labels]), (self,), "nll_loss")

        def _backward() -> None:
            self.grad[rows, labels] -= out.grad / batch  # one entry per row: no repeats

        out._backward = _backward
        return out

    def cross_entropy(self, labels: np.ndarray) -> Tensor:
        """Softmax cross-entropy of logits (batch, classes) with integer labels (batch,), a scalar
        mean over the batch: log_softmax then nll_loss, as PyTorch's F.cross_entropy does.
        Together their backward gives (softmax(logits) - one_hot(labels)) / batch."""
        return self.log_softmax(axis=1).nll_loss(labels)

    # ------------------------------------------------------------------ the backward pass
    def topological_order(self) -> list[Tensor]:
        """Every node this tensor depends on, each after all of its inputs (the same walk as
        Value's: autodiff.topological_order)."""
        return topological_order(self)

    def backward(self, grad: np.ndarray | None = None) -> None:
        """Fill `grad` of every node in the graph with d(self)/d(node), times the seed `grad`.

        For a one-element output (a loss) the seed defaults to 1. For any other shape, pass the
        seed dL/d(self), of self's shape, as PyTorch does. As with `Value`, leaves accumulate
        across calls (call `zero_grad()` between them); intermediate nodes are reset each time.
        """
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a seed gradient needs a one-element output (a loss), but "
                    f"this tensor has shape {self.shape}. Reduce it first (.sum() or .mean()), or "
                    f"pass the gradient of a loss with respect to it: backward(grad) with grad of "
                    f"shape {self.shape}."
                )
            grad = np.ones_like(self.data)
        grad = np.asarray(grad)
        if grad.shape != self.shape:
            raise ValueError(f"backward: the seed gradient must have the tensor's shape "
                             f"{self.shape}, got {grad.shape}")
        order = self.topological_order()
        for node in order:
            if node._prev:
                node.grad = np.zeros_like(node.data)
        self.grad = grad.astype(self.dtype, copy=True)
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set `grad` to 0 on this tensor and everything it was computed from."""
        for node in self.topological_order():
            node.grad = np.zeros_like(node.data)

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        op = f", op={self._op!r}" if self._op else ""
        return f"Tensor({name}shape={self.shape}, dtype={self.dtype}{op})"


def _check_labels(log_probs: Tensor, labels: np.ndarray) -> np.ndarray:
    """Integer labels of shape (batch,) in [0, classes) for log_probs of shape (batch, classes)."""
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: expected log-probabilities of shape (batch, classes), "
                         f"got {log_probs.shape}")
    batch, classes = log_probs.shape
    labels = np.asarray(labels)
    if labels.shape != (batch,):
        raise ValueError(f"nll_loss: labels must have shape ({batch},), one per example, "
                         f"got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"nll_loss: labels must be integers, got dtype {labels.dtype}. "
                        "Use labels.astype(int).")
    if batch and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"nll_loss: labels must lie in [0, {classes}) for {classes} classes, "
                         f"got values in [{labels.min()}, {labels.max()}]")
    return labels
