"""Figures and a report for a ``Monitor.save()`` folder (``metrics.parquet`` + ``monitor.json``):
what ``gib plot DIR`` and ``gib report DIR`` do for a researcher's own training run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .recorders import OUTPUT

MONITOR_CONFIG = "monitor.json"


def is_monitor_folder(path: str | Path) -> bool:
    """A folder written by ``Monitor.save()`` (and not an experiment's run directory)."""
    path = Path(path)
    return (path / MONITOR_CONFIG).is_file() and not (path / "config.json").exists()


def _load(path: Path) -> tuple[pd.DataFrame, dict]:
    table = path / "metrics.parquet"
    if not table.is_file():
        raise FileNotFoundError(f"{table} is missing; Monitor.save() writes it beside {MONITOR_CONFIG}.")
    try:
        config = json.loads((path / MONITOR_CONFIG).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{path / MONITOR_CONFIG} cannot be read ({err}); save the monitor again.") from None
    frame = pd.read_parquet(table)
    missing = {"step", "plane", "layer", "estimator", "kind", "measure", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"{table} is not a Monitor table: it lacks the column(s) {sorted(missing)}.")
    return frame, config


def _ib_layers(frame: pd.DataFrame) -> list[str]:
    ib = frame[(frame.plane == "IB") & (frame.measure == "complexity")]
    return list(dict.fromkeys(ib.layer))


def figures(path: str | Path) -> dict:
    """{name: Figure}: the IB plane of every recorded layer beside the GIB plane."""
    from .plotting import information_plane

    frame, config = _load(Path(path))
    layers = _ib_layers(frame) or [OUTPUT]
    gib = frame[frame.plane == "GIB"]
    selection = {}
    if len(gib):
        selection = {"kind": gib.kind.iloc[0], "gib_layer": gib.layer.iloc[0]}
        ib = frame[frame.plane == "IB"]
        if gib.estimator.nunique() > 1 or ib.estimator.nunique() > 1:  # one label per plane needs no choice
            selection["estimator"] = gib.estimator.iloc[0]
    return {f"planes_{layer}": information_plane(frame, ib_layer=layer, **selection) for layer in layers}


def _trajectory_row(sub: pd.DataFrame, plane: str, layer: str, estimator: str, kind: str) -> dict:
    from .planes import compression_phase

    wide = sub.pivot_table(index="step", columns="measure", values="value", aggfunc="mean").sort_index()
    complexity, prediction = wide["complexity"].to_numpy(), wide["prediction"].to_numpy()
    row = {"plane": plane, "layer": layer, "estimator": estimator, "kind": kind or "-", "records": len(wide),
           "complexity first": complexity[0], "complexity last": complexity[-1],
           "complexity peak": complexity.max(), "prediction last": prediction[-1]}
    saturated = wide["saturated"].to_numpy() if "saturated" in wide else None
    if saturated is not None:
        row["saturated records"] = int(np.sum(saturated > 0))
    if len(wide) >= 3:
        phase = compression_phase(complexity, prediction, wide.index.to_numpy(), saturated=saturated)
        row["drop fraction"], row["verdict"] = phase.drop_fraction, phase.verdict
    else:
        row["drop fraction"], row["verdict"] = float("nan"), f"{len(wide)} record(s): a verdict needs 3"
    return row


def report(path: str | Path) -> str:
    """The markdown report of a Monitor folder: the probe, then every trajectory's numbers."""
    from .experiments.reporting import markdown_table

    path = Path(path)
    frame, config = _load(path)
    rows = []
    for plane in ("IB", "GIB"):
        part = frame[(frame.plane == plane) & frame.measure.isin(["complexity", "prediction", "saturated"])]
        for (layer, estimator, kind), sub in part.groupby(["layer", "estimator", "kind"], sort=False):
            rows.append(_trajectory_row(sub, plane, layer, estimator, kind))
    steps = sorted(frame.step.unique())
    lines = [f"# Monitor run: {path.name}", "",
             f"Probe: {config.get('n_probe', '?')} samples, task {config.get('task', '?')}; layers "
             f"{', '.join(config.get('layers', [])) or '-'}; {len(steps)} record step(s)"
             + (f" ({steps[0]} to {steps[-1]})." if steps else "."), ""]
    accuracy = frame[(frame.plane == "metric") & (frame.measure == "accuracy")].sort_values("step")
    if len(accuracy):
        lines += [f"Probe accuracy: {accuracy.value.iloc[0]:.3f} at the first record, "
                  f"{accuracy.value.iloc[-1]:.3f} at the last.", ""]
    if rows:
        lines += ["All values in bits. Verdicts follow the phase rule of the planes page.", "",
                  markdown_table(pd.DataFrame(rows), "{:.4f}"), ""]
    else:
        lines += ["No IB or GIB rows were recorded.", ""]
    return "\n".join(lines)


def render(path: str | Path, pdf: bool = False) -> str:
    """Draw the figures into ``path/figures`` and write ``path/report.md``; return the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    text = report(path)
    (path / "figures").mkdir(exist_ok=True)
    for name, fig in figures(path).items():
        for ext in ("png", "pdf") if pdf else ("png",):
            fig.savefig(path / "figures" / f"{name}.{ext}", dpi=150, bbox_inches="tight")
        plt.close(fig)
    (path / "report.md").write_text(text)
    return text
