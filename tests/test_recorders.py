"""The recorders' fast paths against the direct computation (planes.ib_point, planes.gib_point,
the estimators' plain per-subset leave-one-out), the torch path, and the negative-MI flag."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import gib
from gib.estimators import get_estimator, row_codes
from gib.estimators.plugin import SubsetCodes
from gib.measures import pmi_weights
from gib.monitor import Monitor, Probe
from gib.recorders import ProbeSet
from gib.recorders import OUTPUT, GIBRecorder, IBRecorder, NegativeInformationWarning, Probed

def bind(recorder, X, y, task="classification"):
    """The recorder bound to the probe set (X, y), as a Monitor binds it."""
    recorder.bind(ProbeSet.of(X, y, task))
    return recorder


TOL = 1e-9  # bits: the fast paths are exact up to rounding


def close(a, b):
    return np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) <= TOL


def assert_same_pieces(got, want):
    assert abs(got.joint - want.joint) <= TOL
    assert close(got.single, want.single) and close(got.complement, want.complement)


@pytest.mark.parametrize("bias", ["none", "miller-madow"])
@pytest.mark.parametrize("shape", [(500, 5, 3), (256, 8, 2), (300, 40, 4), (200, 2, 5)])
def test_subset_codes_equal_the_per_subset_computation(shape, bias):
    # (300, 40, 4): the codes do not fit 62 bits (hashed keys), and every X_-i row is distinct
    N, n, k = shape
    rng = np.random.default_rng(n)
    X = rng.integers(0, k, size=(N, n))
    X[:, 1] = 0  # a constant column: its single is 0 and its complement the joint
    X[:, -1] = X[:, 0]  # a copy: X_-0 and X_-(n-1) keep the same partition as X
    est = get_estimator("discrete", bias=bias)
    subsets = SubsetCodes(est.codes(X))
    yhat, y = rng.integers(0, 3, N), rng.integers(0, 2, N)
    z = np.column_stack([yhat, y])
    for weights in (None, pmi_weights(yhat, y)):
        want = est.leave_one_out_direct(X, z, weights)
        assert_same_pieces(subsets.leave_one_out(row_codes(z), weights, bias == "miller-madow"), want)


def test_subset_codes_across_blocks_equal_the_per_subset_computation(monkeypatch):
    # small blocks: the tables of several blocks of subsets, each with its kept rows of cells
    from gib.estimators import plugin

    monkeypatch.setattr(plugin, "_BLOCK_ELEMENTS", 8 * 3 * 400)
    rng = np.random.default_rng(12)
    X = rng.integers(0, 3, size=(400, 9))
    est = get_estimator("discrete", bias="miller-madow")
    subsets = SubsetCodes(est.codes(X))
    yhat, y = rng.integers(0, 3, 400), rng.integers(0, 2, 400)
    for v, weights in ((np.column_stack([yhat, y]), pmi_weights(yhat, y)), (yhat, pmi_weights(yhat, y)),
                       (y, None)):
        for _ in range(2):  # the second call reads the cells' rows kept by the first
            got = subsets.leave_one_out(row_codes(v), weights, True)
            assert_same_pieces(got, est.leave_one_out_direct(X, v, weights))


def test_subset_codes_check_their_inputs():
    with pytest.raises(ValueError, match="codes"):
        SubsetCodes(np.zeros((10, 1), dtype=np.int64))
    subsets = SubsetCodes(np.zeros((10, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="`v`"):
        subsets.leave_one_out(np.zeros(9, dtype=np.int64))


@pytest.mark.parametrize("target", ["joint", "yhat", "y"])
@pytest.mark.parametrize("options", [{}, {"n_bins": 4, "bias": "miller-madow"}])
def test_gib_recorder_equals_gib_point(target, options):
    rng = np.random.default_rng(3)
    N = 400
    X, y = rng.normal(size=(N, 6)), rng.integers(0, 3, N)
    recorder = bind(GIBRecorder({"b": ("binning", options)}, features=X, kinds=("featurewise", "sum_vs_whole"),
                                target=target, output_bins=30), X, y)
    for accuracy in (0.3, 0.8, 1.0):
        yhat = np.where(rng.random(N) < accuracy, y, rng.integers(0, 3, N))
        got = recorder.point("b", yhat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gib.SaturationWarning)
            want = gib.gib_point(X, yhat, y, "binning", target=target, **options)
        assert abs(got.complexity - want.complexity) <= TOL and abs(got.prediction - want.prediction) <= TOL
        assert_same_pieces(got, want)


def test_ib_recorder_torch_path_equals_numpy_and_ib_point():
    rng = np.random.default_rng(4)
    N = 300
    X, y = rng.integers(0, 2, size=(N, 6)).astype(np.float32), rng.integers(0, 2, N)
    T = np.tanh(X @ rng.normal(size=(6, 4)).astype(np.float32))
    host = bind(IBRecorder({"b": ("binning", {})}), X, y)
    device = bind(IBRecorder({"b": ("binning", {"device": "cpu"})}), X, y)
    want = gib.ib_point(T, X, y, "binning", warn=False)
    for point in (host.point("b", T), device.point("b", torch.as_tensor(T))):
        assert abs(point.complexity - want.complexity) <= TOL and abs(point.prediction - want.prediction) <= TOL
        assert (point.saturated, point.over_bound) == (want.saturated, want.over_bound)


def train_monitored(mi_device=None, epochs=4):
    """A fixed-seed MLP trained on a 6-bit parity-like task, recorded every epoch."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(256, 6)).astype(np.float32)
    y = (X[:, 0].astype(int) ^ X[:, 1].astype(int)) | (X[:, 2].astype(int) & X[:, 3].astype(int))
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    activations = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gib.SaturationWarning)
        monitor = Monitor(model, X, y, estimators=["binning", "discrete"], mi_device=mi_device,
                          synergy_kinds=("featurewise", "sum_vs_whole"), verbose=False, batch_size=100)
        for epoch in range(epochs):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y)).backward()
            optimizer.step()
            monitor.record(epoch)
            with torch.no_grad():
                h1 = torch.tanh(model[0](torch.as_tensor(X)))
                h2 = torch.relu(model[2](h1))
                out = model[4](h2)
            activations.append({"0": h1.numpy(), "2": h2.numpy(), OUTPUT: out.numpy()})
        monitor.close()
    return monitor.frame, X, y, activations


