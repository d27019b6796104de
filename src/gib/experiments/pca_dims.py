"""App. H, Fig. 16: GIB with 25, 50 and 100 Kernel PCA components (SPEC 4 `pca-dims`).

One ResNet training run per depth (and seed), as in `resnet` (same data, augmentation,
optimizer and schedule); at every record step the GIB plane is measured on each feature set
(RBF Kernel PCA of the probe images to 25, 50 and 100 components) from the same probe forward
pass, so the planes differ only in the features. Rows carry the feature set in ``layer``
("kpca25", "kpca50", "kpca100"); the IB plane of the logits is recorded once.

The Kernel PCA is fitted once, with the largest number of components, and the smaller sets are
its leading components: the top-k eigenvectors of the centred kernel matrix are the k-component
Kernel PCA (ours; it saves two fits).

The paper (App. H): with 25 components the dynamics are erratic and noisy, and they become less
noisy with 50 and 100. We report the phase numbers per size and a roughness number per
trajectory: the mean absolute step-to-step change of the [0, 1]-normalised complexity (higher =
noisier). The observation is read on the roughness of the fewest minus the most components,
against its own noise (``roughness_contrast``): a 95% interval from a paired moving-block
bootstrap of the two trajectories' record-step changes (and of the seeds, where there are
several; :mod:`gib.experiments.resampling`). It holds when the interval lies above zero, does
not hold when it lies below, and is uncertain when it contains zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pandas as pd

from ..monitor import Monitor
from ..recorders import default_recorders
from ..plotting import plane_grid
from . import reporting
from .resampling import Interval, trajectory_interval
from .base import DEPTH, Experiment, merge_frames, register, shared_null
from .constraints import AtLeast, Distinct, NonEmpty
from .resnet import IB_LAYER, TrainingConfig, check_gcmi_size, data_line, fit_kpca, ib_input_for, ib_line
from .resnet import in_order, load_data, read_data_info, train_condition, write_data_info


@dataclass
class Config(TrainingConfig):
    depths: Annotated[tuple[int, ...], NonEmpty, DEPTH] = (20,)  #: (ours) the paper does not name the depth of Fig. 16
    #: Kernel PCA component counts compared (App. H)
    components: Annotated[tuple[int, ...], NonEmpty, Distinct, AtLeast(1)] = (25, 50, 100)

    def check(self) -> None:
        super().check()
        limit = min(self.probe_size, self.kpca_fit_samples)
        if not all(1 <= k < limit for k in self.components):
            raise ValueError(f"--set components={self.components}: each must be in 1..{limit - 1} "
                             "(below probe_size and kpca_fit_samples).")


PRESETS = {
    "test": dict(depths=(8,), components=(2, 4, 8), epochs=2, batch_size=32, train_size=64, probe_size=64,
                 test_size=32, progress=False, threads=1),
    "quick": dict(depths=(8,), epochs=12, train_size=2000, probe_size=2000, test_size=1000),
    "cpu": dict(depths=(20,), epochs=30, train_size=5000, probe_size=2000, test_size=1000),
    "paper": dict(depths=(20,), epochs=200, probe_size=5000),
}


def feature_name(k: int) -> str:
    return f"kpca{k}"


def run(config: Config, run_dir) -> None:
    data = load_data(config)
    largest, info = fit_kpca(data, config, max(config.components))
    feature_sets = {feature_name(k): largest[:, :k] for k in config.components}
    check_gcmi_size(config, largest.shape[1], len(largest), "components")
    ib_name, ib_x = ib_input_for(config, data, largest)
    write_data_info(run_dir, data, features=list(feature_sets), kpca=info,
                    ib_input=ib_name if ib_name == "pixels" else feature_name(max(config.components)))
    frames = []
    gib_spec = {config.estimator: (config.estimator, config.estimator_kwargs())}
    # one probe set for every depth and seed: one null per feature set serves them all
    nulls = None if config.null is None else {
        name: shared_null(config, f, data.probe_y, gib_spec) for name, f in feature_sets.items()}
    for seed in config.seeds:
        for depth in config.depths:
            def make_monitor(model):
                # every feature set's GIB plane from the same probe pass
                recorders = default_recorders(features=feature_sets, estimators=gib_spec,
                                              synergy_kinds=(config.synergy,), record_layers_ib=False,
                                              ib_input=ib_x, null=nulls)
                return Monitor(model, data.probe_input, data.probe_y, recorders, layers={}, batch_size=500,
                               verbose=False)

            frames.append(train_condition(config, run_dir, data, depth, seed, make_monitor))
            run_dir.save_table(merge_frames(frames))


# -- outputs ----------------------------------------------------------------------------------
def _by_size(frame: pd.DataFrame, condition: str, names: list[str]) -> pd.DataFrame:
    """The GIB rows of one condition with the feature set as the condition (for plane_grid)."""
    rows = frame[(frame["plane"] == "GIB") & (frame["condition"] == condition) & frame["layer"].isin(names)].copy()
    rows["condition"] = rows["layer"]
    return rows


def _complexity_rows(frame: pd.DataFrame, estimator: str, kind: str) -> pd.DataFrame:
    return frame[(frame["plane"] == "GIB") & (frame["measure"] == "complexity") & (frame["estimator"] == estimator)
                 & (frame["kind"] == kind)]


def _normalised_changes(c: np.ndarray) -> np.ndarray:
    """|step-to-step change| of ``c`` normalised to [0, 1] by its range (zeros for a flat ``c``)."""
    span = float(c.max() - c.min()) if len(c) else 0.0
    norm = (c - c.min()) / span if span > 0 else np.zeros_like(c)
    return np.abs(np.diff(norm))


def roughness(frame: pd.DataFrame, estimator: str, kind: str) -> pd.DataFrame:
    """Per condition x feature set: mean |step-to-step change| of the [0, 1]-normalised GIB
    complexity (seed-averaged), a noisiness number (higher = more erratic)."""
    rows = _complexity_rows(frame, estimator, kind)
    records = []
    for (condition, layer), group in rows.groupby(["condition", "layer"], sort=False):
        c = group.groupby("step")["value"].mean().sort_index().to_numpy()
        span = float(c.max() - c.min()) if len(c) else 0.0
        records.append(dict(condition=condition, features=layer, n_steps=len(c), complexity_range=span,
                            roughness=float(np.mean(_normalised_changes(c))) if len(c) > 1 else float("nan")))
    return pd.DataFrame(records, columns=["condition", "features", "n_steps", "complexity_range", "roughness"])


CONTRAST_COLUMNS = ["condition", "fewest", "most", "difference", "low", "high", "reading"]


def contrast(frame: pd.DataFrame, estimator: str, kind: str, condition: str, fewest: str, most: str) -> Interval:
    """The roughness of ``fewest`` minus that of ``most`` (feature sets of ``condition``) with
    its 95% interval: a paired moving-block bootstrap of the per-step differences of the two
    trajectories' normalised changes, over the record steps both have in every seed (and over
    the seeds, where there are several; :func:`gib.experiments.resampling.trajectory_interval`).
    The estimate equals the difference of :func:`roughness`'s numbers when every seed has every step."""
    rows = _complexity_rows(frame, estimator, kind)
    rows = rows[(rows["condition"] == condition) & rows["layer"].isin([fewest, most])]
    wide = rows.pivot_table(index=["seed", "step"], columns="layer", values="value", aggfunc="mean")
    wide = wide.reindex(columns=[fewest, most]).unstack("seed").dropna(axis=0, how="any").sort_index()
    seeds = list(pd.unique(wide.columns.get_level_values("seed")))
    # (n_seeds, n_steps, 2): the two trajectories of each seed on the shared record steps
    curves = np.stack([wide.xs(s, axis=1, level="seed")[[fewest, most]].to_numpy(float) for s in seeds]) \
        if seeds else np.empty((1, 0, 2))

    def terms(mean: np.ndarray) -> np.ndarray:
        return _normalised_changes(mean[:, 0]) - _normalised_changes(mean[:, 1])

    return trajectory_interval(curves, terms)


