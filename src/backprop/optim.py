"""Optimisers and learning-rate schedules, following PyTorch's documented update rules, so one
`step()` here equals one `torch.optim` step with the same settings. Taught in chapters 7 (SGD,
schedules), 8 (momentum), 9 (Adagrad, RMSprop, Adam) and 11 (clipping).

An optimiser holds a list of `Parameter`s; `step()` updates each `p.data` in place from `p.grad`,
and `zero_grad()` clears the gradients. Per-parameter state lives where PyTorch keeps it, under
PyTorch's names: `optimizer.state[p]["momentum_buffer"]`, `["sum"]`, `["square_avg"]`,
`["exp_avg"]`, `["exp_avg_sq"]`, each an array of p's shape and dtype allocated once, so float32
training stays float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from .init import RNG, make_rng
from .layers import Parameter


class Optimizer:
    """Base class: `lr` is a plain attribute that schedules (and readers) may change."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__} expects Parameters (model.parameters()), got "
                    f"{type(p).__name__}"
                )
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = lr
        self.t = 0  # number of steps taken
        # Per-parameter state, as in torch.optim: state[p] maps a buffer's name to its array.
        self.state: dict[Parameter, dict[str, np.ndarray]] = {p: {} for p in self.params}

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        self.t += 1
        for p in self.params:
            self._update(p, self.state[p])

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _add_state(self, *names: str) -> None:
        """Give every parameter a zero buffer per name, in the parameter's shape and dtype."""
        for p in self.params:
            for name in names:
                self.state[p][name] = np.zeros_like(p.data)

    def _gradient(self, p: Parameter, weight_decay: float) -> np.ndarray:
        """p.grad, plus weight_decay * p.data (the L2 penalty's gradient) when asked."""
        return p.grad + weight_decay * p.data if weight_decay else p.grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional heavy-ball or Nesterov momentum.

    g = grad + weight_decay * p
    momentum = 0:  p <- p - lr * g
    momentum > 0:  v <- momentum * v + g;  p <- p - lr * v            (v starts at 0)
    nesterov:      v <- momentum * v + g;  p <- p - lr * (g + momentum * v)
    v, the velocity, is `state[p]["momentum_buffer"]` (PyTorch's name).
    """

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay
        if momentum:
            self._add_state("momentum_buffer")

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        g = self._gradient(p, self.weight_decay)
        if self.momentum:
            v = state["momentum_buffer"]
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        p.data -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): each coordinate's step shrinks with its summed squared
    gradients.

    s <- s + g^2;  p <- p - lr * g / (sqrt(s) + eps)          s is `state[p]["sum"]`
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01, eps: float = 1e-10,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.eps, self.weight_decay = eps, weight_decay
        self._add_state("sum")

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        g = self._gradient(p, self.weight_decay)
        s = state["sum"]
        s += g * g
        p.data -= self.lr * g / (np.sqrt(s) + self.eps)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): Adagrad with a moving average instead of a sum.

    s <- alpha * s + (1 - alpha) g^2;  p <- p - lr * g / (sqrt(s) + eps)
    With momentum:  v <- momentum * v + g / (sqrt(s) + eps);  p <- p - lr * v
    s is `state[p]["square_avg"]`, v is `state[p]["momentum_buffer"]`.
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps, self.momentum, self.weight_decay = alpha, eps, momentum, weight_decay
        self._add_state("square_avg")
        if momentum:
            self._add_state("momentum_buffer")

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        g = self._gradient(p, self.weight_decay)
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        step = g / (np.sqrt(s) + self.eps)
        if self.momentum:
            v = state["momentum_buffer"]
            v *= self.momentum
            v += step
            step = v
        p.data -= self.lr * step


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; `weight_decay` adds an L2 term to the gradient.

    m <- b1 m + (1 - b1) g;      v <- b2 v + (1 - b2) g^2          (m, v start at 0)
    m_hat = m / (1 - b1^t);      v_hat = v / (1 - b2^t)
    p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    m is `state[p]["exp_avg"]`, v is `state[p]["exp_avg_sq"]` (PyTorch's names).

    `bias_correction=False` drops the two divisions, which PyTorch does not offer; chapter 9 uses it
    to show why the correction is there: without it the step is (1 - b1^t) / sqrt(1 - b2^t)
    times the corrected one, so with the default betas the early steps are several times too
    large (m is biased towards 0 by 1 - b1^t, but v much more, by 1 - b2^t).
    """

    decoupled = False

    def __init__(self, params: Iterable[Parameter], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, bias_correction: bool = True) -> None:
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self.bias_correction = bias_correction
        self._add_state("exp_avg", "exp_avg_sq")
        # Scratch space reused every step, so the update allocates nothing; not optimiser state.
        self._scratch = {p: np.zeros_like(p.data) for p in self.params}

    def step(self) -> None:
        # Bias corrections depend only on t: compute them once per step, not once per parameter.
        b1, b2 = self.betas
        t = self.t + 1
        c1, c2 = (1 - b1**t, 1 - b2**t) if self.bias_correction else (1.0, 1.0)
        self._step_size, self._sqrt_c2 = self.lr / c1, math.sqrt(c2)
        super().step()

    def _update(self, p: Parameter, state: dict[str, np.ndarray]) -> None:
        b1, b2 = self.betas
        if self.decoupled:
            p.data *= 1 - self.lr * self.weight_decay
            g = p.grad
        else:
            g = self._gradient(p, self.weight_decay)
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], self._scratch[p]
        # m <- b1 m + (1 - b1) g and v <- b2 v + (1 - b2) g^2, written in place through `tmp`.
        m *= b1
        np.multiply(g, 1 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        # p <- p - (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps)
        np.sqrt(v, out=tmp)
        tmp /= self._sqrt_c2
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self._step_size
        p.data -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019):
    p <- p (1 - lr * weight_decay) before the Adam step, instead of adding weight_decay * p to g.
    PyTorch's default weight_decay for AdamW is 0.01."""

    decoupled = True

    def __init__(self, params: Iterable[Parameter], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, bias_correction: bool = True) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, bias_correction)


