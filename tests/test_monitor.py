"""The monitor records the expected rows on a tiny model and removes its hooks on close."""

import numpy as np
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
