"""App. F and App. I: the `activations` and `functions` experiments under each estimator
(`estimators`) and each synergy kind (`svw`), planes side by side.

Each (experiment, variant) pair is an ordinary run of that experiment, stored (and resumed) in
its own sub-directory ``<experiment>-<variant>`` of this run; the figures stack their plane
grids and the report states, for each variant, which conditions compress in GIB and in IB.
A sub-run is the ``base_preset`` of its experiment with the variant, this run's device and (for
`svw`) its estimator and estimator options, and the keys of ``base_sets``: e.g. ``--preset paper
--device cuda --set base_sets=seeds=0,epochs=2000`` runs the paper presets on a GPU, one seed
each, with 2000 epochs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, ClassVar

import pandas as pd

from ..runs import RunDir
from ..verdicts import plane_text, seed_table
from . import reporting
from .base import PRESETS, BaseConfig, Experiment, key_value, parse_sets, register
from .constraints import Check, OneOf

SUB_EXPERIMENTS = ("activations", "functions")


@dataclass
class Config(BaseConfig):
    #: the key of the sub-runs that the variants set (`svw`: the synergy kind)
    VARIANT_KEY: ClassVar[str] = "synergy"

    #: the sub-experiments run under each variant
    experiments: Annotated[tuple[str, ...], OneOf(SUB_EXPERIMENTS)] = SUB_EXPERIMENTS
    variants: tuple[str, ...] = ()  #: the estimators (estimators) or synergy kinds (svw) compared
    base_preset: Annotated[str, OneOf(PRESETS)] = "cpu"  #: the preset of each sub-experiment run
    #: ``--set`` of every sub-experiment run on top of ``base_preset``, as key=value pairs
    #: (several: comma-separated; a value holds no comma), keys that every sub-experiment takes,
    #: e.g. ``--set base_sets=epochs=2000,record_every=50``
    base_sets: Annotated[tuple[str, ...], Check(key_value, "of the form key=value")] = ()

    def check(self) -> None:
        """``base_sets`` as well: no key this run sets on its sub-runs itself, and every sub-run's
        config made now, so that a wrong key or value fails before anything is written."""
        super().check()
        from . import get_experiment
        from .base import make_config

        own = {"device": "--device (or --set device=...) of this run", "estimator": "--set estimator=... of this run",
               "estimator_options": "--set estimator_options=... of this run", self.VARIANT_KEY: "--set variants=..."}
        for key in parse_sets(self.base_sets):
            if key in own:
                raise ValueError(f"--set base_sets={key}=...: the sub-runs take {key} from {own[key]}; "
                                 "leave it out of base_sets.")
        for experiment in self.experiments:
            sub = get_experiment(experiment)
            for variant in self.variants:
                try:
                    make_config(sub.config_cls, sub.presets, self.base_preset,
                                _sub_sets(self, self.VARIANT_KEY, variant))
                except ValueError as err:
                    given = f" with base_sets={','.join(self.base_sets)}" if self.base_sets else ""
                    raise ValueError(f"the {experiment} sub-run {self.VARIANT_KEY}={variant}{given} (preset "
                                     f"{self.base_preset}): {err}") from None

    def to_dict(self) -> dict:
        values = super().to_dict()
        if not values["base_sets"]:
            # left out when unset, so that a run stored before the key existed still resumes
            del values["base_sets"]
        return values


@dataclass
class EstimatorsConfig(Config):
    """`estimators`: the variants are estimators, so ``estimator`` and its options are the
    variants' own."""

    VARIANT_KEY: ClassVar[str] = "estimator"

    def check(self) -> None:
        if self.estimator_options:
            raise ValueError("--set estimator_options: the `estimators` experiment compares several estimators, "
                             "whose options differ; set them on one estimator's run instead (`gib run activations "
                             "--set estimator=kde --set estimator_options=...`).")
        super().check()


def _sub_sets(config: Config, key: str, variant: str) -> dict[str, str]:
    """The ``--set`` of one sub-run: ``base_sets``, this run's device, estimator and its options
    (unless the variants are estimators), which the sub-experiments leave at their defaults, then
    the variant. (``n_bins`` stays the sub-experiment's own: `functions` has 40 bins by default.)"""
    sets = {**parse_sets(config.base_sets), "device": config.device, "estimator": config.estimator}
    if config.estimator_options:
        sets["estimator_options"] = ",".join(config.estimator_options)
    return {**sets, key: variant}


def _variant_key(name: str) -> str:
    return "estimator" if name == "estimators" else "synergy"


def _sub_dir(run_dir: RunDir, experiment: str, variant: str):
    return run_dir.path / f"{experiment}-{variant}"


