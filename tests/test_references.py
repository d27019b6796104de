"""References of the GIB plane (SPEC 2, "References for the GIB plane"): the task's C*, the
constant predictor, null predictors that use no training, and where the Monitor, the reports and
the planes show them."""

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import gib
from gib import plotting
from gib.data import twelve_bit_labels, twelve_bit_patterns
from gib.experiments import reporting
from gib.experiments.activations import Config as ActivationsConfig
from gib.experiments.activations import PRESETS as ACTIVATION_PRESETS
from gib.experiments.base import make_config
from gib.monitor import Monitor, null_references
from gib.reproduce import NO_CLAIMS, Outcome, write_report


def all_bits(n, repeat=1):
    return np.tile(np.array(list(itertools.product([0, 1], repeat=n))), (repeat, 1))


def three_class_task(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.3 * rng.normal(size=n), [-0.2, 0.8])
    return X, y


def regression_task(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    return X, X[:, 0] * X[:, 1] + X[:, 2]


# -- C* and the constant predictor ----------------------------------------------------------
def test_xor_task_has_c_star_minus_one_bit():
    X = all_bits(2, repeat=25)
    y = X[:, 0] ^ X[:, 1]
    ref = gib.gib_reference(X, y, estimator="discrete")
    # Z = (y, y) carries one bit held by neither input alone: S(X->Z) = 1 - 0 - 0
    assert ref.complexity_star == pytest.approx(-1.0)
    assert ref.prediction_star == pytest.approx(1.0)
    assert ref.complexity_constant == pytest.approx(-1.0)  # balanced classes: uniform PMI weights
    assert ref.kind == "featurewise" and ref.target == "joint"


def test_copy_task_has_c_star_plus_one_bit():
    x1 = all_bits(1, repeat=10)[:, 0]
    X = np.column_stack([x1, x1])
    # each copy alone, and the other copy, hold the bit: II = 1 - 1 - 1 = -1 (redundancy)
    assert gib.gib_reference(X, x1, estimator="discrete").complexity_star == pytest.approx(1.0)


def test_constant_predictor_is_the_unweighted_synergy_of_y():
    X = all_bits(3, repeat=3)
    y = X[:, 0] & X[:, 1]  # unbalanced: a quarter of ones
    ref = gib.gib_reference(X, y, estimator="discrete")
    # Z = (c, Y) and uniform weights: C = -S(X->Y) under the empirical distribution
    assert ref.complexity_constant == pytest.approx(-gib.synergy(X, y, estimator="discrete"))
    assert ref.complexity_star == pytest.approx(gib.gib_point(X, y, y, estimator="discrete").complexity)
    # unbalanced classes: the perfect predictor's PMI weights equalise them, and C* moves
    assert abs(ref.complexity_star - ref.complexity_constant) > 1e-3


@pytest.mark.parametrize("task, bound", [("original", 3.5e-5), ("spherical", 1e-5)])
def test_twelve_bit_task_constant_predictor_is_close_to_c_star(task, bound):
    X, y = twelve_bit_patterns(), twelve_bit_labels(task=task)
    ref = gib.gib_reference(X, y)
    assert ref.complexity_star == pytest.approx(gib.gib_point(X, y, y).complexity, abs=1e-12)
    # measured: 3.0e-5 bits on the original task (2118 of 4096 positive; the "within 3e-5"),
    # 2.6e-6 on the spherical one (2036 of 4096): the PMI weights of a perfect predictor equalise
    # the classes, a constant predictor's are uniform, so the two differ only through the imbalance
    assert 0 < abs(ref.complexity_star - ref.complexity_constant) < bound


def test_distinct_inputs_of_the_twelve_bit_task_give_no_saturation_warning(recwarn):
    # all 4096 patterns are distinct by the task's design: the references say nothing about it
    X, y = twelve_bit_patterns(), twelve_bit_labels()
    gib.gib_reference(X, y)
    gib.null_trajectory(X, y, [0.5, 1.0], n_seeds=1)
    # nor does a GIB point there: its joint I(X;Z) is H(Z) on distinct inputs, and the synergy's
    # pieces I(X_i;Z), I(X_-i;Z) still carry the measure
    gib.gib_point(X, y, y)
    assert not [w for w in recwarn if issubclass(w.category, gib.SaturationWarning)]


def test_moved_names_still_import_from_planes_with_a_deprecation_warning():
    from gib import references

    with pytest.warns(DeprecationWarning, match="gib.planes.NullReference has moved to gib.references"):
        from gib.planes import NullReference
    assert NullReference is references.NullReference
    with pytest.warns(DeprecationWarning, match="gib.phases.compression_phase"):
        from gib.planes import compression_phase
    assert compression_phase is gib.compression_phase


def test_sum_vs_whole_reference():
    X = all_bits(2, repeat=5)
    y = X[:, 0] ^ X[:, 1]
    ref = gib.gib_reference(X, y, estimator="discrete", kind="sum_vs_whole")
    assert ref.complexity_star == pytest.approx(-1.0) and ref.kind == "sum_vs_whole"


# -- null predictors ------------------------------------------------------------------------
ACCURACIES = (0.0, 0.1, 0.35, 0.5, 0.62, 0.8, 0.9, 0.97, 1.0)


@pytest.mark.parametrize("family", ["linear", "random"])
def test_null_predictions_are_exact_and_nested(family):
    X, y = three_class_task()
    n = len(y)
    errors = []
    for a in ACCURACIES:
        yhat = gib.null_predictions(X, y, a, family=family, seed=4)
        assert np.sum(yhat == y) == round(a * n)
        assert set(np.unique(yhat)) <= set(np.unique(y)) and yhat.dtype == y.dtype
        errors.append(set(np.flatnonzero(yhat != y)))
    for more, fewer in zip(errors, errors[1:]):
        assert fewer <= more  # higher accuracy: a subset of the errors
    again = gib.null_predictions(X, y, 0.62, family=family, seed=4)
    np.testing.assert_array_equal(again, gib.null_predictions(X, y, 0.62, family=family, seed=4))
    assert not np.array_equal(again, gib.null_predictions(X, y, 0.62, family=family, seed=5))


def test_linear_null_is_the_least_squares_predictor_at_its_own_accuracy():
    X, y = three_class_task()
    design = np.column_stack([X, np.ones(len(X))])
    one_hot = np.eye(3)[y]
    scores = design @ np.linalg.lstsq(design, one_hot, rcond=None)[0]
    ls = scores.argmax(axis=1)
    runner_up = np.argsort(scores, axis=1)[:, -2]
    a_ls = np.mean(ls == y)
    np.testing.assert_array_equal(gib.null_predictions(X, y, a_ls, seed=1), ls)
    # below it, correct samples take the least-squares runner-up class
    low = gib.null_predictions(X, y, a_ls - 0.1, seed=1)
    flipped = (low != y) & (ls == y)
    assert flipped.sum() == round(0.1 * len(y))
    np.testing.assert_array_equal(low[flipped], runner_up[flipped])
    # above it, errors are corrected: the remaining wrong ones keep the least-squares class
    high = gib.null_predictions(X, y, a_ls + 0.1, seed=1)
    np.testing.assert_array_equal(high[high != y], ls[high != y])


def test_random_null_uses_one_fixed_labelling_per_seed():
    X, y = three_class_task()
    wrong = gib.null_predictions(X, y, 0.0, family="random", seed=2)
    assert np.all(wrong != y)
    some = gib.null_predictions(X, y, 0.7, family="random", seed=2)
    np.testing.assert_array_equal(some[some != y], wrong[some != y])
    counts = np.bincount((wrong - y) % 3, minlength=3)  # uniform among the two other classes
    assert counts[0] == 0 and abs(counts[1] - counts[2]) < 0.2 * len(y)


def test_binary_string_labels_keep_their_classes():
    X, y = three_class_task()
    labels = np.where(y > 0, "yes", "no")
    yhat = gib.null_predictions(X, labels, 0.75, family="linear")
    assert set(yhat) <= {"yes", "no"} and np.sum(yhat == labels) == round(0.75 * len(y))


def test_binned_agreement_counts_samples_in_the_bin_of_y():
    y = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    # 4 bins of width 0.25 over [0, 1]; values outside fall in the edge bins
    yhat = np.array([0.1, 0.26, 0.2, 0.99, 7.0])
    assert gib.binned_agreement(yhat, y, output_bins=4) == pytest.approx(4 / 5)


@pytest.mark.parametrize("family", ["linear", "random"])
def test_regression_null_reaches_the_binned_agreement_exactly(family):
    X, y = regression_task()
    errors = []
    for a in ACCURACIES:
        yhat = gib.null_predictions(X, y, a, family=family, seed=3, output_bins=10)
        assert yhat.shape == y.shape and yhat.dtype.kind == "f"
        assert gib.binned_agreement(yhat, y, output_bins=10) == pytest.approx(round(a * len(y)) / len(y))
        bins_hat = np.clip(np.floor((yhat - y.min()) / np.ptp(y) * 10), 0, 9)
        bins_y = np.clip(np.floor((y - y.min()) / np.ptp(y) * 10), 0, 9)
        errors.append(set(np.flatnonzero(bins_hat != bins_y)))
    for more, fewer in zip(errors, errors[1:]):
        assert fewer <= more


def test_null_at_full_accuracy_is_c_star():
    X, y = twelve_bit_patterns(), twelve_bit_labels()
    star = gib.gib_reference(X, y).complexity_star
    for family in ("linear", "random"):
        row = gib.null_trajectory(X, y, [1.0], family=family, n_seeds=2).iloc[0]
        assert row["complexity"] == pytest.approx(star, abs=1e-12) and row["complexity_std"] == 0.0


@pytest.mark.parametrize("family", ["linear", "random"])
def test_null_trajectory_averages_direct_gib_points(family):
    X, y = three_class_task()
    accuracies = [0.4, 0.75, 0.95]
    table = gib.null_trajectory(X, y, accuracies, family=family, seed=7, n_seeds=3, n_bins=8,
                                kind="sum_vs_whole")
    assert list(table.columns) == ["accuracy", "complexity", "prediction", "complexity_std", "prediction_std",
                                   "n_seeds", "family"]
    for a, (_, row) in zip(accuracies, table.iterrows()):
        points = [gib.gib_point(X, gib.null_predictions(X, y, a, family=family, seed=s), y, n_bins=8,
                                kind="sum_vs_whole") for s in (7, 8, 9)]
        c = [p.complexity for p in points]
        assert row["accuracy"] == a and row["n_seeds"] == 3 and row["family"] == family
        assert row["complexity"] == pytest.approx(np.mean(c))
        assert row["complexity_std"] == pytest.approx(np.std(c, ddof=1))
        assert row["prediction"] == pytest.approx(np.mean([p.prediction for p in points]))


def test_null_reference_is_exact_on_the_grid_and_interpolates_between():
    X, y = three_class_task(n=200)
    null = gib.NullReference(X, y, family="random", n_seeds=2, resolution=0.1, n_bins=6)
    exact = gib.null_trajectory(X, y, [0.5, 0.6], family="random", n_seeds=2, n_bins=6).set_index("accuracy")
    assert null.at(0.5) == pytest.approx(tuple(exact.loc[0.5, ["complexity", "prediction"]]))
    (c5, p5), (c6, p6) = (tuple(exact.loc[a, ["complexity", "prediction"]]) for a in (0.5, 0.6))
    assert null.at(0.53) == pytest.approx((0.7 * c5 + 0.3 * c6, 0.7 * p5 + 0.3 * p6))
    for a in np.linspace(0, 1, 57):
        null.at(float(a))
    assert null.n_computed <= 11  # one point per grid accuracy, whatever the number of calls
    svw = gib.null_trajectory(X, y, [0.6], family="random", n_seeds=2, n_bins=6, kind="sum_vs_whole")
    assert null.at(0.6, kind="sum_vs_whole")[0] == pytest.approx(svw["complexity"].iloc[0])
    assert null.reference == gib.gib_reference(X, y, n_bins=6)
    assert null.reference_for("sum_vs_whole") == gib.gib_reference(X, y, n_bins=6, kind="sum_vs_whole")


def test_reference_and_null_arguments_are_checked():
    X, y = three_class_task(n=60)
    for bad in (-0.1, 1.5, float("nan"), True, "high"):
        with pytest.raises(ValueError, match="`accuracy`"):
            gib.null_predictions(X, y, bad)
    with pytest.raises(ValueError, match="`accuracies`"):
        gib.null_trajectory(X, y, [0.5, float("nan")])
    with pytest.raises(ValueError, match="`accuracies`"):
        gib.null_trajectory(X, y, [0.5, 1.2])
    with pytest.raises(ValueError, match="`accuracies`"):
        gib.null_trajectory(X, y, [])
    with pytest.raises(ValueError, match="`family`"):
        gib.null_predictions(X, y, 0.5, family="shuffle")
    with pytest.raises(ValueError, match="Mismatched"):
        gib.gib_reference(X, y[:-1])
    with pytest.raises(ValueError, match="single class"):
        gib.null_predictions(X, np.zeros(60, dtype=int), 0.5)
    with pytest.raises(ValueError, match="single class"):
        gib.gib_reference(X, np.ones(60, dtype=int))
    with pytest.raises(ValueError, match="`seed`"):
        gib.null_predictions(X, y, 0.5, seed=-1)
    with pytest.raises(ValueError, match="`task`"):
        gib.gib_reference(X, y, task="ranking")
    with pytest.raises(ValueError, match="`y` has shape"):
        gib.null_predictions(X, np.column_stack([y, y]), 0.5, task="classification")
    with pytest.raises(TypeError, match="`X` has dtype"):
        gib.null_predictions(X.astype(str), y, 0.5)
    with pytest.raises(ValueError, match="`resolution`"):
        gib.NullReference(X, y, resolution=0.03)
    with pytest.raises(ValueError, match="`n_seeds`"):
        gib.NullReference(X, y, n_seeds=0)
    with pytest.raises(TypeError, match="unknown option"):
        gib.NullReference(X, y, bins=3)
    with pytest.raises(ValueError, match="single one of its"):
        gib.gib_reference(X, np.full(60, 0.5))


# -- the Monitor ----------------------------------------------------------------------------
def tiny_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))