def test_monitor_equals_the_direct_computation_on_a_fixed_training():
    frame, X, y, activations = train_monitored()
    values = frame.set_index(["step", "plane", "layer", "estimator", "kind", "measure"])["value"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gib.SaturationWarning)
        for step, layers in enumerate(activations):
            yhat = layers[OUTPUT].argmax(1)
            for estimator in ("binning", "discrete"):
                for layer, T in layers.items():
                    want = gib.ib_point(T, X, y, estimator, warn=False)
                    for measure in ("complexity", "prediction", "saturated"):
                        got = values[(step, "IB", layer, estimator, "", measure)]
                        assert abs(got - float(getattr(want, measure))) <= TOL
                for kind in ("featurewise", "sum_vs_whole"):
                    want = gib.gib_point(X, yhat, y, estimator, kind=kind)
                    for measure in ("complexity", "prediction", "joint"):
                        assert abs(values[(step, "GIB", "input", estimator, kind, measure)]
                                   - getattr(want, measure)) <= TOL


def test_monitor_with_torch_estimators_equals_numpy():
    # mi_device="cpu": T coded in torch on the device (CPU tensors here), the same numbers
    numpy_frame, *_ = train_monitored(None, epochs=2)
    torch_frame, *_ = train_monitored("cpu", epochs=2)
    planes = numpy_frame.plane.isin(["IB", "GIB"])
    assert close(numpy_frame[planes].value, torch_frame[planes].value)
    assert (numpy_frame[planes].measure.to_numpy() == torch_frame[planes].measure.to_numpy()).all()


def test_probe_returns_its_buffers_as_tensors():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    probe = Probe(model, X, batch_size=16)
    layers, outputs = probe(numpy=False)
    arrays, outputs_np = probe()
    assert isinstance(outputs, torch.Tensor) and all(isinstance(T, torch.Tensor) for T in layers.values())
    assert all(np.array_equal(layers[name].numpy(), arrays[name]) for name in arrays)
    with torch.no_grad():
        assert np.allclose(outputs_np, model(torch.as_tensor(X)).numpy(), atol=1e-6)
    probe.close()


def probed_independent(seed=1, N=200):
    rng = np.random.default_rng(seed)
    X, T, y = rng.normal(size=(N, 3)), rng.normal(size=(N, 2)).astype(np.float32), rng.integers(0, 2, N)
    outputs = rng.normal(size=(N, 2)).astype(np.float32)
    return X, y, Probed(0, 0.0, {"h": T}, outputs, outputs.argmax(1))


