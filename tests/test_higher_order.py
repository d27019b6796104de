"""Higher-order measures (total correlation, dual total correlation, O- and S-information):
closed forms, identities as properties, and the per-feature gradients against a direct
recomputation on every X_-i."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gib

MEASURES = ["total_correlation", "dual_total_correlation", "o_information", "s_information"]


def measure(name):
    return getattr(gib, name)


def gaussian_closed_forms(cov):
    """(TC, DTC) in bits of a Gaussian with covariance ``cov``, from the log-determinants of its
    principal submatrices (the 2 pi e constants cancel)."""
    n = len(cov)
    logdet = lambda index: np.linalg.slogdet(cov[np.ix_(index, index)])[1] / (2 * np.log(2))  # noqa: E731
    full = logdet(list(range(n)))
    singles = sum(logdet([i]) for i in range(n))
    complements = sum(logdet([j for j in range(n) if j != i]) for i in range(n))
    return singles - full, complements - (n - 1) * full


def combine(name, tc, dtc):
    return {"total_correlation": tc, "dual_total_correlation": dtc, "o_information": tc - dtc,
            "s_information": tc + dtc}[name]


# -- closed forms ----------------------------------------------------------------------------
def test_xor_triplet_is_one_bit_of_synergy():
    ab = np.array(list(itertools.product([0, 1], repeat=2)))
    X = np.column_stack([ab, ab[:, 0] ^ ab[:, 1]])
    # H(X) = 2, H(X_i) = 1, H(X_-i) = 2: TC = 3 - 2, DTC = 6 - 2 * 2
    assert gib.total_correlation(X, estimator="discrete") == pytest.approx(1.0)
    assert gib.dual_total_correlation(X, estimator="discrete") == pytest.approx(2.0)
    assert gib.o_information(X, estimator="discrete") == pytest.approx(-1.0)
    assert gib.s_information(X, estimator="discrete") == pytest.approx(3.0)
    # each X_-i is two independent bits (all measures 0): the gradients are the whole values
    np.testing.assert_allclose(gib.o_information(X, estimator="discrete", per_feature=True), -1.0, atol=1e-12)


@pytest.mark.parametrize("copies", [2, 3, 4, 5])
def test_copies_of_a_fair_bit_are_one_bit_of_redundancy_per_extra_copy(copies):
    bit = np.array([0, 1] * 8)
    X = np.column_stack([bit] * copies)
    # every subset has entropy 1: TC = k - 1, DTC = k - (k - 1) = 1, O = k - 2, S = k
    assert gib.total_correlation(X, estimator="discrete") == pytest.approx(copies - 1)
    assert gib.dual_total_correlation(X, estimator="discrete") == pytest.approx(1.0)
    assert gib.o_information(X, estimator="discrete") == pytest.approx(copies - 2)
    assert gib.s_information(X, estimator="discrete") == pytest.approx(copies)
    # without one copy O drops by one bit; with two copies X_-i is one variable (O = 0)
    np.testing.assert_allclose(gib.o_information(X, estimator="discrete", per_feature=True),
                               1.0 if copies > 2 else 0.0, atol=1e-12)
    np.testing.assert_allclose(gib.total_correlation(X, estimator="discrete", per_feature=True), 1.0, atol=1e-12)


def test_independent_bits_have_no_higher_order_dependence():
    X = np.array(list(itertools.product([0, 1], repeat=4)))
    for name in MEASURES:
        assert measure(name)(X, estimator="discrete") == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_allclose(measure(name)(X, estimator="discrete", per_feature=True), 0.0, atol=1e-12)


@pytest.mark.parametrize("name", MEASURES)
def test_gaussian_copula_estimates_match_the_gaussian_closed_form(name):
    rng = np.random.default_rng(0)
    n = 4
    a = rng.normal(size=(n, n))
    cov = a @ a.T + 0.5 * np.eye(n)
    X = rng.multivariate_normal(np.zeros(n), cov, size=20_000)
    without = lambda c, i: np.delete(np.delete(c, i, 0), i, 1)  # noqa: E731
    # against the sample's own covariance the copula's normal scores differ by ~1e-3 bits;
    # against the population's, sampling error (~0.03 bits for S here) remains
    for c, tol in ((np.cov(X, rowvar=False), 0.005), (cov, 0.06)):
        whole = combine(name, *gaussian_closed_forms(c))
        assert measure(name)(X, estimator="gcmi") == pytest.approx(whole, abs=tol)
        expected = [whole - combine(name, *gaussian_closed_forms(without(c, i))) for i in range(n)]
        np.testing.assert_allclose(measure(name)(X, estimator="gcmi", per_feature=True), expected, atol=tol)


def test_gaussian_chain_is_redundant_and_a_sum_is_synergistic():
    # X3 = X1 + X2 with independent X1, X2: synergy-dominated; three noisy copies: redundancy
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(2, 20_000))
    sum_ = np.column_stack([x1, x2, x1 + x2 + 0.3 * rng.normal(size=20_000)])
    copies = np.column_stack([x1 + 0.3 * rng.normal(size=20_000) for _ in range(3)])
    assert gib.o_information(sum_, estimator="gcmi") < -0.5
    assert gib.o_information(copies, estimator="gcmi") > 0.5


# -- identities as properties --------------------------------------------------------------------
@st.composite
def discrete_data(draw):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(2, 5))
    X = draw(arrays(np.int64, (n_samples, n_features), elements=st.integers(0, 3)))
    weights = draw(st.none() | arrays(np.float64, (n_samples,), elements=st.floats(0.01, 10.0)))
    return X, weights


settings.register_profile("gib", max_examples=60, deadline=None)
settings.load_profile("gib")
TOL = 1e-9


@given(discrete_data())
def test_the_identities_hold_for_plugin_estimates(case):
    X, w = case
    tc = gib.total_correlation(X, estimator="discrete", weights=w)
    dtc = gib.dual_total_correlation(X, estimator="discrete", weights=w)
    # plug-in estimates are the exact measures of the (weighted) empirical distribution
    assert tc >= -TOL and dtc >= -TOL
    assert gib.o_information(X, estimator="discrete", weights=w) == pytest.approx(tc - dtc, abs=TOL)
    assert gib.s_information(X, estimator="discrete", weights=w) == pytest.approx(tc + dtc, abs=TOL)
    # S = sum_i I(X_i; X_-i)
    s = sum(gib.mutual_information(X[:, i], np.delete(X, i, 1), estimator="discrete", weights=w)
            for i in range(X.shape[1]))
    assert gib.s_information(X, estimator="discrete", weights=w) == pytest.approx(s, abs=TOL)
    # TC = sum_i H(X_i) - H(X), counted directly
    h = lambda a: gib.entropy(a, estimator="discrete", weights=w)  # noqa: E731
    assert tc == pytest.approx(sum(h(X[:, i]) for i in range(X.shape[1])) - h(X), abs=TOL)


@given(discrete_data())
def test_per_feature_gradients_are_the_measures_without_each_feature(case):
    X, w = case
    n = X.shape[1]
    for name in MEASURES:
        f = measure(name)
        whole = f(X, estimator="discrete", weights=w)
        # a single remaining variable has no higher-order dependence
        rest = [f(np.delete(X, i, 1), estimator="discrete", weights=w) if n > 2 else 0.0 for i in range(n)]
        np.testing.assert_allclose(f(X, estimator="discrete", weights=w, per_feature=True), whole - np.array(rest),
                                   rtol=0, atol=TOL)


@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
@pytest.mark.parametrize("estimator, options, tol", [("binning", {"n_bins": 4}, 1e-9), ("gcmi", {}, 1e-6),
                                                     ("kde", {}, 1e-6), ("kde_upper", {"noise_variance": 0.1}, 1e-6)])
def test_per_feature_gradients_of_continuous_estimators(estimator, options, tol):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 4))
    X[:, 3] += X[:, 0] - X[:, 1]
    for name in MEASURES:
        f = measure(name)
        whole = f(X, estimator, **options)
        direct = [whole - f(np.delete(X, i, 1), estimator, **options) for i in range(4)]
        np.testing.assert_allclose(f(X, estimator, per_feature=True, **options), direct, rtol=0, atol=tol)


def test_device_option_passes_through():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 4))
    expected = gib.o_information(X, estimator="gcmi", per_feature=True)
    np.testing.assert_allclose(gib.o_information(X, estimator="gcmi", per_feature=True, device="cpu"), expected,
                               atol=1e-6)


def test_inputs_are_checked():
    X = np.zeros((10, 3), dtype=np.int64)
    with pytest.raises(TypeError, match="`per_feature`"):
        gib.o_information(X, estimator="discrete", per_feature="yes")
    with pytest.raises(ValueError, match="at least 2 features"):
        gib.total_correlation(X[:, :1], estimator="discrete")
    with pytest.raises(ValueError, match="`measure`"):
        gib.measures.higher_order("o-information", X)
    with pytest.raises(TypeError, match="unknown option"):
        gib.o_information(X, estimator="discrete", n_bins=3)


# -- the Monitor's higher_order option ---------------------------------------------------------
@pytest.mark.filterwarnings("ignore::gib.SaturationWarning", "ignore::gib.BoundWarning")
def test_monitor_records_higher_order_measures_next_to_the_planes():
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    with torch.no_grad():  # Yhat = [tanh(x2) - tanh(x3) > tanh(x0) - tanh(x1)]: it varies
        model[0].weight.copy_(torch.eye(4))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]))
        model[2].bias.zero_()
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(128, 4)).astype(np.float32)
    y = X[:, 0].astype(int) ^ X[:, 1].astype(int)
    with gib.Monitor(model, X, y, verbose=False) as mon:
        mon.record(0)
    assert "HOI" not in set(mon.frame.plane)  # off by default
    measures = ("o_information", "total_correlation")
    with gib.Monitor(model, X, y, estimators=["binning", "gcmi"], higher_order=measures, verbose=False) as mon:
        mon.record(0)
        mon.record(1)
    frame = mon.frame
    hoi = frame[frame.plane == "HOI"]
    assert set(hoi.layer) == {"input"} and set(hoi.estimator) == {"binning", "gcmi"}
    assert set(hoi.kind) == {"features", "prediction"} and set(hoi.measure) == set(measures)
    assert len(hoi) == 2 * 2 * 2 * 2  # steps x estimators x kinds x measures
    assert {"IB", "GIB"} <= set(frame.plane)
    with torch.no_grad():
        yhat = model(torch.as_tensor(X)).argmax(1).numpy()
    assert len(np.unique(yhat)) == 2
    joined = np.column_stack([X, yhat])
    for estimator in ("binning", "gcmi"):
        for name in measures:
            got = hoi[(hoi.step == 1) & (hoi.estimator == estimator) & (hoi.measure == name)].set_index("kind")["value"]
            alone = measure(name)(X, estimator=estimator)
            assert got["features"] == pytest.approx(alone, abs=1e-9)
            assert got["prediction"] == pytest.approx(measure(name)(joined, estimator=estimator) - alone, abs=1e-9)
    # TC gains exactly I(X; Yhat) from the prediction
    tc = hoi[(hoi.estimator == "binning") & (hoi.measure == "total_correlation") & (hoi.kind == "prediction")]
    assert tc.value.iloc[0] == pytest.approx(gib.mutual_information(X, yhat, estimator="binning"), abs=1e-9)


@pytest.mark.filterwarnings("ignore::gib.SaturationWarning", "ignore::gib.BoundWarning")
def test_monitor_higher_order_with_a_constant_prediction_and_bad_names():
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 2))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([1.0, 0.0]))  # always class 0
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    X[:, 3] = 1.0  # a constant feature, left out
    y = rng.integers(0, 2, 64)
    with gib.Monitor(model, X, y, estimators="gcmi", higher_order="o_information", verbose=False) as mon:
        mon.record(0)
    hoi = mon.frame[mon.frame.plane == "HOI"].set_index("kind")["value"]
    assert hoi["prediction"] == 0.0  # a constant variable changes no measure
    assert hoi["features"] == pytest.approx(gib.o_information(X[:, :3], estimator="gcmi"), abs=1e-9)
    with pytest.raises(ValueError, match="`higher_order`"):
        gib.Monitor(model, X, y, higher_order=("o-information",), verbose=False)


def test_the_recorder_keeps_every_class_of_the_prediction_apart():
    # 40 classes and 4 bins, on a torch device: Yhat joins the features' codes as one code per
    # class, so TC gains exactly I(X; Yhat) with the classes unbinned
    from gib.recorders import HigherOrderRecorder, Probed

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    yhat = rng.integers(0, 40, 400)
    estimators = {"binning": ("binning", {"n_bins": 4, "device": "cpu"})}
    from gib.recorders import ProbeSet

    recorder = HigherOrderRecorder(("total_correlation",), estimators=estimators, features=X, output_bins=30)
    recorder.bind(ProbeSet.of(X, yhat))
    rows = recorder.rows(0, Probed(0, 0.0, {}, np.zeros((400, 40)), yhat))
    added = {row["kind"]: row["value"] for row in rows}
    assert added["prediction"] == pytest.approx(gib.mutual_information(X, yhat, estimator="binning", n_bins=4),
                                                abs=1e-9)
    assert added["features"] == pytest.approx(gib.total_correlation(X, estimator="binning", n_bins=4), abs=1e-9)


@pytest.mark.parametrize("name", MEASURES)
@pytest.mark.parametrize("per_feature", [False, True])
def test_kde_upper_refuses_magnitudes_whose_distances_overflow(name, per_feature):
    """kde_upper works on raw distances, so its subset entropies refuse +-1.7e308 and 1e300-sized
    data as its entropy does (the squared distances would be inf, their differences NaN)."""
    X = np.random.default_rng(4).normal(size=(40, 3))
    for big in (X * 1e300, np.where(X > 0, 1.7e308, -1.7e308)):
        with pytest.raises(ValueError, match="`X` has values of magnitude"):
            measure(name)(big, "kde_upper", per_feature=per_feature)
    with pytest.raises(ValueError, match="`a` has values of magnitude"):
        gib.entropy(X * 1e300, "kde_upper")


def test_kde_upper_columns_of_very_different_ranges_give_the_direct_values():
    """The fast paths subtract distances, D(X_-i) = D(X) - D_i: a column of range 1e19 beside
    columns of range 1 would leave nothing of theirs (before: per-feature DTC 0.27 bits against
    0.91 computed subset by subset); such data are computed subset by subset."""
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.integers(0, 2, 30), rng.integers(0, 3, 30), rng.choice([-(2.0**63), 2.0**63], 30)])
    est = gib.get_estimator("kde_upper")
    for name in MEASURES:
        whole = measure(name)(X, est)
        direct = [whole - measure(name)(np.delete(X, i, 1), est) for i in range(3)]
        np.testing.assert_allclose(measure(name)(X, est, per_feature=True), direct, atol=1e-9)
    fast, plain = est.leave_one_out(X, X[:, 0] > 0), est.leave_one_out_direct(X, X[:, 0] > 0)
    np.testing.assert_allclose(fast.complement, plain.complement, atol=1e-9)
