"""Sweeps: grid and seed parsing, the run lock, the local executor, failures, resumption, and a
real dask.distributed cluster that loses a worker mid-sweep."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gib.cli import main
from gib.sweep import RunLock, RunTask, merge_runs, parse_grid, parse_seeds, run_label, run_task, sweep


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
        sweep("synthetic", ["nosuch=1,2"], preset="test", out=tmp_path)
    with pytest.raises(ValueError, match="--seeds"):
        sweep("synthetic", ["p=0.1"], preset="test", seeds="0,", out=tmp_path)
    with pytest.raises(ValueError, match="give the key in one of them"):
        sweep("synthetic", ["p=0.1"], preset="test", sets={"p": "0.2"}, out=tmp_path)
    with pytest.raises(ValueError, match="--executor"):
        sweep("synthetic", ["p=0.1"], preset="test", executor="spark", out=tmp_path)


# -- the run lock ---------------------------------------------------------------------------------
def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_lock_excludes_a_live_holder_and_breaks_stale_ones(tmp_path):
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    assert first.try_acquire()
    holder = first.holder()
    assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    assert not second.try_acquire()  # flock held, even from another descriptor of this process
    first.release()
    assert first.holder() is None  # released: the file is emptied
    assert second.try_acquire()
    second.release()

    lock_file = tmp_path / ".lock"
    # a holder on this host whose process is gone: stale at once
    lock_file.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid(), "token": "x"}))
    assert first.try_acquire()
    first.release()
    # a holder on another host with a fresh heartbeat: held (its flock may not reach us)
    lock_file.write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "y"}))
    assert not first.try_acquire()
    # ... whose heartbeat stopped longer ago than stale_after: stale
    old = time.time() - 10 * first.stale_after
    os.utime(lock_file, (old, old))
    assert first.try_acquire()
    first.release()


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


# -- the local executor: failures and resumption --------------------------------------------------
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
    again = sweep("synthetic", ["n_max=3,bad"], preset="test", seeds="0-1", sets={"n_samples": "500"},
                  workers=2, out=out)
    rows = again.status.set_index("run")
    assert rows.loc["n_max=3,seed=0", "skipped"] and rows.loc["n_max=3,seed=1", "skipped"]
    assert not rows.loc["n_max=bad,seed=0", "skipped"] and len(again.failed) == 2
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("n_max=3,*/*") if p.is_file()}
    assert pd.read_parquet(out / "sweep.parquet").equals(merged)

    with pytest.raises(ValueError, match="holds a sweep of synthetic"):
        sweep("synthetic", ["n_max=3"], preset="test", sets={"n_samples": "600"}, out=out)


def test_merge_runs_names_clashing_keys(tmp_path):
    run = tmp_path / "condition=a,seed=0"
    run.mkdir()
    pd.DataFrame({"condition": ["x"], "seed": [0], "value": [1.0]}).to_parquet(run / "metrics.parquet")
    (run / "config.json").write_text(json.dumps({"experiment": "e", "config": {"condition": "a"}}))
    merged = merge_runs(tmp_path, [{"run": run.name, "grid": {"condition": "a"}, "seed": 0}] * 2, ["condition"])
    assert list(merged["condition"]) == ["x"] and list(merged["grid_condition"]) == ["a"]
    assert len(merged) == 1  # a run listed twice is read once


# -- a real dask.distributed cluster that loses a worker ------------------------------------------
def test_dask_sweep_survives_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "sweep"
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        done: dict = {}
        runner = threading.Thread(target=lambda: done.update(result=sweep(
            "synthetic", ["p=0.3,0.5"], preset="test", seeds="0-1", sets={"n_max": "9", "n_samples": "2000"},
            executor="dask", scheduler=cluster.scheduler_address, out=out)))
        runner.start()
        killed = None
        deadline = time.monotonic() + 240
        while runner.is_alive() and killed is None and time.monotonic() < deadline:
            for lock in out.glob("*/.lock"):
                holder = RunLock(lock.parent).holder()
                # a worker is mid-run: it holds the lock and has saved part of the results
                if (holder and holder["pid"] in worker_pids and (lock.parent / "results.parquet").exists()
                        and not (lock.parent / "done.json").exists()):
                    os.kill(holder["pid"], signal.SIGKILL)  # a real process death
                    killed = (lock.parent.name, holder["pid"])
                    break
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