def roughness_contrast(frame: pd.DataFrame, estimator: str, kind: str, names: list[str]) -> pd.DataFrame:
    """Per condition: the roughness of the fewest (``names[0]``) minus the most (``names[-1]``)
    components, its 95% paired block-bootstrap interval (:func:`contrast`) and the reading:
    ``"noisier with fewer"`` (the interval lies above zero), ``"noisier with more"`` (below)
    or ``"inside the noise"`` (it contains zero, or there are too few steps for one)."""
    records = []
    conditions = pd.unique(_complexity_rows(frame, estimator, kind)["condition"])
    for condition in conditions:
        interval = contrast(frame, estimator, kind, condition, names[0], names[-1])
        reading = {True: "noisier with fewer", False: "noisier with more", None: "inside the noise"}[interval.reading()]
        records.append(dict(condition=condition, fewest=names[0], most=names[-1], difference=interval.estimate,
                            low=interval.low, high=interval.high, reading=reading))
    return pd.DataFrame(records, columns=CONTRAST_COLUMNS)


def figures(run_dir) -> dict:
    frame = run_dir.table()
    cfg = run_dir.config
    names = [feature_name(k) for k in cfg["components"]]
    out = {}
    for depth in cfg["depths"]:
        condition = f"resnet{depth}"
        out[f"planes-{condition}" if len(cfg["depths"]) > 1 else "planes"] = plane_grid(
            _by_size(frame, condition, names), conditions=names, estimator=cfg["estimator"], kind=cfg["synergy"],
            title=f"{condition}: GIB planes with {', '.join(map(str, cfg['components']))} Kernel PCA components",
        )
    return out


