"""Plug-in estimators: closed forms, the hashed leave-one-out path against exact counting, on
every backend (the ``backend`` fixture, conftest.py)."""

import collections
import itertools
import math
from fractions import Fraction

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


# -- exact codes for every representable value (issue 12) --------------------------------------
EXTREME_COLUMNS = {
    "int64 extremes": np.array([2**63 - 1, -(2**63), 0, 1, 5, -(2**62)], dtype=np.int64),
    "uint64 extremes": np.array([2**64 - 1, 2**63, 0, 1, 5, 2**40], dtype=np.uint64),
    "floats >= 2^63": np.array([2.0**63, 2.0**64, 5.0, 6.0, 1e300, -1e300]),
    "negative codes": np.array([-(2**40), -3, -2, -1, -7, -(2**40) + 1], dtype=np.int64),
}


@pytest.mark.parametrize("column", list(EXTREME_COLUMNS))
def test_extreme_values_keep_their_partition(backend, column):
    """Discrete codes and the leave-one-out keys partition the samples by value, whatever the
    values: the fast path equals explicit dictionary counting on the values themselves."""
    rng = np.random.default_rng(11)
    values = EXTREME_COLUMNS[column]
    X = np.column_stack([values[rng.integers(0, 6, 120)], values[rng.integers(0, 3, 120)],
                         rng.integers(0, 2, 120).astype(values.dtype)])
    v = values[rng.integers(0, 4, 120)]
    counts = collections.Counter(tuple(int(c) for c in row) for row in X)  # Python ints: exact
    assert gib.entropy(X, estimator="discrete") == pytest.approx(
        -sum(c / 120 * math.log2(c / 120) for c in counts.values()), abs=1e-12)
    t = gib.leave_one_out(backend.X(X) if X.dtype != np.uint64 else X, v, estimator="discrete")
    tol = backend.tol("discrete", 1e-12)
    assert t.joint == pytest.approx(exact_mi(X, v[:, None]), abs=tol)
    for i in range(3):
        assert t.single[i] == pytest.approx(exact_mi(X[:, [i]], v[:, None]), abs=tol)
        assert t.complement[i] == pytest.approx(exact_mi(np.delete(X, i, 1), v[:, None]), abs=tol)


@pytest.mark.parametrize("exponent", [-1060, -1000, 0, 1023])
def test_equal_width_bins_do_not_depend_on_a_power_of_two_scale(exponent):
    """Multiplying a column by 2^k is exact, so its equal-width bins stay the same, also where
    the width (2^1024 at k = 1023) or n_bins / width (k = -1060, subnormals) overflows."""
    from gib.estimators import BinningEstimator

    rng = np.random.default_rng(12)
    base = np.round(rng.uniform(-1.0, 1.0, size=(200, 2)) * 2**12) / 2**12  # exact after scaling
    base[0], base[1] = -1.0, 1.0
    estimator = BinningEstimator(n_bins=7)
    expected = estimator.codes(base)
    scaled = np.ldexp(base, exponent)
    np.testing.assert_array_equal(estimator.codes(scaled), expected)
    np.testing.assert_array_equal(estimator.compact_codes(scaled), expected)


def exact_bins(column, lo, hi, n_bins):
    """floor((x - lo) / (hi - lo) * n_bins) clipped to the bins, in exact rational arithmetic."""
    lo, hi = Fraction(lo), Fraction(hi)
    return [min(n_bins - 1, max(0, math.floor((Fraction(x) - lo) / (hi - lo) * n_bins))) for x in column]


@pytest.mark.parametrize(
    "lo, hi, column",
    [
        (-1.7e308, 1.7e308, np.random.default_rng(13).uniform(-1, 1, 60) * 1.7e308),
        (0.0, 1.0, np.r_[np.random.default_rng(14).uniform(-0.2, 1.2, 58), 1e300, -1e300]),  # far outside
        (0.0, 1e-310, np.random.default_rng(15).uniform(0, 1, 60) * 1e-310),  # n_bins / width overflows
    ],
)
def test_binning_codes_with_a_fixed_range_are_the_exact_bins(lo, hi, column):
    from gib.estimators import BinningEstimator

    estimator = BinningEstimator(n_bins=30, range=(lo, hi))
    np.testing.assert_array_equal(estimator.codes(column[:, None])[:, 0], exact_bins(column, lo, hi, 30))
    np.testing.assert_array_equal(estimator.compact_codes(column[:, None])[:, 0], exact_bins(column, lo, hi, 30))
    if np.all(np.abs(column) < 1e300):  # no outliers, whose range would round the rest to its edges
        data_range = BinningEstimator(n_bins=30)  # over the column's own range
        expected = exact_bins(column, column.min(), column.max(), 30)
        np.testing.assert_array_equal(data_range.codes(column[:, None])[:, 0], expected)


@pytest.mark.parametrize(
    "size, column",
    [
        (1e-3, np.random.default_rng(16).uniform(0, 1e5, 50)),  # 1e8 bins: dense codes of the occupied ones
        (0.07, np.random.default_rng(17).normal(size=50) * 1e300),
        (1e-300, np.random.default_rng(18).uniform(0, 1e-290, 50).astype(np.float32)),  # 0 in float32
    ],
)
def test_fixed_bin_size_codes_are_the_occupied_bins_in_order(size, column):
    from gib.estimators import BinningEstimator

    estimator = BinningEstimator(bin_size=size)
    codes = estimator.codes(column[:, None])[:, 0]
    np.testing.assert_array_equal(estimator.compact_codes(column[:, None])[:, 0], codes)
    floors = np.array([math.floor(Fraction(float(x)) / Fraction(size)) for x in column], dtype=object)
    # one code per occupied bin, in the bins' order (the quotient is rounded once, so a value
    # within one rounding of an edge may sit in its neighbour: none is here)
    ranks = {f: k for k, f in enumerate(sorted(set(floors)))}
    np.testing.assert_array_equal(codes, [ranks[f] for f in floors])


def test_a_bin_size_beyond_the_float_range_is_an_error():
    with pytest.raises(ValueError, match="`bin_size` = 1e-10 is too small"):
        gib.entropy(np.array([1e300, -1e300, 0.0]), bin_size=1e-10)
