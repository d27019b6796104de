"""``--set estimator_options=key=value,...``: the options reach the estimator of every experiment,
checked before a run directory is touched."""

import functools
import json

import pytest
from click.testing import CliRunner

import gib
from gib.cli import main
from gib.estimators import KDEEstimator
from gib.experiments import experiments
from gib.experiments.base import make_config

NAMES = sorted(experiments())


@pytest.mark.parametrize("name", [n for n in NAMES if n != "estimators"])  # its variants are estimators
def test_every_experiment_takes_estimator_options(name):
    exp = experiments()[name]
    config = make_config(exp.config_cls, exp.presets, "test",
                         {"estimator": "kde", "estimator_options": "bandwidth_scale=0.5,min_class_sigma=1e-2"})
    assert config.estimator_kwargs() == {"bandwidth_scale": 0.5, "min_class_sigma": 0.01}
    assert config.to_dict()["estimator_options"] == ("bandwidth_scale=0.5", "min_class_sigma=1e-2")
    # binning keeps its bins in `n_bins`; the values are read as numbers, booleans, none or text
    config = make_config(exp.config_cls, exp.presets, "test",
                         {"estimator": "binning", "n_bins": "7", "estimator_options": "bias=miller-madow"})
    assert config.estimator_kwargs() == {"n_bins": 7, "bias": "miller-madow"}
    assert "estimator_options" not in make_config(exp.config_cls, exp.presets, "test").to_dict()


@pytest.mark.parametrize("sets, message", [
    ({"estimator": "kde", "estimator_options": "k=3"}, r"estimator_options=k=3: unknown option\(s\) `k`.*bandwidth_scale"),
    ({"estimator": "kde_upper", "estimator_options": "noise_variance=0"},
     "estimator_options=noise_variance=0: `noise_variance` must be"),
    ({"estimator": "kde", "estimator_options": "bandwidth_scale"}, "--set estimator_options.*key=value"),
    ({"estimator": "binning", "estimator_options": "n_bins=4"}, "use --set n_bins"),
])
def test_bad_estimator_options_are_refused_with_the_fix(sets, message):
    exp = experiments()["functions"]
    with pytest.raises(ValueError, match=message):
        make_config(exp.config_cls, exp.presets, "test", sets)


def test_the_cli_hands_the_options_to_the_estimator(tmp_path, monkeypatch):
    built = []
    init = KDEEstimator.__init__

    @functools.wraps(init)  # get_estimator reads the options from the signature
    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        built.append(self.bandwidth_scale)

    monkeypatch.setattr(KDEEstimator, "__init__", spy)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "run", "functions", "--preset", "test", "--out", str(out), "--quiet",
        "--set", "estimator=kde", "--set", "estimator_options=bandwidth_scale=2.5",
        "--set", "functions=addition", "--set", "null=none"])
    assert result.exit_code == 0, result.output
    assert built and set(built) == {2.5}  # every kde the run built took the option
    stored = json.loads((out / "config.json").read_text())["config"]
    assert stored["estimator_options"] == ["bandwidth_scale=2.5"]
    assert gib.get_estimator("kde").bandwidth_scale == 1.0  # the spy changed no default


def test_svw_hands_the_estimator_and_its_options_to_its_sub_runs():
    from gib.experiments.variants import _sub_sets

    exp = experiments()["svw"]
    config = make_config(exp.config_cls, exp.presets, "test",
                         {"estimator": "kde", "estimator_options": "bandwidth_scale=0.5"})
    sets = _sub_sets(config, "synergy", "sum_vs_whole")
    assert sets == {"device": "cpu", "estimator": "kde", "estimator_options": "bandwidth_scale=0.5",
                    "synergy": "sum_vs_whole"}
    sub = experiments()["functions"]
    sub_config = make_config(sub.config_cls, sub.presets, "test", sets)
    assert sub_config.estimator_kwargs() == {"bandwidth_scale": 0.5}
    # unset, the sub-run's config is the sub-experiment's preset as it was
    plain = make_config(exp.config_cls, exp.presets, "test")
    as_before = make_config(sub.config_cls, sub.presets, "test", {"synergy": "sum_vs_whole"})
    assert make_config(sub.config_cls, sub.presets, "test", _sub_sets(plain, "synergy", "sum_vs_whole")) == as_before


def test_the_estimators_experiment_refuses_one_estimators_options():
    exp = experiments()["estimators"]
    with pytest.raises(ValueError, match="compares several estimators"):
        make_config(exp.config_cls, exp.presets, "test", {"estimator_options": "bandwidth_scale=0.5"})
