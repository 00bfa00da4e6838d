"""Weight initialisation and the package's random-number story. Taught in chapter 11.

Every function that draws random numbers takes `rng`: a seed (int), a numpy Generator, or None
(a fresh, unseeded generator). The default everywhere in the package is the seed 0, so the same
call gives the same numbers, which is how the book's notebooks stay deterministic. To draw
independent numbers in several calls (the layers of one network, the epochs of one run), create
one Generator and pass it to every call.

All initialisers take the weight's shape (fan_in, fan_out), the layout of `Linear.W`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

RNG = np.random.Generator | int | None
DType = np.dtype | type  # a dtype, or a scalar type such as np.float32


def make_rng(rng: RNG = 0) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator (returned as is), or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a seed (int), a numpy Generator or None, got {type(rng).__name__}")


def _fans(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"expected a weight shape (fan_in, fan_out), got {shape}")
    return shape[0], shape[1]


def _uniform(bound: float, shape: tuple[int, ...], rng: RNG, dtype: DType) -> np.ndarray:
    return make_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)


def _normal(std: float, shape: tuple[int, ...], rng: RNG, dtype: DType) -> np.ndarray:
    return (make_rng(rng).standard_normal(size=shape) * std).astype(dtype)


def xavier_uniform(shape: tuple[int, int], *, gain: float = 1.0, rng: RNG = 0,
                   dtype: DType = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations and of gradients roughly constant through tanh/sigmoid layers.
    """
    fan_in, fan_out = _fans(shape)
    return _uniform(gain * math.sqrt(6 / (fan_in + fan_out)), shape, rng, dtype)


def xavier_normal(shape: tuple[int, int], *, gain: float = 1.0, rng: RNG = 0,
                  dtype: DType = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return _normal(gain * math.sqrt(2 / (fan_in + fan_out)), shape, rng, dtype)


def he_uniform(shape: tuple[int, int], *, gain: float = math.sqrt(2), rng: RNG = 0,
               dtype: DType = np.float64) -> np.ndarray:
    """He et al. (2015), "Kaiming": U(-a, a), a = gain * sqrt(3 / fan_in), gain sqrt(2) for ReLU."""
    fan_in, _ = _fans(shape)
    return _uniform(gain * math.sqrt(3 / fan_in), shape, rng, dtype)


def he_normal(shape: tuple[int, int], *, gain: float = math.sqrt(2), rng: RNG = 0,
              dtype: DType = np.float64) -> np.ndarray:
    """He et al. (2015), "Kaiming": N(0, std^2), std = gain / sqrt(fan_in), gain sqrt(2) for ReLU.

    ReLU zeroes half of its inputs, halving the variance; the factor 2 puts it back.
    """
    fan_in, _ = _fans(shape)
    return _normal(gain / math.sqrt(fan_in), shape, rng, dtype)


def pytorch_default(shape: tuple[int, int], *, rng: RNG = 0, dtype: DType = np.float64) -> np.ndarray:
    """What torch.nn.Linear uses for its weight: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    fan_in, _ = _fans(shape)
    return _uniform(1 / math.sqrt(fan_in), shape, rng, dtype)


def normal(shape: tuple[int, int], *, std: float = 1.0, rng: RNG = 0,
           dtype: DType = np.float64) -> np.ndarray:
    """N(0, std^2) regardless of the layer's size: the "naive" initialisation of chapter 11."""
    return _normal(std, shape, rng, dtype)


# Aliases under the names other books and frameworks use.
glorot_uniform, glorot_normal = xavier_uniform, xavier_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal

INITIALIZERS = {
    "default": pytorch_default,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "normal": normal,
}


Initializer = Callable[..., np.ndarray]


def initialize(init: str | Initializer, shape: tuple[int, int], *, rng: RNG = 0,
               dtype: DType = np.float64) -> np.ndarray:
    """Draw a weight of `shape` (fan_in, fan_out) in `dtype`.

    init: the name of an initialiser (a key of INITIALIZERS), or a function called as
    init(shape, rng=rng, dtype=dtype) that returns an array of that shape, such as
    `xavier_uniform` or `functools.partial(normal, std=0.01)`.
    """
    if isinstance(init, str):
        if init not in INITIALIZERS:
            raise ValueError(f"unknown init {init!r}; choose one of {sorted(INITIALIZERS)}")
        init = INITIALIZERS[init]
    elif not callable(init):
        raise TypeError(f"init must be a name or a function (shape, rng, dtype) -> array, got {init!r}")
    W = np.asarray(init(shape, rng=rng, dtype=dtype))
    if W.shape != tuple(shape):
        raise ValueError(f"init {init!r} returned shape {W.shape}, expected {tuple(shape)}")
    return W.astype(dtype, copy=False)