def probe_set():
    X = all_bits(4, repeat=8).astype(np.float32)
    return X, X[:, 0].astype(int) ^ (X[:, 1].astype(int) & X[:, 2].astype(int))


def test_monitor_records_the_null_at_the_measured_accuracy():
    X, y = probe_set()
    with Monitor(tiny_net(), X, y, null="random", null_seeds=2, estimators={"binning": {"n_bins": 5}},
                 synergy_kinds=("featurewise", "sum_vs_whole")) as monitor:
        frame = monitor.record(0)
    accuracy = frame.query("measure == 'accuracy'")["value"].item()
    null = gib.NullReference(X, y, family="random", n_seeds=2, n_bins=5)
    for kind in ("featurewise", "sum_vs_whole"):
        rows = frame.query("plane == 'GIB' and kind == @kind").set_index("measure")["value"]
        assert (rows["null_complexity"], rows["null_prediction"]) == pytest.approx(null.at(accuracy, kind=kind))
        assert rows["null_accuracy"] == pytest.approx(accuracy)
        reference = gib.gib_reference(X, y, n_bins=5, kind=kind)
        assert rows["reference_complexity"] == pytest.approx(reference.complexity_star)
        assert rows["constant_complexity"] == pytest.approx(reference.complexity_constant)
    assert set(frame.query("measure == 'null_complexity'").layer) == {"input"}
    assert monitor.config()["null"] == "random" and monitor.config()["null_seeds"] == 2


