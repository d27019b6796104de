"""Sweeps: one experiment over a grid of config values x seeds, each run a task on Dask.

Every grid point x seed is one ordinary run directory under the sweep directory, named by its
values (``depth=20,seed=0``), made by :func:`gib.experiments.run_experiment`. The sweep directory
holds:

- ``sweep.json``: the experiment, preset, fixed ``--set`` values, the grid, the seeds and the runs;
- ``status.parquet``: one row per run (done or failed, seconds, error, host and process);
- ``<run>/done.json``: written once the run's report is rendered; a run with it is finished;
- ``<run>/error.txt``: the traceback of a run that failed (the other runs go on);
- ``<run>/.lock``: the run's claim (below);
- ``sweep.parquet``: every finished run's metrics with the grid keys, ``run`` and ``seed`` added;
- ``sweep.png``: :func:`gib.plotting.sweep_figure` of that table.

Rerunning the same sweep skips the finished runs and resumes the interrupted ones (a run resumes
from its own checkpoints).

Execution. Each run is one task, ``client.submit(run_task, task, retries=...)``, on the
dask.distributed scheduler at ``scheduler``, or, when none is given, on a ``LocalCluster`` of
``workers`` worker processes started for the sweep and closed after it (one run at a time each,
with its share of the cores for torch's threads); the status rows are gathered as the tasks
complete. A worker that dies mid-run is noticed by the
scheduler, which runs the task again on another worker (``retries`` times on a LocalCluster, the
scheduler's ``distributed.scheduler.allowed-failures`` elsewhere), and the retry resumes the run
from its checkpoints; ``retries`` also covers a task that raises (a file system error). A
failing *experiment* is not retried: its row says failed, and the other runs go on.

Claiming a run. A run is executed under an OS file lock on ``<run>/.lock`` (``filelock``, i.e.
``flock``) and its ``done.json``: a finished run is skipped; a run whose lock a live process holds
(another attempt of the same run, e.g. a task the scheduler believed lost) is waited for, then
found finished and skipped, never executed twice at once; the kernel releases the lock of a
process that dies, so a killed attempt leaves no stale lock. Across hosts this needs a shared
file system whose ``flock`` reaches every host (NFS v4, or Lustre/GPFS mounted with flock); on one
without ``flock``, filelock falls back to a marker file naming its holder's host and PID, which a
later attempt on the same host breaks once that process is gone.

No orphans. The worker processes of a LocalCluster are forked by a fork server (it imports torch
and gib once, so workers start loaded) and each watches a pipe from the sweep's process
(``distributed``'s ``AsyncProcess``: at end-of-file, the parent being gone, the worker calls
``os._exit``); the fork server exits once neither the sweep's process nor any process it forked
is alive. Killing the sweep's process, even with SIGKILL, therefore ends every worker within
moments, its running run with it (that run resumes on a rerun), then the fork server and
multiprocessing's resource tracker; the scheduler and its queue die with the parent, so no
queued run starts (``tests/test_sweep.py`` kills a sweep and looks). (The process pool this
replaced left its fork server, resource tracker and workers alive, running the queued runs.) As
with any multiprocessing start method but fork, a script that calls :func:`sweep` guards its
entry point with ``if __name__ == "__main__":``.

Dask is an optional dependency (``pip install 'gib[sweep]'``): it is imported when a sweep runs,
so ``import gib`` and the commands that run no sweep work without it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import itertools
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .runs import RunLockedError, atomic_write, hold, safe_name

DONE = "done.json"
ERROR = "error.txt"
#: the columns of ``status.parquet``, one row per run of a sweep
STATUS_COLUMNS = ["run", "status", "skipped", "seconds", "resumed", "error", "host", "pid", "finished"]
#: how often a run's task is tried again after its worker died or it raised
RETRIES = 3
#: seconds between two looks at a run that another live process holds
POLL = 1.0
#: torch/BLAS thread variables that a LocalCluster sets per worker to its share of the cores
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: what the fork server of a LocalCluster imports before it forks the workers
PRELOAD = ("gib.sweep", "gib.experiments.base")
#: the command that installs what running a sweep needs (Dask's distributed scheduler)
SWEEP_INSTALL = "pip install 'gib[sweep]'"


def run_label(point: Mapping[str, str], seed: int | None) -> str:
    """The directory name of one run: ``depth=20,seed=0``."""
    parts = [f"{key}={safe_name(value)}" for key, value in point.items()]
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


def done_info(path: str | Path) -> dict:
    try:
        return json.loads((Path(path) / DONE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def _write(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


@contextlib.contextmanager
def claim(path: str | Path, poll: float = POLL) -> Iterator[bool]:
    """Claim run directory ``path``; yield whether this process is to execute the run.

    Parameters
    ----------
    path : path
        The run directory (made if missing).
    poll : float
        Seconds between two looks at a run that another live process holds.

    Yields
    ------
    bool
        False at once for a finished run (its ``done.json``). Otherwise the OS lock on
        ``path/.lock`` is taken, waiting while another live process holds it, and the answer is
        whether the run is still unfinished, the lock held until the block ends; or False,
        without the lock, as soon as the holder has finished the run. A holder that dies
        releases the lock with its process.
    """
    path = Path(path)
    with contextlib.ExitStack() as held:
        while not is_done(path):
            with contextlib.suppress(RunLockedError):
                held.enter_context(hold(path, timeout=poll))
                break
        else:
            yield False
            return
        yield not is_done(path)


def _finished_row(path: Path, base: dict) -> dict:
    info = done_info(path)
    return {**base, "status": "done", "skipped": True, "seconds": info.get("seconds", float("nan")),
            "resumed": info.get("resumed", False), "finished": info.get("finished", "")}


def run_task(task: RunTask) -> dict:
    """Execute one run unless it is finished; a failing run is recorded, not raised.

    Returns the run's status row (``STATUS_COLUMNS``). Safe to call twice at once for the
    same run, in any processes: the second call waits for the first (:func:`claim`) and then
    skips the run.
    """
    path = Path(task.path)
    base = {"run": task.label, "host": socket.gethostname(), "pid": os.getpid(), "error": ""}
    with claim(path) as todo:
        if not todo:
            return _finished_row(path, base)
        resumed = (path / "config.json").exists()
        from .experiments import get_experiment, run_experiment

        with contextlib.suppress(Exception):  # an import error shows again, recorded, in run_experiment
            get_experiment(task.experiment)  # imported before the clock starts: the time is the run's
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


def _failure(task: RunTask, err: BaseException) -> dict:
    """The status row of a run whose task itself broke (it raised, or killed its workers, too often)."""
    text = "".join(traceback.format_exception(err))
    with contextlib.suppress(OSError):
        Path(task.path).mkdir(parents=True, exist_ok=True)
        _write(Path(task.path) / ERROR, f"{task.label}: Dask gave up on it at {_now()}\n\n{text}")
    return {"run": task.label, "status": "failed", "skipped": False, "seconds": float("nan"), "resumed": False,
            "error": f"{type(err).__name__}: {err}", "host": "", "pid": -1, "finished": _now()}


# -- execution on Dask ------------------------------------------------------------------------------
def require_dask() -> None:
    """Import Dask's distributed scheduler, or raise an ImportError that names the install command."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as err:
        raise ImportError(f"running a sweep needs Dask's distributed scheduler, which gib installs with its sweep "
                          f"extra: {SWEEP_INSTALL} (missing: {err.name or err}).") from err


