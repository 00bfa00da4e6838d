"""Training loop, data sets, gradient-check utilities, determinism, divergence, plots and widgets."""

import matplotlib
import numpy as np
import pytest

import backprop as bp
from backprop import data
from backprop.gradcheck import numerical_gradient, relative_error
from backprop.train import accuracy, accuracy_from_outputs, confusion_matrix, fit

matplotlib.use("Agg")


def spiral_model(seed=0, dtype=np.float64):
    return bp.Sequential(bp.Linear(2, 32, rng=seed, dtype=dtype), bp.ReLU(),
                         bp.Linear(32, 3, rng=seed + 1, dtype=dtype))


def test_fit_learns_the_spirals():
    X, y = data.spirals(100, classes=3, rng=0)
    model = spiral_model()
    history = fit(model, bp.SoftmaxCrossEntropyLoss(), bp.Adam(model.parameters(), lr=0.02), X, y,
                  epochs=60, batch_size=32, progress=False)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert accuracy(model, X, y) > 0.8
    assert len(history.step_loss) == 60 * 10 == len(history.lr)


def test_same_seed_gives_an_identical_history():
    def run():
        X, y = data.moons(120, rng=1)
        model = spiral_model(seed=3)
        return fit(model, bp.SoftmaxCrossEntropyLoss(), bp.SGD(model.parameters(), lr=0.1, momentum=0.9),
                   X, y, epochs=5, batch_size=16, rng=5, progress=False).step_loss
    assert run() == run()


def test_divergence_stops_with_a_clear_error_and_no_warnings():
    X, y = data.regression_1d(50, rng=0)
    model = bp.Sequential(bp.Linear(1, 16, rng=0), bp.Tanh(), bp.Linear(16, 1, rng=1))
    with np.errstate(all="raise"):  # fit must silence overflow itself; a stray warning would raise here
        with pytest.raises(bp.TrainingDiverged) as info:
            fit(model, bp.MSELoss(), bp.SGD(model.parameters(), lr=50.0), X, y, epochs=100, progress=False)
    message = str(info.value)
    assert "diverged at epoch" in message and "lr=50" in message and "try lr=5" in message
    assert len(info.value.history.step_loss) >= 1  # what was recorded is kept


def test_early_stopping_restores_the_best_weights():
    X, y = data.spirals(40, rng=0)
    split = data.stratified_split(X, y, 0.3, 0.0, rng=0)
    model = bp.Sequential(bp.Linear(2, 64, rng=0), bp.ReLU(), bp.Linear(64, 2, rng=1))
    loss = bp.SoftmaxCrossEntropyLoss()
    history = fit(model, loss, bp.Adam(model.parameters(), lr=0.05), split.X_train, split.y_train,
                  X_val=split.X_val, y_val=split.y_val, epochs=300, batch_size=8, patience=10, progress=False)
    assert history.best_epoch is not None and history.epochs < 300
    assert loss(model(split.X_val), split.y_val) == pytest.approx(min(history.val_loss))


def test_early_stopping_without_validation_data_is_refused():
    model = spiral_model()
    with pytest.raises(ValueError, match="X_val"):
        fit(model, bp.MSELoss(), bp.SGD(model.parameters(), lr=0.1), np.zeros((2, 2)), np.zeros((2, 3)),
            patience=3, progress=False)


def test_float32_training_stays_float32():
    X, y = data.spirals(30, rng=0, dtype=np.float32)
    model = spiral_model(dtype=np.float32)
    fit(model, bp.SoftmaxCrossEntropyLoss(), bp.Adam(model.parameters(), lr=0.01), X, y, epochs=2,
        batch_size=10, progress=False)
    assert all(p.data.dtype == np.float32 for p in model.parameters())


def test_digits_split_is_stratified_seeded_and_scaled():
    a, b = data.digits(rng=0), data.digits(rng=0)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.X_train.shape[1] == 64 and 0 <= a.X_train.min() and a.X_train.max() <= 1
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797
    assert set(np.unique(a.y_val)) == set(range(10))
    train_rows = set(map(bytes, a.X_train))
    assert not set(map(bytes, a.X_test)) & train_rows, "a test image is also in the training split"
    assert not set(map(bytes, a.X_val)) & train_rows, "a validation image is also in the training split"


def test_batches_cover_every_row_once():
    X, y = np.arange(10).reshape(10, 1), np.arange(10)
    seen = np.concatenate([yb for _, yb in data.batches(X, y, 3, rng=0)])
    assert sorted(seen) == list(range(10))
    assert [len(yb) for _, yb in data.batches(X, y, 3, drop_last=True, rng=0)] == [3, 3, 3]
    with pytest.raises(ValueError, match="rows"):
        next(data.batches(X, y[:5], 3))


def test_generated_data_sets_have_documented_shapes():
    for X, y in [data.xor(), data.spirals(20), data.moons(30)]:
        assert X.ndim == 2 and X.shape[1] == 2 and y.shape == (len(X),) and y.dtype.kind == "i"
    X, y = data.regression_1d(25)
    assert X.shape == y.shape == (25, 1)