def test_monitor_without_null_adds_no_reference_rows():
    X, y = probe_set()
    with Monitor(tiny_net(), X, y) as monitor:
        frame = monitor.record(0)
    assert not frame["measure"].str.contains("null|reference|constant").any()


def test_one_null_serves_several_monitors():
    X, y = probe_set()
    shared = null_references(X, y, {"binning": {"n_bins": 5}}, family="linear", n_seeds=2)
    for seed in range(3):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
        with Monitor(model, X, y, estimators={"binning": {"n_bins": 5}}, null=shared) as monitor:
            for step in range(3):
                monitor.record(step)
    # at most two grid points per record step, shared by the monitors
    assert 0 < shared["binning"].n_computed <= 2 * 3 * 3
    computed = shared["binning"].n_computed
    with Monitor(tiny_net(), X, y, estimators={"binning": {"n_bins": 5}}, null=shared["binning"]) as monitor:
        monitor.record(0)  # the first model's accuracy again: nothing new to compute
    assert shared["binning"].n_computed == computed


def test_monitor_checks_its_null():
    X, y = probe_set()
    with pytest.raises(ValueError, match="`null`"):
        Monitor(tiny_net(), X, y, null="shuffle")
    other = gib.NullReference(X[:-2], y[:-2])
    with pytest.raises(ValueError, match="another probe set"):
        Monitor(tiny_net(), X, y, null=other)
    one = gib.NullReference(X, y)
    with pytest.raises(ValueError, match="2 GIB estimators"):
        Monitor(tiny_net(), X, y, estimators=["binning", "discrete"], null=one)
    with pytest.raises(ValueError, match="no NullReference"):
        Monitor(tiny_net(), X, y, estimators=["binning", "discrete"], null={"binning": one})
    with pytest.raises(ValueError, match="`null_seeds`"):
        Monitor(tiny_net(), X, y, null="linear", null_seeds=0)


