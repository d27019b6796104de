"""Monitor(log=...): each record's values reach TensorBoard, W&B (offline), a CSV or a callable,
under stable names, and what the trackers hold equals the frame."""

import csv

import numpy as np
import pytest
import torch
from torch import nn

from gib.loggers import CSV, Loggers, ScalarNames, TensorBoard
from gib.monitor import Monitor


def tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))


def probe_set():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(64, 4)).astype(np.float32)
    return X, (X[:, 0].astype(int) ^ X[:, 1].astype(int))


def expected_scalars(frame, names):
    """{step: {name: value}} from the frame itself: the complexity and prediction of each point."""
    out = {}
    for row in frame.to_dict("records"):
        if row["plane"] not in ("IB", "GIB") or row["measure"] not in ("complexity", "prediction"):
            continue
        out.setdefault(row["step"], {})[names.name(row)] = row["value"]
    return out


def test_names_are_short_when_unambiguous_and_never_collide():
    X, y = probe_set()
    calls = []
    with Monitor(tiny_model(), X, y, log=lambda metrics, step: calls.append((step, metrics))) as mon:
        mon.record(0, metrics={"train_loss": 0.5})
        mon.record(3)
    step, first = calls[0]
    assert step == 0 and [s for s, _ in calls] == [0, 3]
    assert first["gib/GIB/complexity"] == pytest.approx(mon.frame.query(
        "step == 0 and plane == 'GIB' and measure == 'complexity'")["value"].item())
    # two per layer and the GIB plane's two: flags, ceilings, accuracy and the caller's metrics stay in the frame
    assert set(first) == {f"gib/IB/{layer}/{measure}" for layer in ("0", "2", "output")
                          for measure in ("complexity", "prediction")} | {"gib/GIB/complexity", "gib/GIB/prediction"}
    assert {"accuracy", "train_loss"} <= set(mon.frame.measure)
    assert set(calls[1][1]) == set(first)  # the same names at every record

    with Monitor(tiny_model(), X, y, estimators=["binning", "discrete"],
                 synergy_kinds=("featurewise", "sum_vs_whole")) as mon:
        rows = mon.record(0).to_dict("records")
    named = ScalarNames()(rows)[0]
    points = [r for r in rows if r["plane"] in ("IB", "GIB") and r["measure"] in ("complexity", "prediction")]
    assert len(named) == len(points) == 2 * (2 * 3 + 2 * 2)  # one name per coordinate: no collision
    assert "gib/GIB/discrete/sum_vs_whole/complexity" in named and "gib/IB/0/binning/prediction" in named


def test_names_stay_fixed_when_later_rows_differ():
    names = ScalarNames()
    base = dict(step=0, epoch=0.0, plane="GIB", layer="input", estimator="binning", kind="featurewise",
                measure="complexity", value=1.0)
    assert list(names([base])[0]) == ["gib/GIB/complexity"]
    later = [dict(base, step=1), dict(base, step=1, estimator="kde", value=2.0)]
    assert names(later)[1] == {"gib/GIB/complexity": 1.0, "gib/GIB/kde/complexity": 2.0}


def test_tensorboard_event_files_hold_the_frame(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    X, y = probe_set()
    logger = TensorBoard(tmp_path / "tb")
    with Monitor(tiny_model(), X, y, log=[logger]) as mon:
        mon.record(0)
        mon.record(7)
    events = accumulator.EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    expected = expected_scalars(mon.frame, mon.loggers.names)
    assert set(events.Tags()["scalars"]) == set(expected[0])
    for step, scalars in expected.items():
        for name, value in scalars.items():
            (event,) = [e for e in events.Scalars(name) if e.step == step]
            assert event.value == pytest.approx(value, rel=1e-6)  # event files store float32


def test_csv_holds_the_frame(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = probe_set()
    with Monitor(tiny_model(), X, y, log="csv") as mon:  # the default file in the working directory
        mon.record(0)
    mon2 = Monitor(tiny_model(), X, y, log=CSV(tmp_path / "out" / "scalars.csv"))
    mon2.record(4)
    mon2.loggers.close()
    with open(tmp_path / "gib_scalars.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    expected = expected_scalars(mon.frame, mon.loggers.names)[0]
    assert {r["name"]: float(r["value"]) for r in rows} == expected and {r["step"] for r in rows} == {"0"}
    with open(tmp_path / "out" / "scalars.csv", newline="") as f:
        assert {r["step"] for r in csv.DictReader(f)} == {"4"}
    mon2.close()


def test_wandb_offline_run_holds_the_frame(offline_wandb):
    X, y = probe_set()
    with Monitor(tiny_model(), X, y, log="wandb") as mon:  # gib starts the run and finishes it on close
        mon.record(0)
        mon.record(2)
    history = offline_wandb()
    expected = expected_scalars(mon.frame, mon.loggers.names)
    assert [h["gib/step"] for h in history] == [0, 2]
    for entry in history:
        got = {k: v for k, v in entry.items() if k.startswith("gib/") and k != "gib/step"}
        assert got == pytest.approx(expected[int(entry["gib/step"])])


def test_bad_log_fails_before_any_hook():
    X, y = probe_set()
    model = tiny_model()
    with pytest.raises(ValueError, match="`log` 'tensorbord'"):
        Monitor(model, X, y, log="tensorbord")
    with pytest.raises(TypeError, match="`log` must be"):
        Monitor(model, X, y, log=3)
    assert not any(m._forward_hooks for m in model.modules())
    assert not Loggers(None) and not Loggers([])
