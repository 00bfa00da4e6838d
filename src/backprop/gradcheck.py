"""Gradient checking: compare a layer's backward pass with central finite differences. Taught in
chapter 6 (the central difference itself in chapter 2).

The numerical derivative (f(x + eps) - f(x - eps)) / (2 eps) has error O(eps^2) from truncation
and O(machine_eps / eps) from round-off, so it is only trustworthy in float64 with eps near 1e-6.
Agreement is measured by the relative error |a - b| / max(floor, |a| + |b|), elementwise, reported
as its maximum; in float64 a correct backward gives about 1e-7 or less, a wrong one about 1e-2 or
more. Inputs that sit within eps of a kink (ReLU at 0) can fail a correct layer: keep them away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from .init import RNG
from .layers import Layer, Sequential
from .losses import Loss

DEFAULT_THRESHOLD = 1e-7


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    """Largest elementwise |a - b| / max(floor, |a| + |b|); 0 for two empty arrays.

    The floor keeps entries where both values are (almost) zero from dividing by zero.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar f() with respect to the array x, same shape as x.

    x is nudged in place, one entry at a time, and restored; f must read x when called.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f()
        x[index] = original - eps
        f_minus = f()
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


@dataclass
class GradCheckReport:
    """Max relative error per checked array ("input", then each parameter by name)."""

    name: str
    errors: dict[str, float] = field(default_factory=dict)
    threshold: float = DEFAULT_THRESHOLD

    @property
    def passed(self) -> bool:
        return all(error <= self.threshold for error in self.errors.values())

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [f"gradient check of {self.name} (threshold {self.threshold:.0e})"]
        for key, error in self.errors.items():
            verdict = "ok" if error <= self.threshold else "FAILED"
            lines.append(f"  {key:<12} max relative error {error:.2e}  {verdict}")
        return "\n".join(lines)

    __repr__ = __str__


def _require_float64(name: str, *arrays: np.ndarray) -> None:
    for a in arrays:
        if a.dtype != np.float64:
            raise TypeError(
                f"gradient checking {name} needs float64, got {a.dtype}: float32 keeps about 7 digits, "
                "so round-off swamps the finite differences, and even the best step size leaves "
                "relative errors far above the 1e-7 threshold. Build the layer with "
                "dtype=np.float64 and pass float64 inputs."
            )


def check_layer(layer: Layer, x: np.ndarray, *, eps: float = 1e-6, rng: RNG = 0,
                threshold: float = DEFAULT_THRESHOLD) -> GradCheckReport:
    """Check `layer.backward` for the input and every parameter.

    x: a float64 input of the shape the layer expects, e.g. (batch, in_features).
    The scalar being differentiated is f = sum(layer(x) * r) with fixed random weights r of the
    output's shape, so every output entry contributes with its own weight; then
    backward(r) must equal df/dx, and the parameter grads df/dW. Parameter .grad arrays are
    zeroed before and left holding the analytic gradient.
    """
    x = np.array(x)  # a copy: the check nudges it
    _require_float64(repr(layer), x, *[p.data for p in layer.parameters()])
    r = np.random.default_rng(rng).standard_normal(layer.forward(x).shape)

    def f() -> float:
        return float(np.sum(layer.forward(x) * r))

    layer.zero_grad()
    layer.forward(x)
    # A Sequential skips dL/dx unless asked: here dL/dx is one of the gradients checked.
    if isinstance(layer, Sequential):
        analytic_input = layer.backward(r.copy(), input_grad=True)
    else:
        analytic_input = layer.backward(r.copy())
    report = GradCheckReport(repr(layer), threshold=threshold)
    report.errors["input"] = relative_error(cast(np.ndarray, analytic_input), numerical_gradient(f, x, eps))
    for name, p in layer.named_parameters():
        report.errors[name] = relative_error(p.grad, numerical_gradient(f, p.data, eps))
    return report


def check_loss(loss: Loss, pred: np.ndarray, target: np.ndarray, *, eps: float = 1e-6,
               threshold: float = DEFAULT_THRESHOLD) -> GradCheckReport:
    """Check `loss.backward()` against finite differences of `loss.forward(pred, target)`.

    pred: float64 predictions of the shape the loss expects; target: as the loss expects.
    """
    pred = np.array(pred)  # a copy: the check nudges it
    _require_float64(repr(loss), pred)
    loss.forward(pred, target)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(pred, target), pred, eps)
    report = GradCheckReport(repr(loss), threshold=threshold)
    report.errors["pred"] = relative_error(analytic, numeric)
    return report
