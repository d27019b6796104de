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
noisier).
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


def roughness(frame: pd.DataFrame, estimator: str, kind: str) -> pd.DataFrame:
    """Per condition x feature set: mean |step-to-step change| of the [0, 1]-normalised GIB
    complexity (seed-averaged), a noisiness number (higher = more erratic)."""
    rows = frame[(frame["plane"] == "GIB") & (frame["measure"] == "complexity") & (frame["estimator"] == estimator)
                 & (frame["kind"] == kind)]
    records = []
    for (condition, layer), group in rows.groupby(["condition", "layer"], sort=False):
        c = group.groupby("step")["value"].mean().sort_index().to_numpy()
        span = float(c.max() - c.min()) if len(c) else 0.0
        norm = (c - c.min()) / span if span > 0 else np.zeros_like(c)
        records.append(dict(condition=condition, features=layer, n_steps=len(c), complexity_range=span,
                            roughness=float(np.mean(np.abs(np.diff(norm)))) if len(c) > 1 else float("nan")))
    return pd.DataFrame(records, columns=["condition", "features", "n_steps", "complexity_range", "roughness"])


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


def _observations(rough: pd.DataFrame, depths, names: list[str]) -> list[reporting.Claim]:
    claims = []
    for depth in depths:
        r = rough[rough["condition"] == f"resnet{depth}"].set_index("features")["roughness"]
        values = [r.get(n, float("nan")) for n in names]
        ordered = len(values) > 1 and all(a >= b for a, b in zip(values, values[1:])) and values[0] > values[-1]
        claims.append(reporting.Claim(
            f"resnet{depth}: GIB dynamics are noisier with fewer Kernel PCA components (Fig. 16): "
            "roughness never rises with more components and falls from the fewest to the most",
            "roughness " + ", ".join(f"{n} {v:.3f}" for n, v in zip(names, values))
            + f" (most vs fewest components: {values[-1] / values[0] - 1:+.0%})",
            bool(ordered),
        ))
    return claims


def observations(run_dir) -> list[reporting.Claim]:
    """The paper's App. H observation (not one of SPEC 4's claims), per depth, as measured in the run."""
    cfg = run_dir.config
    rough = roughness(run_dir.table(), cfg["estimator"], cfg["synergy"])
    return _observations(rough, cfg["depths"], [feature_name(k) for k in cfg["components"]])


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
                              "more erratic); raw range in bits.\n\n" + reporting.markdown_table(rough)),
            reporting.Section(f"IB plane of the logits (recorded once per run; X = {ib_line(info)})",
                              reporting.markdown_table(ib)),
            *reporting.estimate_sections(frame, cfg["estimator"], ib_layer=IB_LAYER),
        ],
        claims=_observations(rough, cfg["depths"], names),
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