def test_negative_estimates_are_flagged_and_warned_once():
    # KDE's I(X;T) of independent X and T is biased below zero (checked directly first)
    X, y, probed = probed_independent()
    assert gib.mutual_information(X, probed.layers["h"], "kde") < 0
    recorder = bind(IBRecorder({"kde": ("kde", {})}), X, y)
    with pytest.warns(NegativeInformationWarning, match="below zero") as caught:
        rows = recorder.rows(probed.step, probed)
    negative = {r["layer"]: r["value"] for r in rows if r["measure"] == "negative"}
    assert negative["h"] == 1.0
    # one warning for the run, naming every flagged layer
    (warning,) = [w for w in caught if w.category is NegativeInformationWarning]
    assert all(f"layer {layer!r}" in str(warning.message) for layer, v in negative.items() if v == 1.0)
    state = recorder.state_dict()
    again = bind(IBRecorder({"kde": ("kde", {})}), X, y)
    again.load_state_dict(state)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegativeInformationWarning)
        again.rows(probed.step, probed)  # warned already in this run: no second warning


def test_gib_negative_flag():
    X, y, probed = probed_independent(seed=2)
    want = gib.gib_point(X, probed.yhat, y, "kde")
    lowest = min(want.joint, want.prediction, want.single.min(), want.complement.min())
    recorder = bind(GIBRecorder({"kde": ("kde", {})}, features=X, kinds=("featurewise",), target="joint",
                    output_bins=30), X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = recorder.rows(probed.step, probed)
    flag = next(r["value"] for r in rows if r["measure"] == "negative")
    assert flag == float(lowest < -1e-12)
    assert any(w.category is NegativeInformationWarning for w in caught) == (lowest < -1e-12)
    # plug-in estimates are never negative
    plugin = bind(GIBRecorder({"b": ("binning", {})}, features=X, kinds=("featurewise",), target="joint",
                    output_bins=30), X, y)
    assert next(r["value"] for r in plugin.rows(probed.step, probed) if r["measure"] == "negative") == 0.0


def test_fixed_input_estimator_equals_the_estimator_it_wraps():
    from gib.estimators.plugin import FixedInputEstimator

    rng = np.random.default_rng(5)
    X, other = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    v, w = rng.integers(0, 4, 300), rng.random(300)
    plain = get_estimator("binning", n_bins=6, bias="miller-madow")
    fixed = FixedInputEstimator(plain, X)
    for data in (X, X.copy(), other):  # the fixed X (itself or equal), and another X
        assert_same_pieces(fixed.leave_one_out(data, v, w), plain.leave_one_out_direct(data, v, w))
    assert fixed.mutual_information(X[:, :2], v) == plain.mutual_information(X[:, :2], v)
    with pytest.raises(TypeError, match="plug-in"):
        FixedInputEstimator(get_estimator("kde"), X)


def test_null_references_share_the_partitions_and_equal_the_plain_null():
    from gib.estimators.plugin import FixedInputEstimator
    from gib.monitor import null_references
    from gib.references import NullReference

    rng = np.random.default_rng(6)
    X, y = rng.integers(0, 2, size=(256, 6)).astype(np.float32), rng.integers(0, 2, 256)
    null = null_references(X, y, "binning", n_seeds=2)["binning"]
    plain = NullReference(X, y, n_seeds=2, estimator="binning")
    assert isinstance(null.estimator, FixedInputEstimator)
    for accuracy in (0.5, 0.735, 1.0):
        assert close(null.at(accuracy), plain.at(accuracy))
    assert abs(null.reference.complexity_star - plain.reference.complexity_star) <= TOL
    recorder = bind(GIBRecorder({"binning": ("binning", {})}, features=X, kinds=("featurewise",), target="joint",
                    output_bins=30, null={"binning": null}), X, y)
    assert recorder.planes["binning"].bound is null.estimator  # built once for the plane and its null


def test_code_informations_equal_code_information():
    from gib.estimators import code_information
    from gib.estimators.plugin import code_informations

    rng = np.random.default_rng(7)
    a, distinct, b = rng.integers(0, 5, 400), rng.permutation(400), rng.integers(0, 300, 400)
    for bias in (False, True):
        got = code_informations(row_codes(a), [row_codes(distinct), row_codes(b)], bias)
        want = [code_information(row_codes(a), row_codes(c), bias) for c in (distinct, b)]
        assert close(got, want)


def test_code_informations_with_kept_counts_are_the_same_numbers():
    from gib.estimators.plugin import code_informations

    rng = np.random.default_rng(17)
    a, others = row_codes(rng.integers(0, 9, 500)), [row_codes(rng.permutation(500)), row_codes(rng.integers(0, 4, 500))]
    for bias in (False, True):
        assert code_informations(a, others, bias, [np.bincount(b) for b in others]) == code_informations(a, others, bias)


@pytest.mark.parametrize("width", [2, 6, 12])
def test_row_keys_count_as_the_dense_codes(width):
    # row_codes(dense=False): keys ordered as the rows, counted by sorting: the very same numbers
    from gib.estimators.plugin import code_entropy, code_informations

    rng = np.random.default_rng(width)
    codes = rng.integers(0, 30, size=(3000, width)).astype(np.uint8)
    codes[:1500] = codes[1500:]  # repeated rows
    dense, keys = row_codes(codes), row_codes(codes, sizes=np.full(width, 30), dense=False)
    np.testing.assert_array_equal(np.unique(keys, return_inverse=True)[1], dense)
    distinct, labels = rng.permutation(3000), row_codes(rng.integers(0, 3, 3000))
    wide = row_codes(rng.integers(0, 2000, 3000))  # the joint key of A's keys would overflow
    for bias in (False, True):
        assert code_entropy(keys, bias) == code_entropy(dense, bias)
        assert code_informations(keys, [distinct, labels, wide], bias) == code_informations(dense, [distinct, labels, wide], bias)


def _sorted_row_ranks(codes):
    """Dense codes of the distinct rows in the order of the sorted rows (last column most
    significant), by np.unique on the rows themselves: what row_codes promises."""
    rows = np.asarray(codes)[:, ::-1] if np.ndim(codes) == 2 else np.asarray(codes)[:, None]
    return np.unique(rows, axis=0, return_inverse=True)[1].ravel()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64, np.uint64, bool])
