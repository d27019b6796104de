"""Plotting: figures render headless from a tidy frame, draw one trajectory per panel, and
annotate the same phase numbers as `compression_phase` on the seed-averaged trajectory."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

import gib
from gib import plotting

CONDITIONS = ("tanh", "relu", "sigmoid")
SEEDS = (0, 1)
STEPS = 20


def synthetic_frame(conditions=CONDITIONS, seeds=SEEDS, steps=STEPS, extra_layer=False):
    """IB rises throughout; GIB complexity rises to a peak at step 6 then falls (compression)."""
    rng = np.random.default_rng(0)
    rows = []
    t = np.arange(steps)
    for c_index, condition in enumerate(conditions):
        for seed in seeds:
            jitter = lambda: 0.01 * rng.standard_normal(steps)  # noqa: E731
            gib_c = -0.30 + 0.15 * np.minimum(t, 6) / 6 - 0.02 * np.maximum(t - 6, 0) / (steps - 7)
            curves = {
                ("IB", "hidden5", ""): {
                    "complexity": 1.0 + 2.0 * (1 - np.exp(-t / 4)) + c_index + jitter(),
                    "prediction": 0.1 + 0.8 * (1 - np.exp(-t / 5)) + jitter(),
                },
                ("GIB", "input", "featurewise"): {
                    "complexity": gib_c + 0.002 * jitter(),
                    "prediction": 0.1 + 0.8 * (1 - np.exp(-t / 5)) + 0.1 * jitter(),
                    "synergy": -gib_c,
                },
            }
            if extra_layer:
                curves[("IB", "hidden4", "")] = curves[("IB", "hidden5", "")]
            for (plane, layer, kind), measures in curves.items():
                for measure, values in measures.items():
                    for step, value in enumerate(values):
                        rows.append((condition, seed, step, 10.0 * step, plane, layer, "binning", kind, measure, value))
            for step in range(steps):
                rows.append((condition, seed, step, 10.0 * step, "metric", "", "", "", "accuracy", 0.5 + 0.02 * step))
    return pd.DataFrame(rows, columns=plotting.FRAME_COLUMNS)


@pytest.fixture(scope="module")
def frame():
    return synthetic_frame()


def render(fig):
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def plane_axes(fig):
    """The plane panels: axes that hold trajectories (colour bars hold none)."""
    return [ax for ax in fig.axes if any(a.get_gid() == "trajectory" for a in ax.get_children())]


def count_trajectories(ax):
    lines = [a for a in ax.get_lines() if a.get_gid() == "trajectory"]
    points = [a for a in ax.collections if isinstance(a, PathCollection) and a.get_gid() == "trajectory"]
    assert len(lines) == len(points)
    return len(lines)


# -- trajectories -------------------------------------------------------------------------
def test_trajectories_average_over_seeds(frame):
    table = plotting.trajectories(frame, "GIB", condition="tanh")
    assert list(table["step"]) == list(range(STEPS))
    assert list(table.columns[:4]) == ["step", "epoch", "complexity", "prediction"]
    rows = frame[(frame.plane == "GIB") & (frame.condition == "tanh") & (frame.measure == "complexity")]
    expected = rows.groupby("step")["value"].agg(["mean", "std"])
    np.testing.assert_allclose(table["complexity"], expected["mean"])
    np.testing.assert_allclose(table["complexity_std"], expected["std"])
    assert (table["n_seeds"] == len(SEEDS)).all()


def test_trajectories_one_seed(frame):
    table = plotting.trajectories(frame, "IB", condition="relu", seed=1)
    rows = frame.query("plane == 'IB' and condition == 'relu' and seed == 1 and measure == 'prediction'")
    np.testing.assert_allclose(table["prediction"], rows.sort_values("step")["value"])
    assert (table["complexity_std"] == 0).all() and (table["n_seeds"] == 1).all()


def test_ambiguous_selection_names_values_and_argument(frame):
    with pytest.raises(ValueError, match=r"3 values of `condition`.*'relu', 'sigmoid', 'tanh'.*`condition=`"):
        plotting.trajectories(frame, "GIB")
    two_layers = synthetic_frame(conditions=("tanh",), extra_layer=True)
    with pytest.raises(ValueError, match=r"`layer`.*'hidden4', 'hidden5'.*`layer=`"):
        plotting.trajectories(two_layers, "IB")
    # the figure functions name their own argument
    with pytest.raises(ValueError, match="`ib_layer=`"):
        plotting.information_plane(two_layers)


def test_empty_selection_says_what_exists(frame):
    with pytest.raises(ValueError, match=r"no GIB rows with condition 'gelu'; present: 'relu', 'sigmoid', 'tanh'"):
        plotting.trajectories(frame, "GIB", condition="gelu")
    with pytest.raises(ValueError, match="estimator 'kde'.*'binning'"):
        plotting.trajectories(frame, "IB", condition="tanh", estimator="kde")
    with pytest.raises(ValueError, match="no IB complexity/prediction rows"):
        plotting.trajectories(frame[frame.plane != "IB"], "IB", condition="tanh")
    with pytest.raises(ValueError, match="`plane`"):
        plotting.trajectories(frame, "XYZ")
    with pytest.raises(ValueError, match="lacks the column"):
        plotting.trajectories(frame.drop(columns="epoch"), "IB")


# -- phase table --------------------------------------------------------------------------
def test_phase_table_matches_compression_phase(frame):
    table = plotting.phase_table(frame)
    assert len(table) == len(CONDITIONS) * 2
    assert set(zip(table.condition, table.plane)) == {(c, p) for c in CONDITIONS for p in ("IB", "GIB")}
    for row in table.itertuples():
        averaged = plotting.trajectories(frame, row.plane, condition=row.condition)
        phase = gib.compression_phase(averaged["complexity"], averaged["prediction"], averaged["step"])
        assert row.peak_step == phase.peak_step and row.compresses == phase.compresses
        np.testing.assert_allclose(
            [row.drop_fraction, row.spearman, row.prediction_loss],
            [phase.drop_fraction, phase.spearman, phase.prediction_loss],
        )
        assert row.peak_epoch == 10.0 * phase.peak_step
    gib_rows = table[table.plane == "GIB"]
    assert gib_rows["compresses"].all() and (gib_rows["peak_step"] == 6).all()
    assert not table[table.plane == "IB"]["compresses"].any()


def test_phase_table_reads_every_seed_and_counts_them():
    # seed 2's GIB climbs back after its fall: the mean still compresses, that seed does not
    frame = synthetic_frame(seeds=(0, 1, 2))
    rebound = (frame.seed == 2) & (frame.plane == "GIB") & (frame.measure == "complexity") & (frame.step >= 12)
    frame.loc[rebound, "value"] = -0.152
    table = plotting.phase_table(frame).set_index(["condition", "plane"])
    for condition in CONDITIONS:
        row = table.loc[(condition, "GIB")]
        verdicts = []
        for seed in (0, 1, 2):
            one = plotting.trajectories(frame, "GIB", condition=condition, seed=seed)
            verdicts.append(gib.compression_phase(one["complexity"], one["prediction"], one["step"]).verdict)
        assert row["seed_verdicts"] == ", ".join(verdicts)
        assert verdicts[2] == "no compression" and row["seeds_compressing"] == "2/3"
        assert row["drop_fraction_sd"] > 0
    gib_table = table.reset_index()
    from gib.experiments import reporting

    assert sorted(reporting.seed_majority(gib_table, "GIB")) == sorted(CONDITIONS)
    assert reporting.seed_counts(gib_table, "GIB") == "relu 2/3, sigmoid 2/3, tanh 2/3"


def test_phase_table_takes_the_noise_floor_from_the_probe_size():
    frame = synthetic_frame()
    gib_rows = (frame.plane == "GIB") & (frame.measure == "complexity")
    frame.loc[gib_rows, "value"] *= 0.01  # a GIB range of ~1.5e-3 bits
    n_probe = frame[frame.measure == "accuracy"].assign(measure="n_probe", value=1000.0)
    table = plotting.phase_table(frame).set_index(["condition", "plane"])
    assert (table.xs("GIB", level="plane")["verdict"] == "compresses").all()  # no N: float noise only
    table = plotting.phase_table(pd.concat([frame, n_probe])).set_index(["condition", "plane"])
    gib_rows = table.xs("GIB", level="plane")
    assert (gib_rows["verdict"] == "flat").all() and gib_rows["compresses"].isna().all()
    assert gib_rows["noise_floor"].iloc[0] == pytest.approx(np.log2(1000) / 1000)


# -- figures ------------------------------------------------------------------------------
def test_information_plane_renders_one_trajectory_per_plane(frame):
    fig = plotting.information_plane(frame, condition="tanh")
    render(fig)
    panels = plane_axes(fig)
    assert len(panels) == 2
    assert [count_trajectories(ax) for ax in panels] == [1, 1]
    assert len(fig.axes) == 4  # two planes, two epoch colour bars
    for ax in panels:
        lo, hi = ax.get_xlim()
        assert -0.1 <= lo < 0 and 1 < hi <= 1.1
        lo, hi = ax.get_ylim()
        assert -0.1 <= lo < 0 and 1 < hi <= 1.1
        points = [a for a in ax.collections if isinstance(a, PathCollection)][0].get_offsets()
        assert points.min() >= 0 and points.max() <= 1
    assert "raw" in panels[0].get_xlabel()
    gib_panel = panels[1]
    assert "compresses" in gib_panel.get_title()
    assert any("Spearman" in t.get_text() for t in gib_panel.texts)
    assert any(line.get_gid() == "peak" for line in gib_panel.get_lines())


def test_information_plane_raw_axes_and_no_annotation(frame):
    fig = plotting.information_plane(frame, condition="relu", normalise=False, annotate_phases=False)
    render(fig)
    ib, _ = plane_axes(fig)
    assert ib.get_xlim()[1] > 1.5  # raw bits, not the unit square
    assert not ib.texts and not any(line.get_gid() == "peak" for line in ib.get_lines())


def test_colours_run_dark_to_light(frame):
    fig = plotting.information_plane(frame, condition="tanh")
    for ax in plane_axes(fig):
        points = [a for a in ax.collections if isinstance(a, PathCollection)][0]
        colours = points.to_rgba(points.get_array())
        brightness = colours[:, :3].sum(axis=1)
        assert brightness[0] < brightness[-1]


def test_log_spaced_records_get_a_log_colour_scale(frame):
    log_spaced = frame.assign(epoch=np.where(frame.step == 0, 0.0, 10.0 ** (frame.step / 6)))
    for data, scale in ((frame, "linear"), (log_spaced, "symlog")):
        fig = plotting.information_plane(data, condition="tanh")
        render(fig)
        points = [a for a in plane_axes(fig)[0].collections if isinstance(a, PathCollection)][0]
        assert points.norm.__class__.__name__ == {"linear": "Normalize", "symlog": "SymLogNorm"}[scale]


def test_plane_grid_columns_in_given_order(frame):
    order = ["sigmoid", "tanh"]
    fig = plotting.plane_grid(frame, conditions=order, title="Activations")
    render(fig)
    panels = plane_axes(fig)
    assert len(panels) == 4
    assert all(count_trajectories(ax) == 1 for ax in panels)
    assert len(fig.axes) == 6  # four planes, one colour bar per row
    assert [ax.get_title().split(":")[0] for ax in panels[:2]] == order
    assert all("no compression" in ax.get_title() for ax in panels[:2])  # IB row
    assert all("compresses" in ax.get_title() for ax in panels[2:])  # GIB row
    for ax in panels:
        assert -0.1 <= ax.get_xlim()[0] and ax.get_xlim()[1] <= 1.1
        assert -0.1 <= ax.get_ylim()[0] and ax.get_ylim()[1] <= 1.1
    assert fig.get_suptitle() == "Activations"


def test_plane_grid_defaults_to_sorted_conditions(frame):
    fig = plotting.plane_grid(frame)
    panels = plane_axes(fig)
    assert [ax.get_title().split(":")[0] for ax in panels[:3]] == sorted(CONDITIONS)
    with pytest.raises(ValueError, match="'gelu'"):
        plotting.plane_grid(frame, conditions=["gelu"])


def test_metric_curves(frame):
    fig = plotting.metric_curves(frame, ("accuracy",))
    render(fig)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == len(CONDITIONS)
    with pytest.raises(ValueError, match="'accuracy'"):
        plotting.metric_curves(frame, ("f1_score",))


def test_figures_leave_no_pyplot_state(frame):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plotting.information_plane(frame, condition="tanh")
    plotting.plane_grid(frame)
    assert plt.get_fignums() == before


def test_a_saturated_ib_trajectory_gets_the_verdict_saturated():
    frame = synthetic_frame()
    ib = frame[(frame.plane == "IB") & (frame.measure == "complexity")]
    flags = ib.assign(measure="saturated", value=1.0)
    table = plotting.phase_table(pd.concat([frame, flags])).set_index(["condition", "plane"])
    assert (table.xs("IB", level="plane")["verdict"] == "saturated").all()
    assert table.xs("IB", level="plane")["compresses"].isna().all()
    assert (table.xs("GIB", level="plane")["verdict"] == "compresses").all()
    # flags on a minority of the steps leave the trajectory readable
    few = flags[flags.step < 5]
    table = plotting.phase_table(pd.concat([frame, few])).set_index(["condition", "plane"])
    assert (table.xs("IB", level="plane")["verdict"] == "no compression").all()