def test_regression_monitor_uses_the_binned_agreement():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    X, y = regression_task(n=200)
    X = X.astype(np.float32)
    with Monitor(model, X, y, task="regression", output_bins=8, null="linear", null_seeds=1) as monitor:
        frame = monitor.record(0)
        with torch.no_grad():
            out = model(torch.as_tensor(X)).numpy()[:, 0]
    rows = frame.query("plane == 'GIB'").set_index("measure")["value"]
    agreement = gib.binned_agreement(out, y, output_bins=8)
    assert rows["null_accuracy"] == pytest.approx(agreement)
    null = gib.NullReference(X, y, family="linear", n_seeds=1, output_bins=8, task="regression")
    assert rows["null_complexity"] == pytest.approx(null.at(agreement)[0])


def test_experiment_configs_take_the_null_option():
    config = make_config(ActivationsConfig, ACTIVATION_PRESETS, "test")
    assert config.null == "linear" and config.null_seeds == 3
    assert make_config(ActivationsConfig, ACTIVATION_PRESETS, "test", {"null": "none"}).null is None
    with pytest.raises(ValueError, match="--set null="):
        make_config(ActivationsConfig, ACTIVATION_PRESETS, "test", {"null": "shuffle"})
    with pytest.raises(ValueError, match="--set null_seeds="):
        make_config(ActivationsConfig, ACTIVATION_PRESETS, "test", {"null_seeds": "0"})


