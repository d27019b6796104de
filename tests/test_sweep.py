"""Sweeps: grid and seed parsing, the run claim, the LocalCluster, failures, resumption, a real
dask.distributed cluster that loses a worker mid-sweep, and a sweep whose parent is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import gib
from gib.cli import main, parse_grid, parse_seeds
from gib.sweep import RunTask, claim, merge_runs, run_label, run_task, sweep


# -- parsing --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, seeds", [
    ("0-4", [0, 1, 2, 3, 4]), ("0,2,5", [0, 2, 5]), ("3", [3]), ("0-1,5,1", [0, 1, 5]), ("2-2", [2]),
])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["4-1", "a", "0,,1", "-1", "1-x"])
def test_parse_seeds_rejects(text):
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds(text)


def test_parse_grid():
    assert parse_grid(["depth=20,56", "lr=0.1"]) == {"depth": ["20", "56"], "lr": ["0.1"]}
    # a tuple-valued option: ';' separates the values, commas stay inside them
    assert parse_grid(["activations=tanh,relu;sigmoid"]) == {"activations": ["tanh,relu", "sigmoid"]}
    for bad in (["depth"], ["depth="], ["depth=1,,2"], ["depth=1,1"], ["a=1", "a=2"]):
        with pytest.raises(ValueError, match="--grid"):
            parse_grid(bad)


def test_run_label():
    assert run_label({"depth": "20"}, 0) == "depth=20,seed=0"
    assert run_label({"activations": "tanh,relu", "lr": "1e-3"}, 2) == "activations=tanh+relu,lr=1e-3,seed=2"
    assert run_label({}, 1) == "seed=1"


def test_sweep_rejects_bad_keys(tmp_path):
    with pytest.raises(ValueError, match="--grid nosuch=...: unknown key"):
        sweep("synthetic", {"nosuch": [1, 2]}, preset="test", out=tmp_path)
    with pytest.raises(ValueError, match="--seeds"):
        sweep("synthetic", {"p": [0.1]}, preset="test", seeds=[], out=tmp_path)
    with pytest.raises(ValueError, match="--seeds"):
        sweep("synthetic", {"p": [0.1]}, preset="test", seeds=[-1], out=tmp_path)
    with pytest.raises(ValueError, match="give the key in one of them"):
        sweep("synthetic", {"p": [0.1]}, preset="test", sets={"p": "0.2"}, out=tmp_path)
    with pytest.raises(ValueError, match="listed twice"):
        sweep("synthetic", {"p": [0.1, "0.1"]}, preset="test", out=tmp_path)
    with pytest.raises(TypeError, match="`grid`"):
        sweep("synthetic", ["p=0.1"], preset="test", out=tmp_path)
    result = CliRunner().invoke(main, ["sweep", "synthetic", "--grid", "p=0.1", "--preset", "test",
                                       "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "s")])
    assert result.exit_code == 1 and "--scheduler needs --executor dask" in result.output
    assert not any(tmp_path.iterdir())  # every check comes before anything is written
    with pytest.raises(ValueError, match="--workers"):
        sweep("synthetic", {"p": [0.1]}, preset="test", workers=0, out=tmp_path / "s")


# -- the run claim --------------------------------------------------------------------------------
def _hold_lock(path: Path) -> subprocess.Popen:
    """Another live process that holds the lock of run directory ``path``."""
    code = ("import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); "
            "print('held', flush=True); time.sleep(120)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path / ".lock")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _claim_in_thread(path: Path) -> tuple[threading.Thread, list]:
    got: list = []

    def attempt():
        with claim(path, poll=0.05) as todo:
            got.append(todo)

    thread = threading.Thread(target=attempt)
    thread.start()
    return thread, got


def test_a_claim_waits_for_a_live_holder_and_not_for_a_dead_one(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    # a live holder finishes the run: the waiting claim gives up without executing it
    holder = _hold_lock(run)
    try:
        thread, got = _claim_in_thread(run)
        time.sleep(0.5)
        assert thread.is_alive() and got == []  # held by a live process: waited for
        (run / "report.md").write_text("r\n")
        (run / "done.json").write_text("{}")
        thread.join(timeout=10)
        assert got == [False]  # finished meanwhile: not executed twice
    finally:
        holder.kill()
        holder.wait()
    (run / "done.json").unlink()
    # a holder killed mid-run (SIGKILL: no cleanup of its own) leaves no stale lock
    holder = _hold_lock(run)
    thread, got = _claim_in_thread(run)
    time.sleep(0.3)
    assert got == []
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    thread.join(timeout=10)
    assert got == [True]
    # a finished run is never claimed for execution
    (run / "done.json").write_text("{}")
    with claim(run) as todo:
        assert todo is False


def test_two_attempts_of_one_run_execute_it_once(tmp_path):
    task = RunTask("p=0.3,seed=0", "synthetic", "test", str(tmp_path / "run"), {"p": "0.3"}, (0,))
    rows = []
    threads = [threading.Thread(target=lambda: rows.append(run_task(task))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r["status"] for r in rows] == ["done", "done"]
    assert sorted(r["skipped"] for r in rows) == [False, True]  # the second waited, then skipped
    assert json.loads((tmp_path / "run" / "done.json").read_text())["run"] == task.label


# -- a LocalCluster: failures and resumption --------------------------------------------------
def test_local_sweep_records_failures_and_skips_finished_runs(tmp_path):
    out = tmp_path / "sweep"
    # n_max=bad is a bad --set value in one grid point: its runs fail, the others finish
    result = CliRunner().invoke(main, ["sweep", "synthetic", "--grid", "n_max=3,bad", "--preset", "test",
                                       "--seeds", "0-1", "--workers", "2", "--out", str(out),
                                       "--set", "n_samples=500"])
    assert result.exit_code == 1, result.output
    assert "2 of 4 runs failed" in result.output
    status = pd.read_parquet(out / "status.parquet").set_index("run")
    assert sorted(status.index) == ["n_max=3,seed=0", "n_max=3,seed=1", "n_max=bad,seed=0", "n_max=bad,seed=1"]
    assert set(status.loc[["n_max=3,seed=0", "n_max=3,seed=1"], "status"]) == {"done"}
    assert set(status.loc[["n_max=bad,seed=0", "n_max=bad,seed=1"], "status"]) == {"failed"}
    assert "--set n_max='bad'" in status.loc["n_max=bad,seed=0", "error"]
    assert "Traceback" in (out / "n_max=bad,seed=0" / "error.txt").read_text()

    described = json.loads((out / "sweep.json").read_text())
    assert described["grid"] == {"n_max": ["3", "bad"]} and described["seeds"] == [0, 1]
    assert described["sets"] == {"n_samples": "500"} and len(described["runs"]) == 4

    merged = pd.read_parquet(out / "sweep.parquet")
    assert set(merged["run"]) == {"n_max=3,seed=0", "n_max=3,seed=1"}
    assert set(merged["n_max"]) == {3} and set(merged["seed"]) == {0, 1}
    # synthetic's own seed column (-1 = exact enumeration) is kept apart from the run's seed
    assert -1 in set(merged["experiment_seed"])
    assert not merged.duplicated().any()
    one = pd.read_parquet(out / "n_max=3,seed=0" / "results.parquet")
    assert (merged["run"] == "n_max=3,seed=0").sum() == len(one)
    assert (out / "sweep.png").stat().st_size > 0

    # rerun: the finished runs are skipped (nothing rewritten), the failed ones are tried again
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("n_max=3,*/*") if p.is_file()}
    again = sweep("synthetic", {"n_max": [3, "bad"]}, preset="test", seeds=[0, 1], sets={"n_samples": "500"},
                  workers=2, out=out)
    rows = again.status.set_index("run")
    assert rows.loc["n_max=3,seed=0", "skipped"] and rows.loc["n_max=3,seed=1", "skipped"]
    assert not rows.loc["n_max=bad,seed=0", "skipped"] and len(again.failed) == 2
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("n_max=3,*/*") if p.is_file()}
    assert pd.read_parquet(out / "sweep.parquet").equals(merged)

    with pytest.raises(ValueError, match="holds a sweep of synthetic"):
        sweep("synthetic", {"n_max": [3]}, preset="test", sets={"n_samples": "600"}, out=out)


def test_merge_runs_names_clashing_keys(tmp_path):
    run = tmp_path / "condition=a,seed=0"
    run.mkdir()
    pd.DataFrame({"condition": ["x"], "seed": [0], "value": [1.0]}).to_parquet(run / "metrics.parquet")
    (run / "config.json").write_text(json.dumps({"experiment": "e", "config": {"condition": "a"}}))
    merged = merge_runs(tmp_path, [{"run": run.name, "grid": {"condition": "a"}, "seed": 0}] * 2, ["condition"])
    assert list(merged["condition"]) == ["x"] and list(merged["grid_condition"]) == ["a"]
    assert len(merged) == 1  # a run listed twice is read once


def _plane_rows(run: str, lr: str, values: dict[str, list[float]]) -> pd.DataFrame:
    """IB and GIB rows of one run: per measure, one value per step."""
    rows = []
    for plane, layer, kind in (("IB", "h", ""), ("GIB", "input", "featurewise")):
        for measure, series in values.items():
            for step, value in enumerate(series):
                rows.append(dict(run=run, lr=lr, seed=0, condition="", step=step, epoch=float(step), plane=plane,
                                 layer=layer, estimator="binning", kind=kind, measure=measure, value=value))
    return pd.DataFrame(rows)


def test_sweep_figure_averages_the_runs_of_a_grid_point():
    from gib.plotting import sweep_figure

    # two runs of one grid point whose own seed column says 0 for both: two seeds all the same
    first = {"complexity": [1.0, 2.0, 3.0], "prediction": [0.5, 0.25, 0.0]}
    second = {"complexity": [3.0, 2.0, 1.0], "prediction": [0.5, 0.75, 1.0]}
    frame = pd.concat([_plane_rows("lr=a,seed=0", "a", first), _plane_rows("lr=a,seed=1", "a", second),
                       _plane_rows("lr=b,seed=0", "b", first)], ignore_index=True)
    fig = sweep_figure(frame, ["lr"], ib_layer="h")
    axes = fig.axes
    assert len(axes) == 4  # IB over GIB, one column per value of lr
    for ax in (axes[0], axes[2]):  # lr=a, both planes
        line = ax.containers[0].lines[0]
        assert list(line.get_xdata()) == [2.0, 2.0, 2.0] and list(line.get_ydata()) == [0.5, 0.5, 0.5]
        assert "2 seed(s)" in ax.get_title()
        # bars of one standard deviation across the two runs (ddof=1): |a - b| / sqrt(2)
        x_bars = ax.containers[0].lines[2][0].get_segments()
        half_widths = [abs(seg[1][0] - seg[0][0]) / 2 for seg in x_bars]
        assert half_widths == pytest.approx([2 / 2**0.5, 0.0, 2 / 2**0.5])
    line = axes[1].containers[0].lines[0]  # lr=b: its one run as it is
    assert list(line.get_xdata()) == first["complexity"] and "1 seed(s)" in axes[1].get_title()
    # a frame that is not a sweep table, or a key it has no column for: the argument is named
    with pytest.raises(ValueError, match="`frame` has no `run` column"):
        sweep_figure(frame.drop(columns="run"), ["lr"])
    with pytest.raises(ValueError, match=r"`keys` names \['width'\]"):
        sweep_figure(frame, ["lr", "width"])
    assert len(sweep_figure(frame, "lr", ib_layer="h").axes) == 4  # one key as a string


# -- a real dask.distributed cluster that loses a worker ------------------------------------------
def _holding_worker(out: Path, worker_pids: set[int]) -> tuple[str, int] | None:
    """(run, pid) of a worker mid-run: it holds the run's lock and has saved part of its results."""
    import psutil

    for pid in worker_pids:
        try:
            files = [Path(f.path) for f in psutil.Process(pid).open_files()]
        except psutil.NoSuchProcess:
            continue
        for file in files:
            run = file.parent
            if (file.name == ".lock" and run.parent == out and (run / "results.parquet").exists()
                    and not (run / "done.json").exists()):
                return run.name, pid
    return None


