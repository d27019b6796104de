"""Damaged run files: each gives one line naming the file, what is wrong and the fix, through the
Python API and the CLI; checkpoint checksums; leftover temporary files; threads in the config
comparison; Ctrl-C in the CLI; the loop helpers ``resume`` and ``save``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

import gib
from gib.cli import main
from gib.experiments import run_experiment
from gib.runs import CHECKPOINT_MAGIC, RunDir, RunFileError, resume, save

CHECKPOINT = Path("checkpoints") / "tanh-seed0.pt"
WEIGHT = "layers.hidden1.linear.weight"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished `activations --preset test` run, copied by each test before it damages it."""
    return run_experiment("activations", "test", out=tmp_path_factory.mktemp("runs") / "whole", progress=False).path


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "run"))


def _payload(path: Path) -> bytes:
    """The torch.save bytes of a checkpoint, without gib's checksum header."""
    data = path.read_bytes()
    assert data.startswith(CHECKPOINT_MAGIC)
    return data[data.index(b"\n") + 1 :]


# -- each damage: (what is done to the file, which file, words of what is wrong) -------------------
def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def truncate_unchecked(path: Path) -> None:  # a checkpoint without checksum (older gib), truncated
    path.write_bytes(_payload(path)[:3000])


def garble(path: Path) -> None:
    path.write_bytes(bytes((7 * i + 3) % 256 for i in range(path.stat().st_size)))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def flip_a_weight_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    weights = torch.load(io.BytesIO(_payload(path)), weights_only=False)["model"][WEIGHT]
    at = data.find(weights.numpy().tobytes())
    assert at > 0, "the weights must lie in the file as raw bytes"
    data[at + 17] ^= 0x04  # one bit of one float of the first hidden layer
    path.write_bytes(bytes(data))


def another_models_weights(path: Path) -> None:  # a checkpoint of another run, checksum and all
    run = RunDir(path.parent.parent, "activations", {})
    state = run.load_checkpoint(path.stem)
    state["model"] = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Linear(3, 2)).state_dict()
    run.save_checkpoint(path.stem, state)


def resized_weights(path: Path) -> None:
    run = RunDir(path.parent.parent, "activations", {})
    state = run.load_checkpoint(path.stem)
    state["model"][WEIGHT] = torch.zeros(3, 12)
    run.save_checkpoint(path.stem, state)


def no_model(path: Path) -> None:  # a plain torch.save of a dict that is not a gib checkpoint
    torch.save({"epoch": 2, "weights": torch.zeros(3)}, path)


def a_list(path: Path) -> None:
    torch.save([1, 2], path)


def config_truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def config_garbled(path: Path) -> None:
    path.write_bytes(b"\xff\xfe{\x00\x93garbage")


def config_empty_object(path: Path) -> None:
    path.write_text("{}")


def config_list(path: Path) -> None:
    path.write_text("[1,2]")


def config_empty(path: Path) -> None:
    path.write_text("")


def config_not_an_object(path: Path) -> None:
    path.write_text(json.dumps({"experiment": "activations", "config": [1]}))


CHECKPOINT_FIX = ("delete it", "--fresh")
CONFIG_FIX = ("--fresh",)
CASES = [
    (truncate, CHECKPOINT, "is damaged (its contents do not match their SHA-256 checksum", CHECKPOINT_FIX),
    (truncate_unchecked, CHECKPOINT, "cannot be read as a checkpoint", CHECKPOINT_FIX),
    (garble, CHECKPOINT, "cannot be read as a checkpoint", CHECKPOINT_FIX),
    (empty, CHECKPOINT, "is empty", CHECKPOINT_FIX),
    (flip_a_weight_bit, CHECKPOINT, "do not match their SHA-256 checksum", CHECKPOINT_FIX),
    (another_models_weights, CHECKPOINT, "does not fit this run (RuntimeError: Error(s) in loading state_dict",
     CHECKPOINT_FIX),
    (resized_weights, CHECKPOINT, "size mismatch for layers.hidden1.linear.weight", CHECKPOINT_FIX),
    (no_model, CHECKPOINT, "does not fit this run (it has no 'model' entry)", CHECKPOINT_FIX),
    (a_list, CHECKPOINT, "holds a list, not a gib checkpoint", CHECKPOINT_FIX),
    (config_truncated, Path("config.json"), "is not valid JSON", CONFIG_FIX),
    (config_garbled, Path("config.json"), "is not UTF-8 text (byte 0 is 0xff)", CONFIG_FIX),
    (config_empty_object, Path("config.json"), "is not a gib run config (no experiment name", CONFIG_FIX),
    (config_list, Path("config.json"), "is not a gib run config (a JSON list", CONFIG_FIX),
    (config_empty, Path("config.json"), "is empty", CONFIG_FIX),
    (config_not_an_object, Path("config.json"), "is not a gib run config (no config object", CONFIG_FIX),
]


