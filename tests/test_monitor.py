"""The monitor records the expected rows on a tiny model and removes its hooks on close."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import gib
from gib.monitor import COLUMNS, Monitor, default_layers


def tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))


def probe_set():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(128, 4)).astype(np.float32)
    return X, (X[:, 0].astype(int) ^ X[:, 1].astype(int))


def test_default_layers_are_post_activation():
    model = tiny_model()
    layers = default_layers(model)
    assert list(layers) == ["0", "2", "4"]
    assert isinstance(layers["0"], nn.Tanh) and isinstance(layers["2"], nn.ReLU)
    assert isinstance(layers["4"], nn.Linear)  # no activation after the last layer


def test_monitor_records_expected_rows_and_values():
    model = tiny_model()
    X, y = probe_set()
    with Monitor(model, X, y, estimators=["binning", "discrete"], synergy_kinds=("featurewise", "sum_vs_whole")) as mon:
        new = mon.record(0)
        mon.record(5, metrics={"train_loss": 0.5})
    frame = mon.frame
    assert list(frame.columns) == COLUMNS
    assert len(new) * 2 + 1 == len(frame)  # the second step adds train_loss
    ib = frame[(frame.plane == "IB") & (frame.step == 0)]
    # 3 layers + output, 2 estimators, 7 measures: the point, its three flags and its two ceilings
    assert len(ib) == 4 * 2 * 7
    assert set(ib.measure) == {"complexity", "prediction", "saturated", "over_bound", "negative",
                               "complexity_ceiling", "prediction_ceiling"}
    gib_rows = frame[(frame.plane == "GIB") & (frame.step == 0)]
    assert set(gib_rows.kind) == {"featurewise", "sum_vs_whole"}
    assert set(gib_rows.measure) == {"complexity", "prediction", "synergy", "joint", "negative"}
    # the recorded values equal direct calls on the same activations
    with torch.no_grad():
        h1 = torch.tanh(model[0](torch.as_tensor(X))).numpy()
        yhat = model(torch.as_tensor(X)).argmax(1).numpy()
    expected = gib.ib_point(h1, X, y, estimator="binning")
    row = ib[(ib.layer == "0") & (ib.estimator == "binning")].set_index("measure")["value"]
    assert row["complexity"] == pytest.approx(expected.complexity)
    assert row["prediction"] == pytest.approx(expected.prediction)
    point = gib.gib_point(X, yhat, y, estimator="binning")
    g = gib_rows[(gib_rows.estimator == "binning") & (gib_rows.kind == "featurewise")].set_index("measure")["value"]
    assert g["complexity"] == pytest.approx(point.complexity)
    acc = frame[(frame.measure == "accuracy") & (frame.step == 0)]["value"].item()
    assert acc == pytest.approx(np.mean(yhat == y))
    assert frame[frame.measure == "train_loss"]["value"].item() == 0.5


def test_hooks_are_removed_on_close():
    model = tiny_model()
    X, y = probe_set()
    mon = Monitor(model, X, y)
    assert any(m._forward_hooks for m in model.modules())
    mon.close()
    assert not any(m._forward_hooks for m in model.modules())


def test_named_layers_features_and_every(tmp_path):
    model = tiny_model()
    X, y = probe_set()
    mon = Monitor(model, X, y, layers=["1"], features=lambda x: x[:, :3], features_name="first3", every=3)
    recorded = [mon.on_epoch_end(e) is not None for e in range(7)]
    assert recorded == [True, False, False, True, False, False, True]
    frame = mon.frame
    assert set(frame[frame.plane == "IB"].layer) == {"1", "output"}
    assert set(frame[frame.plane == "GIB"].layer) == {"first3"}
    mon.save(tmp_path)
    assert (tmp_path / "metrics.parquet").exists() and (tmp_path / "monitor.json").exists()
    mon.close()


def test_regression_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4, bias=False), nn.Linear(4, 1, bias=False))
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2)).astype(np.float32)
    y = X[:, 0] + X[:, 1]
    with Monitor(model, X, y, task="regression", output_bins=10) as mon:
        frame = mon.record(0)
    assert "loss" in set(frame.measure) and "accuracy" not in set(frame.measure)
    assert np.isfinite(frame.value).all()


def test_monitor_rejects_bad_arguments():
    X, y = probe_set()
    with pytest.raises(ValueError, match="`task`"):
        Monitor(tiny_model(), X, y, task="ranking")
    with pytest.raises(ValueError, match="`layers` names"):
        Monitor(tiny_model(), X, y, layers=["nope"])
    with pytest.raises(TypeError, match="unknown option"):
        Monitor(tiny_model(), X, y, estimators={"binning": {"bins": 3}})
    with pytest.raises(ValueError, match="Mismatched"):
        Monitor(tiny_model(), X, y[:-1])
    with pytest.raises(TypeError, match="`model`"):
        Monitor("model", X, y)


class _FrozenNorm(nn.BatchNorm1d):
    """A module whose ``train`` keeps it in eval mode (a frozen normalisation layer)."""

    def train(self, mode=True):
        return super().train(False)


def test_probe_switches_modes_as_module_train_does():
    from gib.monitor import Probe, _train

    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(_FrozenNorm(4), nn.Tanh()), nn.Linear(4, 2))
    reference = nn.Sequential(nn.Linear(3, 4), nn.Sequential(_FrozenNorm(4), nn.Tanh()), nn.Linear(4, 2))
    for mode in (False, True, False, True):
        _train(model, mode)
        reference.train(mode)
        assert [m.training for m in model.modules()] == [m.training for m in reference.modules()]
    probe = Probe(model, np.zeros((8, 3), dtype=np.float32))
    model.train(True)
    probe()
    assert [m.training for m in model.modules()] == [m.training for m in reference.modules()]
    model[0].train(False)  # a submodule left in eval mode: train(True) on the model resets it, as before
    probe()
    assert [m.training for m in model.modules()] == [m.training for m in reference.modules()]
    probe.close()


@pytest.mark.filterwarnings("ignore::UserWarning")  # the tiny model's saturated IB plane
def test_record_frames_are_the_rows_and_independent():
    import pandas as pd

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    rng = np.random.default_rng(0)
    monitor = Monitor(model, rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 2, 64), verbose=False)
    frames = [monitor.record(step) for step in range(3)]
    frames[0].loc[0, "layer"] = "changed"  # a change to one returned frame stays in it
    frames[1].loc[1, "measure"] = "changed"
    frames.append(monitor.record(3))
    start = 0
    for step, frame in enumerate(frames):
        rows = monitor.rows[start : start + len(frame)]
        start += len(frame)
        want = pd.DataFrame({c: [row[c] for row in rows] for c in COLUMNS}, columns=COLUMNS)
        if step == 0:
            want.loc[0, "layer"] = "changed"
        if step == 1:
            want.loc[1, "measure"] = "changed"
        pd.testing.assert_frame_equal(frame, want, check_exact=True)
    monitor.close()


# -- the Monitor as recorders (a new measurement is a recorder passed in) ---------------------
class WeightNorm:
    """A user-defined recorder: the norm of the model's parameters, and how many records it made
    (state that must survive a resume)."""

    def __init__(self, model):
        self.model, self.count = model, 0

    def rows(self, step, probed):
        self.count += 1
        norm = float(sum(p.detach().pow(2).sum() for p in self.model.parameters()) ** 0.5)
        return [probed.row("metric", "output", "", "", "weight_norm", norm),
                probed.row("metric", "output", "", "", "records_seen", self.count)]

    def state_dict(self):
        return {"count": self.count}

    def load_state_dict(self, state):
        self.count = state["count"]

    def config(self):
        return {"weight_norm": True}


def test_a_user_recorder_is_recorded_and_survives_resume():
    torch.manual_seed(0)
    model = tiny_model()
    X, y = probe_set()
    recorders = gib.default_recorders() + [WeightNorm(model)]
    mon = Monitor(model, X, y, recorders, verbose=False)
    mon.record(0)
    mon.record(1)
    state = mon.state_dict()
    mon.close()
    resumed = Monitor(model, X, y, gib.default_recorders() + [WeightNorm(model)], verbose=False)
    resumed.load_state_dict(state)
    resumed.record(2)
    frame = resumed.frame
    seen = frame[frame.measure == "records_seen"].set_index("step")["value"]
    assert seen.to_dict() == {0: 1.0, 1: 2.0, 2: 3.0}  # counted on across the resume
    norm = np.sqrt(sum(float((p.detach() ** 2).sum()) for p in model.parameters()))
    assert frame[frame.measure == "weight_norm"]["value"].iloc[-1] == pytest.approx(norm, rel=1e-6)
    assert resumed.config()["weight_norm"] is True
    assert any(r["recorder"] == "WeightNorm" for r in resumed.config()["recorders"])
    resumed.close()


def test_monitor_signature_and_the_deprecated_options():
    import inspect

    parameters = [p for p in inspect.signature(Monitor).parameters.values() if p.kind is not p.VAR_KEYWORD]
    assert len(parameters) <= 10
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters[4:])
    X, y = probe_set()
    with pytest.warns(DeprecationWarning, match="default_recorders"):
        old = Monitor(tiny_model(), X, y, estimators="discrete", verbose=False)
    new = Monitor(tiny_model(), X, y, gib.default_recorders(estimators="discrete"), verbose=False)
    torch.manual_seed(1)
    a = old.record(0)
    b = new.record(0)
    pd.testing.assert_frame_equal(a, b)  # the same recorders either way (both untrained copies differ only
    old.close()                          # in their weights, which tiny_model fixes by seed)
    new.close()
    with pytest.raises(TypeError, match="'estimator'"):
        Monitor(tiny_model(), X, y, estimator="binning")
    with pytest.raises(TypeError, match=r"`recorders\[0\]`"):
        Monitor(tiny_model(), X, y, [object()])


def test_verbose_prints_one_short_line_per_record(capsys):
    X, y = probe_set()
    mon = Monitor(tiny_model(), X, y, verbose=True)
    capsys.readouterr()
    mon.record(0)
    mon.record(5)
    lines = capsys.readouterr().out.splitlines()
    mon.close()
    assert len(lines) == 2 and all(len(line) < 120 for line in lines)
    assert lines[1].startswith("gib step 5 | acc ") and "GIB C " in lines[1] and "IB " in lines[1]
    assert lines[1].endswith(" s")
    quiet = Monitor(tiny_model(), X, y, verbose=False)
    quiet.record(0)
    quiet.close()
    assert capsys.readouterr().out == ""


def test_save_checks_its_folder(tmp_path):
    X, y = probe_set()
    mon = Monitor(tiny_model(), X, y, verbose=False)
    mon.record(0)
    with pytest.raises(TypeError, match="`directory` must be a folder path"):
        mon.save(3.5)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="`directory`"):
        mon.save(tmp_path / "file")
    assert mon.save(tmp_path / "run").exists()
    mon.close()


def test_a_model_that_raises_is_blamed_not_the_inputs():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            raise RuntimeError("boom")

    X, y = probe_set()
    with pytest.raises(RuntimeError, match="the model raised RuntimeError: boom") as caught:
        Monitor(Broken(), X, y, verbose=False)
    assert "`X`" not in str(caught.value)
    with pytest.raises(ValueError, match="`X` does not fit the model"):
        Monitor(tiny_model(), X[:, :3], y, verbose=False)


def test_an_estimator_without_weights_is_refused_for_the_gib_plane_up_front():
    X, y = probe_set()
    with pytest.raises(ValueError, match="'ksg' takes no sample weights"):
        Monitor(tiny_model(), X, y, gib.default_recorders(estimators="ksg"), verbose=False)
    # the IB plane takes no weights: ksg is fine there
    with Monitor(tiny_model(), X, y, gib.default_recorders(ib_estimators="ksg"), verbose=False) as mon:
        assert set(mon.record(0).query("plane == 'IB'").estimator) == {"ksg"}


def test_take_recorders_splits_a_callbacks_keywords():
    from gib.recorders import GIBRecorder, IBRecorder, take_recorders

    options = {"estimators": "discrete", "batch_size": 8, "verbose": False}
    recorders = take_recorders(options, features_name="tokens")
    assert options == {"batch_size": 8, "verbose": False}  # the Monitor's own are left
    (gib_recorder,) = [r for r in recorders if isinstance(r, GIBRecorder)]
    assert gib_recorder.name == "tokens" and list(gib_recorder.estimators) == ["discrete"]
    assert any(isinstance(r, IBRecorder) and not r.default_rule for r in recorders)  # named: used for IB too
    assert any(isinstance(r, IBRecorder) and r.default_rule for r in take_recorders({}))
    mine = [object()]
    assert take_recorders({"recorders": mine}) == mine
    with pytest.raises(TypeError, match="estimators"):
        take_recorders({"recorders": mine, "estimators": "binning"})
