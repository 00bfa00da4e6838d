"""Weight initialisation and the package's random-number story.

Every function that draws random numbers takes `rng`: a seed (int), a numpy Generator, or None
(a fresh, unseeded generator). Passing the same seed gives the same numbers, which is how the
book's notebooks stay deterministic.

All initialisers take the weight's shape (fan_in, fan_out), the layout of `Linear.W`.
"""

from __future__ import annotations

import math

import numpy as np

RNG = np.random.Generator | int | None
DType = np.dtype | type  # a dtype, or a scalar type such as np.float32


def make_rng(rng: RNG = None) -> np.random.Generator:
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


def xavier_uniform(shape: tuple[int, int], *, gain: float = 1.0, rng: RNG = None,
                   dtype: DType = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations and of gradients roughly constant through tanh/sigmoid layers.
    """
    fan_in, fan_out = _fans(shape)
    return _uniform(gain * math.sqrt(6 / (fan_in + fan_out)), shape, rng, dtype)


def xavier_normal(shape: tuple[int, int], *, gain: float = 1.0, rng: RNG = None,
                  dtype: DType = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return _normal(gain * math.sqrt(2 / (fan_in + fan_out)), shape, rng, dtype)


def he_uniform(shape: tuple[int, int], *, gain: float = math.sqrt(2), rng: RNG = None,
               dtype: DType = np.float64) -> np.ndarray:
    """He et al. (2015), "Kaiming": U(-a, a), a = gain * sqrt(3 / fan_in), gain sqrt(2) for ReLU."""
    fan_in, _ = _fans(shape)
    return _uniform(gain * math.sqrt(3 / fan_in), shape, rng, dtype)


def he_normal(shape: tuple[int, int], *, gain: float = math.sqrt(2), rng: RNG = None,
              dtype: DType = np.float64) -> np.ndarray:
    """He et al. (2015), "Kaiming": N(0, std^2), std = gain / sqrt(fan_in), gain sqrt(2) for ReLU.

    ReLU zeroes half of its inputs, halving the variance; the factor 2 puts it back.
    """
    fan_in, _ = _fans(shape)
    return _normal(gain / math.sqrt(fan_in), shape, rng, dtype)


def pytorch_default(shape: tuple[int, int], *, rng: RNG = None, dtype: DType = np.float64) -> np.ndarray:
    """What torch.nn.Linear uses for its weight: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    fan_in, _ = _fans(shape)
    return _uniform(1 / math.sqrt(fan_in), shape, rng, dtype)


def normal(shape: tuple[int, int], *, std: float = 1.0, rng: RNG = None,
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


def initialize(name: str, shape: tuple[int, int], *, rng: RNG = None,
               dtype: DType = np.float64) -> np.ndarray:
    """Draw a weight of `shape` with the initialiser called `name` (a key of INITIALIZERS)."""
    try:
        initializer = INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown init {name!r}; choose one of {sorted(INITIALIZERS)}") from None
    return initializer(shape, rng=rng, dtype=dtype)
