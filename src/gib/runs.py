"""Run directories: config, metrics, checkpoints, figures, report; resumable by construction.

A run directory holds ``config.json`` (what produced it), ``metrics.parquet`` (tidy rows of every
condition), ``checkpoints/<condition>.pt`` (model, optimizer, scheduler, RNG and recorded rows at
the last record step), ``figures/`` and ``report.md``. A training loop checkpoints with
:func:`save` and starts from :func:`resume`, written inline where they happen::

    start = resume(run_dir, key, model=model, optimizer=optimizer, monitor=monitor)
    for epoch in range(start, epochs + 1):
        ...  # train (epoch > 0), record
        save(run_dir, key, epoch, model=model, optimizer=optimizer, monitor=monitor)

Every write is atomic (temporary file then rename), so a crash, Ctrl-C or SIGTERM leaves the
last complete state, and the same command resumes; the temporary files a killed write leaves
behind are removed when the run is reopened. A write the file system refuses (a full disk, a
directory where the file belongs, a file where its folder belongs) is a :class:`RunFileError`
naming the path and the fix, with no temporary file left; :func:`check_layout` refuses such a
directory before a run computes anything.

A run directory is worked on by one process at a time: :func:`hold` takes an OS file lock on
``.lock`` (``gib run`` for the whole run, ``gib sweep`` for each of its runs) and records its
holder (pid, host, start) in ``.lock.holder``, so that a second process is refused with one line
naming the first (:class:`RunLockedError`). The kernel releases the lock of a process that dies.

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
import datetime as _dt
import errno
import hashlib
import io
import json
import os
import re
import shutil
import socket
import tempfile
import threading
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
TABLE_FIX = ("rerun its `gib run` command with --fresh to recompute it, or pass the directory of a run of this "
             "experiment")
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


def _os_error(err: BaseException) -> OSError | None:
    """The OSError behind ``err`` (itself, or one it was raised from: torch.save and pyarrow wrap
    the file system's errors), or None."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError) and (err.errno is not None or isinstance(err, (IsADirectoryError,
                                                                                  NotADirectoryError))):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def write_error(path: Path, err: OSError) -> RunFileError:
    """The one-line :class:`RunFileError` of a write to ``path`` that the file system refused."""
    code = err.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return RunFileError(path, "could not be written: no space left on its device (nothing half-written "
                                  "was kept)", "free some space there, then rerun the same command to resume")
    if code == errno.EISDIR or isinstance(err, IsADirectoryError):
        return RunFileError(path, "is a directory where gib writes a file",
                            "move or remove that directory, then rerun the same command to resume")
    if code in (errno.ENOTDIR, errno.EEXIST) or isinstance(err, (NotADirectoryError, FileExistsError)):
        return RunFileError(Path(err.filename) if err.filename else path.parent,
                            "is a file where gib keeps a folder",
                            "move or remove that file, then rerun the same command to resume")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return RunFileError(path, f"could not be written ({os.strerror(code).lower()})",
                            "make the directory writable or pass another --out directory")
    return RunFileError(path, f"could not be written ({_one_line(err)})",
                        "fix that, then rerun the same command to resume")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary file beside ``path``, then rename it to ``path``: a crash, a kill or a
    full disk leaves the previous file (or none), never a half-written one. A write that the file
    system refuses (no space, a directory in the file's place, a file in its folder's place) is
    a :class:`RunFileError` naming the path and the fix."""
    tmp = None
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            write(Path(tmp))
            os.replace(tmp, path)
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
    except Exception as err:
        cause = _os_error(err)
        if cause is None:
            raise
        raise write_error(path, cause) from None


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


# what a run writes: files and folders of these names must be files and folders
RUN_FILES = ("config.json", "metrics.parquet", "report.md", "data.json")
RUN_FOLDERS = ("checkpoints", "figures")
LAYOUT_FIX = "move or remove it, then rerun the same command"


def check_layout(path: Path) -> None:
    """Raise a :class:`RunFileError` where the run directory ``path``, one of its files or one of
    its folders is something else on disk (a file in place of a folder, or the reverse), before
    a run computes anything it could not write."""
    if path.exists() and not path.is_dir():
        raise RunFileError(path, "is a file where the run directory belongs", "pass another --out directory, "
                                                                             "or move that file away")
    for name in RUN_FILES:
        if (path / name).is_dir():
            raise RunFileError(path / name, "is a directory where gib writes a file", LAYOUT_FIX)
    for name in RUN_FOLDERS:
        if (path / name).exists() and not (path / name).is_dir():
            raise RunFileError(path / name, "is a file where gib keeps a folder", LAYOUT_FIX)


# -- one process per run directory ---------------------------------------------------------------
LOCK = ".lock"
HOLDER = ".lock.holder"  # who holds the lock: pid, host and since when (read by those refused)
_HELD: dict[tuple[str, int], list] = {}  # (directory, thread) -> [FileLock, depth]


class RunLockedError(ValueError):
    """Another live process works on the run directory; the message names it (pid and host)."""

    def __init__(self, path: Path, holder: str):
        self.path, self.holder = Path(path), holder
        super().__init__(f"{path} is in use by another gib process ({holder}); wait for it to end (a rerun "
                         "then resumes), or pass another --out directory.")


def _holder(path: Path) -> str:
    try:
        info = json.loads((path / HOLDER).read_text())
        return f"pid {info['pid']} on {info['host']}, since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its pid and host are not recorded yet"


@contextlib.contextmanager
def hold(path: str | Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the run directory's lock (an OS file lock on ``path/.lock``, ``filelock``) inside this
    block, making the directory if needed.

    Waits up to ``timeout`` seconds for another process to let go, then raises
    :class:`RunLockedError` naming that process. The kernel releases the lock of a process that
    dies, so a killed run leaves no stale lock. Re-entrant within one thread (a sweep's claim on
    a run, then the run itself).
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    check_layout(path)
    key = (os.path.realpath(path), threading.get_ident())
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path / LOCK)
        lock.acquire(timeout=timeout)
    except Timeout:
        raise RunLockedError(path, _holder(path)) from None
    except OSError as err:
        raise write_error(path / LOCK, err) from None
    _HELD[key] = [lock, 1]
    try:
        with contextlib.suppress(OSError):  # the record is for those refused; the lock is what counts
            since = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
            (path / HOLDER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since}))
        yield
    finally:
        del _HELD[key]
        with contextlib.suppress(OSError):
            (path / HOLDER).unlink(missing_ok=True)
        lock.release()


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
        self.tables_read: list[Path] = []  # the tables read so far (named when one does not fit)

    @classmethod
    def open(cls, path: str | Path, experiment: str, config: Mapping[str, Any], fresh: bool = False) -> RunDir:
        path = Path(path)
        config = json.loads(json.dumps(dict(config), default=str))
        stored = path / "config.json"
        check_layout(path)
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
        self.tables_read.append(target)
        try:
            return pd.read_parquet(target)
        except Exception as err:  # whatever a damaged or foreign file raises, the file is the cause
            raise RunFileError(target, f"cannot be read as a table ({_one_line(err)})", TABLE_FIX) from err

    def unfit_table(self, err: Exception) -> RunFileError | None:
        """Why the tables read so far cannot give this run's figures or report, given the error
        ``err`` that drawing them raised: a table with no values (no rows, or a floating-point
        column that is all NaN), or one that lacks a column (``KeyError``: a table of another experiment, or edited);
        None if neither explains it."""
        for target in dict.fromkeys(self.tables_read):
            frame = pd.read_parquet(target)
            empty = [str(c) for c in frame.select_dtypes("floating").columns if not frame[c].notna().any()]
            if len(frame) == 0:
                return RunFileError(target, "has no rows", TABLE_FIX)
            if empty:
                return RunFileError(target, f"holds no values: its column(s) {', '.join(map(repr, empty))} are all "
                                            "NaN", TABLE_FIX)
        if self.tables_read and (isinstance(err, KeyError) or "column" in str(err)):
            if isinstance(err, KeyError):
                missing = str(err.args[0]) if err.args else "?"
                if not missing.startswith("Columns not found"):
                    missing = repr(err.args[0])
            else:  # a frame check of the experiment's own (`frame` lacks the column(s) ...)
                missing = " ".join(str(err).split(";")[0].split())
            names = ", ".join(p.name for p in dict.fromkeys(self.tables_read))
            return RunFileError(self.tables_read[-1], f"lacks what the {self.experiment!r} figures and report read "
                                f"({missing.replace('Columns not found: ', 'columns ')}; tables read: {names}): a "
                                "table of another experiment, or edited", TABLE_FIX)
        return None

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