def _assert_clear(message: str, file: Path, problem: str, fix: tuple[str, ...]) -> None:
    assert "\n" not in message.strip(), message
    assert str(file) in message and problem in message, message
    for words in fix:
        assert words in message, message


@pytest.mark.parametrize("damage, name, problem, fix", CASES, ids=[case[0].__name__ for case in CASES])
def test_a_damaged_file_gives_one_line_naming_it_and_the_fix(run_copy, damage, name, problem, fix):
    file = run_copy / name
    damage(file)
    with pytest.raises(RunFileError) as raised:
        run_experiment("activations", "test", out=run_copy, progress=False)
    assert isinstance(raised.value, ValueError) and raised.value.path == file
    _assert_clear(str(raised.value), file, problem, fix)

    result = CliRunner().invoke(main, ["run", "activations", "--preset", "test", "--out", str(run_copy),
                                       "--no-progress"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith("Error: "), result.output
    _assert_clear(result.output, file, problem, fix)


@pytest.mark.parametrize("damage", [config_truncated, config_list], ids=lambda d: d.__name__)
def test_report_and_plot_of_a_damaged_config_give_one_line(run_copy, damage):
    damage(run_copy / "config.json")
    for command in ("report", "plot"):
        result = CliRunner().invoke(main, [command, str(run_copy)])
        assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
        assert str(run_copy / "config.json") in result.output and "--fresh" in result.output


def test_the_fixes_work(finished, run_copy):
    expected = pd.read_parquet(finished / "metrics.parquet")
    # delete the damaged checkpoint: its condition is redone from the start, the others resume
    flip_a_weight_bit(run_copy / CHECKPOINT)
    with pytest.raises(RunFileError):
        run_experiment("activations", "test", out=run_copy, progress=False)
    (run_copy / CHECKPOINT).unlink()
    run_experiment("activations", "test", out=run_copy, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(run_copy / "metrics.parquet"), expected)
    # a damaged config: --fresh starts over
    config_truncated(run_copy / "config.json")
    run_experiment("activations", "test", out=run_copy, fresh=True, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(run_copy / "metrics.parquet"), expected)


def test_a_checkpoint_without_checksum_is_accepted_unchecked(finished, run_copy):
    # checkpoints written before checksums (plain torch.save bytes) still resume
    for checkpoint in (run_copy / "checkpoints").glob("*.pt"):
        checkpoint.write_bytes(_payload(checkpoint))
    run_experiment("activations", "test", out=run_copy, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(run_copy / "metrics.parquet"),
                                  pd.read_parquet(finished / "metrics.parquet"))


def test_the_checksum_is_the_sha256_of_the_saved_bytes(tmp_path):
    run = RunDir(tmp_path, "x", {})
    run.save_checkpoint("k", {"w": torch.arange(5.0), "epoch": 3})
    data = run.checkpoint_path("k").read_bytes()
    header, payload = data[: data.index(b"\n")], data[data.index(b"\n") + 1 :]
    assert header == CHECKPOINT_MAGIC + hashlib.sha256(payload).hexdigest().encode()
    assert torch.load(io.BytesIO(payload))["epoch"] == 3  # the payload is plain torch.save bytes
    assert torch.equal(run.load_checkpoint("k")["w"], torch.arange(5.0))


def test_a_save_killed_midway_leaves_the_previous_checkpoint_good(tmp_path, monkeypatch):
    run = RunDir(tmp_path, "x", {})
    run.save_checkpoint("k", {"epoch": 1})

    def dies_midway(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 part of a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        run.save_checkpoint("k", {"epoch": 2})
    monkeypatch.undo()
    assert run.load_checkpoint("k") == {"epoch": 1}
    assert list(tmp_path.glob("checkpoints/.*")) == []


def test_leftover_temporary_files_are_removed_on_resume(tmp_path):
    config = {"preset": "test", "epochs": 4}
    RunDir.open(tmp_path, "activations", config)
    # names of mkstemp in runs.atomic_write (8 random characters) and of sweep._write before it (a pid)
    gib_leftovers = [tmp_path / ".metrics.parquet.a1b2_c3d.tmp", tmp_path / ".error.txt.12345.tmp",
                     tmp_path / "checkpoints" / ".tanh-seed0.pt.x8k2m0qz.tmp",
                     tmp_path / "figures" / ".planes.png.k3j5h7g9.tmp"]
    others = [tmp_path / "notes.tmp", tmp_path / ".mine.tmp", tmp_path / ".data.Mixed_Case.tmp",
              tmp_path / "extra" / ".planes.png.k3j5h7g9.tmp", tmp_path / "figures" / "my.png"]
    for path in gib_leftovers + others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    RunDir.open(tmp_path, "activations", config)
    assert [p for p in gib_leftovers if p.exists()] == []
    assert all(p.exists() for p in others)


def test_a_refused_directory_keeps_its_temporary_files(tmp_path):
    RunDir.open(tmp_path, "activations", {"epochs": 4})
    (tmp_path / "report.md").write_text("a result, so a different config is refused\n")
    leftover = tmp_path / ".metrics.parquet.a1b2c3d4.tmp"
    leftover.write_bytes(b"partial")
    with pytest.raises(ValueError, match="differs in: epochs"):
        RunDir.open(tmp_path, "activations", {"epochs": 8})
    assert leftover.exists()


def test_threads_are_part_of_the_config_comparison(tmp_path):
    RunDir.open(tmp_path, "activations", {"epochs": 4, "threads": 1, "progress": True})
    (tmp_path / "report.md").write_text("a result, so a different config is refused\n")
    with pytest.raises(ValueError, match=r"differs in: threads \(stored 1, now 2\)"):
        RunDir.open(tmp_path, "activations", {"epochs": 4, "threads": 2, "progress": True})
    RunDir.open(tmp_path, "activations", {"epochs": 4, "threads": 1, "progress": False})  # progress is not


# -- Ctrl-C ---------------------------------------------------------------------------------------
def test_ctrl_c_in_a_command_exits_130_with_one_line(monkeypatch, tmp_path):
    import gib.experiments

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gib.experiments, "run_experiment", interrupted)
    result = CliRunner().invoke(main, ["run", "activations", "--preset", "test", "--out", str(tmp_path)])
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted; rerun the same command to resume"


def _signal_a_real_run(tmp_path, signum) -> tuple[Path, int, str]:
    """Start `gib run activations` in a subprocess, send ``signum`` once its first checkpoint
    exists; return the run directory, the exit status and stderr."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(gib.__file__).parent.parent)}
    command = [sys.executable, "-m", "gib.cli", "run", "activations", "--preset", "test", "--out", str(out),
               "--set", "epochs=100000"]
    # a shell's background job starts with SIGINT ignored, and Python then installs no handler for
    # it: give the run the default disposition, as a terminal's Ctrl-C finds it
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while not (out / CHECKPOINT).exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return out, process.returncode, stderr


def test_sigint_during_a_real_run_exits_130_quietly_and_keeps_its_checkpoints(tmp_path):
    out, returncode, stderr = _signal_a_real_run(tmp_path, signal.SIGINT)
    assert returncode == 130, stderr
    # the run's own warnings (the 12-bit task's wide layers saturate at epoch 0) may come before it
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1] == "interrupted; rerun the same command to resume"
    assert RunDir.load(out).load_checkpoint("tanh-seed0")["step"] >= 0  # what it saved is intact


# -- resume() and save() ------------------------------------------------------------------------
class _Counter:
    """A stateful part that is neither a model nor an optimizer (like a Monitor or a History)."""

    def __init__(self):
        self.seen = []

    def state_dict(self):
        return {"seen": list(self.seen)}

    def load_state_dict(self, state):
        self.seen = list(state["seen"])


def _noisy_training(run, steps, start_model=None):
    """SGD with momentum on noisy targets drawn from the global torch RNG (like dropout): a
    resumed loop matches an uninterrupted one only if the weights, the optimizer's momentum, the
    other parts and the RNG state all come back."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    counter = _Counter()
    start = resume(run, "loop", model=model, optimizer=optimizer, scheduler=scheduler, counter=counter)
    x = torch.linspace(-1, 1, 12).reshape(4, 3)
    for step in range(start, steps + 1):
        if step > 0:
            optimizer.zero_grad()
            loss = ((model(x) - torch.randn(4, 1)) ** 2).mean()
            loss.backward()
            optimizer.step()
            scheduler.step()
            counter.seen.append(step)
        save(run, "loop", step, done=step == steps, model=model, optimizer=optimizer, scheduler=scheduler,
             counter=counter)
    return model, counter, start


def test_resume_continues_where_save_stopped_and_ends_identical(tmp_path):
    whole, whole_counter, start = _noisy_training(RunDir(tmp_path / "whole", "x", {}), 6)
    assert start == 0  # no checkpoint: from the start
    split_run = RunDir(tmp_path / "split", "x", {})
    _noisy_training(split_run, 3)
    assert split_run.load_checkpoint("loop")["step"] == 3
    resumed, counter, start = _noisy_training(split_run, 6)
    assert start == 4  # the saved step + 1
    assert counter.seen == whole_counter.seen == [1, 2, 3, 4, 5, 6]
    for a, b in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    # a finished loop resumes past its end: nothing is trained again
    again, _, start = _noisy_training(split_run, 6)
    assert start == 7 and all(torch.equal(a, b) for a, b in zip(whole.parameters(), again.parameters()))


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    run = RunDir(tmp_path, "x", {})
    save(run, "loop", 2, model=torch.nn.Linear(3, 2))
    with pytest.raises(RunFileError, match="loop.pt does not fit this run"):
        resume(run, "loop", model=torch.nn.Linear(5, 2))
    with pytest.raises(RunFileError, match="it has no 'monitor' entry"):
        resume(run, "loop", model=torch.nn.Linear(3, 2), monitor=_Counter())


def test_resume_reads_a_checkpoint_of_the_epoch_loop_written_before_save(tmp_path):
    # gib's earlier epoch loop saved "epoch" and "torch_rng": a run it left behind still resumes
    run = RunDir(tmp_path, "x", {})
    model = torch.nn.Linear(3, 1)
    torch.manual_seed(5)
    rng = torch.get_rng_state()
    expected = torch.rand(3)
    run.save_checkpoint("loop", {"epoch": 4, "done": False, "model": model.state_dict(), "torch_rng": rng,
                                 "extra": {}})
    fresh = torch.nn.Linear(3, 1)
    assert resume(run, "loop", model=fresh) == 5
    assert torch.equal(torch.rand(3), expected)  # the RNG is where the checkpoint left it
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), fresh.parameters()))


