"""IB saturation: ceilings in closed form, flags and warnings from `ib_point` and the Monitor,
the noise-injected probe, the per-step `saturated` column, hollow points and the report lines."""

import contextlib
import io
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.collections import PathCollection
from torch import nn

import gib
from gib import plotting
from gib.experiments.reporting import saturation_summary
from gib.monitor import Monitor
from gib.planes import ib_ceilings

N = 512


def distinct_inputs(n=N, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


@contextlib.contextmanager
def no_saturation_warnings():
    """A context in which a SaturationWarning or BoundWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", gib.SaturationWarning)
        warnings.simplefilter("error", gib.BoundWarning)
        yield


# -- ceilings in closed form ----------------------------------------------------------------
def test_ceilings_closed_forms():
    X = np.repeat(np.arange(8), 64)[:, None]  # 8 distinct rows of 64 samples: H(X) = 3
    y = np.tile([0, 0, 1, 2], 128)  # p = (1/2, 1/4, 1/4): H(Y) = 1.5
    for estimator in ("discrete", "binning", "kde", "gcmi", "kde_upper"):
        assert ib_ceilings(X, y, estimator) == pytest.approx((3.0, 1.5), abs=1e-12)
    # distinct continuous rows: log2 N (binning's 1000 bins keep 4 columns' rows apart)
    Xc = distinct_inputs()
    assert ib_ceilings(Xc, y, "binning", n_bins=1000)[0] == pytest.approx(math.log2(N), abs=1e-9)
    assert ib_ceilings(Xc, y, "gcmi")[0] == pytest.approx(math.log2(N), abs=1e-9)
    # a continuous Y: binning codes it (4 equal-width bins of a uniform grid hold 128 samples
    # each: 2 bits); kde and gcmi have no plug-in bound (inf); kde_upper groups distinct rows
    yc = np.linspace(0.0, 1.0, N, endpoint=False)
    assert ib_ceilings(Xc, yc, "binning", n_bins=4)[1] == pytest.approx(2.0, abs=1e-12)
    assert ib_ceilings(Xc, yc, "kde")[1] == math.inf
    assert ib_ceilings(Xc, yc, "gcmi")[1] == math.inf
    assert ib_ceilings(Xc, yc, "kde_upper")[1] == pytest.approx(math.log2(N), abs=1e-9)
    # float labels that are whole numbers are labels
    assert ib_ceilings(Xc, y.astype(float), "gcmi")[1] == pytest.approx(1.5, abs=1e-12)
    # a constant Y has nothing to predict: ceiling 0, and every point is saturated on it
    assert ib_ceilings(Xc, np.zeros(N, int), "binning")[1] == 0.0


def test_ceilings_given_equal_ceilings_computed():
    X, y = distinct_inputs(), np.arange(N) % 4
    T = np.tanh(X @ np.random.default_rng(1).normal(size=(4, 3)))
    computed = gib.ib_point(T, X, y, "binning", warn=False)
    given = gib.ib_point(T, X, y, "binning", warn=False, ceilings=ib_ceilings(X, y, "binning"))
    assert computed == given
    with pytest.raises(ValueError, match="`ceilings`"):
        gib.ib_point(T, X, y, ceilings=(1.0,))
    with pytest.raises(ValueError, match="`ceilings`"):
        gib.ib_point(T, X, y, ceilings=(-1.0, 2.0))
    with pytest.raises(ValueError, match="`saturation_tol`"):
        gib.ib_point(T, X, y, saturation_tol=-0.1)


# -- ib_point flags and warnings ------------------------------------------------------------
def test_all_distinct_continuous_layer_is_saturated_at_log2_n():
    X = distinct_inputs()
    y = np.random.default_rng(2).integers(0, 2, size=N)
    T = X @ np.random.default_rng(3).normal(size=(4, 6))
    with pytest.warns(gib.SaturationWarning, match=r"I\(X;T\) = 9 bits is at its ceiling"):
        point = gib.ib_point(T, X, y, "binning", n_bins=1000)
    assert point.complexity == pytest.approx(math.log2(N), abs=1e-9)
    assert point.complexity_ceiling == pytest.approx(math.log2(N), abs=1e-9)
    assert point.saturated and not point.over_bound


def test_a_layer_that_merges_rows_is_not_saturated():
    X = distinct_inputs()
    y = np.random.default_rng(2).integers(0, 2, size=N)
    T = (X[:, :1] > 0).astype(float)  # two cells: I(X;T) = H(T) <= 1 bit, far below 9
    with no_saturation_warnings():
        point = gib.ib_point(T, X, y, "binning")
    assert point.complexity <= 1.0 + 1e-12
    assert not point.saturated and not point.over_bound


def test_the_tolerance_is_one_samples_share_of_log2_n():
    # T merges m disjoint pairs of the N distinct inputs: I(X;T) = H(T) = log2 N - 2m/N bits,
    # within the default tolerance log2(N)/N = 9/512 while 2m <= 9
    X, y = distinct_inputs(), np.arange(N) % 2
    no_prediction_ceiling = (math.log2(N), math.inf)  # only the complexity axis can fire

    def merged(m):
        T = np.arange(N, dtype=float)
        T[1 : 2 * m : 2] = T[0 : 2 * m : 2]
        return T

    for m, saturated in ((4, True), (5, False)):
        point = gib.ib_point(merged(m), X, y, "discrete", warn=False, ceilings=no_prediction_ceiling)
        assert point.complexity == pytest.approx(math.log2(N) - 2 * m / N, abs=1e-9)
        assert point.saturated == saturated
    tight = gib.ib_point(merged(1), X, y, "discrete", saturation_tol=0.0, ceilings=no_prediction_ceiling)
    assert not tight.saturated


def test_a_layer_that_copies_y_saturates_the_prediction_axis():
    X = distinct_inputs()
    y = np.repeat([0, 1, 2, 3], [256, 128, 64, 64])  # H(Y) = 1.75
    T = y.astype(float)[:, None]
    with pytest.warns(gib.SaturationWarning, match=r"I\(T;Y\) = 1.75 bits is at its ceiling H\(Y\)") as record:
        point = gib.ib_point(T, X, y, estimator="binning")
    assert point.prediction == pytest.approx(1.75, abs=1e-12)
    assert point.prediction_ceiling == pytest.approx(1.75, abs=1e-12)
    assert point.complexity == pytest.approx(1.75, abs=1e-12)  # far below its ceiling of 9 bits
    assert point.saturated and not point.over_bound
    assert "I(X;T)" not in str(record[0].message)  # only the axis at its ceiling is named
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gib.ib_point(T, X, y, estimator="binning", warn=False) == point


def well_separated_classes(n=1000, k=10, d=20, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    T = 5.0 * rng.normal(size=(k, d))[y] + 0.05 * rng.normal(size=(n, d))
    return T, rng.normal(size=(n, 3)), y


def test_gcmi_over_the_bound_of_a_ten_class_y_is_flagged():
    T, X, y = well_separated_classes()
    with pytest.warns(gib.BoundWarning, match=r"I\(T;Y\) = .* exceeds its ceiling H\(Y\) = 3.322 bits"):
        point = gib.ib_point(T, X, y, "gcmi")
    assert point.prediction_ceiling == pytest.approx(math.log2(10), abs=1e-12)
    assert point.prediction > point.prediction_ceiling + 1.0  # the Gaussian fit of 10 tight clusters
    assert point.over_bound and point.saturated
    # the plug-in estimate of the same layer obeys the bound, and is flagged as at it instead
    with pytest.warns(gib.SaturationWarning):
        plug_in = gib.ib_point(T, X, y, "binning")
    assert plug_in.prediction <= plug_in.prediction_ceiling + 1e-12 and not plug_in.over_bound


def test_errors_name_t_x_and_y():
    X, y = distinct_inputs(n=10, d=2), np.arange(10) % 2
    with pytest.raises(TypeError, match="`T` has dtype"):
        gib.ib_point(np.array(list("abcdefghij")), X, y, "kde")
    with pytest.raises(ValueError, match=r"\(`T`, `X`\) has effective sample size"):
        gib.ib_point(np.random.default_rng(0).normal(size=(10, 12)), X, y, "gcmi", ridge=0.0)
    T = np.random.default_rng(0).normal(size=(10, 2))
    T[y == 0, 0] = 1.0  # constant within class 0
    with pytest.raises(ValueError, match="`T` has constant column"):
        gib.ib_point(T, X, y, "kde", min_class_sigma=0.0)
    with pytest.raises(ValueError, match="`y` has 9"):
        gib.ib_point(T, X, y[:9])


# -- the Monitor ----------------------------------------------------------------------------
def tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))


def bit_probe():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(128, 4)).astype(np.float32)  # 16 distinct patterns
    return X, (X[:, 0].astype(int) ^ X[:, 1].astype(int))


def saturation_warnings(record):
    return [w for w in record if issubclass(w.category, gib.SaturationWarning)]


def warned_layers(record):
    """The layers named by the one saturation warning of a run (at most two lines, a docs link)."""
    (warning,) = saturation_warnings(record)
    text = str(warning.message)
    assert len(text.splitlines()) <= 2 and "https://" in text
    return text.split("layer(s) ")[1].split(", step")[0].split(", ")


def test_monitor_flags_and_warns_once_per_run():
    model, (X, y) = tiny_model(), bit_probe()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        mon = Monitor(model, X, y, estimators="binning")
        mon.record(0)
        mon.record(1)
    frame = mon.frame
    ib = frame[frame.plane == "IB"]
    flags = ib[ib.measure == "saturated"]
    assert len(flags) == 2 * 4 and set(flags.value) <= {0.0, 1.0}
    assert set(ib[ib.measure == "over_bound"].value) == {0.0}  # a plug-in estimate never is
    # the flags are those of ib_point on the same activations, against the same ceilings
    with torch.no_grad():
        h0 = torch.tanh(model[0](torch.as_tensor(X))).numpy()
    direct = gib.ib_point(h0, X, y, "binning", warn=False)
    assert direct.saturated  # 16 patterns, each its own row of T: I(X;T) = H(X), I(T;Y) = H(Y)
    layer0 = ib[(ib.layer == "0") & (ib.step == 0)].set_index("measure")["value"]
    assert layer0["saturated"] == 1.0
    assert layer0["complexity_ceiling"] == pytest.approx(direct.complexity_ceiling)
    assert layer0["prediction_ceiling"] == pytest.approx(gib.entropy(y, "discrete"))
    # one warning over both records, naming every layer saturated at its step
    saturated_layers = set(flags[(flags.value == 1.0) & (flags.step == 0)].layer)
    assert saturated_layers and sorted(warned_layers(record)) == sorted(saturated_layers)
    # a resumed run (a fresh monitor loaded with the state) does not warn again
    state = mon.state_dict()
    mon.close()
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        resumed = Monitor(model, X, y, estimators="binning")
        resumed.load_state_dict(state)
        resumed.record(2)
    resumed.close()
    assert not saturation_warnings(again)
    assert len(resumed.frame) == len(frame) * 3 // 2
    # an old state without the warned keys loads, and warns afresh
    with warnings.catch_warnings(record=True) as old:
        warnings.simplefilter("always")
        fresh = Monitor(model, X, y, estimators="binning")
        fresh.load_state_dict({"rows": state["rows"], "epochs_seen": state["epochs_seen"]})
        fresh.record(3)
    fresh.close()
    assert sorted(warned_layers(old)) == sorted(saturated_layers)


def noisy_monitor(model, X, y, **options):
    return Monitor(model, X, y, estimators="binning", ib_estimators="gcmi", layers=["1"], **options)


def test_ib_noise_is_reproducible_resumable_and_lowers_a_saturated_estimate():
    model = tiny_model()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = rng.integers(0, 2, size=200)  # independent of X: only the complexity axis can saturate

    def ib_rows(mon, step):
        frame = mon.record(step)
        return frame[frame.plane == "IB"].reset_index(drop=True)

    # without noise the 5 tanh units are a deterministic map of the 4 inputs: GCMI's Gaussian
    # fit of (X, T) is singular and I(X;T) goes past log2 N
    with pytest.warns(gib.BoundWarning):
        clean = ib_rows(noisy_monitor(model, X, y), 0)
    clean = clean[clean.layer == "1"].set_index("measure")["value"]
    assert clean["saturated"] == 1.0 and clean["complexity"] > clean["complexity_ceiling"]

    with no_saturation_warnings():
        a = noisy_monitor(model, X, y, ib_noise=0.1, seed=3)
        first, second = ib_rows(a, 0), ib_rows(a, 5)
        again = ib_rows(noisy_monitor(model, X, y, ib_noise=0.1, seed=3), 0)
        other = ib_rows(noisy_monitor(model, X, y, ib_noise=0.1, seed=4), 0)
        resumed = noisy_monitor(model, X, y, ib_noise=0.1, seed=3)
        resumed.load_state_dict(noisy_monitor(model, X, y).state_dict())
        resumed_second = ib_rows(resumed, 5)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(second, resumed_second)  # the draw depends on (seed, layer, step)
    value = lambda f, m: f[(f.layer == "1") & (f.measure == m)]["value"].item()  # noqa: E731
    assert value(first, "complexity") != value(second, "complexity")
    assert value(first, "complexity") != value(other, "complexity")
    assert value(first, "complexity") < clean["complexity_ceiling"] - 1.0
    assert value(first, "saturated") == 0.0
    with pytest.raises(ValueError, match="`ib_noise`"):
        noisy_monitor(model, X, y, ib_noise=0.0)
    with pytest.raises(ValueError, match="`seed`"):
        noisy_monitor(model, X, y, ib_noise=0.1, seed=-1)


# -- trajectories, figures and report lines -------------------------------------------------
def flagged_frame(flags):
    """An IB trajectory over steps x seeds whose `saturated` flag is ``flags[step][seed]``."""
    rows = []
    for step, per_seed in enumerate(flags):
        for seed, flag in enumerate(per_seed):
            for measure, value in (("complexity", 1.0 + step), ("prediction", 0.5 + 0.1 * step),
                                   ("saturated", float(flag)), ("over_bound", 0.0),
                                   ("complexity_ceiling", 9.0), ("prediction_ceiling", 1.0)):
                rows.append(("relu", seed, step, 10.0 * step, "IB", "hidden5", "binning", "", measure, value))
            for measure, value in (("complexity", -step), ("prediction", step)):
                rows.append(("relu", seed, step, 10.0 * step, "GIB", "input", "binning", "featurewise", measure, value))
    return pd.DataFrame(rows, columns=plotting.FRAME_COLUMNS)


FLAGS = [[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]


def test_trajectory_saturated_is_the_fraction_of_seeds():
    frame = flagged_frame(FLAGS)
    table = plotting.trajectories(frame, "IB")
    np.testing.assert_allclose(table["saturated"], [0.0, 0.25, 0.5, 0.75, 1.0])
    assert list(plotting.trajectories(frame, "IB", seed=1)["saturated"]) == [0, 0, 1, 1, 1]
    assert (plotting.trajectories(frame, "GIB")["saturated"] == 0.0).all()
    # frames without the flags: the column is 0 and every other column is unchanged
    unflagged = frame[frame.measure != "saturated"]
    old = plotting.trajectories(unflagged, "IB")
    assert (old["saturated"] == 0.0).all()
    pd.testing.assert_frame_equal(old.drop(columns="saturated"), table.drop(columns="saturated"))
    # a seed whose flag is missing at a step counts as not saturated
    partial = frame.drop(frame[(frame.measure == "saturated") & (frame.seed == 0) & (frame.step == 4)].index)
    assert plotting.trajectories(partial, "IB")["saturated"].iloc[-1] == 0.75


def trajectory_points(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == "trajectory"][0]


def test_saturated_points_are_drawn_hollow_with_a_note():
    fig = plotting.information_plane(flagged_frame(FLAGS), condition="relu")
    fig.savefig(io.BytesIO(), format="png", dpi=40)  # draw: the colours are mapped then
    ib_ax, gib_ax = (ax for ax in fig.axes if any(c.get_gid() == "trajectory" for c in ax.collections))
    points = trajectory_points(ib_ax)
    faces, edges = np.asarray(points.get_facecolors()), np.asarray(points.get_edgecolors())
    widths = np.asarray(points.get_linewidths())
    hollow = np.array([0.0, 0.25, 0.5, 0.75, 1.0]) >= 0.5
    assert (faces[hollow, 3] == 0).all() and (faces[~hollow, 3] > 0).all()
    assert (edges[hollow, 3] > 0).all() and (widths[hollow] > 0).all()
    np.testing.assert_allclose(edges[hollow], points.cmap(points.norm(np.array([20.0, 30.0, 40.0]))))
    assert any(plotting.SATURATED_NOTE in t.get_text() for t in ib_ax.texts)  # in the notes under it
    # the GIB panel (no flags) is filled and has no note
    gib_faces = np.asarray(trajectory_points(gib_ax).get_facecolors())
    assert (gib_faces[:, 3] > 0).all()
    assert not any(plotting.SATURATED_NOTE in t.get_text() for t in gib_ax.texts)
    grid = plotting.plane_grid(flagged_frame(FLAGS))
    assert any(plotting.SATURATED_NOTE in t.get_text() for ax in grid.axes for t in ax.texts)


def test_saturation_summary_counts_records_and_gives_ceilings():
    frame = flagged_frame(FLAGS)
    text = saturation_summary(frame)
    # 20 records (5 steps x 4 seeds), 10 saturated, none over the bound
    assert "| relu | hidden5 | binning | 20 | 10 | 0 | 9.000 | 1.000 |" in text
    assert "10 of 20 IB points" in text
    assert "No saturation flags" in saturation_summary(frame[frame.measure != "saturated"])
    assert "No saturation flags" in saturation_summary(frame, ib_layer="hidden4")
    # a Monitor's frame has no condition column
    model, (X, y) = tiny_model(), bit_probe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gib.SaturationWarning)
        with Monitor(model, X, y, gib.default_recorders(estimators="binning"), layers=["1"]) as mon:
            mon.record(0)
    assert "| all runs | 1 | binning | 1 | 1 | 0 |" in saturation_summary(mon.frame, ib_layer="1")
