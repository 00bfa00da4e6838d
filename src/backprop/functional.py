"""Numerically stable elementwise and row-wise functions shared by layers and losses. Taught in
chapter 1 (the stable sigmoid) and chapter 3 (softmax, log-sum-exp).

Every function keeps the dtype of its input: float32 in, float32 out.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-x)), any shape.

    Written as 0.5 * (1 + tanh(x / 2)), which is the same function but never overflows
    (the textbook formula computes exp(1000) for x = -1000).
    """
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def logsumexp(z: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(z))) along `axis`, computed as m + log(sum(exp(z - m))) with m = max(z).

    Subtracting the maximum keeps every exponent <= 0, so nothing overflows.
    z: any shape; the result drops `axis` unless `keepdims`.
    """
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(z)) along `axis`, stable for large logits. Same shape as z."""
    return z - logsumexp(z, axis=axis, keepdims=True)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z) / sum(exp(z)) along `axis` (rows of a (batch, classes) array by default).

    The row maximum is subtracted first; softmax is unchanged by that shift and exp never overflows.
    """
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def one_hot(labels: np.ndarray, num_classes: int, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Integer labels of shape (n,) -> one-hot rows of shape (n, num_classes)."""
    labels = np.asarray(labels)
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out
