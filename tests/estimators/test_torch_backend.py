"""The torch backend of leave_one_out gives the NumPy backend's numbers (on the CPU, and on a GPU
when there is one); device option, tensor inputs, Monitor(mi_device=...)."""

import numpy as np
import pytest
import torch

import gib
from gib.estimators import SaturationWarning

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
PLUGIN_TOL, KERNEL_TOL = 1e-9, 1e-6  # bits


@pytest.fixture(autouse=True)
def one_thread():
    # Two shared cores: torch's thread pool only adds contention at these sizes.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def deviation(a, b):
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


def both_backends(name, X, v, w=None, device="cpu", **options):
    numpy_result = gib.get_estimator(name, **options).leave_one_out(X, v, w)
    torch_result = gib.get_estimator(name, device=device, **options).leave_one_out(X, v, w)
    assert isinstance(torch_result.single, np.ndarray) and torch_result.single.shape == numpy_result.single.shape
    return deviation(numpy_result, torch_result)


def data(rng, N=240, n=5):
    X = rng.normal(size=(N, n)) * np.linspace(0.2, 3.0, n)
    X[:, -1] += X[:, 0]  # correlated columns
    labels = rng.integers(0, 3, N)
    weights = rng.random(N)
    weights[[2, 5]] = 0.0  # samples of zero weight
    return X, labels, weights


# -- plug-in: discrete and binning ---------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "options", [{}, {"n_bins": 7}, {"bin_size": 0.5}, {"range": (-1, 1)}, {"bias": "miller-madow"}]
)
def test_binning_matches_numpy(weighted, options):
    rng = np.random.default_rng(1)
    X, labels, weights = data(rng)
    w = weights if weighted else None
    for v in (labels, np.column_stack([labels, rng.normal(size=len(X))]), X[:, 0]):  # 1-D, 2-D, float
        assert both_backends("binning", X, v, w, **options) < PLUGIN_TOL
    # float32 data are binned in float32 by both backends
    assert both_backends("binning", X.astype(np.float32), labels, w, **options) < PLUGIN_TOL


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("bias", ["none", "miller-madow"])
def test_discrete_matches_numpy(weighted, bias):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, size=(300, 6))
    v = rng.integers(0, 4, size=300)
    w = rng.random(300) if weighted else None
    assert both_backends("discrete", X, v, w, bias=bias) < PLUGIN_TOL
    assert both_backends("discrete", X, np.column_stack([v, X[:, 0]]), w, bias=bias) < PLUGIN_TOL
    assert both_backends("discrete", X - 7.0, v, w, bias=bias) < PLUGIN_TOL  # integral floats, negative
    assert both_backends("discrete", X > 0, v, w, bias=bias) < PLUGIN_TOL  # bool


@pytest.mark.parametrize("weighted", [False, True])
def test_wide_codes_match_numpy(weighted):
    # token-id-like columns (the sorting path of the singles) and a span beyond 2^24 (unique codes)
    rng = np.random.default_rng(3)
    X = rng.integers(0, 30000, size=(400, 60))
    X[:, 0] *= 1000
    v = rng.integers(0, 50, 400)
    w = rng.random(400) if weighted else None
    assert both_backends("discrete", X, v, w) < PLUGIN_TOL


def test_plugin_key_blocks_and_saturation(monkeypatch):
    import gib.estimators.plugin as plugin

    monkeypatch.setattr(plugin, "_BLOCK_ELEMENTS", 3 * 200)  # 3 key columns per block, both backends
    rng = np.random.default_rng(4)
    X = rng.integers(0, 2, size=(200, 10))
    assert both_backends("discrete", X, X[:, 0] ^ X[:, 1]) < PLUGIN_TOL
    bits = np.array(np.meshgrid(*[[0.0, 1.0]] * 4)).reshape(4, -1).T
    with pytest.warns(SaturationWarning, match="all 16 rows") as record:
        gib.leave_one_out(bits, bits[:, 0], estimator="binning", device="cpu")
    assert record[0].filename == __file__  # points at the caller, as the NumPy backend does


