"""Plotting: figures render headless from a tidy frame, draw one trajectory per panel, and
annotate the same phase numbers as `compression_phase` on the seed-averaged trajectory."""

import io
import warnings

import matplotlib
import matplotlib.text

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

import gib
from gib import phases, plotting

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


def caption(ax):
    """The notes under a panel."""
    return "\n".join(t.get_text() for t in ax.texts if t.get_gid() == "caption")


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
    table = phases.phase_table(frame)
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
    table = phases.phase_table(frame).set_index(["condition", "plane"])
    for condition in CONDITIONS:
        row = table.loc[(condition, "GIB")]
        verdicts = []
        for seed in (0, 1, 2):
            one = plotting.trajectories(frame, "GIB", condition=condition, seed=seed)
            verdicts.append(gib.compression_phase(one["complexity"], one["prediction"], one["step"]).verdict)
        assert row["seed_verdicts"] == ", ".join(verdicts)
        assert verdicts[2] == "no compression" and row["seeds_compressing"] == "2/3"
        assert row["drop_fraction_sd"] > 0
    # the seed rule reads the same seeds and the same seed-averaged trajectory
    from gib.verdicts import seed_table

    seeds = seed_table(frame).set_index(["condition", "plane"])
    for condition in CONDITIONS:
        for column in ("seed_verdicts", "seeds_compressing"):
            assert seeds.loc[(condition, "GIB"), column] == table.loc[(condition, "GIB"), column]
        assert seeds.loc[(condition, "GIB"), "mean_verdict"] == table.loc[(condition, "GIB"), "verdict"]


def test_phase_table_takes_the_noise_floor_from_the_probe_size():
    frame = synthetic_frame()
    gib_rows = (frame.plane == "GIB") & (frame.measure == "complexity")
    frame.loc[gib_rows, "value"] *= 0.01  # a GIB range of ~1.5e-3 bits
    n_probe = frame[frame.measure == "accuracy"].assign(measure="n_probe", value=1000.0)
    table = phases.phase_table(frame).set_index(["condition", "plane"])
    assert (table.xs("GIB", level="plane")["verdict"] == "compresses").all()  # no N: float noise only
    table = phases.phase_table(pd.concat([frame, n_probe])).set_index(["condition", "plane"])
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
    assert "(norm.)" in panels[0].get_xlabel() and "raw 1.00 to 2.98 bits" in caption(panels[0])
    gib_panel = panels[1]
    assert "compresses" in gib_panel.get_title()
    assert "ρ -1.00" in caption(gib_panel)
    assert any(line.get_gid() == "peak" for line in gib_panel.get_lines())


def test_information_plane_raw_axes_and_no_annotation(frame):
    fig = plotting.information_plane(frame, condition="relu", normalise=False, annotate_phases=False)
    render(fig)
    ib, _ = plane_axes(fig)
    assert ib.get_xlim()[1] > 1.5  # raw bits, not the unit square
    assert not caption(ib) and not any(line.get_gid() == "peak" for line in ib.get_lines())
    assert ib.get_title() == "IB plane, layer hidden5"


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
    table = phases.phase_table(pd.concat([frame, flags])).set_index(["condition", "plane"])
    assert (table.xs("IB", level="plane")["verdict"] == "saturated").all()
    assert table.xs("IB", level="plane")["compresses"].isna().all()
    assert (table.xs("GIB", level="plane")["verdict"] == "compresses").all()
    # flags on a minority of the steps leave the trajectory readable
    few = flags[flags.step < 5]
    table = phases.phase_table(pd.concat([frame, few])).set_index(["condition", "plane"])
    assert (table.xs("IB", level="plane")["verdict"] == "no compression").all()


# -- figures that show their subject -------------------------------------------------------------
def one_run(c, p, plane="GIB", layer="input", kind="featurewise", extra=None, n_probe=None):
    """A Monitor-like frame (no condition, one seed) of one trajectory, with extra measures."""
    rows = []
    for step, (cv, pv) in enumerate(zip(c, p)):
        for measure, value in (("complexity", cv), ("prediction", pv), *((extra or {}).get(step, {}).items())):
            rows.append(dict(step=step, epoch=float(step), plane=plane, layer=layer, estimator="binning",
                             kind=kind, measure=measure, value=value))
        if n_probe:
            rows.append(dict(step=step, epoch=float(step), plane="metric", layer="", estimator="", kind="",
                             measure="n_probe", value=float(n_probe)))
    return pd.DataFrame(rows)


def drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def trajectory_points(ax):
    (points,) = [a for a in ax.collections if isinstance(a, PathCollection) and a.get_gid() == "trajectory"]
    return points.get_offsets()


def extent_share(ax):
    """The share of each axis' range that the trajectory spans."""
    points = np.asarray(trajectory_points(ax))
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return np.ptp(points[:, 0]) / (x1 - x0), np.ptp(points[:, 1]) / (y1 - y0)


def assert_no_text_over_data(fig):
    """No text of the figure (titles, labels, notes, legends) covers a data point of any panel."""
    renderer = drawn(fig)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in texts] + [leg.get_window_extent(renderer) for leg in fig.legends]
    for ax in plane_axes(fig):
        points = ax.transData.transform(trajectory_points(ax))
        for box in boxes:
            inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                      & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
            assert not inside.any(), f"a text box {box} covers a data point"
    # titles and notes of neighbouring panels do not run into each other
    notes = [t for ax in plane_axes(fig) for t in (ax.title, *[n for n in ax.texts if n.get_gid() == "caption"])
             if t.get_text()]
    extents = [t.get_window_extent(renderer) for t in notes]
    for i, a in enumerate(extents):
        for b in extents[i + 1:]:
            assert not a.overlaps(b), f"{a} and {b} overlap"


