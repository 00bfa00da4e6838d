"""backprop: the NumPy package of the course book *Backpropagation from Scratch*.

Modules, one concept each, in reading order:
  functional  stable sigmoid, softmax, log-sum-exp, one-hot
  autodiff    Value, a scalar reverse-mode autodiff engine
  graph       graph_layout and draw_graph for a Value's computational graph
  tensor      Tensor, the same engine on whole arrays (vector-Jacobian products, broadcasting)
  init        weight initialisers and the seeded random-number story
  layers      Parameter, Layer, Linear, activations, Softmax, Sequential, Dropout, BatchNorm1d, Residual
  losses      MSELoss, BCELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss
  gradcheck   numerical gradients and check_layer / check_loss
  optim       SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW, clip_grad_norm_, schedules, warmup
  landscape   loss landscapes: Hessians by central differences, flat_gradient, Rosenbrock
  data        XOR, spirals, moons, 1-D regression, scikit-learn's digits, mini-batches
  timing      best_times and best_time: timers that a coarse clock (a browser's) can resolve
  train       train_step, fit, History, accuracy, accuracy_from_outputs, confusion_matrix
  plot        the book's figures (imports matplotlib)
  widgets     live and precomputed explorers (imports matplotlib; ipywidgets when live)

Importing `backprop` loads only NumPy; `plot` and `widgets` are imported explicitly.
"""

from typing import NoReturn

from . import (
    autodiff,
    data,
    functional,
    gradcheck,
    graph,
    init,
    landscape,
    layers,
    losses,
    optim,
    timing,
    train,
)
from .autodiff import Value
from .gradcheck import check_layer, check_loss
from .layers import (
    GELU,
    BatchNorm1d,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    Linear,
    Parameter,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, MSELoss, SoftmaxCrossEntropyLoss
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop
from .tensor import Tensor  # also makes bp.tensor, the module, available
from .train import History, TrainingDiverged, fit, train_step

__version__ = "0.1.0"

__all__ = [
    "autodiff", "data", "functional", "gradcheck", "graph", "init", "landscape", "layers", "losses",
    "optim", "timing", "train",
    "Value", "check_layer", "check_loss",
    "tensor", "Tensor",
    "Parameter", "Layer", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax",
    "Flatten", "Sequential", "Dropout", "BatchNorm1d", "Residual",
    "MSELoss", "BCELoss", "BCEWithLogitsLoss", "SoftmaxCrossEntropyLoss",
    "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "History", "TrainingDiverged", "fit", "train_step",
]

# Names a reader may know from PyTorch or from the first edition, and what they are called here.
_RENAMED = {
    "AdaGrad": "Adagrad (PyTorch's spelling)",
    "CrossEntropyLoss": "SoftmaxCrossEntropyLoss (PyTorch's nn.CrossEntropyLoss: softmax and "
                        "cross-entropy fused, on logits)",
}


def __getattr__(name: str) -> NoReturn:
    if name in _RENAMED:
        raise AttributeError(f"module 'backprop' has no attribute {name!r}; use bp.{_RENAMED[name]}")
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")