@pytest.mark.parametrize("shape", [(3000, 1), (3000, 2), (600, 4), (50, 9)])
def test_row_codes_rank_small_and_large_ranges_as_the_sorted_rows(shape, dtype):
    # small ranges take the histogram ranks, large ones the sort; both are the sorted rows' ranks
    rng = np.random.default_rng(shape[1])
    for high in (2, 7, 30, 200):
        codes = rng.integers(0, 2 if dtype is bool else high, size=shape).astype(dtype)
        want = _sorted_row_ranks(codes)
        if shape[1] * np.log2(high) >= 62:  # rows compared as bytes: ranked in another order
            got = row_codes(codes)  # the same partition: a one-to-one map between the labels
            pairs = np.unique(np.column_stack([got, want]), axis=0)
            assert len(pairs) == len(np.unique(got)) == len(np.unique(want))
            want = got
        np.testing.assert_array_equal(row_codes(codes), want)
        np.testing.assert_array_equal(row_codes(np.asfortranarray(codes)), want)
        if shape[1] == 1:
            np.testing.assert_array_equal(row_codes(codes[:, 0]), want)
        # column bounds above the maxima are the same mixed radix order; bounds that do not fit
        # 62 bits fall back to the maxima
        for bound in (high, high + 3, 1 << 40):
            np.testing.assert_array_equal(row_codes(codes, sizes=np.full(shape[1], bound)), want)
    assert row_codes(np.zeros((0, 1), dtype=np.int64)).shape == (0,)
    np.testing.assert_array_equal(row_codes(np.array([-3, 5, -3])), [0, 1, 0])


@pytest.mark.parametrize("options", [{}, {"n_bins": 4}, {"range": (-0.5, 0.5)}, {"bin_size": 0.3},
                                     {"n_bins": 300}])
def test_compact_row_codes_are_the_row_codes_of_the_codes(options):
    rng = np.random.default_rng(11)
    estimator = get_estimator("binning", **options)
    T = rng.normal(size=(2000, 6)).astype(np.float32)
    T[:, 2] = 0.25  # a constant column: its codes are 0
    for a in (T, np.asfortranarray(T), T.astype(np.float64), T[:, :1]):
        want = row_codes(estimator.codes(a))
        np.testing.assert_array_equal(estimator.compact_row_codes(a), want)
        np.testing.assert_array_equal(estimator.compact_codes(a), estimator.codes(a))
    labels = rng.integers(0, 5, size=(100, 2))
    np.testing.assert_array_equal(get_estimator("discrete").compact_row_codes(labels), row_codes(labels))


