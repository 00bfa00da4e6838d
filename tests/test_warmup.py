"""Learning-rate warmup: LinearLR and SequentialLR against rates worked out by hand, and against
PyTorch's schedulers where torch is installed."""

import numpy as np
import pytest

import backprop as bp
from backprop.optim import CosineAnnealingLR, LinearLR, SequentialLR, StepLR


def optimizer(lr=0.5):
    return bp.SGD([bp.Parameter(np.zeros(1))], lr=lr)


def rates(scheduler, steps):
    """The rate in use before each of `steps` epochs: epoch 0 first."""
    seen = [scheduler.optimizer.lr]
    for _ in range(steps - 1):
        scheduler.step()
        seen.append(scheduler.optimizer.lr)
    return seen


def test_linear_lr_warms_up_by_hand():
    # base 0.5, factor 0.1 -> 1 over 4 steps: 0.05, 0.1625, 0.275, 0.3875, then 0.5 for good
    scheduler = LinearLR(optimizer(0.5), start_factor=0.1, total_iters=4)
    np.testing.assert_allclose(rates(scheduler, 7),
                               [0.05, 0.1625, 0.275, 0.3875, 0.5, 0.5, 0.5], rtol=1e-12)


def test_linear_lr_sets_the_first_rate_at_construction_and_has_pytorch_defaults():
    opt = optimizer(0.3)
    scheduler = LinearLR(opt)
    assert opt.lr == pytest.approx(0.1)          # start_factor 1/3, as in PyTorch
    assert (scheduler.end_factor, scheduler.total_iters) == (1.0, 5)


def test_linear_lr_can_decay_too():
    scheduler = LinearLR(optimizer(1.0), start_factor=1.0, end_factor=0.5, total_iters=2)
    np.testing.assert_allclose(rates(scheduler, 4), [1.0, 0.75, 0.5, 0.5])


@pytest.mark.parametrize("settings, message", [
    ({"start_factor": 0.0}, "start_factor"), ({"start_factor": 1.5}, "start_factor"),
    ({"end_factor": 2.0}, "end_factor"), ({"total_iters": 0}, "total_iters"),
])
def test_linear_lr_rejects_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        LinearLR(optimizer(), **settings)


def test_sequential_lr_warmup_then_step_decay_by_hand():
    opt = optimizer(1.0)
    warmup = LinearLR(opt, start_factor=0.25, total_iters=2)      # 0.25, 0.625, 1.0
    decay = StepLR(opt, step_size=2, gamma=0.1)                   # built after warmup lowered lr
    scheduler = SequentialLR(opt, [warmup, decay], milestones=[2])
    np.testing.assert_allclose(rates(scheduler, 7), [0.25, 0.625, 1.0, 1.0, 0.1, 0.1, 0.01])


def test_sequential_lr_rejects_mismatched_milestones():
    opt = optimizer()
    with pytest.raises(ValueError, match="one milestone fewer"):
        SequentialLR(opt, [LinearLR(opt), StepLR(opt, 2)], milestones=[1, 2])


def test_warmup_in_fit_changes_the_rates_each_epoch():
    X, y = bp.data.regression_1d(16, rng=0)
    model = bp.data.regression_net(hidden=4)
    opt = bp.SGD(model.parameters(), lr=0.2)
    scheduler = LinearLR(opt, start_factor=0.5, total_iters=2)
    bp.fit(model, bp.MSELoss(), opt, X, y, epochs=3, batch_size=16, scheduler=scheduler,
           progress=False)
    assert opt.lr == pytest.approx(0.2) and scheduler.epoch == 3


def test_schedules_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: its schedules are not compared")

    def torch_rates(make, steps):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
        scheduler = make(opt)
        seen = []
        for _ in range(steps):
            seen.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return seen

    lr_scheduler = torch.optim.lr_scheduler
    expected = torch_rates(lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4), 8)
    np.testing.assert_allclose(rates(LinearLR(optimizer(), start_factor=0.1, total_iters=4), 8),
                               expected, rtol=1e-12)

    def torch_sequential(o):
        warmup = lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=3)
        return lr_scheduler.SequentialLR(
            o, [warmup, lr_scheduler.CosineAnnealingLR(o, T_max=6)], milestones=[3])

    def ours():
        opt = optimizer()
        warmup = LinearLR(opt, start_factor=0.2, total_iters=3)
        return SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=6)], milestones=[3])

    np.testing.assert_allclose(rates(ours(), 10), torch_rates(torch_sequential, 10), rtol=1e-9)