def _runner(name: str):
    def run(config: Config, run_dir: RunDir) -> None:
        from . import run_experiment

        key = _variant_key(name)
        for experiment in config.experiments:
            for variant in config.variants:
                run_experiment(experiment, config.base_preset, _sub_sets(config, key, variant),
                               seeds=config.seeds if config.seeds != (0,) else None,
                               out=_sub_dir(run_dir, experiment, variant), progress=config.progress)
    return run


def _ib_layer(experiment: Experiment) -> str:
    """The IB layer a sub-experiment reports on (its module's ``IB_LAYER``)."""
    import importlib

    return importlib.import_module(experiment.run.__module__).IB_LAYER


def _sub_runs(run_dir: RunDir, experiment: str):
    for variant in run_dir.config["variants"]:
        path = _sub_dir(run_dir, experiment, variant)
        if (path / "config.json").exists():
            yield variant, RunDir.load(path)


def _figures(name: str):
    def figures(run_dir: RunDir) -> dict:
        from matplotlib.figure import Figure

        from . import get_experiment
        from ..plotting import plane_grid

        out = {}
        for experiment in run_dir.config["experiments"]:
            subs = list(_sub_runs(run_dir, experiment))
            if not subs:
                continue
            module = get_experiment(experiment)
            ib_layer = _ib_layer(module)
            n_cond = max(len(set(sub.table()["condition"])) for _, sub in subs)
            fig = Figure(figsize=(3.1 * n_cond + 1.0, 6.4 * len(subs)), layout="constrained")
            panels = fig.subfigures(len(subs), 1, squeeze=False)[:, 0]
            for panel, (variant, sub) in zip(panels, subs):
                cfg = sub.config
                plane_grid(sub.table(), ib_layer=ib_layer, estimator=cfg["estimator"], kind=cfg["synergy"],
                           gib_layer="input", figure=panel, title=f"{experiment}: {_variant_key(name)} = {variant}")
            out[f"{experiment}-variants"] = fig
        return out
    return figures


def _claims(name: str):
    def claims(run_dir: RunDir) -> list[reporting.Claim]:
        from . import get_experiment

        found = []
        for experiment in run_dir.config["experiments"]:
            for variant, sub in _sub_runs(run_dir, experiment):
                for claim in get_experiment(experiment).claims(sub):
                    found.append(dataclasses.replace(
                        claim, claim=f"[{experiment}, {_variant_key(name)}={variant}] {claim.claim}",
                        setup=claim.setup or reporting.run_setup(sub)))
        return found
    return claims


def _report(name: str, title: str):
    def report(run_dir: RunDir) -> str:
        from . import get_experiment

        rows = []
        for experiment in run_dir.config["experiments"]:
            ib_layer = _ib_layer(get_experiment(experiment))
            for variant, sub in _sub_runs(run_dir, experiment):
                table = seed_table(sub.table(), ib_layer=ib_layer, estimator=sub.config["estimator"],
                                                kind=sub.config["synergy"], gib_layer="input")
                for plane in ("GIB", "IB"):
                    rows.append({"experiment": experiment, _variant_key(name): variant, "plane": plane,
                                 "verdicts": plane_text(table, plane), "seeds": int(table["n_seeds"].max())})
        figures = {f"{e}-variants.png": "" for e in run_dir.config["experiments"]}
        return reporting.render_report(reporting.Report.of(
            run_dir, title, note=f"Each sub-run used the `{run_dir.config['base_preset']}` preset.",
            sections=[reporting.Section(
                "Which conditions compress, per variant (the seed rule, `gib.verdicts.SeedRule`)",
                (reporting.markdown_table(pd.DataFrame(rows)) if rows else "No sub-runs finished yet.")
                + "\n\nThe phase numbers of each sub-run are in its own `report.md` (sub-directories "
                  "`<experiment>-<variant>/`).")],
            claims=_claims(name)(run_dir),
            claims_heading="Claims of the sub-experiments under each variant",
            figures=figures,
        ))
    return report


for _name, _variants, _title in (
    ("estimators", ("binning", "kde", "gcmi"), "App. F: the planes under the binning, KDE and GCMI estimators"),
    ("svw", ("featurewise", "sum_vs_whole"), "App. I: feature-wise vs sum-versus-whole synergy"),
):
    register(Experiment(
        name=_name,
        config_cls=EstimatorsConfig if _name == "estimators" else Config,
        presets={
            "test": dict(variants=_variants, base_preset="test", progress=False),
            "quick": dict(variants=_variants, base_preset="quick"),
            # the sub-experiments' cpu presets would take ~1.5 h (estimators) and ~1 h (svw) on
            # 2 cores, too long for the one-command cpu reproduction; their quick presets keep
            # the side-by-side comparison these appendices are about
            "cpu": dict(variants=_variants, base_preset="quick"),
            "paper": dict(variants=_variants, base_preset="paper"),
        },
        run=_runner(_name),
        figures=_figures(_name),
        report=_report(_name, _title),
        claims=_claims(_name),
    ))