# -- kde, kde_upper, gcmi ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["kde", "kde_upper"])
@pytest.mark.parametrize("weighted", [False, True])
def test_kernel_estimators_match_numpy(name, weighted):
    rng = np.random.default_rng(5)
    X, labels, weights = data(rng, N=120, n=4)
    labels[0] = 9  # a class of one sample
    w = weights if weighted else None
    options = {"noise_variance": 0.1} if name == "kde_upper" else {}
    targets = [labels, np.round(rng.normal(size=len(X)))]
    if name == "kde":
        targets += [rng.normal(size=len(X)) + X[:, 1], rng.normal(size=(len(X), 2))]  # continuous V
    for v in targets:
        assert both_backends(name, X, v, w, **options) < KERNEL_TOL


@pytest.mark.parametrize("name", ["kde", "kde_upper"])
def test_kernel_row_blocks_and_isolated_samples(monkeypatch, name):
    import gib.estimators.torch_backend as backend

    monkeypatch.setitem(backend._KDE_BLOCK_ELEMENTS, "cpu", 7 * 4 * 90)  # 7 rows per block
    rng = np.random.default_rng(6)
    X, labels, _ = data(rng, N=90, n=4)
    X[3] += 60.0  # an isolated sample: its kernel sums underflow without the max-shift
    options = {"noise_variance": 0.01} if name == "kde_upper" else {"bandwidth_scale": 0.3}
    assert both_backends(name, X, labels, **options) < KERNEL_TOL


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("target", ["discrete-1d", "discrete-2d", "continuous-1d", "continuous-2d"])
def test_gcmi_matches_numpy(weighted, target):
    rng = np.random.default_rng(7)
    X, labels, weights = data(rng, N=200, n=5)
    X[:, 1] = np.round(X[:, 1])  # ties share their mid-rank
    w = weights if weighted else None
    v = {
        "discrete-1d": labels,
        "discrete-2d": np.column_stack([labels, X[:, 0] > 0]),
        "continuous-1d": X[:, 0] * X[:, 2] + rng.normal(size=len(X)),
        "continuous-2d": np.column_stack([X[:, 3] + rng.normal(size=len(X)), rng.normal(size=len(X))]),
    }[target]
    assert both_backends("gcmi", X, v, w) < KERNEL_TOL
    assert both_backends("gcmi", X, v, w, bias_correct=False) < KERNEL_TOL


@pytest.mark.parametrize("name", ["kde", "gcmi"])
@pytest.mark.parametrize("weighted", [False, True])
def test_degenerate_columns_match_numpy(name, weighted):
    # constant columns (dropped), columns constant within a class (floored), and for gcmi a
    # duplicated column and a within-class copy (singular covariances: the ridge, on the host)
    rng = np.random.default_rng(12)
    X, labels, weights = data(rng, N=150, n=6)
    w = weights if weighted else None
    X[:, 2] = 1.0
    X[labels == 1, 0] = 0.0
    cases = [X]
    if name == "gcmi":
        dup = X.copy()
        dup[:, 5] = 3 * dup[:, 4] - 1
        dup[labels == 0, 3] = dup[labels == 0, 1]
        cases.append(dup)
    for Xc in cases:
        continuous = X[:, 1] + rng.normal(size=len(X))
        for v in (labels, continuous, np.column_stack([continuous, np.ones(len(X))])):
            assert both_backends(name, Xc, v, w) < KERNEL_TOL
    assert both_backends(name, np.ones((len(X), 3)), labels, w) == 0.0