# -- the file system: a directory or file in the wrong place, a full disk, two processes ----------
def _one_line_error(result, *words):
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    for w in words:
        assert w in result.output, result.output


def _run(out, *extra):
    return CliRunner().invoke(main, ["run", "activations", "--preset", "test", "--out", str(out), "--no-progress",
                                     *extra])


def test_a_directory_where_a_file_belongs_stops_the_run_before_it_trains(run_copy, tmp_path):
    (run_copy / "metrics.parquet").unlink()
    (run_copy / "metrics.parquet").mkdir()
    before = (run_copy / CHECKPOINT).read_bytes()
    _one_line_error(_run(run_copy), f"{run_copy / 'metrics.parquet'} is a directory where gib writes a file",
                    "move or remove it")
    assert (run_copy / CHECKPOINT).read_bytes() == before  # nothing was retrained or rewritten
    # a new run directory: refused before its config is written
    fresh = tmp_path / "new"
    (fresh / "report.md").mkdir(parents=True)
    _one_line_error(_run(fresh), "report.md is a directory where gib writes a file")
    assert not (fresh / "config.json").exists()


def test_a_file_where_a_folder_belongs_gives_one_line(run_copy, tmp_path):
    shutil.rmtree(run_copy / "checkpoints")
    (run_copy / "checkpoints").write_text("not a folder")
    _one_line_error(_run(run_copy), f"{run_copy / 'checkpoints'} is a file where gib keeps a folder")
    (tmp_path / "plain").write_text("a file")
    _one_line_error(_run(tmp_path / "plain"), "is a file where the run directory belongs", "another --out")