def _observations(frame: pd.DataFrame, rough: pd.DataFrame, cfg, names: list[str]) -> list[reporting.Claim]:
    """Fig. 16 per depth: holds when the roughness of the fewest minus the most components has
    its 95% interval (:func:`contrast`) above zero, does not hold when below, uncertain (None)
    when the interval contains zero."""
    claims = []
    for depth in cfg["depths"]:
        condition = f"resnet{depth}"
        r = rough[rough["condition"] == condition].set_index("features")["roughness"]
        values = [r.get(n, float("nan")) for n in names]
        statement = (f"{condition}: GIB dynamics are noisier with fewer Kernel PCA components (Fig. 16): the "
                     f"roughness of {names[0]} minus that of {names[-1]} lies above its noise "
                     "(95% interval above zero)")
        missing = [n for n, v in zip(names, values) if not np.isfinite(v)]
        if len(names) < 2 or missing:
            why = ", ".join(missing) + " has no roughness" if missing else "one feature set, nothing to compare"
            claims.append(reporting.Claim(statement, f"not measured: {why}", None))
            continue
        interval = contrast(frame, cfg["estimator"], cfg["synergy"], condition, names[0], names[-1])
        inside = ("the interval contains zero: uncertain, the difference is inside the noise"
                  if np.isfinite(interval.low) else "uncertain, no noise reference")
        verdict = {True: "the interval lies above zero: noisier with fewer components",
                   False: "the interval lies below zero: noisier with more components", None: inside}[interval.reading()]
        claims.append(reporting.Claim(
            statement,
            "roughness " + ", ".join(f"{n} {v:.4f}" for n, v in zip(names, values))
            + f"; {names[0]} minus {names[-1]} {interval.estimate:+.4f}"
            + (f" ({interval.estimate / values[0]:+.0%} of {names[0]}'s)" if values[0] > 0 else "")
            + f", {interval.reference(terms='record-step changes')}: {verdict}",
            interval.reading(),
        ))
    return claims


def observations(run_dir) -> list[reporting.Claim]:
    """The paper's App. H observation (not one of SPEC 4's claims), per depth, as measured in the run."""
    cfg = run_dir.config
    frame = run_dir.table()
    rough = roughness(frame, cfg["estimator"], cfg["synergy"])
    return _observations(frame, rough, cfg, [feature_name(k) for k in cfg["components"]])


def report(run_dir) -> str:
    frame = run_dir.table()
    cfg = run_dir.config
    info = read_data_info(run_dir)
    names = [feature_name(k) for k in cfg["components"]]
    tables = []
    for depth in cfg["depths"]:
        condition = f"resnet{depth}"
        table = reporting.phases(_by_size(frame, condition, names), estimator=cfg["estimator"], kind=cfg["synergy"])
        table = in_order(table.rename(columns={"condition": "features"}), names, "features")
        table.insert(0, "condition", condition)
        tables.append(table)
    phases = pd.concat(tables, ignore_index=True)
    ib = reporting.phases(frame[frame["plane"] != "GIB"], ib_layer=IB_LAYER, estimator=cfg["estimator"])
    rough = roughness(frame, cfg["estimator"], cfg["synergy"])
    kpca = info.get("kpca") or {}
    return reporting.render_report(reporting.Report.of(
        run_dir, "App. H: GIB with 25, 50 and 100 Kernel PCA components",
        data=data_line(info),
        setup=f"One training run per depth {list(cfg['depths'])} ({cfg['epochs']} epochs, as `resnet`); GIB recorded "
              f"on {', '.join(names)}: the leading components of one RBF Kernel PCA "
              f"(gamma = {kpca.get('gamma', float('nan')):.3g}, {kpca.get('n_components', '?')} components, fitted "
              f"once on {kpca.get('fit_samples', '?')} probe images in {kpca.get('fit_seconds', float('nan')):.1f} s). "
              f"{cfg['n_bins']} bins.",
        sections=[
            reporting.Section("GIB phase numbers per feature set (the phase rule's thresholds)", reporting.markdown_table(phases)),
            reporting.Section("Noisiness of the GIB complexity trajectory",
                              "Mean absolute step-to-step change of the complexity normalised to [0, 1] (higher = "
                              "more erratic); raw range in bits.\n\n" + reporting.markdown_table(rough)
                              + "\n\nThe roughness of the fewest minus the most components, with its noise "
                              "reference: a 95% interval (`low`, `high`) from a paired moving-block bootstrap of the "
                              "two trajectories' record-step changes (the same blocks of consecutive steps for both, "
                              "and the seeds drawn with replacement where there are several). `reading`: noisier "
                              "with fewer when the interval lies above zero, with more when below, inside the noise "
                              "when it contains zero.\n\n"
                              + reporting.markdown_table(roughness_contrast(frame, cfg["estimator"], cfg["synergy"],
                                                                            names))),
            reporting.Section(f"IB plane of the logits (recorded once per run; X = {ib_line(info)})",
                              reporting.markdown_table(ib)),
            *reporting.estimate_sections(frame, cfg["estimator"], ib_layer=IB_LAYER),
        ],
        claims=_observations(frame, rough, cfg, names),
        claims_heading="Paper observation (App. H; not one of SPEC 4's claims)",
        figures={f"{'planes-resnet' + str(d) if len(cfg['depths']) > 1 else 'planes'}.png": "" for d in cfg["depths"]},
    ))


register(Experiment(
    name="pca-dims",
    config_cls=Config,
    presets=PRESETS,
    run=run,
    figures=figures,
    report=report,
    observations=observations,
))