# -- tensors, the device option, errors ----------------------------------------------------------
@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
@pytest.mark.parametrize("name", ["discrete", "binning", "kde", "kde_upper", "gcmi"])
def test_tensor_input_equals_its_numpy_array(name):
    rng = np.random.default_rng(8)
    X, labels, weights = data(rng, N=100, n=4)
    X = np.round(X, 1) if name == "discrete" else X
    est = gib.get_estimator(name)
    for w in (None, weights):
        expected = est.leave_one_out(X, labels, w)
        got = est.leave_one_out(torch.from_numpy(X), torch.from_numpy(labels), w)  # tensor: torch backend
        assert deviation(expected, got) < (PLUGIN_TOL if name in ("discrete", "binning") else KERNEL_TOL)
    # the measures pass the option through
    s = gib.synergy(X, labels, estimator=name, device="cpu")
    assert s == pytest.approx(gib.synergy(X, labels, estimator=name), abs=KERNEL_TOL)


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
def test_tensor_inputs_are_checked_on_their_device():
    est = gib.get_estimator("binning")
    X = torch.randn(50, 3, dtype=torch.float64)
    with_nan = X.clone()
    with_nan[4, 0] = float("nan")
    with pytest.raises(ValueError, match="`X` contains 1 NaN"):
        est.leave_one_out(with_nan, np.zeros(50, int))
    with pytest.raises(ValueError, match="`X` has 3 dimensions"):
        est.leave_one_out(X.reshape(50, 3, 1), np.zeros(50, int))
    with pytest.raises(ValueError, match="at least 2 features"):
        est.leave_one_out(X[:, 0], np.zeros(50, int))
    with pytest.raises(ValueError, match="Mismatched"):
        est.leave_one_out(X, np.zeros(49, int))
    # constant columns carry no information; within a class they need the floor, or raise
    dead = gib.get_estimator("gcmi").leave_one_out(torch.ones(50, 2), np.arange(50) % 2)
    assert dead.joint == 0.0 and not dead.single.any() and not dead.complement.any()
    within = X.clone()
    within[::2, 0] = 0.5
    with pytest.raises(ValueError, match="class 0 of `v`.*zero variance"):
        gib.get_estimator("gcmi", ridge=0).leave_one_out(within, np.arange(50) % 2)
    with pytest.raises(ValueError, match="within the samples of class 0"):
        gib.get_estimator("kde", min_class_sigma=0).leave_one_out(within, np.arange(50) % 2)
    # gradients are not tracked, and the result does not depend on them
    Xg = X.clone().requires_grad_()
    assert deviation(est.leave_one_out(Xg, np.arange(50) % 3), est.leave_one_out(X.numpy(), np.arange(50) % 3)) < 1e-12


def test_monitor_on_a_device_records_the_same_values():
    from torch import nn

    from gib.monitor import Monitor

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    rng = np.random.default_rng(9)
    X = rng.normal(size=(96, 4)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    frames = []
    for mi_device in (None, "cpu"):
        with Monitor(model, X, y, estimators=["binning", "gcmi"], mi_device=mi_device) as monitor:
            monitor.record(0)
        frames.append(monitor.frame)
    assert frames[1]["value"].to_numpy() == pytest.approx(frames[0]["value"].to_numpy(), abs=KERNEL_TOL)
    assert frames[0][frames[0].plane == "GIB"].shape[0] > 0


# -- CUDA ----------------------------------------------------------------------------------------
@CUDA
@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
@pytest.mark.parametrize("weighted", [False, True])
def test_cuda_matches_numpy(weighted):
    rng = np.random.default_rng(10)
    X, labels, weights = data(rng, N=300, n=6)
    w = weights if weighted else None
    Xd = rng.integers(0, 30000, size=(300, 40))
    assert both_backends("binning", X, labels, w, device="cuda") < PLUGIN_TOL
    assert both_backends("binning", X, labels, w, device="cuda", bin_size=0.25) < PLUGIN_TOL
    assert both_backends("discrete", Xd, labels, w, device="cuda") < PLUGIN_TOL
    assert both_backends("kde", X, labels, w, device="cuda") < KERNEL_TOL
    assert both_backends("kde", X, X[:, 0] + rng.normal(size=300), w, device="cuda") < KERNEL_TOL
    assert both_backends("kde_upper", X, labels, w, device="cuda", noise_variance=0.1) < KERNEL_TOL
    assert both_backends("gcmi", X, labels, w, device="cuda") < KERNEL_TOL
    assert both_backends("gcmi", X, X[:, 0] + rng.normal(size=300), w, device="cuda") < KERNEL_TOL
    # degenerate columns: constant (dropped), constant within a class (floors), a copy (ridge)
    Xc = X.copy()
    Xc[:, 2] = 1.0
    Xc[labels == 1, 0] = 0.0
    assert both_backends("kde", Xc, labels, w, device="cuda") < KERNEL_TOL
    Xc[:, 5] = 2 * Xc[:, 4]
    assert both_backends("gcmi", Xc, labels, w, device="cuda") < KERNEL_TOL
    assert both_backends("gcmi", Xc, X[:, 1] + rng.normal(size=300), w, device="cuda") < KERNEL_TOL


@CUDA
def test_cuda_tensor_input_stays_on_its_device():
    rng = np.random.default_rng(11)
    X, labels, _ = data(rng, N=200, n=4)
    for name in ("binning", "gcmi", "kde"):
        expected = gib.get_estimator(name).leave_one_out(X, labels)
        got = gib.get_estimator(name).leave_one_out(torch.from_numpy(X).cuda(), labels)
        assert deviation(expected, got) < KERNEL_TOL
