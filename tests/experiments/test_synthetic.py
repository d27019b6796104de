"""The `synthetic` experiment: exact enumeration against closed forms, end to end, resume."""

import numpy as np
import pandas as pd
import pytest

from gib.experiments import run_experiment
from gib.experiments.synthetic import enumeration, measure, noisy


def test_enumeration_is_a_distribution():
    x, noise, prob = enumeration(3, 0.5)
    assert prob.sum() == pytest.approx(1.0)
    assert prob[noise == 0].sum() == pytest.approx(0.5)


def test_noise_forces_one_coordinate():
    x = np.zeros((3, 3), dtype=np.int64)
    np.testing.assert_array_equal(noisy(x, np.array([0, 1, 3])), [[0, 0, 0], [1, 0, 0], [0, 0, 1]])


def test_exact_values_match_closed_forms():
    # n = 2, p = 0.5. f = X~1: X~1 = 1 when N = 1, else X1; P(N=1) = 1/4
    x, noise, prob = enumeration(2, 0.5)
    rows = {(r["function"], r["measure"]): r["value"] for r in measure(x, noise, prob)}
    # P(f=1) = 1/4 + 3/4 * 1/2 = 5/8; H(f|N): N=1 -> 0, otherwise 1 bit
    h = lambda p: -p * np.log2(p) - (1 - p) * np.log2(1 - p)  # noqa: E731
    assert rows[("x1", "I(f;N)")] == pytest.approx(h(5 / 8) - 3 / 4)
    # I(f;X): given X1 = 1, f = 1; given X1 = 0, f = 1 iff N = 1 (prob 1/4)
    assert rows[("x1", "I(f;X)")] == pytest.approx(h(5 / 8) - 0.5 * h(1 / 4))
    assert rows[("parity", "synergy")] == pytest.approx(1.0)
    assert rows[("x1", "synergy")] == pytest.approx(0.0, abs=1e-12)


def test_end_to_end_and_resume(tmp_path):
    run = run_experiment("synthetic", "test", out=tmp_path / "run", progress=False)
    table = pd.read_parquet(run.path / "results.parquet")
    assert sorted(set(table.n)) == [2, 3, 4] and set(table.source) == {"exact", "sampled"}
    report = (run.path / "report.md").read_text()
    assert "**Claim:** more synergistic functions" in report and "**holds**" in report
    assert (run.path / "figures" / "functions.png").exists()
    # a rerun finds every cell done and computes nothing new
    again = run_experiment("synthetic", "test", out=tmp_path / "run", progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(again.path / "results.parquet"), table)
