"""The loss landscape: gradients and curvature of a loss as a function of all the weights, and the
test functions the book's optimisers race on. Taught in chapters 7 (curvature and the learning
rate), 8 (momentum, the Rosenbrock valley) and 12 (saddle points).

- `flat_gradient(model, loss, X, y)`: every parameter's gradient in one vector, shape (P,).
- `hessian(grad, x)`: the (d, d) Hessian of a function of a point, by central differences of its
  gradient; `model_hessian(model, loss, X, y)` does the same for a network's P weights, (P, P).
- `rosenbrock(x, y)` and `rosenbrock_grad(point)`: Rosenbrock's curved valley, minimum 0 at (1, 1).

Central differences need float64: with eps = 1e-5 a float32 gradient's rounding error (about 1e-7
relative) divided by 2 eps would swamp the curvature.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .layers import Layer, backward_to_parameters
from .losses import Loss


def flat_gradient(model: Layer, loss: Loss, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/d(every parameter) at the model's current weights, flattened into one vector.

    X: (n, in_features), y: the targets `loss` expects. Returns shape (P,), P the number of weights,
    in the order of `model.parameters()` (each parameter's entries in row-major order). Overwrites
    the parameters' `.grad`.
    """
    model.zero_grad()
    loss.forward(model.forward(X), y)
    backward_to_parameters(model, loss.backward())
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


def hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
            eps: float = 1e-5) -> np.ndarray:
    """The Hessian of a function at the point x, by central differences of its gradient.

    grad: the gradient, point (d,) -> (d,).  x: the point, shape (d,), converted to float64.
    Column j is (grad(x + eps e_j) - grad(x - eps e_j)) / (2 eps); the result is symmetrised,
    (H + H.T) / 2, as every Hessian of a smooth function is. Returns shape (d, d), float64.
    Costs 2d gradient evaluations.
    """
    x = np.array(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"hessian needs a point of shape (d,), got shape {x.shape}; "
                         "flatten it first (x.ravel())")
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = eps
        columns.append((np.asarray(grad(x + step)) - np.asarray(grad(x - step))) / (2 * eps))
    H = np.column_stack(columns)
    return (H + H.T) / 2


def model_hessian(model: Layer, loss: Loss, X: np.ndarray, y: np.ndarray,
                  eps: float = 1e-5) -> np.ndarray:
    """The Hessian of the loss with respect to all P weights of the model, shape (P, P), float64.

    Nudges one weight at a time by +-eps in place (and puts it back), taking central differences of
    `flat_gradient`; rows and columns follow `flat_gradient`'s order. Symmetrised. Costs 2P
    forward and backward passes, so it suits the book's small networks (P up to a few hundred).
    The model must be float64 (see the module docstring).
    """
    params = model.parameters()
    wrong = [p.name for p in params if p.data.dtype != np.float64]
    if wrong:
        raise TypeError(f"model_hessian needs float64 parameters, but {wrong} are not: central "
                        "differences in float32 drown in rounding error; build the model with "
                        "dtype=np.float64")
    columns = []
    for p in params:
        values = p.data.reshape(-1)  # a view: writing into it moves the weight
        for j in range(values.size):
            original = values[j]
            values[j] = original + eps
            g_plus = flat_gradient(model, loss, X, y)
            values[j] = original - eps
            g_minus = flat_gradient(model, loss, X, y)
            values[j] = original
            columns.append((g_plus - g_minus) / (2 * eps))
    H = np.column_stack(columns)
    return (H + H.T) / 2


def rosenbrock(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray | float:
    """Rosenbrock's function (1960), f(x, y) = (1 - x)^2 + 100 (y - x^2)^2.

    x, y: arrays of one shape (a grid from np.meshgrid, for contour plots) or numbers; returns the
    same shape. Its minimum, 0, lies at (1, 1), at the bottom of a narrow valley curving along
    y = x^2.
    """
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(point: np.ndarray) -> np.ndarray:
    """The gradient of `rosenbrock`: point (..., 2) holding (x, y) in its last axis, returns the
    same shape, (df/dx, df/dy) = (-2 (1 - x) - 400 x (y - x^2), 200 (y - x^2)).

    A batch of points (G, 2) gives G gradients at once (chapter 8 races 80 settings this way).
    """
    point = np.asarray(point)
    if point.shape[-1:] != (2,):
        raise ValueError(f"rosenbrock_grad needs points of shape (..., 2), got {point.shape}")
    x, y = point[..., 0], point[..., 1]
    return np.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], axis=-1)