def test_dask_sweep_survives_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "sweep"
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        done: dict = {}
        runner = threading.Thread(target=lambda: done.update(result=sweep(
            "synthetic", {"p": [0.3, 0.5]}, preset="test", seeds=[0, 1], sets={"n_max": "9", "n_samples": "2000"},
            scheduler=cluster.scheduler_address, out=out)))
        runner.start()
        killed = None
        deadline = time.monotonic() + 240
        while runner.is_alive() and killed is None and time.monotonic() < deadline:
            killed = _holding_worker(out.resolve(), worker_pids)
            if killed is not None:
                os.kill(killed[1], signal.SIGKILL)  # a real process death
            time.sleep(0.02)
        runner.join(timeout=300)
    assert killed is not None, "no run was caught mid-way"
    assert "result" in done, "the sweep did not finish"
    status = done["result"].status
    assert sorted(status["run"]) == ["p=0.3,seed=0", "p=0.3,seed=1", "p=0.5,seed=0", "p=0.5,seed=1"]
    assert (status["status"] == "done").all(), status
    killed_row = status.set_index("run").loc[killed[0]]
    assert killed_row["pid"] != killed[1] and killed_row["resumed"]  # another process finished it
    merged = pd.read_parquet(out / "sweep.parquet")
    assert sorted(merged["run"].unique()) == sorted(status["run"])
    assert not merged.duplicated().any()
    sizes = merged.groupby("run").size()
    assert sizes.nunique() == 1  # the resumed run has exactly the rows of an uninterrupted one
    assert all(Path(out, run, "done.json").exists() for run in status["run"])


