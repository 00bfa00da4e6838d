"""Loss functions: `forward(pred, target) -> float` and `backward() -> dL/dpred`. Taught in
chapter 3 (MSE, binary and softmax cross-entropy).

Unlike PyTorch, where the loss is a tensor and `loss.backward()` runs the whole backward pass, a
loss here returns a number, and its `backward()` returns dL/dpred explicitly: the gradient that
`model.backward(...)` then carries through the layers.

`reduction="mean"` (the default, as in PyTorch) averages over the batch; `reduction="sum"` adds.
The choice scales the gradient by the batch size, and so the learning rate that works
(chapter 3 shows this). The gradient returned by `backward` has the shape and dtype of `pred`.
"""

from __future__ import annotations

import numpy as np

from .functional import log_softmax, sigmoid


class Loss:
    """Base class: remembers what `backward` needs from the last `forward`."""

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction
        self._grad: np.ndarray | None = None

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """dL/dpred for the last forward call: same shape and dtype as pred.

        A new array on every call, so the caller may change it in place (e.g. `grad *= 2`) without
        changing what the next call returns."""
        if self._grad is None:
            raise RuntimeError(f"{type(self).__name__}: backward() was called before forward()")
        return self._grad.copy()

    def _reduce(self, per_element: np.ndarray, count: int) -> float:
        total = float(np.sum(per_element))
        return total / count if self.reduction == "mean" else total

    def _scale(self, count: int) -> float:
        return 1.0 / count if self.reduction == "mean" else 1.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


def _float_pred(name: str, pred: np.ndarray) -> np.ndarray:
    pred = np.asarray(pred)
    if not np.issubdtype(pred.dtype, np.floating):
        raise TypeError(f"{name}: pred must be a float array, got dtype {pred.dtype}")
    return pred


def _same_shape(name: str, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return target as pred's dtype, insisting on exactly pred's shape."""
    target = np.asarray(target)
    if target.shape != pred.shape:
        hint = ""
        if target.ndim == 1 and pred.shape == (target.shape[0], 1):
            hint = (f" Broadcasting would silently turn pred - target into a "
                    f"({target.shape[0]}, {target.shape[0]}) array. Use target.reshape(-1, 1).")
        elif pred.ndim == 1 and target.shape == (pred.shape[0], 1):
            hint = " Use target.reshape(-1) or give pred a column axis."
        raise ValueError(
            f"{name}: pred has shape {pred.shape} but target has shape {target.shape}; "
            f"they must match exactly.{hint}"
        )
    return target.astype(pred.dtype, copy=False)


class MSELoss(Loss):
    """Mean squared error over every element: L = mean((pred - target)^2).

    pred, target: the same shape, e.g. (batch, outputs).  dL/dpred = 2 (pred - target) / N with
    N the number of elements (mean) or 1 (sum). Some books write L = 1/2 sum(...) so that the 2
    cancels; that is the sum reduction divided by 2, and it halves the gradient.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        pred = _float_pred("MSELoss", pred)
        target = _same_shape("MSELoss", pred, target)
        diff = pred - target
        self._grad = 2 * diff * self._scale(diff.size)
        return self._reduce(diff * diff, diff.size)


class BCELoss(Loss):
    """Binary cross-entropy on probabilities p in [0, 1]:
    L = -mean(y log p + (1 - y) log(1 - p)).

    pred (probabilities), target (0/1 or soft labels in [0, 1]): the same shape, e.g. (batch, 1).
    The logarithms are clamped at -100 as in PyTorch, so p = 0 or 1 gives a large finite loss
    instead of inf. dL/dp = (p - y) / (p (1 - p)) / N. Prefer BCEWithLogitsLoss on logits: it is
    more accurate and its gradient is simply (sigmoid(z) - y) / N.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        p = _float_pred("BCELoss", pred)
        y = _same_shape("BCELoss", p, target)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(
                f"BCELoss: pred must be probabilities in [0, 1], got values in "
                f"[{p.min():.3g}, {p.max():.3g}]. Did you pass logits? Use BCEWithLogitsLoss."
            )
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        tiny = np.finfo(p.dtype).tiny
        self._grad = (p - y) / np.maximum(p * (1 - p), tiny) * self._scale(p.size)
        return self._reduce(-(y * log_p + (1 - y) * log_1mp), p.size)


class BCEWithLogitsLoss(Loss):
    """Sigmoid followed by binary cross-entropy, fused and stable, on logits z (any real numbers).

    pred (logits z), target (0/1 or in [0, 1]): the same shape, e.g. (batch, 1).
    L = mean(max(z, 0) - z y + log(1 + exp(-|z|))), which never overflows;
    dL/dz = (sigmoid(z) - y) / N.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = _float_pred("BCEWithLogitsLoss", pred)
        y = _same_shape("BCEWithLogitsLoss", z, target)
        self._grad = (sigmoid(z) - y) * self._scale(z.size)
        return self._reduce(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), z.size)


class SoftmaxCrossEntropyLoss(Loss):
    """Softmax over classes followed by cross-entropy, fused: PyTorch's `nn.CrossEntropyLoss`,
    under a name that says the softmax is inside (pass logits, not probabilities).

    pred: logits, shape (batch, classes), any real numbers.
    target: integer labels, shape (batch,), values in [0, classes); or one-hot / probability rows,
    shape (batch, classes).
    L = mean over the batch of logsumexp(z) - z[label], computed with log-sum-exp so large logits
    do not overflow. dL/dz = (softmax(z) - y) / batch: the softmax Jacobian and the log cancel.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = _float_pred("SoftmaxCrossEntropyLoss", pred)
        if z.ndim != 2:
            raise ValueError(
                f"SoftmaxCrossEntropyLoss: pred must be logits of shape (batch, classes), "
                f"got {z.shape}"
            )
        batch, classes = z.shape
        y = self._target_rows(np.asarray(target), batch, classes, z.dtype)
        log_p = log_softmax(z, axis=1)
        self._grad = (np.exp(log_p) - y) * self._scale(batch)
        return self._reduce(-np.sum(y * log_p, axis=1), batch)

    @staticmethod
    def _target_rows(target: np.ndarray, batch: int, classes: int, dtype) -> np.ndarray:
        """Integer labels or one-hot rows -> (batch, classes) rows of pred's dtype."""
        name = "SoftmaxCrossEntropyLoss"
        if target.shape == (batch, classes):
            return target.astype(dtype, copy=False)
        if target.shape != (batch,):
            raise ValueError(
                f"{name}: target must be integer labels of shape ({batch},) or one-hot rows of "
                f"shape ({batch}, {classes}), got shape {target.shape}"
            )
        if not np.issubdtype(target.dtype, np.integer):
            raise TypeError(
                f"{name}: labels of shape ({batch},) must be integers, got dtype {target.dtype}. "
                "Use labels.astype(int)."
            )
        if batch and (target.min() < 0 or target.max() >= classes):
            raise ValueError(
                f"{name}: labels must lie in [0, {classes}) for {classes} classes, got values in "
                f"[{target.min()}, {target.max()}]"
            )
        rows = np.zeros((batch, classes), dtype=dtype)
        rows[np.arange(batch), target] = 1
        return rows

