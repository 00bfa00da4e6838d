"""backprop: the NumPy package of the course book *Backpropagation from Scratch*.

Modules, one concept each, in reading order:
  functional  stable sigmoid, softmax, log-sum-exp, one-hot
  autodiff    Value, a scalar reverse-mode autodiff engine, and draw_graph
  tensor      Tensor, the same engine on whole arrays (vector-Jacobian products, broadcasting)
  init        weight initialisers and the seeded random-number story
  layers      Parameter, Layer, Linear, activations, Softmax, Sequential
  losses      MSELoss, BCELoss, BCEWithLogitsLoss, SoftmaxCrossEntropyLoss
  gradcheck   numerical gradients and check_layer / check_loss
  optim       SGD (momentum, Nesterov), AdaGrad, RMSprop, Adam, AdamW, schedules
  data        XOR, spirals, moons, 1-D regression, scikit-learn's digits, mini-batches
  train       fit, History, accuracy, confusion_matrix
  plot        the book's figures (imports matplotlib)
  widgets     live and precomputed explorers (imports matplotlib; ipywidgets when live)

Importing `backprop` loads only NumPy; `plot` and `widgets` are imported explicitly.
"""

from . import autodiff, data, functional, gradcheck, init, layers, losses, optim, train
from .autodiff import Value
from .gradcheck import check_layer, check_loss
from .layers import (
    GELU,
    Flatten,
    Layer,
    LeakyReLU,
    Linear,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, SoftmaxCrossEntropyLoss
from .optim import SGD, AdaGrad, Adam, AdamW, RMSprop
from .tensor import Tensor  # also makes bp.tensor, the module, available
from .train import History, TrainingDiverged, fit

__version__ = "0.1.0"

__all__ = [
    "autodiff", "data", "functional", "gradcheck", "init", "layers", "losses", "optim", "train",
    "Value", "check_layer", "check_loss",
    "tensor", "Tensor",
    "Parameter", "Layer", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax",
    "Flatten", "Sequential",
    "MSELoss", "BCELoss", "BCEWithLogitsLoss", "SoftmaxCrossEntropyLoss", "CrossEntropyLoss",
    "SGD", "AdaGrad", "RMSprop", "Adam", "AdamW",
    "History", "TrainingDiverged", "fit",
]
