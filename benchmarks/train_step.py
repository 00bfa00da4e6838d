"""One training step (forward + backward + update) of an MLP 784-256-128-10, batch 128, float32,
with SGD and with Adam: `backprop` against PyTorch CPU (when `torch` is importable), at 1 and 2
BLAS threads. Prints the median ms/step of each and the ratio backprop / PyTorch. The step is the
one the book teaches: `model.backward(loss.backward())`. Goal: a ratio of at most 0.8 at 1 thread
and 1.0 at 2 threads, run without the Makefile's reproducibility pins (as `make bench` does).

    make bench                       # or: .venv/bin/python benchmarks/train_step.py
    pip install torch==2.13.0        # to get the PyTorch column (a CPU build on the book's machines)

Thread counts are set through threadpoolctl (NumPy's BLAS) and torch.set_num_threads, in one process.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import backprop as bp

SIZES = (784, 256, 128, 10)
BATCH = 128


def median_ms(step, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def backprop_step(optimizer_name: str):
    rng = np.random.default_rng(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers.append(bp.Linear(n_in, n_out, rng=i, dtype=np.float32))
        if i < len(SIZES) - 2:
            layers.append(bp.ReLU())
    model = bp.Sequential(*layers)
    loss = bp.SoftmaxCrossEntropyLoss()
    optimizer = (bp.SGD(model.parameters(), lr=0.01, momentum=0.9) if optimizer_name == "SGD"
                 else bp.Adam(model.parameters(), lr=1e-3))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)

    def step():
        optimizer.zero_grad()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())  # the book's natural call; the data gets no gradient, as in torch
        optimizer.step()

    return step


def torch_step(optimizer_name: str):
    import torch

    torch.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss = torch.nn.CrossEntropyLoss()
    optimizer = (torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if optimizer_name == "SGD"
                 else torch.optim.Adam(model.parameters(), lr=1e-3))
    x = torch.randn(BATCH, SIZES[0])
    y = torch.randint(0, SIZES[-1], (BATCH,))

    def step():
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: timing backprop only "
              "(pip install torch==2.13.0 for the comparison).")
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32, median of {args.repeats} steps "
          f"after {args.warmup} warm-up steps")
    print(f"{'optimizer':<10}{'threads':>8}{'backprop ms':>13}{'torch ms':>10}{'ratio':>8}")
    for threads in (1, 2):
        if torch is not None:
            torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            for name in ("SGD", "Adam"):
                ours = median_ms(backprop_step(name), args.repeats, args.warmup)
                if torch is None:
                    print(f"{name:<10}{threads:>8}{ours:>13.3f}{'-':>10}{'-':>8}")
                    continue
                theirs = median_ms(torch_step(name), args.repeats, args.warmup)
                print(f"{name:<10}{threads:>8}{ours:>13.3f}{theirs:>10.3f}{ours / theirs:>7.2f}x")


if __name__ == "__main__":
    main()
