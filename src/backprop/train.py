"""The training loop: mini-batches, forward, loss, backward, update; with history, validation,
early stopping, gradient clipping, a progress bar, and a clear stop when training diverges.
Taught in chapter 10 (with `accuracy` and `confusion_matrix`); chapter 11 adds clipping and
early stopping.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from .data import batches
from .init import RNG, make_rng
from .layers import Layer, backward_to_parameters
from .losses import Loss
from .optim import LRScheduler, Optimizer, clip_grad_norm_


@dataclass
class History:
    """What `fit` records. Per optimiser step: `step_loss`, `lr`. Per epoch: `train_loss`
    (mean of that epoch's batch losses) and, with validation data, `val_loss` and `val_accuracy`."""

    step_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # with early stopping: the epoch whose weights were kept

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


class TrainingDiverged(RuntimeError):
    """The loss became inf or NaN. `history` holds everything recorded up to that step."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def train_step(model: Layer, loss: Loss, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, *,
               clip_norm: float | None = None) -> float:
    """One step of training on one mini-batch, the loop body of chapter 7 and of `fit`:
    zero_grad, forward, loss, backward (no gradient for the data), clip if asked, update.

    X: (batch, features); y: what `loss` expects for those rows. Returns the loss on this batch
    before the update, a float. When that loss is inf or NaN the step stops there, without a
    backward pass or an update, and returns it: the caller decides what divergence means (`fit`
    raises TrainingDiverged, `lr_range_test` stops).
    """
    optimizer.zero_grad()
    value = loss.forward(model.forward(X), y)
    if not math.isfinite(value):
        return value
    backward_to_parameters(model, loss.backward())
    if clip_norm is not None:
        clip_grad_norm_(model.parameters(), clip_norm)
    optimizer.step()
    return value


def predict(model: Layer, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs for X (n, features), computed in batches: (n, outputs)."""
    return np.concatenate([model.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


def accuracy(model: Layer, X: np.ndarray, y: np.ndarray, *, threshold: float | None = None) -> float:
    """Fraction of the rows of X (n, features) that `model` classifies as their label y (n,).

    Runs the model in batches (`predict`), then decides as `accuracy_from_outputs` does; a model
    with one output per row (a binary problem) needs `threshold`: 0 for logits, 0.5 for
    probabilities.
    """
    if not isinstance(model, Layer):
        raise TypeError(
            f"accuracy(model, X, y) runs a model, got {type(model).__name__} as the model. For outputs "
            "you already have, use accuracy_from_outputs(outputs, labels)."
        )
    return accuracy_from_outputs(predict(model, X), y, threshold=threshold)


def accuracy_from_outputs(outputs: np.ndarray, labels: np.ndarray, *,
                          threshold: float | None = None) -> float:
    """Fraction of correct class predictions, from outputs already computed.

    outputs (n, classes), logits or probabilities: the largest entry of a row is its class.
    outputs (n, 1) or (n,), one score per row of a binary problem: class 1 where the score is
    above `threshold`, which must be given, since it depends on what the scores are: 0 for logits,
    0.5 for probabilities.  labels: (n,) integers, or (n, 1).
    """
    outputs = np.asarray(outputs)
    labels = np.asarray(labels).reshape(-1)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
    elif threshold is None:
        raise ValueError(
            f"accuracy: outputs of shape {outputs.shape} hold one score per example (a binary "
            "problem); pass threshold=0 if they are logits or threshold=0.5 if they are probabilities"
        )
    else:
        predicted = (outputs.reshape(-1) > threshold).astype(int)
    if len(predicted) != len(labels):
        raise ValueError(f"accuracy: {len(predicted)} predictions but {len(labels)} labels")
    return float(np.mean(predicted == labels))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int | None = None) -> np.ndarray:
    """Compute the counts (classes, classes): row = true class, column = predicted class
    (scikit-learn's `confusion_matrix`). y_true, y_pred: (n,) integer labels. To draw the result,
    use `plot.confusion_matrix_heatmap`."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = classes or int(max(y_true.max(), y_pred.max())) + 1
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def _snapshot(model: Layer) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()] + [b.copy() for _, b in model.named_buffers()]


def _restore(model: Layer, snapshot: list[np.ndarray]) -> None:
    targets = [p.data for p in model.parameters()] + [b for _, b in model.named_buffers()]
    for target, saved in zip(targets, snapshot, strict=True):
        target[...] = saved


def fit(model: Layer, loss: Loss, optimizer: Optimizer, X: np.ndarray, y: np.ndarray, *,
        epochs: int = 10, batch_size: int | None = None, shuffle: bool = True, rng: RNG = 0,
        X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
        scheduler: LRScheduler | None = None, clip_norm: float | None = None,
        patience: int | None = None, progress: bool = True) -> History:
    """Train `model` in place and return its History.

    X: (n, features); y: what `loss` expects for those rows (labels (n,) or targets (n, outputs)).
    batch_size: rows per step; None means the whole set (batch gradient descent), 1 is SGD.
    X_val, y_val: evaluated after every epoch (loss, and accuracy for classification).
    scheduler: stepped once per epoch.  clip_norm: clip the joint gradient norm per step.
    patience: early stopping; stop after this many epochs without a better validation loss and
    put back the weights (and buffers, e.g. running statistics) of the best epoch.
    The steps run in training mode and the validation in evaluation mode (Dropout, BatchNorm1d);
    afterwards the model is in the mode it was given in: call `model.eval()` before predicting.
    progress: a tqdm progress bar (a widget in Jupyter, text in a terminal).

    Raises TrainingDiverged, naming the epoch and step, when the loss stops being finite.
    """
    if patience is not None and X_val is None:
        raise ValueError("early stopping (patience=...) needs validation data: pass X_val and y_val")
    if (X_val is None) != (y_val is None):
        raise ValueError("validation needs both X_val and y_val; only one of them was given")
    rng = make_rng(rng)
    was_training = model.training  # put back at the end, as PyTorch leaves modes to the caller
    batch_size = batch_size or len(X)
    history = History()
    best_val, best_weights, waited = math.inf, None, 0
    bar = _progress_bar(epochs, progress)
    # Overflow is expected when training diverges; it is reported once, below, not as warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            epoch_losses = []
            model.train()  # Dropout and BatchNorm1d: training behaviour for the steps
            for xb, yb in batches(X, y, batch_size, shuffle=shuffle, rng=rng):
                value = train_step(model, loss, optimizer, xb, yb, clip_norm=clip_norm)
                if not math.isfinite(value):
                    bar.close()
                    raise TrainingDiverged(
                        f"training diverged at epoch {epoch}, step {len(history.step_loss) + 1}: "
                        f"the loss became {value}. The learning rate (lr={optimizer.lr:g}) is "
                        f"probably too large; try lr={optimizer.lr / 10:g}.",
                        history,
                    )
                history.step_loss.append(value)
                history.lr.append(optimizer.lr)
                epoch_losses.append(value)
            history.train_loss.append(float(np.mean(epoch_losses)))
            if scheduler is not None:
                scheduler.step()
            postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
            if X_val is not None and y_val is not None:
                outputs = predict(model.eval(), X_val)  # evaluation behaviour for validation
                history.val_loss.append(loss.forward(outputs, y_val))
                if outputs.ndim == 2 and outputs.shape[1] > 1:
                    history.val_accuracy.append(accuracy_from_outputs(outputs, y_val))
                postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
                if patience is not None:
                    if history.val_loss[-1] < best_val:
                        best_val, best_weights, waited = history.val_loss[-1], _snapshot(model), 0
                        history.best_epoch = epoch
                    else:
                        waited += 1
                        if waited >= patience:
                            break
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)
    bar.close()
    model.train(was_training)
    if best_weights is not None:
        _restore(model, best_weights)
    return history


class _NoProgressBar:
    """What `fit` calls on a progress bar, doing nothing: without one, tqdm is never imported."""

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(epochs: int, enabled: bool):
    if not enabled:
        return _NoProgressBar()
    from tqdm.auto import tqdm  # a widget in Jupyter, plain text elsewhere

    if sys.platform == "emscripten":
        tqdm.monitor_interval = 0  # tqdm's monitor is a thread, and Python in the browser has none
    return tqdm(total=epochs, unit="epoch", leave=True)