def test_read_idx_parses_a_small_file_it_writes(tmp_path):
    import gzip
    import struct
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    with gzip.open(tmp_path / "tiny-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 3) + struct.pack(">III", 2, 3, 3) + images.tobytes())
    np.testing.assert_array_equal(data.read_idx(tmp_path / "tiny-idx3-ubyte.gz"), images)


def test_load_mnist_without_network_says_what_to_do(tmp_path):
    with pytest.raises(RuntimeError, match="digits"):
        data.load_mnist(tmp_path, url="http://127.0.0.1:9/")


def test_accuracy_and_confusion_matrix():
    outputs = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy_from_outputs(outputs, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(confusion_matrix([0, 1, 1], [0, 1, 0]), [[1, 0], [1, 1]])


def test_relative_error_and_numerical_gradient():
    assert relative_error(np.array([1.0]), np.array([1.0])) == 0
    assert relative_error(np.array([0.0]), np.array([0.0])) == 0
    assert relative_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(numerical_gradient(lambda: float(np.sum(x**3)), x), 3 * x**2, rtol=1e-8)


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        bp.check_layer(bp.Linear(2, 2, rng=0, dtype=np.float32), np.ones((1, 2), dtype=np.float32))


def test_init_scales():
    from backprop import init
    W = init.he_normal((1000, 500), rng=0)
    assert W.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    W = init.xavier_uniform((300, 200), rng=0)
    assert np.abs(W).max() <= np.sqrt(6 / 500)
    with pytest.raises(ValueError, match="unknown init"):
        bp.Linear(2, 2, init="zeros")
    with pytest.raises(TypeError, match="rng"):
        init.make_rng("seed")


def test_precomputed_explorer_holds_one_frame_per_value_and_verdicts():
    from backprop import widgets
    explorer = widgets.learning_rate_explorer([0.01, 0.3, 3.0])
    assert explorer.values == [0.01, 0.3, 3.0] and len(explorer.results) == 3
    assert "<input" in explorer.html and 'type="range"' in explorer.html
    small, good, huge = explorer.results
    assert huge.diverged_at is not None and "diverges" in huge.verdict
    assert good.losses[-1] < small.losses[-1]


def test_live_explorer_builds_a_slider_per_parameter():
    from backprop import widgets
    box = widgets.live_explorer(lambda lr, beta: np.ones(3) * lr, lambda ax, r, lr, beta: ax.plot(r),
                                lr=[0.1, 0.2], beta=[0.5, 0.9])
    assert [c.description for c in box.children[:2]] == ["lr", "beta"]
    matplotlib.pyplot.close("all")


def test_importing_backprop_loads_only_numpy():
    import subprocess
    import sys
    code = ("import sys, backprop; heavy = [m for m in ('matplotlib', 'sklearn', 'tqdm', 'ipywidgets') "
            "if m in sys.modules]; print(heavy)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


# --- Python in the browser (Pyodide, wasm32): the package's fixes, tested on CPython too ---

def test_fit_without_a_progress_bar_never_imports_tqdm():
    """tqdm starts a monitor thread, which Python in the browser cannot; without a bar, no tqdm."""
    import subprocess
    import sys
    code = ("import sys, backprop as bp; X, y = bp.data.spirals(20); "
            "model = bp.Sequential(bp.Linear(2, 4), bp.Tanh(), bp.Linear(4, 2)); "
            "bp.train.fit(model, bp.SoftmaxCrossEntropyLoss(), bp.SGD(model.parameters(), lr=0.1), X, y, "
            "epochs=2, progress=False); print('tqdm' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_digit_labels_use_the_platform_index_type():
    """np.bincount and fancy indexing want np.intp, which is int32 on WebAssembly, not int64."""
    split = data.digits()
    assert split.y_train.dtype == np.intp
    assert np.bincount(split.y_train.astype(np.int32)).sum() == len(split.y_train)


def test_digits_without_scikit_learn_says_how_to_get_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        data.digits()
    monkeypatch.setattr(sys, "platform", "emscripten")
    with pytest.raises(ImportError, match="run `%pip install scikit-learn` in a cell above"):
        data.digits()


def test_binary_accuracy_needs_a_threshold_that_says_logits_or_probabilities():
    logits = np.array([[-0.2], [0.3], [2.0]])  # class 0, 1, 1 at threshold 0
    labels = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="threshold=0 if they are logits"):
        accuracy_from_outputs(logits, labels)
    assert accuracy_from_outputs(logits, labels, threshold=0) == 1.0
    assert accuracy_from_outputs(logits, labels, threshold=0.5) == pytest.approx(2 / 3)


def test_accuracy_runs_a_model_and_refuses_outputs():
    model = bp.Sequential(bp.Linear(2, 1, rng=0))
    model[0].W.data[:] = [[1.0], [0.0]]
    X = np.array([[-1.0, 5.0], [2.0, -3.0]])
    assert accuracy(model, X, np.array([0, 1]), threshold=0) == 1.0
    with pytest.raises(TypeError, match="accuracy_from_outputs"):
        accuracy(np.zeros((2, 2)), X, np.array([0, 1]))


def test_train_step_returns_the_loss_before_the_update_and_skips_a_nonfinite_one():
    X, y = data.spirals(20, rng=0)
    model = spiral_model()
    loss = bp.SoftmaxCrossEntropyLoss()
    optimizer = bp.SGD(model.parameters(), lr=0.5)
    before = loss(model(X), y)
    assert bp.train_step(model, loss, optimizer, X, y) == pytest.approx(before)
    assert loss(model(X), y) < before  # the update happened
    weights = [p.data.copy() for p in model.parameters()]
    with np.errstate(all="ignore"):
        value = bp.train_step(model, loss, optimizer, np.full_like(X, np.nan), y)
    assert np.isnan(value)
    for p, w in zip(model.parameters(), weights, strict=True):
        np.testing.assert_array_equal(p.data, w)  # no update from a NaN loss


def test_train_step_clips_the_gradient_norm():
    X, y = data.spirals(20, rng=0)
    model = spiral_model()
    bp.train_step(model, bp.SoftmaxCrossEntropyLoss(), bp.SGD(model.parameters(), lr=1e-9), X, y,
                  clip_norm=1e-3)
    total = np.sqrt(sum(np.sum(p.grad**2) for p in model.parameters()))
    assert total == pytest.approx(1e-3, rel=1e-3)
