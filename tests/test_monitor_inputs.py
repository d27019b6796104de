"""The Monitor checks its inputs when it is built (one dry forward pass) and names the argument."""

import numpy as np
import pytest
import torch
from torch import nn

from gib.monitor import Monitor, Probe
from gib.recorders import ProbeSet
from gib.recorders import GIBRecorder, IBRecorder, MetricsRecorder, Probed

def bind(recorder, X, y, task="classification"):
    """The recorder bound to the probe set (X, y), as a Monitor binds it."""
    recorder.bind(ProbeSet.of(X, y, task))
    return recorder



def mlp(width=4, classes=3):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(width, 5), nn.Tanh(), nn.Linear(5, classes))


def data(n=64, width=4, classes=3):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, width)).astype(np.float32), rng.integers(0, classes, n)


class TupleModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = mlp()

    def forward(self, x):
        out = self.body(x)
        return out, out.sum()


class FlatModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(x)[:, 0]  # one logit per sample, 1-D


X, Y = data()


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: Monitor(mlp(), X[:, :3], Y), ValueError, r"`X` does not fit the model: .*mat1 and mat2"),
        (lambda: Monitor(mlp(), X.tolist()[:10] + [[1.0]], Y[:11]), ValueError, "`X` cannot be read|`X` is ragged"),
        (lambda: Monitor(mlp(), np.array([["a"] * 4] * 8), Y[:8]), TypeError, "`X` has dtype"),
        (lambda: Monitor(mlp(), np.where(np.arange(4) == 1, np.nan, X), Y), ValueError, "`X` contains 64 NaN"),
        (lambda: Monitor(mlp(), X[:1], Y[:1]), ValueError, "has 1 sample"),
        (lambda: Monitor(mlp(), X[:1], Y[:2]), ValueError, "`X` has shape \\(1, 4\\); pass at least 2 probe samples"),
        (lambda: Monitor(mlp(), X, Y + 5), ValueError, "`y` holds label 7 but the model has 3 output"),
        (lambda: Monitor(mlp(), X, Y - 1), ValueError, "`y` holds negative labels"),
        (lambda: Monitor(mlp(), X, np.c_[Y, Y]), ValueError, "`y` has shape .* one class label per sample"),
        (lambda: Monitor(mlp(), X, np.array(["a", "b"] * 32)), TypeError, "`y` has dtype"),
        (lambda: Monitor(mlp(), X, Y + 0.5), ValueError, "`y` holds non-integer values"),
        (lambda: Monitor(mlp(), X, Y[:10]), ValueError, "Mismatched numbers of samples"),
        (lambda: Monitor(TupleModel(), X, Y), ValueError, r"returns a tuple of 2, not a tensor; pass `output=`"),
        (lambda: Monitor(TupleModel(), X, Y, output="logits"), ValueError, "`output='logits'` does not select"),
        (lambda: Monitor(mlp(), X, Y, estimators=3), TypeError, "`estimators` takes an estimator name"),
        (lambda: Monitor(mlp(), X, Y, estimators={"x": ("binning",)}), ValueError, r"`estimators\['x'\]` is"),
        (lambda: Monitor(mlp(), X, Y, estimators="nosuch"), ValueError, "`estimator` must be one of"),
        (lambda: Monitor(mlp(), X, Y, layers=["nosuch"]), ValueError, "`layers` names"),
        (lambda: Monitor(mlp(), X, Y, output=3.5), TypeError, "`output` must be None"),
        (lambda: Monitor("model", X, Y), TypeError, "`model` must be a torch.nn.Module"),
        (lambda: Monitor(mlp(), X, Y, mi_device="gpu"), ValueError, "`mi_device` must be None, 'cpu', 'cuda'"),
        (lambda: Monitor(mlp(), X, Y, batch_size=0), ValueError, "`batch_size` must be a positive integer"),
    ],
)
def test_bad_inputs_fail_at_construction_naming_the_argument(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_a_failed_construction_leaves_no_hook_behind():
    model = mlp()
    with pytest.raises(ValueError):
        Monitor(model, X, Y + 5)
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: m.record(0, metrics=3), TypeError, "`metrics` must be a mapping"),
        (lambda m: m.record(0, metrics={"a": "x"}), TypeError, r"`metrics\['a'\]` is 'x'"),
        (lambda m: m.record(-1), ValueError, "`step` must be a non-negative integer"),
        (lambda m: m.record(0, epoch=float("nan")), ValueError, "`epoch` must be a finite number"),
        (lambda m: m.load_state_dict({}), ValueError, "`state` is not a Monitor state"),
        (lambda m: m.load_state_dict({"rows": [{"a": 1}], "epochs_seen": 1}), ValueError, r"`state\['rows'\]`"),
    ],
)
def test_bad_calls_name_the_argument(call, error, match):
    with Monitor(mlp(), X, Y, verbose=False) as monitor:
        with pytest.raises(error, match=match):
            call(monitor)


