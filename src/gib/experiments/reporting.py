"""Shared pieces of the run reports: phase tables as markdown, claim lines."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..plotting import phase_table


def markdown_table(frame: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    """A plain markdown table (no extra dependency)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float):
                cells.append(floatfmt.format(v))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


PHASE_COLUMNS = ["condition", "plane", "n_seeds", "peak_epoch", "drop_fraction", "spearman",
                 "prediction_loss", "compresses"]


def phases(frame: pd.DataFrame, **selection) -> pd.DataFrame:
    """Phase numbers per condition x plane (SPEC 2), seed-averaged."""
    return phase_table(frame, **selection)[PHASE_COLUMNS]


def compressing(table: pd.DataFrame, plane: str) -> list[str]:
    rows = table[(table["plane"] == plane) & table["compresses"]]
    return list(rows["condition"])


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (SPEC 4, last paragraph) as measured in a run."""

    claim: str
    measured: str
    holds: bool

    def markdown(self) -> str:
        return claim_line(self.claim, self.measured, self.holds)


def claim_line(claim: str, measured: str, holds: bool) -> str:
    return f"- **Claim:** {claim}\n  - measured: {measured}\n  - **{'holds' if holds else 'does not hold'}** in this run"


def header(run, title: str, extra: str = "") -> str:
    cfg = run.config
    return (
        f"# {title}\n\nExperiment `{run.experiment}`, preset `{cfg.get('preset')}`, "
        f"seeds {cfg.get('seeds')}, estimator `{cfg.get('estimator')}`, synergy `{cfg.get('synergy')}`. "
        f"All information values in bits.{(' ' + extra) if extra else ''}\n"
    )


def data_line(run) -> str:
    """'Data: ...' from the run's data.json (written by the experiment when it loads its data)."""
    import json

    path = run.path / "data.json"
    if not path.exists():
        return "Data: not recorded (the run predates data.json)."
    info = json.loads(path.read_text())
    return "Data: " + "; ".join(f"{v}" if k == "source" else f"{k}: {v}" for k, v in info.items()) + "\n"
