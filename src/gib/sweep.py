"""Sweeps: one experiment over a grid of ``--set`` values x seeds, on a process pool or on Dask.

Every grid point x seed is one ordinary run directory under the sweep directory, named by its
values (``depth=20,seed=0``), made by :func:`gib.experiments.run_experiment`. The sweep directory
holds:

- ``sweep.json``: the experiment, preset, fixed ``--set`` values, the grid, the seeds and the runs;
- ``status.parquet``: one row per run (done or failed, seconds, error, host and process);
- ``<run>/done.json``: written once the run's report is rendered; a run with it is finished;
- ``<run>/error.txt``: the traceback of a run that failed (the other runs go on);
- ``sweep.parquet``: every finished run's metrics with the grid keys, ``run`` and ``seed`` added;
- ``sweep.png``: per grid point, the seed-averaged IB and GIB trajectories with their spread.

Rerunning the same sweep skips the finished runs and resumes the interrupted ones (a run resumes
from its own checkpoints). A run is executed under a lock (:class:`RunLock`), so two attempts of
the same run (Dask rescheduling a task whose worker it believes dead) never write one run
directory at the same time; the later attempt waits, then finds the run done and skips it.

>>> parse_seeds("0-2,5")
[0, 1, 2, 5]
>>> parse_grid(["depth=20,56", "activations=tanh,relu;sigmoid"])
{'depth': ['20', '56'], 'activations': ['tanh,relu', 'sigmoid']}
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import itertools
import json
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

EXECUTORS = ("local", "dask")
DONE = "done.json"
ERROR = "error.txt"
LOCK = ".lock"
STATUS_COLUMNS = ["run", "status", "skipped", "seconds", "resumed", "error", "host", "pid", "finished"]
#: seconds after which the lock of a holder on another host, whose heartbeat stopped, is stale
STALE_AFTER = 120.0
HEARTBEAT = 10.0
#: how often a process pool may break (a worker process died) before the unfinished runs fail
POOL_RESTARTS = 3


# -- parsing the command line ----------------------------------------------------------------------
def parse_seeds(text: str | int | Iterable[int]) -> list[int]:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"0,2,5"`` -> [0, 2, 5]; ranges and lists mix (``"0-2,7"``)."""
    if isinstance(text, int):
        return [text]
    if not isinstance(text, str):
        return parse_seeds(",".join(str(int(s)) for s in text))
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        try:
            if "-" in part[1:]:
                first, last = part.split("-", 1) if not part.startswith("-") else ("", part)
                low, high = int(first), int(last)
                if high < low:
                    raise ValueError
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ValueError(f"--seeds {text!r}: write a range like 0-4 or a list like 0,2,5.") from None
    if any(s < 0 for s in seeds):
        raise ValueError(f"--seeds {text!r}: seeds are non-negative integers.")
    return list(dict.fromkeys(seeds))


def parse_grid(items: Iterable[str]) -> dict[str, list[str]]:
    """``["key=v1,v2", ...]`` -> {key: [v1, v2]}.

    Values are separated by commas; a value that itself holds commas (a tuple option such as
    ``activations``) is written with ``;`` between the values instead: ``activations=tanh,relu;sigmoid``.
    """
    grid: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--grid {item!r}: write key=value1,value2.")
        key, text = (s.strip() for s in item.split("=", 1))
        values = [v.strip() for v in text.split(";" if ";" in text else ",")]
        if not key or not values or any(v == "" for v in values):
            raise ValueError(f"--grid {item!r}: write key=value1,value2 with no empty value.")
        if key in grid:
            raise ValueError(f"--grid {key}=...: given twice; list all its values in one --grid.")
        if len(set(values)) != len(values):
            raise ValueError(f"--grid {item!r}: a value is listed twice.")
        grid[key] = values
    return grid


def _safe(value: str) -> str:
    """A grid value as it appears in a directory name."""
    return "".join(c if c.isalnum() or c in "-_.+" else "+" if c in ",;" else "_" for c in value)


def run_label(point: Mapping[str, str], seed: int | None) -> str:
    """The directory name of one run: ``depth=20,seed=0``."""
    parts = [f"{key}={_safe(value)}" for key, value in point.items()]
    if seed is not None:
        parts.append(f"seed={seed}")
    return ",".join(parts) or "run"