def test_a_write_that_finds_a_directory_in_its_place_keeps_nothing_half_written(tmp_path):
    from gib.runs import atomic_write

    (tmp_path / "metrics.parquet").mkdir()
    with pytest.raises(RunFileError, match="metrics.parquet is a directory where gib writes a file"):
        atomic_write(tmp_path / "metrics.parquet", lambda p: p.write_text("rows"))
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.parquet"]  # no temporary file left


def _disk_full(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("where", ["checkpoint", "table"])
def test_a_full_disk_gives_one_line_and_keeps_the_last_good_files(run_copy, monkeypatch, where):
    """ENOSPC half-way through a write: one line naming the file and the fix; the previous file
    stays as it was and no temporary file is left; once there is space, the rerun resumes."""
    table = (run_copy / "metrics.parquet").read_bytes()
    (run_copy / CHECKPOINT).unlink()  # the condition trains again, and saves
    if where == "checkpoint":
        def save(obj, file, *args, **kwargs):
            file.write(b"x" * 1000)  # part of the bytes reach the disk, then it is full
            _disk_full()
        monkeypatch.setattr(torch, "save", save)
        target = run_copy / CHECKPOINT
    else:
        monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda *a, **k: _disk_full())
        target = run_copy / "metrics.parquet"
    _one_line_error(_run(run_copy), f"{target} could not be written: no space left on its device",
                    "free some space there", "rerun the same command to resume")
    assert not list(run_copy.rglob("*.tmp"))
    assert (run_copy / "metrics.parquet").read_bytes() == table  # the last good table
    assert where == "table" or not (run_copy / CHECKPOINT).exists()  # no half-written checkpoint
    monkeypatch.undo()
    assert _run(run_copy).exit_code == 0
    assert RunDir.load(run_copy).load_checkpoint("tanh-seed0")["done"]


