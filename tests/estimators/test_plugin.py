"""Plug-in estimators: closed forms, the hashed leave-one-out path against exact counting, on
every backend (the ``backend`` fixture, conftest.py)."""

import itertools
import math

import numpy as np
import pytest

import gib
from gib.estimators import SaturationWarning


def all_bits(n):
    return np.array(list(itertools.product([0, 1], repeat=n)))


def test_entropy_of_uniform_and_constant():
    assert gib.entropy(np.arange(8), estimator="discrete") == pytest.approx(3.0)
    assert gib.entropy(np.zeros(10, dtype=int), estimator="discrete") == 0.0
    assert gib.entropy(all_bits(4), estimator="discrete") == pytest.approx(4.0)


def test_mi_of_a_copy_is_its_entropy():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 5, 400)
    h = gib.entropy(a, estimator="discrete")
    assert gib.mutual_information(a, a, estimator="discrete") == pytest.approx(h)
    assert gib.mutual_information(a, (a * 7 + 3) % 11, estimator="discrete") == pytest.approx(h)


def exact_mi(a, b, w=None):
    """Plug-in MI by explicit dictionaries of rows: the slowest, most obvious computation."""
    w = np.ones(len(a)) / len(a) if w is None else w / w.sum()
    pa, pb, pab = {}, {}, {}
    for ra, rb, wk in zip(map(tuple, a), map(tuple, b), w):
        pa[ra] = pa.get(ra, 0) + wk
        pb[rb] = pb.get(rb, 0) + wk
        pab[ra, rb] = pab.get((ra, rb), 0) + wk
    return sum(p * math.log2(p / (pa[x] * pb[y])) for (x, y), p in pab.items() if p > 0)


def deviation(a, b):
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k_v", [2, 5])
def test_fast_leave_one_out_matches_dictionary_counting(backend, weighted, k_v):
    rng = np.random.default_rng(k_v)
    X = rng.integers(0, 3, size=(300, 5))
    v = rng.integers(0, k_v, size=300)
    w = rng.random(300) if weighted else None
    t = gib.leave_one_out(backend.X(X), v, estimator="discrete", weights=w)
    tol = backend.tol("discrete", 1e-12)
    assert t.joint == pytest.approx(exact_mi(X, v[:, None], w), abs=tol)
    for i in range(5):
        assert t.single[i] == pytest.approx(exact_mi(X[:, [i]], v[:, None], w), abs=tol)
        assert t.complement[i] == pytest.approx(exact_mi(np.delete(X, i, 1), v[:, None], w), abs=tol)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("bias", ["none", "miller-madow"])
def test_discrete_fast_path_matches_direct(backend, weighted, bias):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, size=(300, 6))
    v = rng.integers(0, 4, size=300)
    w = rng.random(300) if weighted else None
    est = gib.get_estimator("discrete", bias=bias)
    tol = backend.tol("discrete", 1e-10)
    # a 2-D target, integral floats (negative), bool
    for data, target in ((X, v), (X, np.column_stack([v, X[:, 0]])), (X - 7.0, v), (X > 0, v)):
        assert deviation(est.leave_one_out(backend.X(data), target, w), est.leave_one_out_direct(data, target, w)) < tol


@pytest.mark.filterwarnings("ignore::gib.SaturationWarning")
@pytest.mark.parametrize(
    "options",
    [{}, {"n_bins": 7}, {"bin_size": 0.5}, {"range": (-1, 1)}, {"bias": "miller-madow"}],
)
def test_binning_fast_path_matches_direct(backend, options):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 6))
    X[:, -1] += X[:, 0]  # correlated columns
    labels = rng.integers(0, 3, 400)
    est = gib.get_estimator("binning", **options)
    tol = backend.tol("binning", 1e-10)
    for w in (None, rng.random(400)):
        for v in (labels, np.column_stack([labels, rng.normal(size=400)]), X[:, 0]):  # 1-D, 2-D, float
            assert deviation(est.leave_one_out(backend.X(X), v, w), est.leave_one_out_direct(X, v, w)) < tol
        # float32 data are binned in float32 on every backend
        X32 = X.astype(np.float32)
        assert deviation(est.leave_one_out(backend.X(X32), labels, w), est.leave_one_out_direct(X32, labels, w)) < tol


@pytest.mark.parametrize("weighted", [False, True])
def test_wide_codes_use_the_sorting_path_for_singles(backend, weighted):
    # token-id-like columns: too many values for contingency tables; and a span beyond 2^24
    # (per-column unique codes)
    rng = np.random.default_rng(4)
    X = rng.integers(0, 30000, size=(500, 70))
    X[:, 0] *= 1000
    v = rng.integers(0, 50, 500)
    w = rng.random(500) if weighted else None
    est = gib.get_estimator("discrete")
    assert deviation(est.leave_one_out(backend.X(X), v, w), est.leave_one_out_direct(X, v, w)) < backend.tol(
        "discrete", 1e-10
    )


