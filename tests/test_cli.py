"""The `gib` command: list, run, plot, report, and clear errors."""

from click.testing import CliRunner

from gib.cli import main


def test_list_names_experiments_and_presets():
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    for name in ("synthetic", "activations", "functions"):
        assert name in result.output
    assert "--preset quick" in result.output


def test_run_plot_report(tmp_path):
    runner = CliRunner()
    out = tmp_path / "syn"
    result = runner.invoke(main, ["run", "synthetic", "--preset", "test", "--out", str(out), "--seed", "3",
                                  "--set", "n_max=3", "--pdf", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "**Claim:**" in result.output
    assert (out / "figures" / "functions.pdf").exists()
    (out / "figures" / "functions.png").unlink()
    result = runner.invoke(main, ["plot", str(out)])
    assert result.exit_code == 0 and (out / "figures" / "functions.png").exists()
    result = runner.invoke(main, ["report", str(out)])
    assert result.exit_code == 0 and "seeds [3]" in result.output


def test_errors_are_one_line_messages(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["run", "nonesuch", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "unknown experiment 'nonesuch'" in result.output
    result = runner.invoke(main, ["run", "synthetic", "--set", "n_max", "--out", str(tmp_path / "y")])
    assert result.exit_code != 0 and "write key=value" in result.output
    result = runner.invoke(main, ["run", "synthetic", "--preset", "huge", "--out", str(tmp_path / "z")])
    assert result.exit_code != 0 and "`preset` must be one of" in result.output
    result = runner.invoke(main, ["report", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "not a run directory" in result.output


def test_run_help_lists_every_set_key_and_preset():
    from gib.experiments import get_experiment
    from gib.experiments.base import config_fields

    result = CliRunner().invoke(main, ["run", "functions", "--help"])
    assert result.exit_code == 0, result.output
    exp = get_experiment("functions")
    text = " ".join(result.output.split())  # undo click's wrapping
    for f in config_fields(exp.config_cls):
        assert f"{f.name} {f.type}, default {f.default}: {f.doc}" in text
    for preset, cost in exp.preset_costs.items():
        assert f"{preset} {cost}" in text
    assert "n_train=200" in text  # what the test preset sets
    # the option may come before NAME, and an unknown NAME still gets its help and a suggestion
    result = CliRunner().invoke(main, ["run", "--preset", "test", "synthetic", "-h"])
    assert result.exit_code == 0 and "n_max" in result.output
    result = CliRunner().invoke(main, ["run", "funtions", "--help"])
    assert result.exit_code == 0 and "Did you mean 'functions'?" in result.output


def test_every_config_field_is_documented():
    from gib.experiments import experiments
    from gib.experiments.base import config_fields
    from gib.experiments.catalogue import CATALOGUE

    found = experiments()
    assert set(found) == set(CATALOGUE)  # every listed experiment registers, and only those
    for name, exp in found.items():
        undocumented = [f.name for f in config_fields(exp.config_cls) if not f.doc]
        assert not undocumented, f"{name}: add a `#:` comment to {undocumented}"
        assert exp.summary == CATALOGUE[name].summary and set(exp.presets) == set(CATALOGUE[name].costs)


def test_unknown_names_get_suggestions(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["run", "funtions", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "Did you mean 'functions'?" in result.output
    assert not (tmp_path / "x").exists()
    result = runner.invoke(main, ["run", "synthetic", "--set", "n_maxx=3", "--out", str(tmp_path / "y")])
    assert result.exit_code != 0 and "Did you mean 'n_max'?" in result.output


def test_bad_options_fail_before_anything_is_written(tmp_path):
    runner = CliRunner()
    out = tmp_path / "syn"
    for bad in (["--set", "estimator=foo"], ["--set", "estimator=ksg"], ["--set", "synergy=whole"], ["--set", "n_bins=1"],
                ["--device", "tpu"], ["--set", "n_bins=many"], ["--set", "threads=-1"]):
        result = runner.invoke(main, ["run", "synthetic", "--preset", "test", "--out", str(out), *bad])
        assert result.exit_code != 0, bad
        assert "--set" in result.output or "--device" in result.output, result.output
        assert not out.exists(), bad
    # the corrected command then runs in the same directory
    result = runner.invoke(main, ["run", "synthetic", "--preset", "test", "--out", str(out), "--set", "n_max=3",
                                  "--set", "estimator=binning", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"run directory: {out}"  # --quiet: no report, no bars


def test_a_run_directory_without_results_takes_another_config(tmp_path):
    import pytest

    from gib.runs import RunDir

    RunDir.open(tmp_path, "synthetic", {"n_max": 3})
    RunDir.open(tmp_path, "synthetic", {"n_max": 4})  # nothing computed yet: the config is replaced
    run = RunDir.open(tmp_path, "synthetic", {"n_max": 4})
    run.save_checkpoint("a", {"epoch": 0})
    with pytest.raises(ValueError, match="different config"):
        RunDir.open(tmp_path, "synthetic", {"n_max": 5})


def _imported_by(code):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import gib

    env = {**os.environ, "PYTHONPATH": str(Path(gib.__file__).parents[1])}
    probe = (f"import sys\n{code}\n"
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split())


def test_help_and_list_import_nothing_heavy():
    heavy = {"numpy", "torch", "pandas", "matplotlib", "scipy", "sklearn"}
    for args in (["--help"], ["list"], ["run", "--help"]):
        code = ("from gib.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass" % (args,))
        assert not (_imported_by(code) & heavy), args
    assert not (_imported_by("import gib; gib.__version__") & heavy)
    assert "numpy" in _imported_by("import gib; gib.synergy")  # the public names still resolve


def test_plot_and_report_read_a_monitor_folder(tmp_path):
    import numpy as np
    import torch
    from click.testing import CliRunner
    from torch import nn

    import gib
    from gib.cli import main

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(64, 4)).astype(np.float32)
    y = X[:, 0].astype(int) ^ X[:, 1].astype(int)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    with gib.Monitor(model, X, y, verbose=False) as monitor:
        for step in range(4):
            monitor.record(step)
            loss = nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        monitor.save(tmp_path / "mine")
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert "# Monitor run: mine" in result.output and "| GIB | input |" in result.output
    assert "4 record step(s) (0 to 3)" in result.output
    result = runner.invoke(main, ["plot", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mine" / "figures" / "planes_output.png").is_file()


def test_estimators_without_weights_are_offered_nowhere_the_gib_plane_needs_them(tmp_path):
    """Every experiment's `estimator` serves the GIB plane, whose PMI weights ksg cannot take:
    --help lists only the estimators that take weights, and --set estimator=ksg says why,
    before the run directory exists."""
    from gib.estimators import available_estimators

    weighted = available_estimators(weights=True)
    assert "ksg" in available_estimators() and "ksg" not in weighted
    text = " ".join(CliRunner().invoke(main, ["run", "functions", "--help"]).output.split())
    assert "estimator str in {" + ", ".join(weighted) + "}" in text
    out = tmp_path / "fn"
    result = CliRunner().invoke(main, ["run", "functions", "--preset", "test", "--set", "estimator=ksg",
                                       "--out", str(out)])
    assert result.exit_code == 1 and "'ksg' takes no sample weights" in result.output
    assert "choose from " + ", ".join(weighted) in result.output
    assert not out.exists()
