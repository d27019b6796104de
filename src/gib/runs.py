"""Run directories: config, metrics, checkpoints, figures, report; resumable by construction.

A run directory holds ``config.json`` (what produced it), ``metrics.parquet`` (tidy rows of every
condition), ``checkpoints/<condition>.pt`` (model, optimizer, scheduler, RNG and recorded rows at
the last record step), ``figures/`` and ``report.md``. A training loop checkpoints with
:func:`save` and starts from :func:`resume`, written inline where they happen::

    start = resume(run_dir, key, model=model, optimizer=optimizer, monitor=monitor)
    for epoch in range(start, epochs + 1):
        ...  # train (epoch > 0), record
        save(run_dir, key, epoch, model=model, optimizer=optimizer, monitor=monitor)

Every write is atomic (temporary file then
rename), so a crash or Ctrl-C leaves the last complete state, and the same command resumes; the
temporary files a killed write leaves behind are removed when the run is reopened. A run
directory is worked on by one process at a time (``gib sweep`` holds a lock for it).

Damaged files are refused with a :class:`RunFileError` naming the file, what is wrong and the
fix, never resumed from:

- ``config.json`` must be UTF-8 JSON of the form ``{"experiment": NAME, "config": {...}}``.
- A checkpoint starts with a one-line header ``gib checkpoint v1 sha256:<digest>`` followed by
  the bytes of ``torch.save``; the digest is the SHA-256 of those bytes, written into the same
  temporary file before its rename, so a crash never leaves a good checkpoint with a stale
  digest, and any changed or missing byte (a flipped bit, a truncated copy) is caught on load.
  A checkpoint without the header (written by gib before checksums, or by plain ``torch.save``)
  is accepted without a check; one that does not unpickle, or does not fit the run (a missing
  entry, another model's weights: see :meth:`RunDir.restoring`), is refused.

The config of a reopened run must equal the stored one except for :data:`PRESENTATION_KEYS`.
``threads`` is compared: torch's CPU kernels may split sums differently with another thread
count, so a run resumed with other threads need not end identical to an uninterrupted one.
``threads=0`` (torch's default: one per core) is compared as 0, so such a run moved to a machine
with another core count resumes unrefused; set ``threads`` for bit-identical resumes anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

RUN_COLUMNS = ["condition", "seed"]
#: config keys that change how a run is shown or where it runs, not what it computes
PRESENTATION_KEYS = {"progress", "pdf", "device"}

CHECKPOINT_MAGIC = b"gib checkpoint v1 sha256:"
_HEADER_SIZE = len(CHECKPOINT_MAGIC) + 64 + 1  # the magic, the hex digest, a newline
# what a killed atomic write leaves: `.NAME.XXXXXXXX.tmp` (mkstemp here) or `.NAME.PID.tmp` (sweep.py)
_TEMPORARY = re.compile(r"\..+\.(?:[a-z0-9_]{8}|[0-9]+)\.tmp")
CHECKPOINT_FIX = ("delete it to redo that condition from its start (the rest of the run resumes), "
                  "or pass --fresh to start the whole run over")


class RunFileError(ValueError):
    """A file of a run directory is damaged or not one gib wrote.

    The message is one line: the file, what is wrong with it, and the fix.

    Attributes
    ----------
    path : Path
        The damaged file.
    problem, fix : str
        What is wrong, and what to do about it.
    """

    def __init__(self, path: str | Path, problem: str, fix: str):
        self.path, self.problem, self.fix = Path(path), problem, fix
        super().__init__(f"{path} {problem}; {fix}.")


def _one_line(err: BaseException, limit: int = 160) -> str:
    text = f"{type(err).__name__}: {' '.join(str(err).split())}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` whole or not at all: ``write`` fills a temporary file beside it, which then
    replaces ``path`` in one step, so that a run killed mid-write leaves the old file (or none),
    never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def safe_name(text: str) -> str:
    """``text`` as a file or directory name: letters, digits and ``-_.+`` kept, ``,`` and ``;``
    (separators of listed values) as ``+``, anything else as ``_`` (checkpoints, sweep runs)."""
    return "".join(c if c.isalnum() or c in "-_.+" else "+" if c in ",;" else "_" for c in text)


def _read_config(stored: Path, fix: str) -> dict:
    """The stored ``{"experiment": ..., "config": {...}}`` of a run, or a RunFileError."""
    try:
        text = stored.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        byte = err.object[err.start]
        raise RunFileError(stored, f"is not UTF-8 text (byte {err.start} is {byte:#04x})", fix) from None
    if not text.strip():
        raise RunFileError(stored, "is empty", fix)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise RunFileError(stored, f"is not valid JSON ({err.msg} at line {err.lineno} column {err.colno}: "
                                   "truncated or edited)", fix) from None
    shape = 'expected {"experiment": NAME, "config": {...}}'
    if not isinstance(data, dict):
        raise RunFileError(stored, f"is not a gib run config (a JSON {type(data).__name__}; {shape})", fix)
    if not isinstance(data.get("experiment"), str):
        raise RunFileError(stored, f"is not a gib run config (no experiment name; {shape})", fix)
    if not isinstance(data.get("config"), dict):
        raise RunFileError(stored, f"is not a gib run config (no config object; {shape})", fix)
    return data


def _remove_temporaries(path: Path) -> None:
    """Remove the temporary files of atomic writes that a kill interrupted (gib's names only)."""
    for folder in (path, path / "checkpoints", path / "figures"):
        for leftover in folder.glob(".*.tmp"):
            if _TEMPORARY.fullmatch(leftover.name) and leftover.is_file():
                leftover.unlink(missing_ok=True)


class _Hashing:
    """A write-only file that hashes what goes through it (torch.save only writes and flushes)."""

    def __init__(self, file: io.BufferedWriter):
        self.file, self.digest = file, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def _write_checkpoint(path: Path, state: dict) -> None:
    with open(path, "wb") as file:
        file.write(b"\0" * _HEADER_SIZE)  # room for the header, filled in once the digest is known
        hashing = _Hashing(file)
        torch.save(state, hashing)
        file.seek(0)
        file.write(CHECKPOINT_MAGIC + hashing.digest.hexdigest().encode("ascii") + b"\n")


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
            old = _read_config(stored, f"pass --fresh to start over in {path}, or another --out directory")
            if old["experiment"] != experiment:
                raise ValueError(
                    f"{path} holds a run of experiment {old['experiment']!r}, not {experiment!r}; "
                    "pass another --out directory."
                )
            differ = sorted(
                k for k in set(old["config"]) | set(config)
                if k not in PRESENTATION_KEYS and old["config"].get(k) != config.get(k)
            )
            if differ and has_results(path):
                changes = ", ".join(f"{k} (stored {old['config'].get(k)!r}, now {config.get(k)!r})" for k in differ)
                raise ValueError(
                    f"{path} holds a run with a different config (differs in: {changes}); "
                    "pass another --out directory, or --fresh to start over there."
                )
        elif fresh and path.exists():
            # only what a run writes: a directory given by mistake keeps everything else
            for old_file in [stored, path / "data.json", path / "report.md", *path.glob("*.parquet")]:
                old_file.unlink(missing_ok=True)
            for folder in ("checkpoints", "figures"):
                shutil.rmtree(path / folder, ignore_errors=True)
        _remove_temporaries(path)
        run = cls(path, experiment, config)
        atomic_write(stored, lambda p: p.write_text(json.dumps({"experiment": experiment, "config": config}, indent=2)))
        return run

    @classmethod
    def load(cls, path: str | Path) -> RunDir:
        """Reopen an existing run directory (for plotting and reports)."""
        path = Path(path)
        stored = path / "config.json"
        if not stored.exists():
            raise FileNotFoundError(f"{path} is not a run directory (no config.json); pass the --out of a `gib run`.")
        data = _read_config(stored, "rerun its `gib run` command with --fresh to start it over")
        return cls(path, data["experiment"], data["config"])

    # -- checkpoints -----------------------------------------------------------------------------
    def checkpoint_path(self, key: str) -> Path:
        return self.path / "checkpoints" / f"{safe_name(key)}.pt"

    def save_checkpoint(self, key: str, state: Mapping[str, Any]) -> None:
        """Save ``state`` atomically as checkpoint ``key``, with the SHA-256 of its bytes."""
        atomic_write(self.checkpoint_path(key), lambda p: _write_checkpoint(p, dict(state)))

    def load_checkpoint(self, key: str) -> dict | None:
        """The state saved as checkpoint ``key``, or None when there is none.

        Raises
        ------
        RunFileError
            The file is empty, fails its checksum, does not unpickle or holds no dict.
        """
        path = self.checkpoint_path(key)
        if not path.exists():
            return None
        data = path.read_bytes()
        if not data:
            raise RunFileError(path, "is empty", CHECKPOINT_FIX)
        payload = data
        if data.startswith(CHECKPOINT_MAGIC):
            payload = data[_HEADER_SIZE:]
            stored = data[len(CHECKPOINT_MAGIC) : _HEADER_SIZE - 1]
            if hashlib.sha256(payload).hexdigest().encode("ascii") != stored:
                raise RunFileError(path, "is damaged (its contents do not match their SHA-256 checksum: "
                                         "truncated or changed on disk)", CHECKPOINT_FIX)
        # no header: a checkpoint from before checksums (or a plain torch.save), read unchecked
        try:
            state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
        except Exception as err:  # whatever unpickling garbage raises, the file is the cause
            raise RunFileError(path, f"cannot be read as a checkpoint ({_one_line(err)})", CHECKPOINT_FIX) from err
        if not isinstance(state, dict):
            raise RunFileError(path, f"holds a {type(state).__name__}, not a gib checkpoint (a dict)", CHECKPOINT_FIX)
        return state

    @contextlib.contextmanager
    def restoring(self, key: str) -> Iterator[None]:
        """Restore checkpoint ``key`` inside this block.

        A checkpoint that does not fit the run (a missing entry, another model's weights, a
        value of the wrong type) raises there; this turns the error into a :class:`RunFileError`
        naming the file and the fix.
        """
        try:
            yield
        except RunFileError:
            raise
        except KeyError as err:
            raise RunFileError(self.checkpoint_path(key), f"does not fit this run (it has no {err.args[0]!r} entry)",
                               CHECKPOINT_FIX) from err
        except (IndexError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            raise RunFileError(self.checkpoint_path(key), f"does not fit this run ({_one_line(err)})",
                               CHECKPOINT_FIX) from err

    # -- tables ----------------------------------------------------------------------------------
    def save_table(self, frame: pd.DataFrame, name: str = "metrics.parquet") -> Path:
        target = self.path / name
        atomic_write(target, lambda p: frame.to_parquet(p, index=False))
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
            atomic_write(target, lambda p, ext=ext: fig.savefig(p, dpi=150, bbox_inches="tight", format=ext))
            paths.append(target)
        return paths

    def write_text(self, name: str, text: str) -> Path:
        target = self.path / name
        atomic_write(target, lambda p: p.write_text(text))
        return target


# -- the two helpers of a training loop ----------------------------------------------------------
def _rng_state() -> dict:
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def save(run: RunDir, key: str, step: int, *, done: bool = False, **parts: Any) -> None:
    """Checkpoint a training loop at ``step``: atomically, with the SHA-256 of its bytes.

    Parameters
    ----------
    run : RunDir
        The run directory; the checkpoint is ``checkpoints/<key>.pt``.
    key : str
        The condition (and seed) this loop trains, e.g. ``"tanh-seed0"``.
    step : int
        The last step done (an epoch, or a global optimizer step): :func:`resume` continues
        from ``step + 1``.
    done : bool
        Whether the loop is finished (kept in the checkpoint for whoever inspects it).
    **parts
        What to restore on resume, each by its ``state_dict()``: ``model=``, ``optimizer=``,
        ``scheduler=``, ``monitor=``, or anything with ``state_dict`` / ``load_state_dict``
        (None: not saved). The torch (and CUDA) RNG states are saved with them.
    """
    state = {"step": int(step), "done": bool(done), "rng": _rng_state()}
    for name, part in parts.items():
        if part is not None:
            state[name] = part.state_dict()
    run.save_checkpoint(key, state)


def resume(run: RunDir, key: str, **parts: Any) -> int:
    """Restore a training loop from its checkpoint ``key``; the step to start from.

    Loads each of ``parts`` (the same names as given to :func:`save`; None: skipped) with its
    ``load_state_dict`` and the torch (and CUDA) RNG states, so that a loop resumed at the
    returned step ends identical to an uninterrupted one, as long as each step's other
    randomness depends on (seed, step) only (``experiments.base.epoch_generator``).

    Returns
    -------
    int
        0 when there is no checkpoint (nothing restored), else the saved step + 1.

    Raises
    ------
    RunFileError
        The checkpoint is damaged or does not fit these parts (another model's weights, a
        missing entry); the message names the file and the fix.
    """
    state = run.load_checkpoint(key)
    if state is None:
        return 0
    with run.restoring(key):
        for name, part in parts.items():
            if part is not None:
                part.load_state_dict(state[name])
        if "step" not in state and "epoch" in state:  # written by the epoch loop before save() existed
            state = {**state, "step": state["epoch"], "rng": {"torch": state["torch_rng"]}}
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"].get("cuda") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        return int(state["step"]) + 1