# -- reports and planes ---------------------------------------------------------------------
NETWORK_C = [0.0, 0.4, 1.0, 0.6, 0.5]  # peak at step 2, range 1, drop 0.5
NULL_C = [0.0, 0.2, 0.3, 0.25, 0.1]  # at the network's peak step 0.3, last 0.1: drop 0.2
C_STAR = 0.2


def reference_frame(network_c=NETWORK_C, null_c=NULL_C, c_star=C_STAR, with_null=True, condition="tanh"):
    """Two seeds spread symmetrically around the given means."""
    rows = []
    for seed, sign in ((0, 1), (1, -1)):
        for step in range(len(network_c)):
            def add(measure, value):
                rows.append(dict(condition=condition, seed=seed, step=step, epoch=10.0 * step, plane="GIB",
                                 layer="input", estimator="binning", kind="featurewise", measure=measure,
                                 value=value))
            add("complexity", network_c[step] + sign * 0.01)
            add("prediction", 0.2 * step + sign * 0.01)
            if with_null:
                add("null_complexity", null_c[step] + sign * 0.02)
                add("null_prediction", 0.15 * step - 0.1)
                add("reference_complexity", c_star)
    return pd.DataFrame(rows, columns=plotting.FRAME_COLUMNS)


def test_null_table_numbers():
    frame = pd.concat([reference_frame(), reference_frame(with_null=False, condition="relu")], ignore_index=True)
    table = reporting.null_table(frame).set_index("condition")
    row = table.loc["tanh"]
    assert row["c_star"] == pytest.approx(0.2)
    assert row["peak_above_c_star"] == pytest.approx(0.8)
    assert row["null_peak_above_c_star"] == pytest.approx(0.1)
    assert row["drop_bits"] == pytest.approx(0.5)
    assert row["null_drop_bits"] == pytest.approx(0.2)
    assert row["drop_from_accuracy"] == pytest.approx(0.4)
    assert row["beyond_null"] is True  # 0.5 - 0.2 >= 0.1 * 1 and 0.8 > 0.1
    bare = table.loc["relu"]
    assert bare["drop_bits"] == pytest.approx(0.5) and np.isnan(bare["c_star"]) and bare["beyond_null"] is None
    # a null that falls as far as the network: accuracy accounts for the whole drop
    same = reporting.null_table(reference_frame(null_c=[0.0, 0.2, 0.7, 0.4, 0.2])).iloc[0]
    assert same["drop_from_accuracy"] == pytest.approx(1.0) and same["beyond_null"] is False
    # no drop: no fraction of it
    rising = reporting.null_table(reference_frame(network_c=[0.0, 0.1, 0.2, 0.3, 0.4])).iloc[0]
    assert np.isnan(rising["drop_from_accuracy"]) and rising["beyond_null"] is False
    # the margin is the phase rule's min_drop: 0.5 - 0.2 falls short of 0.4 of the range
    from gib.phases import PhaseRule

    assert reporting.null_table(frame, rule=PhaseRule(min_drop=0.4)).set_index("condition").loc[
        "tanh", "beyond_null"] is False
    assert reporting.null_table(frame, rule=PhaseRule(min_drop=0.3)).set_index("condition").loc[
        "tanh", "beyond_null"] is True