def test_the_trajectory_fills_its_panel_and_references_never_set_the_range():
    c = -0.30 + 0.15 * np.minimum(np.arange(20), 6) / 6 - 0.02 * np.maximum(np.arange(20) - 6, 0) / 13
    p = np.linspace(0.1, 0.9, 20)
    # C* and the null far to the left of the network's range (as on the 12-bit task, -12 units)
    extra = {s: {"reference_complexity": -2.0, "null_complexity": -2.0 + 0.01 * s, "null_prediction": p[s] - 0.05}
             for s in range(20)}
    for normalise in (True, False):
        fig = plotting.information_plane(one_run(c, p, extra=extra), normalise=normalise)
        (ax,) = plane_axes(fig)
        assert min(extent_share(ax)) > 0.85
        x0, x1 = ax.get_xlim()
        assert x0 > -0.1 if normalise else x0 > c.min() - 0.1 * np.ptp(c)
        # marked on the left edge: C* once, the null at each of its 20 points
        (star,) = [line for line in ax.get_lines() if line.get_gid() == "c_star-edge"]
        assert star.get_marker() == "<" and star.get_xdata()[0] == pytest.approx(x0)
        (null,) = [line for line in ax.get_lines() if line.get_gid() == "null-edge"]
        assert len(null.get_xdata()) == 20 and np.allclose(null.get_xdata(), x0)
        assert "off the panel" in caption(ax)
        assert_no_text_over_data(fig)


def test_text_never_covers_data(frame):
    assert_no_text_over_data(plotting.information_plane(frame, condition="tanh"))
    assert_no_text_over_data(plotting.plane_grid(frame, title="Activations"))
    five = synthetic_frame(conditions=("addition", "multiplication", "f1", "f2", "f3"), seeds=(0,))
    assert_no_text_over_data(plotting.plane_grid(five, title="Simple functions"))


def test_a_range_below_the_noise_floor_is_drawn_in_bits_and_called_flat():
    c = -0.2 + 1e-4 * np.sin(np.arange(12))  # 2e-4 bits, below one sample's worth of 1000
    p = np.linspace(0.2, 0.9, 12)
    fig = plotting.information_plane(one_run(c, p, n_probe=1000))
    (ax,) = plane_axes(fig)
    assert "[bits]" in ax.get_xlabel() and "(norm.)" in ax.get_ylabel()
    assert ax.get_title().endswith("flat\nC moves 0.0002 bits < noise floor 0.01")
    x_share, y_share = extent_share(ax)
    assert x_share < 1 / 3 and y_share > 0.85  # not stretched; P, which moves, fills its axis
    lo, hi = ax.get_xlim()
    assert lo < c.min() and hi > c.max() and hi - lo == pytest.approx(np.ptp(c) + 2 * np.log2(1000) / 1000)
    assert "below the noise floor" in caption(ax)


def test_a_saturated_panel_shows_raw_values_and_says_why():
    c, p = np.full(6, 9.966), np.linspace(2.0, 3.309, 6)
    extra = {s: {"saturated": 1.0, "complexity_ceiling": 9.966, "prediction_ceiling": 3.309} for s in range(6)}
    fig = plotting.information_plane(one_run(c, p, plane="IB", layer="fc1", kind="", extra=extra, n_probe=1000))
    (ax,) = plane_axes(fig)
    assert "saturated" in ax.get_title() and "layer fc1" in ax.get_title()
    assert "[bits]" in ax.get_xlabel() and "[bits]" in ax.get_ylabel()
    lo, hi = ax.get_ylim()
    assert lo < 2.0 and hi > 3.309 and hi - lo < 1.5  # raw bits, not the unit square
    text = caption(ax)
    assert "ceiling 9.966" in text and "ceiling 3.309" in text and "cannot move" in text
    assert not [line for line in ax.get_lines() if line.get_gid() == "peak"]


def test_titles_name_the_run_and_the_layer(frame):
    fig = plotting.information_plane(frame, condition="relu", title="my run")
    assert fig.get_suptitle() == "my run"
    assert [ax.get_title().split("\n")[0] for ax in plane_axes(fig)] == ["IB plane, layer hidden5",
                                                                        "GIB plane, features input"]
    mine = plotting.information_plane(one_run(np.r_[0.0, 1.0, 0.5], np.r_[0.0, 0.5, 1.0]))
    assert mine.get_suptitle() == "Information planes"  # a Monitor's frame: no "all runs"
    grid = plotting.plane_grid(frame)
    assert plane_axes(grid)[0].get_title().startswith("relu: IB layer hidden5")


def test_two_records_draw_two_points_and_say_a_verdict_needs_more():
    fig = plotting.information_plane(one_run([0.1, 0.3], [0.2, 0.6]))
    render(fig)
    (ax,) = plane_axes(fig)
    assert len(trajectory_points(ax)) == 2
    assert ax.get_title().endswith("too few records\na verdict needs 3")


def test_a_peak_at_the_first_record_is_no_fitting_phase():
    c, p = np.linspace(1.0, 0.2, 10), np.linspace(0.1, 0.9, 10)
    fig = plotting.information_plane(one_run(c, p))
    (ax,) = plane_axes(fig)
    assert ax.get_title().endswith("no fitting phase\nC peaks at the first record")


def test_monitor_plot_after_two_records():
    import torch
    from torch import nn

    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gib.SaturationWarning)
        with gib.Monitor(model, X, y, estimators={"binning": {"n_bins": 4}}) as monitor:
            monitor.record(0)
            monitor.record(1)
        fig = monitor.plot()
    render(fig)
    assert all("too few records" in ax.get_title() for ax in plane_axes(fig))
    assert all(len(trajectory_points(ax)) == 2 for ax in plane_axes(fig))