def test_many_columns_cross_block_boundaries(backend, monkeypatch):
    import gib.estimators.plugin as plugin

    monkeypatch.setattr(plugin, "_BLOCK_ELEMENTS", 3 * 200)  # 3 key columns per block
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(200, 10))
    v = X[:, 0] ^ X[:, 1]
    est = gib.get_estimator("discrete")
    fast, direct = est.leave_one_out(backend.X(X), v), est.leave_one_out_direct(X, v)
    assert deviation(fast, direct) < backend.tol("discrete", 1e-12)


def test_saturation_warns_for_binning_only(backend):
    X = all_bits(4).astype(float)
    v = X[:, 0]
    with pytest.warns(SaturationWarning, match="all 16 rows") as record:
        gib.leave_one_out(backend.X(X), v, estimator="binning")
    assert record[0].filename == __file__  # points at the caller
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gib.leave_one_out(backend.X(X.astype(int)), v, estimator="discrete")


def test_binning_codes():
    est = gib.get_estimator("binning", n_bins=4)
    x = np.array([0.0, 0.24, 0.26, 0.5, 0.99, 1.0])
    np.testing.assert_array_equal(est.codes(x[:, None])[:, 0], [0, 0, 1, 2, 3, 3])
    # integers pass through as discrete labels, whatever n_bins says
    np.testing.assert_array_equal(est.codes(np.array([[0], [7], [100]]))[:, 0], [0, 7, 100])
    # bin_size: floor(x / size), unbounded
    est = gib.get_estimator("binning", bin_size=0.5)
    np.testing.assert_array_equal(est.codes(np.array([[-1.0], [0.1], [10.0]]))[:, 0], [0, 2, 22])
    # constant column: one bin, zero entropy
    assert gib.entropy(np.ones(10), estimator="binning") == 0.0


def test_miller_madow_adds_the_expected_bias_term():
    a = np.arange(4).repeat(25)  # 4 equiprobable cells, N = 100
    h = gib.entropy(a, estimator="discrete", bias="miller-madow")
    assert h == pytest.approx(2.0 + 3 / (2 * 100) / math.log(2))


def test_strings_are_labels():
    a = np.array(["cat", "dog", "cat", "eel"])
    assert gib.entropy(a, estimator="discrete") == pytest.approx(1.5)


@pytest.mark.parametrize(
    "options",
    [{}, {"n_bins": 7}, {"range": (-0.5, 1.0)}, {"bin_size": 0.07}, {"bin_size": 3.0}, {"n_bins": 300}],
)
def test_compact_codes_are_the_codes_in_a_small_type(options):
    from gib.estimators import BinningEstimator

    rng = np.random.default_rng(5)
    a = np.c_[rng.normal(size=(500, 37)), np.zeros(500), rng.uniform(-1e4, 1e4, 500)].astype(np.float32)
    a[3, 2] = a[:, 2].max()  # ties at the top edge
    estimator = BinningEstimator(**options)
    compact = estimator.compact_codes(a)
    np.testing.assert_array_equal(compact, estimator.codes(a))
    smallest = next(t for t in (np.uint8, np.uint16, np.uint32) if compact.max() <= np.iinfo(t).max)
    assert compact.dtype == smallest


def test_row_codes_of_wide_rows_are_the_partition_of_the_rows():
    from gib.estimators import row_codes

    rng = np.random.default_rng(6)
    base = rng.integers(0, 3, size=(40, 300))
    rows = base[rng.integers(0, 40, 400)]  # 400 rows, at most 40 distinct, 300 wide (no radix code)
    codes = row_codes(rows)
    seen = {}
    for code, row in zip(codes, map(bytes, rows.astype(np.uint8))):
        assert seen.setdefault(row, code) == code  # equal rows, equal codes
    assert len(set(codes)) == len(seen) and codes.max() == len(seen) - 1  # distinct rows, distinct codes


@pytest.mark.parametrize("bias", ["none", "miller-madow"])
def test_code_information_is_the_plug_in_information_of_the_coded_variables(bias):
    from gib.estimators import code_information, get_estimator, row_codes

    rng = np.random.default_rng(7)
    a = rng.integers(0, 3, size=(600, 4))
    b = (a[:, :2].sum(axis=1) + rng.integers(0, 2, 600)) % 4
    estimator = get_estimator("discrete", bias=bias)
    expected = estimator.mutual_information(a, b)
    got = code_information(row_codes(a), row_codes(b[:, None]), bias == "miller-madow")
    assert got == pytest.approx(expected, abs=1e-12)
    wide = rng.integers(0, 600, size=(600, 2))  # a joint table too large for bincount
    assert code_information(row_codes(wide), row_codes(a), bias == "miller-madow") == pytest.approx(
        estimator.mutual_information(wide, a), abs=1e-12)