def test_claims_show_beyond_the_null(tmp_path):
    plain = reporting.Claim("a claim", "1 bit", True)
    assert plain.beyond_null is None and "beyond the null" not in plain.markdown()
    assert "beyond the null: no" in reporting.Claim("a claim", "1 bit", True, beyond_null=False).markdown()
    done = {"status": "done", "seconds": 1.0}
    outcomes = [Outcome("a", done, claims=[reporting.Claim("one", "1 bit", True, beyond_null=True), plain]),
                Outcome("b", done, claims_error=NO_CLAIMS,
                        observations=[reporting.Claim("two", "2 bits", False, beyond_null=False)])]
    text = write_report(tmp_path, "cpu", outcomes, [], 2.0, "local")
    assert "| # | experiment | claim | run | measured | verdict | beyond the null |" in text
    assert "| 1 | [a](#a) | one |  | 1 bit | **holds** | yes |" in text
    assert "| 2 | [a](#a) | a claim |  | 1 bit | **holds** | - |" in text
    assert "| 3 | [b](#b) | two |  | 2 bits | **does not hold** | no |" in text
    assert "beyond the null: uncertain" in reporting.Claim("c", "x", None, beyond_null="uncertain").markdown()


def _line(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def test_planes_draw_c_star_and_the_null_with_the_network_normalisation():
    frame = reference_frame()
    network = plotting.trajectories(frame, "GIB")
    lo, spread = network["complexity"].min(), np.ptp(network["complexity"])
    fig = plotting.information_plane(frame)
    ax = fig.axes[0]
    (star,) = _line(ax, "c_star")
    assert star.get_xdata()[0] == pytest.approx((C_STAR - lo) / spread) and star.get_linestyle() == "--"
    (null,) = _line(ax, "null")
    np.testing.assert_allclose(null.get_xdata(), (np.array(NULL_C) - lo) / spread)  # seed-averaged
    labels = [t.get_text() for t in fig.legends[0].get_texts()]  # one legend, under the panels
    assert labels == [plotting.NULL_LABEL, plotting.C_STAR_LABEL, "reference off the panel (on its edge)"]
    # the null's prediction starts 0.1 bit below the network's lowest: the limits stay the
    # network's, and the null's first point is marked on the bottom edge
    assert ax.get_ylim() == pytest.approx((-plotting.MARGIN, 1 + plotting.MARGIN))
    assert ax.get_xlim() == pytest.approx((-plotting.MARGIN, 1 + plotting.MARGIN))
    (edge,) = _line(ax, "null-edge")
    assert edge.get_marker() == "v" and edge.get_ydata()[0] == pytest.approx(-plotting.MARGIN)
    raw = plotting.information_plane(frame, normalise=False).axes[0]
    assert _line(raw, "c_star")[0].get_xdata()[0] == pytest.approx(C_STAR)

    two = pd.concat([frame, reference_frame(condition="relu")], ignore_index=True)
    grid = plotting.plane_grid(two)
    panels = [ax for ax in grid.axes if _line(ax, "c_star")]
    assert len(panels) == 2 and all(len(_line(ax, "null")) == 1 for ax in panels)
    assert len(grid.legends) == 1 and not any(ax.get_legend() for ax in grid.axes)
    assert all(ax.get_ylim()[0] == pytest.approx(-plotting.MARGIN) for ax in panels)
    assert not _line(plotting.information_plane(reference_frame(with_null=False)).axes[0], "c_star")


def test_each_feature_set_gets_its_own_shared_null():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6)).astype(np.float32)
    y = rng.integers(0, 3, 150)
    sets = {"a": X[:, :2], "b": X[:, 2:] ** 2}
    spec = {"binning": {"n_bins": 6}}
    nulls = {name: null_references(f, y, spec, n_seeds=1) for name, f in sets.items()}
    multi = Monitor(model, X, y, features=sets, null=nulls, layers={}, record_layers_ib=False, estimators=spec)
    multi.record(0)
    for name, features in sets.items():
        plain = Monitor(model, X, y, layers={}, features=features, features_name=name, record_layers_ib=False,
                        estimators=spec, null="linear", null_seeds=1)
        expected = plain.record(0).query("plane == 'GIB'").reset_index(drop=True)
        pd.testing.assert_frame_equal(multi.frame.query("plane == 'GIB' and layer == @name").reset_index(drop=True),
                                      expected)
        plain.close()
    # a family name instead builds one null per feature set
    named = Monitor(model, X, y, features=sets, null="linear", null_seeds=1, layers={}, record_layers_ib=False,
                    estimators=spec)
    named.record(0)
    pd.testing.assert_frame_equal(named.frame, multi.frame)
    multi.close(), named.close()


