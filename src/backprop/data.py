"""Data sets for the book, all offline: small generated ones (seeded) and scikit-learn's 8x8 digits.
Introduced as needed: moons and 1-D regression in chapter 4, XOR in chapter 5, the digits in
chapters 7 and 10, mini-batches (`batches`) in chapter 10, spirals in chapter 9.

Conventions: inputs X have shape (n, features); class labels y are integers of shape (n,);
regression targets have shape (n, 1). `rng` is a seed or a numpy Generator (see `init.make_rng`).
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import struct
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .init import RNG, DType, make_rng
from .layers import Linear, Sequential, Tanh


def xor(dtype: DType = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X (4, 2) of 0/1 inputs, y (4,) labels, 1 where exactly one input is 1."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    return X, np.array([0, 1, 1, 0])


def spirals(n_per_class: int = 100, noise: float = 0.2, classes: int = 2,
            rng: RNG = 0, dtype: DType = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (cs231n's toy set): X (classes * n_per_class, 2), y (n,) in [0, classes)."""
    rng = make_rng(rng)
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), classes)
    labels = np.repeat(np.arange(classes), n_per_class)
    angle = (np.tile(np.linspace(0, 4.0, n_per_class), classes) + labels * 2 * np.pi / classes
             + noise * rng.standard_normal(classes * n_per_class))
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return X.astype(dtype), labels


def moons(n: int = 200, noise: float = 0.1, rng: RNG = 0,
          dtype: DType = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: X (n, 2), y (n,) in {0, 1}; Gaussian noise of std `noise`."""
    rng = make_rng(rng)
    n_top = n // 2
    t_top, t_bottom = np.linspace(0, np.pi, n_top), np.linspace(0, np.pi, n - n_top)
    top = np.column_stack([np.cos(t_top), np.sin(t_top)])
    bottom = np.column_stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)])
    X = np.vstack([top, bottom]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_top, dtype=int), np.ones(n - n_top, dtype=int)])
    return X.astype(dtype), y


def regression_1d(n: int = 100, noise: float = 0.1, rng: RNG = 0,
                  dtype: DType = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of y = sin(3x) on x in [-1, 1]: X (n, 1), y (n, 1), sorted by x."""
    rng = make_rng(rng)
    x = np.sort(rng.uniform(-1, 1, n))
    y = np.sin(3 * x) + noise * rng.standard_normal(n)
    return x.reshape(-1, 1).astype(dtype), y.reshape(-1, 1).astype(dtype)


def regression_net(hidden: int = 16, seed: int = 0) -> Sequential:
    """The network chapter 7 fits to `regression_1d`: Linear(1, hidden), Tanh, Linear(hidden, 1),
    Xavier-normal weights seeded by `seed` and `seed + 1`, so every call starts from the same weights.

    Input (n, 1), output (n, 1); 3 * hidden + 1 weights (49 for hidden = 16), float64.
    """
    if hidden < 1:
        raise ValueError(f"regression_net needs at least one hidden unit, got hidden={hidden}")
    return Sequential(Linear(1, hidden, init="xavier_normal", rng=seed), Tanh(),
                      Linear(hidden, 1, init="xavier_normal", rng=seed + 1))


@dataclass
class Split:
    """A train/validation/test split: X_* of shape (n_*, features), y_* integer labels (n_*,)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(getattr(self, 'y_' + name))}"
                          for name in ("train", "val", "test"))
        return f"Split({sizes}, features={self.X_train.shape[1]})"


def stratified_split(X: np.ndarray, y: np.ndarray, val_fraction: float, test_fraction: float,
                     rng: RNG = 0) -> Split:
    """Shuffle each class separately and cut it in the given fractions, so every part has the
    same class proportions. X (n, features), y (n,) integer labels."""
    rng = make_rng(rng)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label in np.unique(y):
        index = rng.permutation(np.flatnonzero(y == label))
        n_val, n_test = round(val_fraction * len(index)), round(test_fraction * len(index))
        parts["val"].append(index[:n_val])
        parts["test"].append(index[n_val:n_val + n_test])
        parts["train"].append(index[n_val + n_test:])
    order = {name: rng.permutation(np.concatenate(chunks)) for name, chunks in parts.items()}
    return Split(X[order["train"]], y[order["train"]], X[order["val"]], y[order["val"]],
                 X[order["test"]], y[order["test"]])


def digits(val_fraction: float = 0.15, test_fraction: float = 0.15, rng: RNG = 0,
           dtype: DType = np.float64) -> Split:
    """scikit-learn's 1797 handwritten digits, 8x8 pixels, shipped with scikit-learn (no download).

    Pixels (0..16) are scaled to [0, 1] and flattened: X_* (n, 64); y_* (n,) in 0..9.
    The split is stratified by digit and seeded by `rng`. Reshape a row to (8, 8) to see it.
    """
    data = _digits_table()
    X = (data[:, :-1] / 16.0).astype(dtype)
    # Labels in NumPy's index type (int32 on WebAssembly), so np.bincount and indexing accept them.
    return stratified_split(X, data[:, -1].astype(np.intp), val_fraction, test_fraction, rng)


def _digits_table() -> np.ndarray:
    """The (1797, 65) table of scikit-learn's digits file: 64 pixels, then the label.

    Read straight from scikit-learn's installed data file when it is there: importing scikit-learn
    (SciPy, pandas) takes longer than training a small network on the digits, which matters when a
    grader starts a fresh process per submission. `load_digits` reads the same file the same way.
    """
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None:
        how = ("run `%pip install scikit-learn` in a cell above" if sys.platform == "emscripten"
               else "install it with `pip install scikit-learn`")
        raise ImportError(f"bp.data.digits needs scikit-learn, which ships the digits: {how}.")
    path = Path(spec.origin or "").parent / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        with gzip.open(path, mode="rt", encoding="utf-8") as file:
            return np.loadtxt(file, delimiter=",")
    from sklearn.datasets import load_digits  # a layout without the file: let scikit-learn find it

    bunch = load_digits()
    return np.column_stack([bunch.data, bunch.target])


def batches(X: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool = True,
            rng: RNG = 0, drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield mini-batches (X[i], y[i]) that cover the data once (one epoch).

    X: (n, ...), y: (n, ...). Each batch has `batch_size` rows, the last possibly fewer
    (dropped when `drop_last`). With `shuffle`, the order is a permutation drawn from `rng`: pass
    one Generator for the whole run (`rng = np.random.default_rng(0)` before the epoch loop) so
    that every epoch gets a new order; the same seed gives the same order on every call.
    """
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}; they must match")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = make_rng(rng).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        index = order[start:start + batch_size]
        yield X[index], y[index]