# -- a local sweep whose parent is SIGKILLed --------------------------------------------------------
def _marked(token: str) -> list:
    """Every live (not zombie) process whose environment carries ``GIB_SWEEP_TEST=token``: the
    sweep's process and all it started, wherever they were reparented."""
    import psutil

    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get("GIB_SWEEP_TEST") == token:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def test_killing_a_local_sweep_leaves_no_process_behind(tmp_path):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "sweep"
    token = uuid.uuid4().hex
    seeds = list(range(4))
    code = ("from gib.sweep import sweep\n"
            "if __name__ == '__main__':\n"
            f"    sweep('synthetic', {{'p': ['0.3', '0.5']}}, preset='test', seeds={seeds}, sets={{'n_max': '6'}},"
            f" workers=2, out={str(out)!r})\n")
    source = str(Path(gib.__file__).parents[1])
    env = {**os.environ, "GIB_SWEEP_TEST": token,
           "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    parent = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        # kill it while the workers are busy and runs are queued: one run finished, most not started
        while not list(out.glob("*/done.json")) and parent.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert parent.poll() is None, "the sweep ended before it could be killed"
        children = psutil.Process(parent.pid).children(recursive=True)
        assert len(children) >= 2  # the LocalCluster's workers (and multiprocessing's helpers)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        killed_at = time.time()
        grace = time.monotonic() + 20  # a loaded machine may take a while to schedule the exits
        while _marked(token) and time.monotonic() < grace:
            time.sleep(0.1)
        left = [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in _marked(token)]
        assert not left, f"alive after the sweep's parent was killed: {left}"
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]

        # no queued run went on: none started or wrote anything after the kill, none finished later
        finished = {p.parent.name for p in out.glob("*/done.json")}
        assert len(finished) < 2 * len(seeds)
        written = {str(p): p.stat().st_mtime for p in out.glob("*/*") if p.is_file()}
        assert all(stamp < killed_at + 1 for stamp in written.values()), written
        time.sleep(2)
        assert {p.parent.name for p in out.glob("*/done.json")} == finished
    finally:
        for proc in _marked(token):  # whatever a failing check left, so that it runs nothing more
            proc.kill()


def test_sigterm_ends_a_sweep_like_ctrl_c(tmp_path):
    """`gib sweep` stopped by SIGTERM (a scheduler's or `kill`'s signal): one line, status 143,
    no worker left (before: no message at all)."""
    pytest.importorskip("psutil")
    out = tmp_path / "sweep"
    token = uuid.uuid4().hex
    source = str(Path(gib.__file__).parents[1])
    env = {**os.environ, "GIB_SWEEP_TEST": token,
           "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    command = [sys.executable, "-m", "gib.cli", "sweep", "synthetic", "--preset", "test", "--grid", "p=0.3,0.5",
               "--seeds", "0-3", "--set", "n_max=6", "--workers", "2", "--out", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("*/done.json")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the sweep ended before it could be stopped"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 143, stderr
        assert "Traceback" not in stderr, stderr
        assert stderr.strip().splitlines()[-1] == "terminated; rerun the same command to resume"
        grace = time.monotonic() + 20
        while _marked(token) and time.monotonic() < grace:
            time.sleep(0.1)
        assert not _marked(token)
    finally:
        if process.poll() is None:
            process.kill()
        for proc in _marked(token):
            proc.kill()