def execute(tasks: Sequence[RunTask], workers: int = 2, scheduler: str | None = None,
            on_result: Callable[[dict], None] | None = None, retries: int = RETRIES) -> list[dict]:
    """Run ``tasks`` on Dask (finished ones are skipped without being sent); return their status
    rows in task order.

    Parameters
    ----------
    tasks : sequence of RunTask
    workers : int
        Worker processes of the LocalCluster started when no ``scheduler`` is given.
    scheduler : str, optional
        Address of a running dask.distributed scheduler (``tcp://host:8786``).
    on_result : callable, optional
        Called with each run's status row as it arrives.
    retries : int
        How often a task is tried again after it raised or its worker died.

    Returns
    -------
    list of dict
        One status row (``STATUS_COLUMNS``) per task.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers {workers!r}: give a whole number of at least 1.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"`retries` {retries!r}: give a whole number of at least 0.")
    rows: dict[str, dict] = {}

    def collect(row: dict) -> None:
        rows[row["run"]] = row
        if on_result is not None:
            on_result(row)

    pending = []
    for task in tasks:
        if is_done(task.path):
            collect(_finished_row(Path(task.path), {"run": task.label, "host": socket.gethostname(),
                                                    "pid": os.getpid(), "error": ""}))
        else:
            pending.append(task)
    if pending:
        require_dask()
        with _client(min(workers, len(pending)), scheduler, retries) as client:
            futures = {client.submit(run_task, task, key=task.key(), pure=False, retries=retries): task
                       for task in pending}
            from distributed import as_completed

            for future in as_completed(futures):
                task = futures[future]
                try:
                    collect(future.result())
                except Exception as err:  # noqa: BLE001 - KilledWorker: the run killed every worker it met
                    collect(_failure(task, err))
                future.release()
    return [rows[t.label] for t in tasks]


@contextlib.contextmanager
def _client(workers: int, scheduler: str | None, retries: int):
    """A Client of ``scheduler``, or of a LocalCluster of ``workers`` processes closed afterwards."""
    import dask
    from distributed import Client, LocalCluster
    from distributed.utils import get_mp_context

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # distributed caps each worker's BLAS/OpenMP threads at 1; a run gets its share of the cores
    # instead (all of them with one worker), unless the caller's environment says otherwise
    share = str(max(1, (os.cpu_count() or 1) // workers))
    env = {name: share for name in THREAD_VARIABLES if name not in os.environ}
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        # a fork server imports torch and gib once; its workers (and their restarts) start loaded.
        # It lives while a process that it or this one started does, so it ends with the workers.
        get_mp_context().set_forkserver_preload(["distributed", *PRELOAD])
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR, env=env,
                          scheduler_kwargs={"allowed_failures": retries}) as cluster, Client(cluster) as client:
            yield client


def status_frame(rows: Iterable[dict]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=STATUS_COLUMNS)


def save_status(rows: Iterable[dict], path: str | Path) -> None:
    frame = status_frame(rows)
    atomic_write(Path(path), lambda tmp: frame.to_parquet(tmp, index=False))


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


def _grid_values(grid: Any) -> dict[str, list[str]]:
    """``grid`` as {key: [value text, ...]}, checked: values as ``--set`` would take them."""
    if not isinstance(grid, Mapping):
        raise TypeError(f"`grid` must map config keys to lists of values, e.g. {{'depth': [20, 56]}}; "
                        f"got {type(grid).__name__}.")
    checked = {}
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"--grid {key}=...: give a list of values, e.g. {{{key!r}: [1, 2]}}, not {values!r}.")
        texts = [str(v) for v in values]
        if not texts or any(t.strip() == "" for t in texts):
            raise ValueError(f"--grid {key}=...: give at least one value and no empty one.")
        if len(set(texts)) != len(texts):
            raise ValueError(f"--grid {key}={','.join(texts)}: a value is listed twice.")
        checked[str(key)] = texts
    return checked


def _seed_list(seeds: Any) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"`seeds` must be a list of integers, e.g. [0, 1, 2]; got {seeds!r}.")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("--seeds: give at least one seed.")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"--seeds {seeds!r}: seeds are non-negative integers.")
    return list(dict.fromkeys(seeds))


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
              seeds: Sequence[int], runs: list[dict], scheduler: str | None) -> dict:
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
                   "seeds": list(seeds), "runs": runs, "scheduler": scheduler or "LocalCluster", "created": created,
                   "updated": _now()}
    out.mkdir(parents=True, exist_ok=True)
    _write(stored, json.dumps(description, indent=2))
    return description


def sweep(name: str, grid: Mapping[str, Sequence[Any]] | None = None, preset: str = "quick",
          seeds: Sequence[int] = (0,), sets: Mapping[str, Any] | None = None, workers: int = 2,
          scheduler: str | None = None, out: str | Path | None = None, ib_layer: str | None = None,
          on_result: Callable[[dict], None] | None = None, retries: int = RETRIES) -> SweepResult:
    """Run (or resume) experiment ``name`` at every combination of ``grid`` x ``seeds``.

    Parameters
    ----------
    name : str
        A registered experiment (`gib list`).
    grid : mapping of key -> values, optional
        Config keys and the values to try, e.g. ``{"depth": [20, 56]}``; each value is taken as
        its text, as a ``--set`` value is (a tuple option: ``{"activations": ["tanh,relu"]}``).
    preset : str
    seeds : sequence of int
        Each seed is its own run.
    sets : mapping, optional
        ``--set`` values shared by every run.
    workers : int
        Worker processes of the LocalCluster started when no ``scheduler`` is given.
    scheduler : str, optional
        Address of a running dask.distributed scheduler.
    out : path, optional
        The sweep directory [runs/sweep-NAME-PRESET].
    ib_layer : str, optional
        The IB layer of the summary figure [the experiment's ``IB_LAYER``].
    on_result : callable, optional
        Called with each run's status row as it arrives.
    retries : int
        How often a run's task is tried again after its worker died or it raised.

    Returns
    -------
    SweepResult
    """
    require_dask()  # before anything is written
    grid = _grid_values({} if grid is None else grid)
    seeds = _seed_list(seeds)
    sets = {k: str(v) for k, v in (sets or {}).items()}
    _check(name, grid, preset, sets)
    out = Path(out) if out is not None else default_sweep_out(name, preset)
    tasks = plan(name, grid, preset, seeds, sets, out)
    runs = [meta for _, meta in tasks]
    _describe(out, name, preset, sets, grid, seeds, runs, scheduler)
    status_path = out / "status.parquet"
    arrived: dict[str, dict] = {}

    def record(row: dict) -> None:
        arrived[row["run"]] = row
        save_status([arrived[m["run"]] for m in runs if m["run"] in arrived], status_path)
        if on_result is not None:
            on_result(row)

    rows = execute([t for t, _ in tasks], workers, scheduler, record, retries)
    save_status(rows, status_path)
    status = status_frame(rows)
    finished = [m for m, row in zip(runs, rows) if row["status"] == "done"]
    table_path = figure_path = None
    if finished:
        merged = merge_runs(out, finished, list(grid))
        table_path = out / "sweep.parquet"
        atomic_write(table_path, lambda tmp: merged.to_parquet(tmp, index=False))
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


def _default_ib_layer(name: str) -> str | None:
    try:
        from .experiments import get_experiment

        module = sys.modules.get(get_experiment(name).run.__module__)
    except ValueError:
        return None
    return getattr(module, "IB_LAYER", None) or getattr(module, "OUTPUT", None)


def save_summary_figure(frame: pd.DataFrame, out: str | Path, name: str, keys: Sequence[str],
                        ib_layer: str | None = None) -> Path:
    """Draw :func:`gib.plotting.sweep_figure` of a merged table into ``out/sweep.png``."""
    import matplotlib

    matplotlib.use("Agg")
    from .plotting import sweep_figure

    over = ", ".join(keys) or "seeds"
    fig = sweep_figure(frame, keys, ib_layer or _default_ib_layer(name), title=f"Sweep of {name} over {over}")
    target = Path(out) / "sweep.png"
    atomic_write(target, lambda tmp: fig.savefig(tmp, dpi=130, bbox_inches="tight", format="png"))
    return target


__all__ = ["RunTask", "SweepResult", "claim", "execute", "merge_runs", "run_task", "sweep"]
