"""The paper's experiments (SPEC 4), one module each, run by name.

``run_experiment("activations", preset="quick")`` trains, records, and writes figures and the
report into the run directory; the ``gib`` CLI is a thin layer over these functions.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .catalogue import CATALOGUE, MODULES, entry

if TYPE_CHECKING:
    from ..runs import RunDir
    from .base import Experiment

# MODULES: the modules that register experiments (the catalogue's); each is imported on first
# use, so that `gib list` (the catalogue alone) needs neither torch nor pandas.


def _import(module: str) -> None:
    try:
        importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as err:  # an experiment under construction must not break the rest
        if err.name != f"{__name__}.{module}":
            raise


def experiments() -> dict[str, Experiment]:
    """Every registered experiment by name (imports every experiment module)."""
    from .base import REGISTRY

    for module in MODULES:
        _import(module)
    return dict(sorted(REGISTRY.items()))


def get_experiment(name: str) -> Experiment:
    """One experiment, importing only its own module; an unknown name gets a suggestion."""
    from .base import REGISTRY

    _import(entry(name).module)
    if name not in REGISTRY:
        raise ValueError(f"experiment {name!r} is listed but its module gib.experiments."
                         f"{CATALOGUE[name].module} did not register it.")
    return REGISTRY[name]


def default_out(name: str, preset: str) -> Path:
    return Path("runs") / f"{name}-{preset}"


def run_experiment(name: str, preset: str = "quick", sets: Mapping[str, str] | None = None,
                   seeds: Iterable[int] | None = None, out: str | Path | None = None,
                   fresh: bool = False, pdf: bool = False, progress: bool | None = None) -> RunDir:
    """Run (or resume) one experiment and write its figures and report; return the run dir."""
    from ..exceptions import BoundWarning, NegativeInformationWarning, SaturationWarning
    from ..runs import RunDir, hold
    from .base import make_config

    exp = get_experiment(name)
    config = make_config(exp.config_cls, exp.presets, preset, sets, seeds)
    if progress is not None:
        config.progress = progress
    path = Path(out or default_out(name, preset))
    with hold(path):  # one process per run directory: a second one is refused, naming the first
        run = RunDir.open(path, name, {"preset": preset, **config.to_dict()}, fresh)
        if config.threads:
            import torch

            torch.set_num_threads(config.threads)
        with warnings.catch_warnings():
            # what the protocols do by design (binning saturates on wide layers; kde and gcmi go
            # below zero or over the plug-in bounds) is counted, point by point, in the report's
            # "IB saturation" and "negative estimates" sections: the run does not also warn once
            # per condition and seed
            for category in (SaturationWarning, BoundWarning, NegativeInformationWarning):
                warnings.simplefilter("ignore", category)
            exp.run(config, run)
        render(run, pdf=pdf)
    return run


def render(run: RunDir | str | Path, pdf: bool = False) -> str:
    """(Re)draw a run's figures and write its report.md; return the report text."""
    import matplotlib

    from ..runs import RunDir, RunFileError

    matplotlib.use("Agg")
    run = run if isinstance(run, RunDir) else RunDir.load(run)
    exp = get_experiment(run.experiment)
    try:
        figures = exp.figures(run)
        text = exp.report(run)
    except RunFileError:
        raise
    except (KeyError, ValueError, IndexError) as err:  # a foreign or empty table: say which, and why
        unfit = run.unfit_table(err)
        if unfit is None:
            raise
        raise unfit from err
    for name, fig in figures.items():
        run.save_figure(fig, name, pdf=pdf)
        fig.clf()
    run.write_text("report.md", text)
    return text
