"""What the exercise tests use: `expect_array`, `expect_close`, `expect_tuple`, `expect_function`,
`expect` and `as_array`. Each fails with a `CheckFailed` whose message says what was checked, what was
expected and what came back; `expect_not` names a common mistake when the answer matches it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .i18n import N_, tr

RETURNED_NONE = N_("{what} returned None: replace the `...` with your code and `return` the result.")
EXPECTED_GOT = N_("{what}: expected {expected}, got {got}.")

# --- Messages in plain words -------------------------------------------------------------------

class CheckFailed(AssertionError):
    """A test case found a wrong answer; the message says what was checked, expected and got."""


def _show(value: Any) -> str:
    """A short, rounded rendering of a number or a small array for messages."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # e.g. a ragged list
        array = np.asarray(None)
    if array.dtype.kind in "fiub":
        if array.ndim == 0:
            return f"{array.item():.6g}" if array.dtype.kind == "f" else str(array.item())
        if array.size <= 12:
            text = np.array2string(array, separator=", ", formatter={"float_kind": lambda v: f"{v:.4g}"})
            return " ".join(text.split())
        return tr("an array of shape {shape}", shape=array.shape)
    return repr(value) if len(repr(value)) <= 80 else tr("a {type}", type=type(value).__name__)


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


def expect_function(function: Any, name: str) -> None:
    """Fail unless `function` (the reader's `name`) is defined and callable."""
    if function is None:
        raise CheckFailed(tr("`{name}` is not defined yet: run the cell where you wrote it, then run this "
                             "check again.", name=name))
    if not callable(function):
        raise CheckFailed(tr("`{name}` should be a function, but it is {got}.", name=name,
                             got=_show(function)))


def as_array(got: Any, what: str) -> np.ndarray:
    """The reader's answer `got` as a float64 array, or a CheckFailed that says why it is not one
    (None, a leftover `...`, or something that is not numbers). `what` names it in the message."""
    if got is None:
        raise CheckFailed(tr(RETURNED_NONE, what=what))
    if got is Ellipsis:
        raise CheckFailed(tr("{what} is still `...`: replace it with your answer.", what=what))
    if isinstance(got, (list, tuple)) and any(item is None for item in got):
        raise CheckFailed(tr(RETURNED_NONE, what=what))
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailed(tr("{what} should be a number or an array of numbers, got {got}.", what=what,
                             got=_show(got))) from None


def expect_tuple(got: Any, length: int, what: str) -> tuple:
    """Fail unless `got` is a tuple (or list) of `length` values; return it as a tuple.

    For functions that return several results, e.g. `(grad_X, grad_W, grad_b)`.
    """
    if got is None or got is Ellipsis:
        raise CheckFailed(tr("{what} returned {got}: replace the `...` with your code and `return` a tuple "
                             "of {length} values.", what=what, got="None" if got is None else "...",
                             length=length))
    if not isinstance(got, (tuple, list)) or len(got) != length:
        raise CheckFailed(tr("{what} should return a tuple of {length} values, got {got}.", what=what,
                             length=length, got=_show(got)))
    return tuple(got)


def expect_close(got: Any, expected: float, what: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless `got` is one number within rtol * |expected| + atol of `expected`.

    `what` names the computation in the message, e.g. "mse(pred, target) for the example above".
    """
    value = as_array(got, what)
    if value.size != 1:
        raise CheckFailed(tr("{what} should be a single number, got an array of shape {shape}.", what=what,
                             shape=value.shape))
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise CheckFailed(tr("{what}: expected {expected}, got {got}. Look for an overflow or a division by "
                             "zero.", what=what, expected=_show(expected), got=value))
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise CheckFailed(tr(EXPECTED_GOT, what=what, expected=_show(expected), got=_show(value)))


def expect_array(got: Any, expected: Any, what: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless `got` has the shape of `expected` and every entry is close to it.

    Compares shapes first (the commonest slip), then finiteness, then values; the message shows the
    two arrays when they are small, otherwise the entry that is furthest off.
    """
    value = as_array(got, what)
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        raise CheckFailed(tr("{what}: expected shape {expected}, got shape {got}.", what=what,
                             expected=expected.shape, got=value.shape))
    bad = ~np.isfinite(value)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailed(tr("{what}: entry {index} is {got}; expected {expected}. Look for an overflow or a "
                             "division by zero.", what=what, index=index, got=value[index],
                             expected=_show(expected[index])))
    close = np.isclose(value, expected, rtol=rtol, atol=atol)
    if not close.all():
        if expected.size <= 12:
            raise CheckFailed(tr(EXPECTED_GOT, what=what, expected=_show(expected), got=_show(value)))
        index = np.unravel_index(np.argmax(np.abs(value - expected)), expected.shape)
        index = tuple(int(i) for i in index)
        raise CheckFailed(tr("{what}: {wrong} of {size} entries are wrong; at {index} expected {expected}, "
                             "got {got}.", what=what, wrong=int((~close).sum()), size=expected.size,
                             index=index, expected=_show(expected[index]), got=_show(value[index])))


def matches(got: Any, wrong: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Whether `got` equals `wrong` (same shape, entries close): the answer a known mistake gives."""
    try:
        value = np.asarray(got, dtype=np.float64)
        wrong = np.asarray(wrong, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return value.shape == wrong.shape and bool(np.allclose(value, wrong, rtol=rtol, atol=atol))


def expect_not(got: Any, wrong: Any, message: str, **tolerances: float) -> None:
    """Fail with `message` (which names the mistake) if `got` is what that mistake computes."""
    if matches(got, wrong, **tolerances):
        raise CheckFailed(message)
