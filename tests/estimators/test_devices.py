"""The ``device`` option, tensor inputs and ``Monitor(mi_device=...)``: the same numbers on every
backend (the ``backend`` fixture, conftest.py), the same checks and messages."""

import numpy as np
import pytest
import torch

import gib

ESTIMATORS = gib.available_estimators()


def deviation(a, b):
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


def data(rng, N=100, n=4):
    X = rng.normal(size=(N, n)) * np.linspace(0.2, 3.0, n)
    X[:, -1] += X[:, 0]  # correlated columns
    labels = rng.integers(0, 3, N)
    weights = rng.random(N)
    weights[[2, 5]] = 0.0  # samples of zero weight
    return X, labels, weights


@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
@pytest.mark.parametrize("name", ESTIMATORS)
def test_device_option_and_tensor_input_give_numpys_numbers(backend, name):
    rng = np.random.default_rng(8)
    X, labels, weights = data(rng)
    X = np.round(X, 1) if name == "discrete" else X
    numpy_est, device_est = gib.get_estimator(name), gib.get_estimator(name, device=backend.device)
    tol = backend.tol(name, 1e-12)
    for w in (None, weights) if numpy_est.supports_weights else (None,):
        expected = numpy_est.leave_one_out(X, labels, w)
        assert deviation(device_est.leave_one_out(X, labels, w), expected) < tol  # NumPy X, moved
        got = numpy_est.leave_one_out(backend.X(X), torch.from_numpy(labels), w)  # a tensor V too
        assert isinstance(got.single, np.ndarray) and got.single.shape == expected.single.shape
        assert deviation(got, expected) < tol
    # the measures pass the option through
    s = gib.synergy(X, labels, estimator=name, device=backend.device)
    assert s == pytest.approx(gib.synergy(X, labels, estimator=name), abs=tol)


def test_device_option_is_checked():
    assert gib.get_estimator("binning", device="cpu").device == torch.device("cpu")
    assert gib.get_estimator("gcmi", device=torch.device("cpu")).device == torch.device("cpu")
    assert gib.get_estimator("kde").device is None
    for bad in ("gpu", "cpux", 3):
        with pytest.raises(ValueError, match="`device`"):
            gib.get_estimator("binning", device=bad)
    with pytest.raises(ValueError, match="`device`"):
        gib.get_estimator("kde", device="meta")  # a real torch device, but not one we compute on
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            gib.get_estimator("kde_upper", device="cuda")


@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
def test_inputs_are_checked_where_they_are(backend):
    est = gib.get_estimator("binning")
    X = np.random.default_rng(0).normal(size=(50, 3))
    with_nan = X.copy()
    with_nan[4, 0] = np.nan
    with pytest.raises(ValueError, match="`X` contains 1 NaN"):
        est.leave_one_out(backend.X(with_nan), np.zeros(50, int))
    with pytest.raises(ValueError, match="`X` has 3 dimensions"):
        est.leave_one_out(backend.X(X.reshape(50, 3, 1)), np.zeros(50, int))
    with pytest.raises(ValueError, match="at least 2 features"):
        est.leave_one_out(backend.X(X[:, 0]), np.zeros(50, int))
    with pytest.raises(ValueError, match="Mismatched"):
        est.leave_one_out(backend.X(X), np.zeros(49, int))
    # constant columns carry no information; within a class they need the floor, or raise
    dead = gib.get_estimator("gcmi").leave_one_out(backend.X(np.ones((50, 2))), np.arange(50) % 2)
    assert dead.joint == 0.0 and not dead.single.any() and not dead.complement.any()
    within = X.copy()
    within[::2, 0] = 0.5
    with pytest.raises(ValueError, match="class 0 of `v`.*zero variance"):
        gib.get_estimator("gcmi", ridge=0).leave_one_out(backend.X(within), np.arange(50) % 2)
    with pytest.raises(ValueError, match="within the samples of class 0"):
        gib.get_estimator("kde", min_class_sigma=0).leave_one_out(backend.X(within), np.arange(50) % 2)


@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
def test_gradients_are_not_tracked():
    X = torch.randn(50, 3, dtype=torch.float64)
    est = gib.get_estimator("binning")
    with_grad = X.clone().requires_grad_()
    assert deviation(est.leave_one_out(with_grad, np.arange(50) % 3), est.leave_one_out(X.numpy(), np.arange(50) % 3)) < 1e-12


def test_monitor_on_a_device_records_the_same_values(backend):
    from torch import nn

    from gib.monitor import Monitor

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    rng = np.random.default_rng(9)
    X = rng.normal(size=(96, 4)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    frames = []
    for mi_device in (None, backend.device):
        with Monitor(model, X, y, estimators=["binning", "gcmi"], mi_device=mi_device) as monitor:
            monitor.record(0)
        frames.append(monitor.frame)
    assert frames[1]["value"].to_numpy() == pytest.approx(frames[0]["value"].to_numpy(), abs=backend.tol("gcmi", 0))
    assert frames[0][frames[0].plane == "GIB"].shape[0] > 0
