"""Run directories: config, metrics, checkpoints, figures, report; resumable by construction.

A run directory holds ``config.json`` (what produced it), ``metrics.parquet`` (tidy rows of every
condition), ``checkpoints/<condition>.pt`` (model, optimizer, scheduler, RNG and recorded rows at
the last record step), ``figures/`` and ``report.md``. Every write is atomic (temporary file then
rename), so a crash or Ctrl-C leaves the last complete state, and the same command resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

RUN_COLUMNS = ["condition", "seed"]
# config keys that change how a run is shown or where it runs, not what it computes
PRESENTATION_KEYS = {"progress", "pdf", "device", "threads"}


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


def has_results(path: str | Path) -> bool:
    """Whether a run directory holds anything a run computed (checkpoints, tables, figures, a
    report): a directory with only a ``config.json`` (a run stopped before its first record)
    may be reused with another config."""
    path = Path(path)
    computed = [*path.glob("checkpoints/*"), *path.glob("*.parquet"), *path.glob("figures/*"), path / "report.md"]
    return any(p.exists() for p in computed)


class RunDir:
    """One experiment run on disk.

    ``RunDir.open(path, experiment, config)`` creates the directory or reopens it to resume; a
    directory that holds results of a different config is refused (pass another ``out`` or
    ``fresh=True``); one that holds only the config of a run that computed nothing is reused.
    """

    def __init__(self, path: Path, experiment: str, config: dict):
        self.path = Path(path)
        self.experiment = experiment
        self.config = config

    @classmethod
    def open(cls, path: str | Path, experiment: str, config: Mapping[str, Any], fresh: bool = False) -> RunDir:
        path = Path(path)
        config = json.loads(json.dumps(dict(config), default=str))
        stored = path / "config.json"
        if stored.exists() and not fresh:
            old = json.loads(stored.read_text())
            if old.get("experiment") != experiment:
                raise ValueError(
                    f"{path} holds a run of experiment {old.get('experiment')!r}, not {experiment!r}; "
                    "pass another --out directory."
                )
            differ = sorted(
                k for k in set(old["config"]) | set(config)
                if k not in PRESENTATION_KEYS and old["config"].get(k) != config.get(k)
            )
            if differ and has_results(path):
                raise ValueError(
                    f"{path} holds a run with a different config (differs in: {', '.join(differ)}); "
                    "pass another --out directory, or --fresh to start over there."
                )
        elif fresh and path.exists():
            # only what a run writes: a directory given by mistake keeps everything else
            for old_file in [stored, path / "data.json", path / "report.md", *path.glob("*.parquet")]:
                old_file.unlink(missing_ok=True)
            for folder in ("checkpoints", "figures"):
                shutil.rmtree(path / folder, ignore_errors=True)
        run = cls(path, experiment, config)
        _atomic(stored, lambda p: p.write_text(json.dumps({"experiment": experiment, "config": config}, indent=2)))
        return run

    @classmethod
    def load(cls, path: str | Path) -> RunDir:
        """Reopen an existing run directory (for plotting and reports)."""
        path = Path(path)
        stored = path / "config.json"
        if not stored.exists():
            raise FileNotFoundError(f"{path} is not a run directory (no config.json); pass the --out of a `gib run`.")
        data = json.loads(stored.read_text())
        return cls(path, data["experiment"], data["config"])

    # -- checkpoints -----------------------------------------------------------------------------
    def checkpoint_path(self, key: str) -> Path:
        return self.path / "checkpoints" / f"{_safe(key)}.pt"

    def save_checkpoint(self, key: str, state: Mapping[str, Any]) -> None:
        _atomic(self.checkpoint_path(key), lambda p: torch.save(dict(state), p))

    def load_checkpoint(self, key: str) -> dict | None:
        path = self.checkpoint_path(key)
        if not path.exists():
            return None
        return torch.load(path, map_location="cpu", weights_only=False)

    # -- tables ----------------------------------------------------------------------------------
    def save_table(self, frame: pd.DataFrame, name: str = "metrics.parquet") -> Path:
        target = self.path / name
        _atomic(target, lambda p: frame.to_parquet(p, index=False))
        return target

    def table(self, name: str = "metrics.parquet") -> pd.DataFrame:
        target = self.path / name
        if not target.exists():
            raise FileNotFoundError(f"{target} does not exist yet; run the experiment first (`gib run ...`).")
        return pd.read_parquet(target)

    def has_table(self, name: str = "metrics.parquet") -> bool:
        return (self.path / name).exists()

    # -- outputs ---------------------------------------------------------------------------------
    def save_figure(self, fig, name: str, pdf: bool = False) -> list[Path]:
        paths = []
        for ext in ("png", "pdf") if pdf else ("png",):
            target = self.path / "figures" / f"{name}.{ext}"
            _atomic(target, lambda p, ext=ext: fig.savefig(p, dpi=150, bbox_inches="tight", format=ext))
            paths.append(target)
        return paths

    def write_text(self, name: str, text: str) -> Path:
        target = self.path / name
        _atomic(target, lambda p: p.write_text(text))
        return target