@pytest.mark.parametrize("options", [{}, {"n_bins": 7, "range": (-1, 1)}, {"bin_size": 0.25}, {"n_bins": 400}])
def test_narrow_layers_coded_side_by_side_equal_each_layer_coded_alone(options):
    from gib.planes import _narrow_codes

    rng = np.random.default_rng(21)
    estimator = get_estimator("binning", **options)
    layers = {f"l{w}": np.tanh(rng.normal(size=(700, w))).astype(np.float32) for w in (10, 5, 3, 2)}
    layers["constant"] = np.full((700, 2), 0.5, dtype=np.float32)
    layers["wide"] = rng.normal(size=(700, 80)).astype(np.float32)  # not narrow: left to its own path
    got = _narrow_codes(estimator, layers)
    assert set(got) == set(layers) - {"wide"}
    for name, codes in got.items():  # row keys where ranking needs a sort: ranked, the row codes
        np.testing.assert_array_equal(np.unique(codes, return_inverse=True)[1], row_codes(estimator.codes(layers[name])))
        np.testing.assert_array_equal(codes, estimator.compact_row_codes(layers[name], dense=False))
    layers["l5"][3, 1] = np.nan  # every layer goes to its own check, which names the problem
    assert _narrow_codes(estimator, layers) == {}
    recorder = bind(IBRecorder({"b": ("binning", options)}), rng.normal(size=(700, 3)), rng.integers(0, 2, 700))
    with pytest.raises(ValueError, match="NaN"):
        recorder.point("b", layers["l5"])


def test_ib_recorder_checks_T():
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, 100)
    recorder = bind(IBRecorder({"b": ("binning", {})}), X, y)
    T = np.abs(rng.normal(size=(100, 4))).astype(np.float32)
    huge = T * np.float32(1e37)  # a sum that overflows float32: checked in full, and finite
    assert recorder.point("b", huge).complexity == recorder.point("b", T).complexity
    T[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        recorder.point("b", T)


@pytest.mark.parametrize("options", [{}, {"bin_size": 0.5}, {"bias": "miller-madow"}])
def test_ib_recorder_wide_layers_equal_ib_point(options):
    # a wide T whose sampled columns tell the rows apart, and one whose rows repeat
    rng = np.random.default_rng(9)
    N = 300
    X, y = rng.integers(0, 2, size=(N, 5)).astype(np.float32), rng.integers(0, 3, N)
    distinct = rng.normal(size=(N, 3000)).astype(np.float32)
    repeated = np.repeat(rng.normal(size=(N // 3, 3000)).astype(np.float32), 3, axis=0)
    unsampled = repeated.copy()
    unsampled[:, 1500] = np.arange(N) % 7  # rows told apart by a column outside the sample
    recorder = bind(IBRecorder({"b": ("binning", options)}), X, y)
    for T in (distinct, repeated, unsampled):
        got, want = recorder.point("b", T), gib.ib_point(T, X, y, "binning", warn=False, **options)
        assert abs(got.complexity - want.complexity) <= TOL and abs(got.prediction - want.prediction) <= TOL


def test_negative_summary_counts_flagged_points_once_per_point():
    from gib.experiments.reporting import negative_summary

    rows = []
    for seed in (0, 1):
        for step in (0, 1, 2):
            flagged = float(seed == 1 and step == 2)
            rows.append(dict(condition="tanh", seed=seed, step=step, plane="IB", layer="h", estimator="kde",
                             kind="", measure="negative", value=0.0))
            for kind in ("featurewise", "sum_vs_whole"):  # one flag per kind, the same point
                rows.append(dict(condition="tanh", seed=seed, step=step, plane="GIB", layer="input",
                                 estimator="kde", kind=kind, measure="negative", value=flagged))
    frame = pd.DataFrame(rows)
    text = negative_summary(frame)
    assert "1 of 12 IB and GIB points have an estimate below zero" in text
    assert "| tanh | GIB | input | kde | 6 | 1 |" in text and "| tanh | IB |" not in text
    assert "None of the 12" in negative_summary(frame.assign(value=0.0))
    assert negative_summary(frame, estimator="binning") == ""
    assert negative_summary(frame[frame.measure != "negative"]) == ""
    # a Monitor's own frame (no condition, no seed), with KDE's biased I(X;T) of independent data
    X, y, probed = probed_independent()
    recorder = bind(IBRecorder({"kde": ("kde", {})}), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeInformationWarning)
        monitor_rows = pd.DataFrame(recorder.rows(probed.step, probed))
    text = negative_summary(monitor_rows)
    assert "| all runs | IB | h | kde | 1 | 1 |" in text
