"""`gib reproduce`: every chosen experiment's preset run through the sweep machinery, then one
REPRODUCTION.md with each claim, its number, the figures, times and data sources."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from gib.cli import main
from gib.experiments import get_experiment
from gib.reproduce import data_sources
from gib.runs import RunDir


def test_reproduce_end_to_end(tmp_path):
    out = tmp_path / "repro"
    result = CliRunner().invoke(main, ["reproduce", "--preset", "test", "--only", "synthetic", "--only",
                                       "activations", "--only", "nosuch", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "REPRODUCTION.md").read_text()
    for name in ("synthetic", "activations"):
        claims = get_experiment(name).claims(RunDir.load(out / name))
        assert claims
        for claim in claims:
            assert claim.markdown() in text  # the claim, the number measured and the verdict
        figures = sorted((out / name / "figures").glob("*.png"))
        assert figures
        for figure in figures:
            assert f"]({name}/figures/{figure.name})" in text
        seconds = json.loads((out / name / "done.json").read_text())["seconds"]
        assert seconds > 0
        assert re.search(rf"\| {name} \| done \| [0-9.]+ s \|", text)
    assert "Total wall time" in text
    assert "- data: config data_path not set" in text  # activations names no source in its report
    assert "`nosuch`: not registered" in text


def test_data_sources_reads_data_json_report_and_config(tmp_path):
    (tmp_path / "data.json").write_text(json.dumps({"train_source": "BBC News (offline stand-in)", "n": 3}))
    (tmp_path / "report.md").write_text("# Title\n\n- test data: AG News test.csv\n| data | x |\n- accuracy 0.9\n")
    assert data_sources(tmp_path) == ["train_source: BBC News (offline stand-in)", "test data: AG News test.csv"]
    (tmp_path / "data.json").unlink()
    (tmp_path / "report.md").write_text("# Title\n")
    (tmp_path / "config.json").write_text(json.dumps({"config": {"data_path": "/x/var_u.mat", "lr": 0.1}}))
    assert data_sources(tmp_path) == ["config data_path = '/x/var_u.mat'"]