def test_float64_inputs_are_cast_to_the_model_and_a_tuple_output_is_selected():
    with Monitor(TupleModel(), X.astype(np.float64), Y, output=0, verbose=False) as monitor:
        assert monitor.probe.X.dtype == torch.float32
        rows = monitor.record(0)
    with Monitor(mlp(), X, Y, verbose=False) as plain:
        expected = plain.record(0)
    got = rows[rows.plane == "GIB"].set_index("measure")["value"]
    assert got["complexity"] == pytest.approx(expected[expected.plane == "GIB"].set_index("measure")["value"]["complexity"])


def test_a_one_dimensional_output_is_one_logit():
    y = (X[:, 0] > 0).astype(int)
    with Monitor(FlatModel(), X, y, verbose=False) as monitor:
        rows = monitor.record(0)
    accuracy = rows[rows.measure == "accuracy"]["value"].item()
    with torch.no_grad():
        yhat = (monitor.model(torch.as_tensor(X)) > 0).numpy().astype(int)
    assert accuracy == pytest.approx(np.mean(yhat == y))


def test_the_probe_says_what_it_hooks(capsys):
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 6), nn.Linear(6, 3)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    Monitor(Functional(), X, Y).close()
    printed = capsys.readouterr().out
    assert "fc1" in printed and "(6,)" in printed and "before activation" in printed
    assert "applies its activations functionally" in printed
    Monitor(mlp(), X, Y).close()
    printed = capsys.readouterr().out
    assert "after activation" in printed and "functionally" not in printed


def test_the_probe_captures_every_layer_into_buffers_across_batches():
    model = mlp()
    probe = Probe(model, X, batch_size=10)
    layers, outputs = probe()
    with torch.no_grad():
        hidden = torch.tanh(model[0](torch.as_tensor(X))).numpy()
        out = model(torch.as_tensor(X)).numpy()
    # batches of 10 round differently from one batch of 64, by float32's last bits
    np.testing.assert_allclose(layers["0"], hidden, atol=1e-6)
    np.testing.assert_allclose(outputs, out, atol=1e-6)
    probe.close()
    assert all(not m._forward_hooks for m in model.modules())


# -- recorders in isolation ------------------------------------------------------------------
def _probed(layers, outputs, yhat, step=3):
    return Probed(step, float(step), layers, outputs, yhat, {"train_loss": 0.25})


def test_metrics_recorder():
    outputs = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    y = np.array([0, 1, 1, 1])
    probed = _probed({}, outputs, outputs.argmax(1))
    rows = bind(MetricsRecorder(), outputs, y).rows(probed.step, probed)
    values = {r["measure"]: r["value"] for r in rows}
    assert values["accuracy"] == 0.75 and values["n_probe"] == 4 and values["train_loss"] == 0.25
    expected = -np.mean(np.log(np.exp(outputs[np.arange(4), y]) / np.exp(outputs).sum(1)))
    assert values["loss"] == pytest.approx(expected, rel=1e-6)
    assert {r["step"] for r in rows} == {3}


def test_ib_recorder_fast_path_equals_ib_point():
    import gib

    rng = np.random.default_rng(1)
    Xp = rng.normal(size=(300, 5))
    y = rng.integers(0, 4, 300)
    T = np.tanh(Xp @ rng.normal(size=(5, 40)))  # wide: the byte-row path of row_codes
    for spec in ({"binning": ("binning", {"n_bins": 8})}, {"saxe": ("binning", {"bin_size": 0.5})},
                 {"mm": ("binning", {"n_bins": 4, "bias": "miller-madow"})}):
        recorder = bind(IBRecorder(spec), Xp, y)
        probed = _probed({"h": T}, T[:, :3], y)
        rows = recorder.rows(probed.step, probed)
        (label, (name, options)), = spec.items()
        for layer, t in (("h", T), ("output", T[:, :3])):
            direct = gib.ib_point(t, Xp, y, name, warn=False, **options)
            got = {r["measure"]: r["value"] for r in rows if r["layer"] == layer}
            assert got["complexity"] == pytest.approx(direct.complexity, abs=1e-9)
            assert got["prediction"] == pytest.approx(direct.prediction, abs=1e-9)
            assert bool(got["saturated"]) == direct.saturated


