"""The paper's experiments (SPEC 4), one module each, run by name.

``run_experiment("activations", preset="quick")`` trains, records, and writes figures and the
report into the run directory; the ``gib`` CLI is a thin layer over these functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..runs import RunDir
from .base import REGISTRY, Experiment, make_config

# Modules that register experiments; imported on first use so `gib list` stays quick.
_MODULES = (
    "synthetic", "activations", "functions", "adversarial", "teacher_student", "resnet", "pca_dims",
    "bert", "variants",
)


def experiments() -> dict[str, Experiment]:
    for module in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as err:  # an experiment under construction must not break the rest
            if err.name != f"{__name__}.{module}":
                raise
    return dict(sorted(REGISTRY.items()))


def get_experiment(name: str) -> Experiment:
    found = experiments()
    if name not in found:
        raise ValueError(f"unknown experiment {name!r}; `gib list` shows: {', '.join(found)}.")
    return found[name]


def default_out(name: str, preset: str) -> Path:
    return Path("runs") / f"{name}-{preset}"


def run_experiment(name: str, preset: str = "quick", sets: Mapping[str, str] | None = None,
                   seeds: Iterable[int] | None = None, out: str | Path | None = None,
                   fresh: bool = False, pdf: bool = False, progress: bool | None = None) -> RunDir:
    """Run (or resume) one experiment and write its figures and report; return the run dir."""
    exp = get_experiment(name)
    config = make_config(exp.config_cls, exp.presets, preset, sets, seeds)
    if progress is not None:
        config.progress = progress
    run = RunDir.open(out or default_out(name, preset), name, {"preset": preset, **config.to_dict()}, fresh)
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    exp.run(config, run)
    render(run, pdf=pdf)
    return run


def render(run: RunDir | str | Path, pdf: bool = False) -> str:
    """(Re)draw a run's figures and write its report.md; return the report text."""
    import matplotlib

    matplotlib.use("Agg")
    run = run if isinstance(run, RunDir) else RunDir.load(run)
    exp = get_experiment(run.experiment)
    for name, fig in exp.figures(run).items():
        run.save_figure(fig, name, pdf=pdf)
        fig.clf()
    text = exp.report(run)
    run.write_text("report.md", text)
    return text
