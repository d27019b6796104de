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