# -- one run, executed anywhere ----------------------------------------------------------------------
@dataclass(frozen=True)
class RunTask:
    """One run to execute: ``run_experiment(experiment, preset, sets, seeds, out=path)``.

    ``seeds`` None keeps the preset's own seeds (what `gib reproduce` does).
    """

    label: str
    experiment: str
    preset: str
    path: str
    sets: dict = field(default_factory=dict)
    seeds: tuple[int, ...] | None = None

    def key(self) -> str:
        """The Dask key: the same run (same absolute directory) is the same task."""
        digest = hashlib.sha1(str(Path(self.path).resolve()).encode()).hexdigest()[:12]
        return f"gib-run-{self.label}-{digest}"


def is_done(path: str | Path) -> bool:
    path = Path(path)
    return (path / DONE).exists() and (path / "report.md").exists()


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Exclusive right to write one run directory, held by one process at a time.

    The lock is ``<run>/.lock``: an advisory ``flock`` on it (released by the kernel when the
    holder dies, so a run whose worker was killed is free at once on the same host) plus the
    holder's host, PID and a random token written into it, with a heartbeat (its mtime) renewed
    every ``HEARTBEAT`` seconds while the run goes on. Stale-lock rule, for file systems whose
    ``flock`` does not reach other hosts: recorded holder information counts as held while its
    heartbeat is younger than ``stale_after`` and, on this host, its process is alive. An empty
    lock file is free.
    """

    def __init__(self, run_dir: str | Path, stale_after: float = STALE_AFTER, heartbeat: float = HEARTBEAT):
        self.path = Path(run_dir) / LOCK
        self.stale_after, self.heartbeat = stale_after, heartbeat
        self.token = os.urandom(8).hex()
        self._fd: int | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def holder(self) -> dict | None:
        """The recorded holder (host, pid, token, since), or None when the lock file is empty."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            return json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return None  # a holder died while writing: nothing valid is recorded

    def _stale(self, holder: dict) -> bool:
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return True
        if age > self.stale_after:
            return True
        return holder.get("host") == socket.gethostname() and not _pid_alive(int(holder.get("pid", -1)))

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError:
            pass  # no flock on this file system: the recorded holder and its heartbeat decide alone
        holder = self.holder()
        if holder is not None and not self._stale(holder):
            os.close(fd)
            return False
        info = {"host": socket.gethostname(), "pid": os.getpid(), "token": self.token, "since": _now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name=f"gib-lock-{self.path.parent.name}", daemon=True)
        self._beat.start()
        return True

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def acquire(self, give_up: Callable[[], bool] = lambda: False, poll: float = 1.0) -> bool:
        """Wait for the lock; return False (without it) as soon as ``give_up()`` is true."""
        while True:
            if self.try_acquire():
                return True
            if give_up():
                return False
            time.sleep(poll)

    def release(self) -> None:
        if self._fd is None:
            return
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def done_info(path: str | Path) -> dict:
    try:
        return json.loads((Path(path) / DONE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def run_task(task: RunTask) -> dict:
    """Execute one run unless it is finished; never raises for a failing run.

    Returns the run's status row (:data:`STATUS_COLUMNS`). Safe to call twice at once for the
    same run, in any processes: the second call waits for the first and then skips the run.
    """
    path = Path(task.path)
    base = {"run": task.label, "host": socket.gethostname(), "pid": os.getpid(), "error": ""}

    def finished_row() -> dict:
        info = done_info(path)
        return {**base, "status": "done", "skipped": True, "seconds": info.get("seconds", float("nan")),
                "resumed": info.get("resumed", False), "finished": info.get("finished", "")}

    if is_done(path):
        return finished_row()
    lock = RunLock(path)
    if not lock.acquire(give_up=lambda: is_done(path)):
        return finished_row()  # another attempt finished it while this one waited
    try:
        if is_done(path):
            return finished_row()
        resumed = (path / "config.json").exists()
        from .experiments import experiments, run_experiment

        with contextlib.suppress(Exception):  # an import error shows again, recorded, in run_experiment
            experiments()  # imported before the clock starts: the time is the run's, not the imports'
        start = time.perf_counter()
        try:
            run_experiment(task.experiment, task.preset, dict(task.sets), task.seeds, out=path, progress=False)
        except Exception as err:  # recorded, so that the other runs of the sweep go on
            seconds = time.perf_counter() - start
            _write(path / ERROR, f"{task.label} failed after {seconds:.1f} s on {base['host']} "
                                 f"(pid {base['pid']}) at {_now()}\n\n{traceback.format_exc()}")
            return {**base, "status": "failed", "skipped": False, "seconds": seconds, "resumed": resumed,
                    "error": f"{type(err).__name__}: {err}", "finished": _now()}
        seconds = time.perf_counter() - start
        (path / ERROR).unlink(missing_ok=True)
        info = {"run": task.label, "experiment": task.experiment, "preset": task.preset, "sets": dict(task.sets),
                "seeds": None if task.seeds is None else list(task.seeds), "seconds": seconds,
                "resumed": resumed, "finished": _now(), "host": base["host"], "pid": base["pid"]}
        _write(path / DONE, json.dumps(info, indent=2))
        return {**base, "status": "done", "skipped": False, "seconds": seconds, "resumed": resumed,
                "finished": info["finished"]}
    finally:
        lock.release()


def _failure(task: RunTask, err: BaseException) -> dict:
    """The status row of a run whose execution itself broke (its worker died too often)."""
    text = "".join(traceback.format_exception(err))
    with contextlib.suppress(OSError):
        Path(task.path).mkdir(parents=True, exist_ok=True)
        _write(Path(task.path) / ERROR, f"{task.label}: the executor gave up at {_now()}\n\n{text}")
    return {"run": task.label, "status": "failed", "skipped": False, "seconds": float("nan"), "resumed": False,
            "error": f"{type(err).__name__}: {err}", "host": "", "pid": -1, "finished": _now()}


# -- executors --------------------------------------------------------------------------------------
def execute(tasks: Sequence[RunTask], executor: str = "local", workers: int = 2, scheduler: str | None = None,
            on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Run ``tasks`` (finished ones are skipped without being sent anywhere); return their status
    rows in task order.

    ``local``: a process pool of ``workers`` processes. ``dask``: the dask.distributed scheduler at
    ``scheduler``, or a ``LocalCluster(processes=True, n_workers=workers)`` when none is given.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"--executor {executor!r}: choose {' or '.join(EXECUTORS)}.")
    if int(workers) < 1:
        raise ValueError(f"--workers {workers}: at least 1.")
    if scheduler and executor != "dask":
        raise ValueError("--scheduler needs --executor dask.")
    rows: dict[str, dict] = {}

    def collect(row: dict) -> None:
        rows[row["run"]] = row
        if on_result is not None:
            on_result(row)

    pending = []
    for task in tasks:
        if is_done(task.path):
            collect(run_task(task))  # returns at once: nothing to execute
        else:
            pending.append(task)
    if pending:
        (_execute_dask if executor == "dask" else _execute_local)(pending, int(workers), scheduler, collect)
    return [rows[t.label] for t in tasks]


def _execute_local(tasks: list[RunTask], workers: int, scheduler, collect: Callable[[dict], None]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # not fork: the parent has torch (and maybe its thread pools) loaded, which fork does not
    # survive well. A fork server imports torch and gib once; its workers start already loaded.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["gib.sweep", "gib.experiments.base"])
    remaining, breaks = list(tasks), 0
    while remaining:
        broken: list[RunTask] = []
        with ProcessPoolExecutor(max_workers=min(workers, len(remaining)), mp_context=context) as pool:
            futures = {pool.submit(run_task, task): task for task in remaining}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    collect(future.result())
                except BrokenProcessPool:
                    broken.append(task)  # a worker process died; which run killed it is unknown
                except Exception as err:  # noqa: BLE001 - e.g. a result that could not be pickled
                    collect(_failure(task, err))
        if broken:
            breaks += 1
            if breaks > POOL_RESTARTS:
                for task in broken:
                    collect(_failure(task, RuntimeError(f"worker processes died {breaks} times")))
                broken = []
        remaining = broken


def _execute_dask(tasks: list[RunTask], workers: int, scheduler: str | None,
                  collect: Callable[[dict], None]) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ValueError("--executor dask needs dask.distributed: pip install 'gib[dask]'.") from err
    import logging

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(processes=True, n_workers=workers, threads_per_worker=1,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        # a worker's death makes the scheduler run its task again elsewhere (up to its
        # allowed-failures); run_task is idempotent, and its lock keeps two attempts apart
        futures = {client.submit(run_task, task, key=task.key(), pure=False): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                collect(future.result())
            except Exception as err:  # noqa: BLE001 - KilledWorker: the run killed every worker it met
                collect(_failure(task, err))
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def status_frame(rows: Iterable[dict]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=STATUS_COLUMNS)


def save_status(rows: Iterable[dict], path: str | Path) -> None:
    frame = status_frame(rows)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


# -- the sweep ---------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """What a sweep left: its directory, the status rows, the merged table and the figure."""

    path: Path
    status: pd.DataFrame
    table: Path | None
    figure: Path | None

    @property
    def failed(self) -> pd.DataFrame:
        return self.status[self.status["status"] == "failed"]


def default_sweep_out(name: str, preset: str) -> Path:
    return Path("runs") / f"sweep-{name}-{preset}"


def plan(name: str, grid: Mapping[str, Sequence[str]], preset: str, seeds: Sequence[int],
         sets: Mapping[str, str], out: Path) -> list[tuple[RunTask, dict]]:
    """Every grid combination x seed as a task, with its grid values."""
    keys = list(grid)
    tasks = []
    for values in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, values))
        for seed in seeds:
            label = run_label(point, seed)
            task = RunTask(label, name, preset, str(out / label), {**sets, **point}, (int(seed),))
            tasks.append((task, {"run": label, "grid": point, "seed": int(seed)}))
    labels = [t.label for t, _ in tasks]
    if len(set(labels)) != len(labels):
        raise ValueError("--grid: two values give the same run directory name; make them differ in letters or digits.")
    return tasks


def _check(name: str, grid: Mapping[str, Sequence[str]], preset: str, sets: Mapping[str, str]) -> None:
    from dataclasses import fields

    from .experiments import get_experiment

    exp = get_experiment(name)
    if preset not in exp.presets:
        raise ValueError(f"--preset {preset!r}: {name} has {', '.join(exp.presets)}.")
    names = {f.name for f in fields(exp.config_cls)}
    for key in grid:
        if key == "seeds":
            raise ValueError("--grid seeds=...: give the seeds with --seeds.")
        if key not in names:
            raise ValueError(f"--grid {key}=...: unknown key; {name} takes: {', '.join(sorted(names))}.")
        if key in sets:
            raise ValueError(f"--grid {key}=... and --set {key}=...: give the key in one of them.")
    for key in sets:
        if key == "seeds":
            raise ValueError("--set seeds=...: give the seeds with --seeds.")


def _describe(out: Path, name: str, preset: str, sets: Mapping[str, str], grid: Mapping[str, Sequence[str]],
              seeds: Sequence[int], runs: list[dict], executor: str) -> dict:
    stored = out / "sweep.json"
    created = _now()
    if stored.exists():
        old = json.loads(stored.read_text())
        same = (old.get("experiment"), old.get("preset"), old.get("sets")) == (name, preset, dict(sets))
        if not same:
            raise ValueError(
                f"{out} holds a sweep of {old.get('experiment')} --preset {old.get('preset')} with --set "
                f"{old.get('sets')}; pass another --out for this one."
            )
        created = old.get("created", created)
    description = {"experiment": name, "preset": preset, "sets": dict(sets), "grid": {k: list(v) for k, v in grid.items()},
                   "seeds": list(seeds), "runs": runs, "executor": executor, "created": created, "updated": _now()}
    out.mkdir(parents=True, exist_ok=True)
    _write(stored, json.dumps(description, indent=2))
    return description


def sweep(name: str, grid: Mapping[str, Sequence[str]] | Iterable[str] = (), preset: str = "quick",
          seeds: str | Iterable[int] = (0,), sets: Mapping[str, str] | None = None, executor: str = "local",
          workers: int = 2, scheduler: str | None = None, out: str | Path | None = None,
          ib_layer: str | None = None, on_result: Callable[[dict], None] | None = None) -> SweepResult:
    """Run (or resume) experiment ``name`` at every combination of ``grid`` x ``seeds``.

    Parameters
    ----------
    name : str
        A registered experiment (`gib list`).
    grid : mapping of key -> values, or ``["key=v1,v2", ...]``
        Config keys and the values to try (strings, parsed as ``--set`` values are).
    preset : str
    seeds : str or iterable of int
        ``"0-4"``, ``"0,2,5"`` or integers; each is its own run.
    sets : mapping, optional
        ``--set`` values shared by every run.
    executor : {"local", "dask"}
    workers : int
        Processes of the local pool, or workers of the Dask LocalCluster.
    scheduler : str, optional
        Address of a running dask.distributed scheduler (executor "dask").
    out : path, optional
        The sweep directory [runs/sweep-NAME-PRESET].
    ib_layer : str, optional
        The IB layer of the summary figure [the experiment's ``IB_LAYER``].
    on_result : callable, optional
        Called with each run's status row as it arrives.

    Returns
    -------
    SweepResult
    """
    grid = parse_grid(grid) if not isinstance(grid, Mapping) else {k: [str(v) for v in vs] for k, vs in grid.items()}
    seeds = parse_seeds(seeds)
    if not seeds:
        raise ValueError("--seeds: give at least one seed.")
    sets = {k: str(v) for k, v in (sets or {}).items()}
    _check(name, grid, preset, sets)
    out = Path(out) if out is not None else default_sweep_out(name, preset)
    tasks = plan(name, grid, preset, seeds, sets, out)
    runs = [meta for _, meta in tasks]
    _describe(out, name, preset, sets, grid, seeds, runs, executor)
    status_path = out / "status.parquet"
    arrived: dict[str, dict] = {}

    def record(row: dict) -> None:
        arrived[row["run"]] = row
        save_status([arrived[m["run"]] for m in runs if m["run"] in arrived], status_path)
        if on_result is not None:
            on_result(row)

    rows = execute([t for t, _ in tasks], executor, workers, scheduler, record)
    save_status(rows, status_path)
    status = status_frame(rows)
    finished = [m for m, row in zip(runs, rows) if row["status"] == "done"]
    table_path = figure_path = None
    if finished:
        merged = merge_runs(out, finished, list(grid))
        table_path = out / "sweep.parquet"
        tmp = out / ".sweep.parquet.tmp"
        merged.to_parquet(tmp, index=False)
        os.replace(tmp, table_path)
        figure_path = save_summary_figure(merged, out, name, list(grid), ib_layer)
    return SweepResult(out, status, table_path, figure_path)


# -- merging and the summary figure ----------------------------------------------------------------
def run_table(path: str | Path) -> pd.DataFrame:
    """A run's metrics: ``metrics.parquet``, else ``results.parquet``, else its only parquet table."""
    path = Path(path)
    for name in ("metrics.parquet", "results.parquet"):
        if (path / name).exists():
            return pd.read_parquet(path / name)
    tables = sorted(p for p in path.glob("*.parquet") if not p.name.startswith("."))
    if len(tables) != 1:
        raise FileNotFoundError(f"{path}: no metrics.parquet or results.parquet to merge.")
    return pd.read_parquet(tables[0])


def _cell(value: Any) -> Any:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def merge_runs(out: str | Path, runs: Iterable[Mapping], keys: Sequence[str]) -> pd.DataFrame:
    """One table of every run's metrics with ``run``, the grid ``keys`` and ``seed`` as columns.

    A grid value comes from the run's config.json (so it has the config's type); ``seed`` is the
    run's seed, and an experiment's own ``seed`` column that says something else (e.g. -1 for
    exact values) is kept as ``experiment_seed``. A grid key that clashes with a metrics column
    is named ``grid_<key>``. Each run is read once, so no row appears twice.
    """
    frames = []
    seen = set()
    for meta in runs:
        label = meta["run"]
        if label in seen:
            continue
        seen.add(label)
        path = Path(out) / label
        frame = run_table(path)
        try:
            config = json.loads((path / "config.json").read_text())["config"]
        except (FileNotFoundError, KeyError, json.JSONDecodeError):
            config = {}
        columns = {"run": label}
        for key in keys:
            column = key if key not in frame.columns and key != "run" else f"grid_{key}"
            columns[column] = _cell(config.get(key, meta["grid"][key]))
        if "seed" in frame.columns and not (frame["seed"] == meta["seed"]).all():
            frame = frame.rename(columns={"seed": "experiment_seed"})
        frame = frame.drop(columns=["seed"], errors="ignore").assign(**columns, seed=meta["seed"])
        first = ["run", *columns.keys() - {"run"}, "seed"]
        frames.append(frame[[*first, *(c for c in frame.columns if c not in first)]])
    if not frames:
        return pd.DataFrame(columns=["run", *keys, "seed"])
    return pd.concat(frames, ignore_index=True)


def _grid_columns(frame: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    return [k if k in frame.columns and not k.startswith("grid_") and f"grid_{k}" not in frame.columns
            else f"grid_{k}" for k in keys]


def _combination_label(keys: Sequence[str], values: Sequence[Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values)) or "all runs"


def _pick_layer(rows: pd.DataFrame, preferred: Sequence[str | None]) -> str | None:
    layers = list(pd.unique(rows["layer"]))
    for layer in preferred:
        if layer in layers:
            return layer
    return layers[-1] if layers else None


def _default_ib_layer(name: str) -> str | None:
    try:
        from .experiments import get_experiment

        module = sys.modules.get(get_experiment(name).run.__module__)
    except ValueError:
        return None
    return getattr(module, "IB_LAYER", None) or getattr(module, "OUTPUT", None)


def summary_figure(frame: pd.DataFrame, keys: Sequence[str], ib_layer: str | None = None, title: str | None = None):
    """The summary figure of a merged sweep table (:func:`merge_runs`); ``title`` prefixes its
    description.

    Per grid combination (columns), the seed-averaged IB and GIB trajectories (rows), one line
    per condition, with bars of one standard deviation across seeds on both axes.

    Raw bits, not normalised: the spread keeps its scale. A table without IB/GIB rows (an
    experiment that does not train) gets one panel per measure instead: per combination, the mean
    over seeds of each run's mean value, with the same spread.
    """
    from matplotlib.figure import Figure

    from .plotting import AXIS_LABELS, trajectories

    columns = _grid_columns(frame, keys)
    groups = list(frame.groupby(columns, sort=True, dropna=False)) if columns else [((), frame)]
    planes = [p for p in ("IB", "GIB") if "plane" in frame.columns and (frame["plane"] == p).any()]
    if not planes:
        return _measure_figure(frame, columns, keys, groups, title)
    fig = Figure(figsize=(3.4 * len(groups) + 0.8, 3.1 * len(planes) + 0.5), layout="constrained")
    axes = fig.subplots(len(planes), len(groups), squeeze=False)
    for col, (values, rows) in enumerate(groups):
        values = values if isinstance(values, tuple) else (values,)
        # runs are the seeds here: one index per run keeps seeds apart whatever the seed column says
        rows = rows.assign(seed=rows["run"].map({r: i for i, r in enumerate(pd.unique(rows["run"]))}))
        n_seeds = rows["run"].nunique()
        for row, plane in enumerate(planes):
            ax = axes[row][col]
            sel = rows[rows["plane"] == plane]
            estimator = sel["estimator"].iloc[0] if sel["estimator"].nunique() == 1 else None
            kind = None
            if plane == "GIB":
                kinds = list(pd.unique(sel["kind"]))
                kind = "featurewise" if "featurewise" in kinds else kinds[0]
            layer = _pick_layer(sel, [ib_layer] if plane == "IB" else ["input"])
            conditions = list(pd.unique(sel["condition"])) if "condition" in sel.columns else [None]
            for i, condition in enumerate(conditions):
                try:
                    table = trajectories(sel, plane, condition=condition, layer=layer, estimator=estimator, kind=kind)
                except ValueError as err:
                    ax.text(0.5, 0.5, str(err)[:80], ha="center", va="center", fontsize=6, transform=ax.transAxes,
                            wrap=True)
                    continue
                colour = f"C{i % 10}"
                x, y = table["complexity"].to_numpy(), table["prediction"].to_numpy()
                ax.errorbar(x, y, xerr=table["complexity_std"], yerr=table["prediction_std"], color=colour,
                            ecolor=colour, elinewidth=0.6, alpha=0.9, linewidth=1.2, capsize=0,
                            label=str(condition) if condition is not None else None)
                ax.plot(x[:1], y[:1], "o", color=colour, ms=4)
                ax.plot(x[-1:], y[-1:], "s", color=colour, ms=4)
            labels = AXIS_LABELS["IB"] if plane == "IB" else AXIS_LABELS.get(("GIB", kind), ("C", "P"))
            ax.set_xlabel(f"{labels[0]} [bits]", fontsize=8)
            ax.set_ylabel(f"{labels[1]} [bits]", fontsize=8)
            where = f" ({layer})" if layer else ""
            ax.set_title(f"{_combination_label(keys, values)}\n{plane}{where}, {n_seeds} seed(s)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, linewidth=0.4, alpha=0.4)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), fontsize=8, frameon=False)
    what = "seed-mean trajectories (○ first, □ last record; bars: 1 s.d. across seeds)"
    fig.suptitle(f"{title}: {what}" if title else what, fontsize=10)
    return fig


def _measure_figure(frame, columns, keys, groups, title):
    from matplotlib.figure import Figure

    if "measure" not in frame.columns or "value" not in frame.columns:
        raise ValueError("the sweep table has neither IB/GIB rows nor measure/value columns to summarise.")
    hue = next((c for c in ("condition", "function") if c in frame.columns), None)
    measures = list(pd.unique(frame["measure"]))[:8]
    fig = Figure(figsize=(max(4.0, 1.0 * len(groups) + 2.5) * min(len(measures), 3) / 1.4,
                      3.2 * int(np.ceil(len(measures) / 3)) + 0.6), layout="constrained")
    axes = fig.subplots(int(np.ceil(len(measures) / 3)), min(len(measures), 3), squeeze=False).ravel()
    labels = [_combination_label(keys, v if isinstance(v, tuple) else (v,)) for v, _ in groups]
    hues = list(pd.unique(frame[hue])) if hue else [None]
    width = 0.8 / len(hues)
    for ax, measure in zip(axes, measures):
        for h, value in enumerate(hues):
            means, spreads = [], []
            for _, rows in groups:
                sel = rows[rows["measure"] == measure]
                if hue:
                    sel = sel[sel[hue] == value]
                per_run = sel.groupby("run")["value"].mean()
                means.append(per_run.mean() if len(per_run) else np.nan)
                spreads.append(per_run.std(ddof=1) if len(per_run) > 1 else 0.0)
            x = np.arange(len(groups)) + (h - (len(hues) - 1) / 2) * width
            ax.bar(x, means, width, yerr=spreads, color=f"C{h % 10}", label=None if value is None else str(value))
        ax.set_xticks(np.arange(len(groups)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(str(measure), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(measures):]:
        ax.set_visible(False)
    if hue:
        axes[0].legend(fontsize=7, frameon=False)
    what = "mean over seeds of each run's mean value (bars: 1 s.d. across seeds)"
    fig.suptitle(f"{title}: {what}" if title else what, fontsize=10)
    return fig


def save_summary_figure(frame: pd.DataFrame, out: str | Path, name: str, keys: Sequence[str],
                        ib_layer: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    over = ", ".join(keys) or "seeds"
    fig = summary_figure(frame, keys, ib_layer or _default_ib_layer(name), title=f"Sweep of {name} over {over}")
    target = Path(out) / "sweep.png"
    tmp = Path(out) / ".sweep.png.tmp"
    fig.savefig(tmp, dpi=130, bbox_inches="tight", format="png")
    os.replace(tmp, target)
    return target


__all__ = ["RunLock", "RunTask", "SweepResult", "execute", "merge_runs", "parse_grid", "parse_seeds", "run_task",
           "summary_figure", "sweep"]