def test_gib_recorder_equals_gib_point_and_a_state_round_trips():
    import gib

    rng = np.random.default_rng(2)
    features = rng.normal(size=(200, 4))
    y = rng.integers(0, 2, 200)
    yhat = np.where(rng.random(200) < 0.8, y, 1 - y)
    recorder = bind(GIBRecorder({"binning": ("binning", {})}, features=features, kinds=("featurewise", "sum_vs_whole"), target="joint",
                    output_bins=30), features, y)
    probed = _probed({}, np.c_[1 - yhat, yhat].astype(np.float32), yhat)
    rows = recorder.rows(probed.step, probed)
    for kind in ("featurewise", "sum_vs_whole"):
        direct = gib.gib_point(features, yhat, y, "binning", kind=kind)
        got = {r["measure"]: r["value"] for r in rows if r["kind"] == kind}
        assert got["complexity"] == pytest.approx(direct.complexity, abs=1e-9)
        assert got["prediction"] == pytest.approx(direct.prediction, abs=1e-9)


def test_monitor_frame_and_plot_work_as_they_are():
    from gib import plotting

    with Monitor(mlp(), X, Y, verbose=False) as monitor:
        for step in range(4):
            monitor.record(step)
        assert plotting.information_plane(monitor.frame, ib_layer="0").axes
        assert monitor.plot().axes
        assert len(plotting.phase_table(monitor.frame, ib_layer="0")) == 2


def test_default_layers_follow_the_forward_pass_not_the_registration_order():
    from gib.monitor import default_layers

    class LateActivations(nn.Module):  # activations registered after every layer
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(4, 6), nn.Linear(6, 5), nn.Linear(5, 3)
            self.act1, self.act2 = nn.Tanh(), nn.ReLU()

        def forward(self, x):
            return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))

    model = LateActivations()
    traced = default_layers(model, torch.as_tensor(X[:4]))
    assert list(traced) == ["fc1", "fc2", "fc3"]
    assert traced["fc1"] is model.act1 and traced["fc2"] is model.act2 and traced["fc3"] is model.fc3
    # registration order pairs fc3 with act1: the reason to trace
    assert default_layers(model)["fc3"] is model.act1
    with Monitor(model, X, Y, verbose=False) as monitor:
        layers, _ = monitor.probe()
    with torch.no_grad():
        expected = torch.tanh(model.fc1(torch.as_tensor(X))).numpy()
    np.testing.assert_allclose(layers["fc1"], expected, atol=1e-6)


@pytest.mark.filterwarnings("ignore:.*saturated")
def test_the_default_batch_size_keeps_the_widest_layer_to_the_cpu_budget():
    from gib.monitor import ACCELERATOR_BATCH, CPU_BATCH_BYTES, default_batch_size

    cpu = torch.device("cpu")
    assert default_batch_size(16 * 32 * 32, 5000, cpu) == CPU_BATCH_BYTES // (4 * 16 * 32 * 32) == 256
    assert default_batch_size(12, 4096, cpu) == 4096  # a narrow net: one batch
    assert default_batch_size(10**8, 5000, cpu) == 16  # at least 16 rows
    assert default_batch_size(10**8, 3, cpu) == 3
    assert default_batch_size(12, 5000, torch.device("meta")) == ACCELERATOR_BATCH

    class Conv(nn.Module):  # 8 x 24 x 24 = 4608 values a row after the convolution
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 8, 3), nn.Linear(8 * 24 * 24, 3)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    torch.manual_seed(0)
    images = np.random.default_rng(1).normal(size=(1200, 1, 26, 26)).astype(np.float32)
    labels = np.random.default_rng(2).integers(0, 3, 1200)
    model = Conv()
    chosen = Monitor(model, images, labels, verbose=False)
    assert chosen.batch_size == chosen.probe.batch_size == CPU_BATCH_BYTES // (4 * 4608) == 910
    assert "in batches of 910" in chosen.probe.summary()
    fixed = Monitor(model, images, labels, batch_size=1200, verbose=False)
    # two batches or one: the same rows
    a, b = chosen.record(0), fixed.record(0)
    np.testing.assert_allclose(a["value"].to_numpy(float), b["value"].to_numpy(float), rtol=0, atol=1e-12)
    chosen.close(), fixed.close()