def test_estimators_without_weights_are_refused_up_front_naming_the_ones_that_work():
    """The GIB plane weights the samples by their PMI: an estimator whose ``supports_weights``
    is False (ksg) is refused by name before any computation, with the list of those that work;
    gib_point's resample=True draws the samples instead and takes it."""
    from gib.estimators import available_estimators, get_estimator

    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    weighted = available_estimators(weights=True)
    assert weighted == tuple(n for n in available_estimators() if get_estimator(n).supports_weights)
    listed = ", ".join(map(repr, weighted))
    for call in (lambda: gib.gib_point(X, y, y, estimator="ksg"), lambda: gib.gib_reference(X, y, estimator="ksg"),
                 lambda: gib.NullReference(X, y, estimator="ksg"),
                 lambda: gib.null_trajectory(X, y, [0.5, 1.0], estimator="ksg")):
        with pytest.raises(ValueError, match="`estimator` 'ksg' takes no sample weights") as error:
            call()
        assert listed in str(error.value)
    point = gib.gib_point(X, y, y, estimator="ksg", resample=True, seed=1)
    direct = get_estimator("ksg").leave_one_out(*_resampled(X, y, 1))
    assert point.joint == pytest.approx(direct.joint, abs=1e-12)


def _resampled(X, y, seed):
    """gib_point's resample=True draw of (X, Z = (Y, Y)) by the PMI weights, written out."""
    z = np.column_stack([y, y])
    idx = np.random.default_rng(seed).choice(len(X), size=len(X), p=gib.pmi_weights(y, y))
    return X[idx], z[idx]