def clip_grad_norm_(params: Iterable[Parameter], max_norm: float) -> float:
    """Clip gradients in place, as torch.nn.utils.clip_grad_norm_ (the trailing _ says "in place"):
    scale every `p.grad` by the same factor so that their joint L2 norm,
    sqrt(sum over all parameters of sum(p.grad ** 2)), is at most `max_norm`. Gradients whose norm
    is already at most `max_norm` are left untouched. Call it between backward and `step()`.

    Returns the total norm before clipping (a float), worth logging: spikes show where clipping acts.
    """
    params = list(params)
    total = math.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in params))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in params:
            p.grad *= scale
    return total


# ----------------------------------------------------------------------------- schedules


class LRScheduler:
    """Sets `optimizer.lr` from the epoch count; call `step()` once per epoch, after training it."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def get_last_lr(self) -> list[float]:
        """The learning rate now in use, as a list with one entry per parameter group (PyTorch's
        format); the package's optimisers have a single group, so the list has one element."""
        return [self.optimizer.lr]


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): drops by `gamma` every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi * epoch / T_max)) / 2, from base_lr down to
    eta_min at epoch T_max (and back up after it, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def lr_at(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


def trajectory(grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
               make_optimizer: Callable[[list[Parameter]], Optimizer], steps: int) -> np.ndarray:
    """Run an optimiser on a function of a point, for plotting its path.

    grad: the gradient of the function, point (d,) -> (d,).  x0: start, shape (d,).
    make_optimizer: e.g. `lambda params: SGD(params, lr=0.1, momentum=0.9)`.
    Returns the visited points, shape (steps + 1, d); shorter if the point stops being finite
    (the optimiser diverged), so a plot shows the path up to where it left.
    """
    p = Parameter(np.array(x0, dtype=np.float64), "x")
    optimizer = make_optimizer([p])
    path = [p.data.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            p.grad[...] = grad(p.data)
            optimizer.step()
            if not np.all(np.isfinite(p.data)):
                break
            path.append(p.data.copy())
    return np.array(path)


def steps_to_tolerance(path: np.ndarray, target: np.ndarray, tol: float) -> int | None:
    """The first step at which a path (k, d) from `trajectory` is within `tol` (Euclidean
    distance) of `target` (d,), or None if it never gets there (too slow or diverged)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path holds huge values
        distance = np.linalg.norm(np.asarray(path) - np.asarray(target), axis=1)
    inside = np.flatnonzero(distance < tol)
    return int(inside[0]) if len(inside) else None


def lr_range_test(model, loss, make_optimizer: Callable[[list[Parameter]], Optimizer],
                  X: np.ndarray, y: np.ndarray, *, lr_min: float = 1e-5, lr_max: float = 10.0,
                  steps: int = 100, batch_size: int = 32, rng: RNG = 0,
                  stop_factor: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Learning-rate range test (Smith, 2017): train once while the learning rate grows
    geometrically from lr_min to lr_max, one mini-batch per rate, and record the loss.

    Good rates lie where the loss falls fastest, somewhat below the rate where it is lowest.
    Stops early once the loss exceeds `stop_factor` times the best loss seen or stops being
    finite. The model is trained in place: build a fresh one for the real run.
    Returns (lrs, losses), two 1-D arrays of the same length (at most `steps`).
    """
    from .data import batches  # local imports: train imports this module
    from .train import train_step

    optimizer = make_optimizer(model.parameters())
    rates = np.geomspace(lr_min, lr_max, steps)
    generator = make_rng(rng)  # one generator for the run: every pass over the data in a new order
    stream = _endless(lambda: batches(X, y, batch_size, rng=generator))
    lrs, losses, best = [], [], math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        for lr, (xb, yb) in zip(rates, stream, strict=False):
            optimizer.lr = float(lr)
            value = train_step(model, loss, optimizer, xb, yb)
            if not math.isfinite(value) or value > stop_factor * best:
                break  # (a finite loss that grew past the limit was still stepped on; no matter)
            best = min(best, value)
            lrs.append(lr)
            losses.append(value)
    return np.array(lrs), np.array(losses)


def _endless(make_iterator):
    while True:
        yield from make_iterator()


# ----------------------------------------------------------------------------- warmup


class LinearLR(LRScheduler):
    """lr = base_lr * factor, with the factor moving linearly from `start_factor` to `end_factor`
    over the first `total_iters` calls of `step()` and staying at `end_factor` after them
    (torch.optim.lr_scheduler.LinearLR, the same defaults).

    factor(epoch) = start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters

    As in PyTorch, constructing it already sets `optimizer.lr` to base_lr * start_factor. With
    start_factor < 1 and end_factor = 1 it is a learning-rate *warmup*: small steps while the
    early gradients are large and the curvature high, the full rate once training has settled
    (Goyal et al., 2017). Call `step()` once per epoch, or once per batch for a warmup counted in
    updates.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}: the first rate "
                             "is start_factor * lr")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        if total_iters < 1:
            raise ValueError(f"total_iters must be at least 1, got {total_iters}")
        super().__init__(optimizer)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        progress = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching at the epochs in `milestones`
    (torch.optim.lr_scheduler.SequentialLR): scheduler k is in charge from milestone k-1 on, and
    counts its own epochs from 0 there. All of them share the optimiser's learning rate at the time
    the first one was built, as PyTorch's `initial_lr`. Typical use: warmup, then decay,

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(opt, T_max=45)
        schedule = SequentialLR(opt, [warmup, decay], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int]) -> None:
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR needs one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and milestones {milestones}")
        if list(milestones) != sorted(milestones):
            raise ValueError(f"milestones must increase, got {milestones}")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("every scheduler given to SequentialLR must drive its optimizer")
        base_lr = schedulers[0].base_lr  # a later scheduler saw the lr the first one had already set
        super().__init__(optimizer)
        self.base_lr = base_lr
        for s in schedulers:
            s.base_lr = base_lr
        self.schedulers, self.milestones = list(schedulers), list(milestones)
        optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        k = sum(epoch >= m for m in self.milestones)  # which scheduler is in charge
        start = self.milestones[k - 1] if k else 0
        return self.schedulers[k].lr_at(epoch - start)


_RENAMED = {"AdaGrad": "Adagrad", "clip_grad_norm": "clip_grad_norm_ (in place, as in PyTorch)"}


def __getattr__(name: str):
    if name in _RENAMED:
        raise AttributeError(f"module 'backprop.optim' has no attribute {name!r}; use {_RENAMED[name]}")
    raise AttributeError(f"module 'backprop.optim' has no attribute {name!r}")
