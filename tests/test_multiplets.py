"""Every multiplet's higher-order measure (gib.multiplets): the batched subset entropies against
one estimate per subset, the table against gib's measures on each subset and against hoi's
Oinfo (float64), and the reading of the table (multiplets_nbest)."""

import itertools

import numpy as np
import pandas as pd
import pytest

import gib

MEASURES = ["total_correlation", "dual_total_correlation", "o_information", "s_information"]


def all_subsets(n, sizes):
    return {s: np.array(list(itertools.combinations(range(n), s))) for s in sizes}


# -- the batched subset entropies ----------------------------------------------------------------
@pytest.mark.parametrize("name, options", [
    ("discrete", {}), ("discrete", {"bias": "miller-madow"}), ("binning", {}), ("binning", {"n_bins": 200}),
    ("gcmi", {}), ("gcmi", {"bias_correct": False}), ("kde", {}),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_subset_entropies_equal_one_estimate_per_subset(name, options, weighted):
    rng = np.random.default_rng(0)
    N, n = 120, 6
    X = rng.integers(0, 3, size=(N, n)) if name == "discrete" else rng.normal(size=(N, n))
    if name != "discrete":
        X[:, 1] += X[:, 0]
    est = gib.get_estimator(name, **options)
    w = rng.random(N) if weighted else None
    entropies = est.subset_entropies(X, w)
    for s, subsets in all_subsets(n, [1, 2, 3, 5]).items():
        np.testing.assert_allclose(entropies(subsets), est.subset_entropies_direct(X, subsets, w), rtol=0,
                                   atol=1e-11, err_msg=f"size {s}")


def test_plugin_hashed_keys_equal_exact_counts():
    """Wide subsets (more cells than a table holds) go by their hashed row keys."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 50, size=(300, 6))
    est = gib.get_estimator("discrete")
    subsets = all_subsets(6, [4])[4]
    np.testing.assert_allclose(est.subset_entropies(X)(subsets), est.subset_entropies_direct(X, subsets), atol=1e-11)


def test_gcmi_singular_submatrices_are_regularised_as_alone():
    """A copied column makes some submatrices singular: those are regularised one by one, as
    the estimator's entropy does on the subset alone."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 5))
    X[:, 3] = X[:, 1]
    est = gib.get_estimator("gcmi")
    subsets = all_subsets(5, [2, 3])
    for s in subsets.values():
        np.testing.assert_allclose(est.subset_entropies(X)(s), est.subset_entropies_direct(X, s), atol=1e-11)


def test_subset_entropies_check_their_subsets():
    est = gib.get_estimator("discrete")
    entropies = est.subset_entropies(np.zeros((10, 3), dtype=int))
    with pytest.raises(ValueError, match="outside 0..2"):
        entropies(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="repeats a column"):
        entropies(np.array([[1, 1]]))
    with pytest.raises(ValueError, match="integer column indices"):
        entropies(np.array([[0.0, 1.0]]))


# -- the table against gib's measures on each subset ---------------------------------------------
@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("estimator", ["discrete", "binning", "gcmi"])
def test_values_equal_the_measure_of_each_subset(measure, estimator):
    rng = np.random.default_rng(3)
    N, n = 150, 6
    X = rng.integers(0, 3, size=(N, n)) if estimator == "discrete" else rng.normal(size=(N, n))
    frame = gib.multiplets(X, measure, orders=(2, 3, 5), estimator=estimator)
    assert len(frame) == 15 + 20 + 6 and list(frame.columns) == ["multiplet", "order", "value"]
    assert frame.attrs["measure"] == measure
    for multiplet, order, value in frame.itertuples(index=False):
        assert order == len(multiplet)
        direct = getattr(gib, measure)(X[:, list(multiplet)], estimator=estimator)
        assert value == pytest.approx(direct, abs=1e-10), multiplet


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("estimator", ["binning", "gcmi"])
def test_task_related_values_are_the_measure_of_the_multiplet_with_the_target(measure, estimator):
    """With a target y, each multiplet's value is the measure of (X_S, y) (hoi's task-related
    measures): for the plug-in estimator X and y are binned apart, as the columns alone would be."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 5))
    y = X[:, 0] * X[:, 1] + 0.5 * rng.normal(size=150)
    frame = gib.multiplets(X, measure, orders=(2, 3), estimator=estimator, target=y)
    for multiplet, _, value in frame.itertuples(index=False):
        direct = getattr(gib, measure)(np.column_stack([X[:, list(multiplet)], y]), estimator=estimator)
        assert value == pytest.approx(direct, abs=1e-10), multiplet


@pytest.mark.parametrize("estimator, labels", [("binning", True), ("binning", False), ("discrete", True),
                                               ("gcmi", False), ("gcmi", True), ("ksg", True)])
def test_synergy_of_each_multiplet_about_the_target(estimator, labels):
    rng = np.random.default_rng(5)
    N = 120 if estimator == "ksg" else 200
    X = rng.integers(0, 3, size=(N, 4)) if estimator == "discrete" else rng.normal(size=(N, 4))
    y = (X[:, 0] > X[:, 0].mean()) ^ (X[:, 1] > X[:, 1].mean()) if labels else X[:, 0] * X[:, 1]
    y = y.astype(int) if labels else y
    frame = gib.multiplets(X, "synergy", orders=(2, 3), estimator=estimator, target=y)
    assert len(frame) == 6 + 4
    for multiplet, _, value in frame.itertuples(index=False):
        direct = gib.synergy(X[:, list(multiplet)], y, estimator=estimator)
        assert value == pytest.approx(direct, abs=1e-10), multiplet


def test_a_dataframe_gives_the_names_of_each_multiplet():
    rng = np.random.default_rng(6)
    frame = gib.multiplets(pd.DataFrame(rng.integers(0, 2, size=(50, 4)), columns=["a", "b", "c", "d"]),
                           orders=3, estimator="discrete")
    assert frame["names"].tolist() == [("a", "b", "c"), ("a", "b", "d"), ("a", "c", "d"), ("b", "c", "d")]


def test_bad_arguments_name_themselves():
    X = np.random.default_rng(7).normal(size=(30, 4))
    with pytest.raises(ValueError, match="`orders`"):
        gib.multiplets(X, orders=(3, 5))
    with pytest.raises(ValueError, match="`orders`"):
        gib.multiplets(X, orders=1)
    with pytest.raises(ValueError, match="`measure`"):
        gib.multiplets(X, measure="o_info")
    with pytest.raises(ValueError, match="pass `target`"):
        gib.multiplets(X, measure="synergy")
    with pytest.raises(ValueError, match="`target`"):
        gib.multiplets(X, target=np.zeros((30, 2)))
    with pytest.raises(TypeError, match="`target` holds labels"):
        gib.multiplets(X, estimator="gcmi", target=np.array(["a", "b"] * 15))


# -- reading the table -------------------------------------------------------------------------
def planted(N=4000, seed=8):
    """Six binary variables: 0, 1, 2 an XOR triplet, 3 a copy of 4 and 5 (noisy) another copy."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.integers(0, 2, size=(3, N))
    flips = rng.random(N) < 0.05
    return np.column_stack([a, b, a ^ b, c, c, c ^ flips])


def test_nbest_finds_the_planted_synergy_and_redundancy():
    X = planted()
    frame = gib.multiplets(X, orders=3, estimator="discrete")
    assert gib.multiplets_nbest(frame, n=1)["multiplet"].tolist() == [(0, 1, 2)]
    assert gib.multiplets_nbest(frame, n=1, kind="redundancy")["multiplet"].tolist() == [(3, 4, 5)]
    assert gib.multiplets_nbest(frame, n=1)["value"].item() == pytest.approx(-1.0, abs=0.01)
    assert len(gib.multiplets_nbest(frame, n=100)) == 20


def test_nbest_reads_the_synergy_with_its_own_sign():
    X = planted()
    y = X[:, 0] ^ X[:, 1]
    frame = gib.multiplets(X[:, [0, 1, 3, 4]], "synergy", orders=2, estimator="discrete", target=y)
    best = gib.multiplets_nbest(frame, n=1)
    assert best["multiplet"].tolist() == [(0, 1)] and best["value"].item() > 0.9
    assert gib.multiplets_nbest(frame, n=1, kind="redundancy")["multiplet"].tolist() == [(2, 3)]
    assert gib.multiplets_nbest(frame, n=3, order=2)["order"].tolist() == [2, 2, 2]


def test_nbest_refuses_a_measure_without_a_sign():
    frame = gib.multiplets(planted(500), "total_correlation", orders=3, estimator="discrete")
    with pytest.raises(ValueError, match="does not tell synergy from redundancy"):
        gib.multiplets_nbest(frame)
    with pytest.raises(ValueError, match="`frame`"):
        gib.multiplets_nbest(pd.DataFrame({"value": [1.0]}))


# -- against hoi (float64) -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hoi_x64():
    """jax (hoi's backend) in float64 for the module's tests, as it was afterwards."""
    jax = pytest.importorskip("jax")
    pytest.importorskip("hoi")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


def hoi_table(metric, X, orders, method, y=None):
    import hoi.metrics

    model = getattr(hoi.metrics, metric)(X, y=y, verbose=False)
    values = np.asarray(model.fit(minsize=min(orders), maxsize=max(orders), method=method)).ravel()
    n = X.shape[1]
    rows = {}
    for multiplet, value in zip(np.asarray(model.multiplets), values):
        rows[tuple(int(i) for i in multiplet if 0 <= i < n)] = float(value)
    return rows


def hoi_data(method, with_target, N=300, n=6):
    rng = np.random.default_rng(9)
    if method == "gc":
        X = rng.normal(size=(N, n))
        X[:, 2] += X[:, 0] - X[:, 1]
        y = X[:, 0] + rng.normal(size=N)
    else:
        X = rng.integers(0, 3, size=(N, n))
        X[:, 2] = (X[:, 0] + X[:, 1]) % 3
        y = (X[:, 0] + X[:, 3]) % 2
    return X, (y if with_target else None), {"gc": "gcmi", "binning": "discrete"}[method]


def assert_equal_hoi(frame, expected):
    assert len(frame) == len(expected)
    for multiplet, _, value in frame.itertuples(index=False):
        # hoi computes in float64 here but stores its table in float32 (a relative 6e-8)
        assert value == pytest.approx(expected[multiplet], rel=2e-7, abs=1e-12), multiplet


@pytest.mark.parametrize("with_target", [False, True])
@pytest.mark.parametrize("method", ["gc", "binning"])
def test_o_information_equals_hoi(hoi_x64, with_target, method):
    """hoi's Oinfo of every multiplet of orders 3 and 4, and with a target its task-related
    O-information: the O-information of (X_S, y)."""
    X, y, estimator = hoi_data(method, with_target)
    frame = gib.multiplets(X, "o_information", orders=(3, 4), estimator=estimator, target=y)
    assert_equal_hoi(frame, hoi_table("Oinfo", X, (3, 4), method, y))


@pytest.mark.parametrize("measure, metric", [("total_correlation", "TC"), ("dual_total_correlation", "DTC"),
                                             ("s_information", "Sinfo")])
def test_other_measures_equal_hoi(hoi_x64, measure, metric):
    X, _, estimator = hoi_data("gc", False)
    assert_equal_hoi(gib.multiplets(X, measure, orders=3, estimator=estimator), hoi_table(metric, X, (3,), "gc"))


# -- the landscape figure ----------------------------------------------------------------------
def test_landscape_draws_each_order_and_the_value_range():
    from matplotlib.collections import QuadMesh

    from gib.plotting import multiplets_landscape

    X = np.column_stack([planted(2000), np.random.default_rng(10).integers(0, 2, size=(2000, 3))])
    frame = gib.multiplets(X, orders=(3, 4), estimator="discrete")
    fig = multiplets_landscape(frame, bins=20, title="planted")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low < frame["value"].min() < -0.99 and high > frame["value"].max() > 0.7  # the XOR; the copies
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "4"]
    assert ax.get_ylabel() == "O-information (bits)" and "84 of order 3, 126 of order 4" in ax.get_title()
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    share = np.ma.filled(mesh.get_array(), np.nan).reshape(20, 2)
    np.testing.assert_allclose(np.nansum(share, axis=0), 1.0)  # each order's shares add up to 1
    with pytest.raises(ValueError, match="`frame`"):
        multiplets_landscape(frame.iloc[:0])


def test_chunks_and_the_progress_bar_change_nothing(monkeypatch):
    """Small chunks (several per order and per subset size) and a progress bar asked for give
    the same table as one chunk."""
    import gib.interactions as interactions

    rng = np.random.default_rng(17)
    X = rng.integers(0, 3, size=(80, 7))
    y = rng.integers(0, 2, size=80)
    whole = gib.multiplets(X, orders=(3, 4), estimator="discrete", target=y)
    monkeypatch.setattr(interactions, "_CHUNK", 6)
    chunked = gib.multiplets(X, orders=(3, 4), estimator="discrete", target=y, progress=True)
    pd.testing.assert_frame_equal(whole, chunked)
    with pytest.raises(TypeError, match="`progress`"):
        gib.multiplets(X, orders=3, progress="yes")