# ----------------------------------------------------------------------------- optional MNIST

MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MNIST_FILES = {
    "X_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
    "X_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz",
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (MNIST's format, optionally gzipped) into a uint8 array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        zero, dtype_code, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or dtype_code != 0x08:
            raise ValueError(f"{path} is not an unsigned-byte IDX file")
        shape = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: expected {int(np.prod(shape))} bytes of data")
    return data.reshape(shape)


def load_mnist(cache_dir: str | os.PathLike = "~/.cache/backprop-book/mnist",
               url: str = MNIST_URL) -> dict[str, np.ndarray]:
    """MNIST (28x28 digits), downloaded once into `cache_dir` and read from there afterwards.

    Optional: nothing in the book or its tests needs it (they use `digits()`, which is offline).
    Returns {"X_train": (60000, 784) float32 in [0, 1], "y_train": (60000,), "X_test": ...}.
    Raises a RuntimeError that says what to do when the files are missing and cannot be fetched.
    """
    cache = Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for key, filename in MNIST_FILES.items():
        path = cache / filename
        if not path.exists():
            try:
                urllib.request.urlretrieve(url + filename, path.with_suffix(".part"))
                path.with_suffix(".part").rename(path)
            except OSError as error:
                raise RuntimeError(
                    f"MNIST file {filename} is not in {cache} and could not be downloaded "
                    f"({error}). Copy the four MNIST .gz files there by hand, or use "
                    "backprop.data.digits(), which needs no network."
                ) from error
        raw = read_idx(path)
        arrays[key] = (raw.reshape(len(raw), -1) / 255).astype(np.float32) if key[0] == "X" \
            else raw.astype(np.intp)
    return arrays