def test_a_second_run_on_the_same_directory_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(gib.__file__).parent.parent)}
    code = ("import sys, time\nfrom gib.runs import hold\nwith hold(sys.argv[1]):\n"
            "    print('held', flush=True)\n    time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        _one_line_error(_run(out), f"{out} is in use by another gib process (pid {holder.pid} on ",
                        "wait for it to end")
        assert not (out / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the dead holder's lock: the directory is free again
    from gib.runs import hold

    with hold(out):
        pass


def test_sigterm_during_a_real_run_exits_143_with_one_line_and_keeps_its_checkpoints(tmp_path):
    out, returncode, stderr = _signal_a_real_run(tmp_path, signal.SIGTERM)
    assert returncode == 143, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "terminated; rerun the same command to resume"
    assert RunDir.load(out).load_checkpoint("tanh-seed0")["step"] >= 0
    assert not (out / ".lock.holder").exists()


@pytest.mark.parametrize("table, lacks", [
    (pd.DataFrame({"depth": [8, 14], "seed": [0, 0], "synergy_ratio": [0.1, 0.2]}), "lacks the column(s) 'step'"),
    ("all_nan", "holds no values: its column(s) 'value' are all NaN"),
], ids=["foreign", "all_nan"])
def test_plot_and_report_of_a_foreign_or_empty_table_give_one_line(run_copy, table, lacks):
    if isinstance(table, str):
        table = pd.read_parquet(run_copy / "metrics.parquet").assign(value=float("nan"))
    table.to_parquet(run_copy / "metrics.parquet")
    for command in ("report", "plot"):
        result = CliRunner().invoke(main, [command, str(run_copy)])
        _one_line_error(result, str(run_copy / "metrics.parquet"), lacks, "--fresh")


def test_a_sigterm_dropped_inside_a_finalizer_still_ends_the_command(tmp_path):
    """Python drops an exception raised in a gc callback or a __del__ ("Exception ignored in"):
    a SIGTERM that lands there is delivered again, so the command still ends with status 143 and
    its one line, and nothing of the dropped one is printed."""
    script = tmp_path / "hang.py"
    script.write_text(
        "import os, signal, time\n"
        "from gib.cli import main\n"
        "class Finalized:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs inside __del__\n"
        "        time.sleep(0.05)\n"
        "@main.command()\n"
        "def hang():\n"
        "    Finalized()\n"
        "    time.sleep(30)  # a command that would otherwise go on\n"
        "    print('went on')\n"
        "main(['hang'])\n")
    env = {**os.environ, "PYTHONPATH": str(Path(gib.__file__).parent.parent)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 143, done.stderr
    assert time.monotonic() - started < 20 and "went on" not in done.stdout
    assert done.stderr.strip().splitlines() == ["terminated; rerun the same command to resume"], done.stderr
