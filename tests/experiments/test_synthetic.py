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


def exact_run(tmp_path, ns, edit=None):
    """A run directory holding the exact rows of ``ns`` (``edit`` may change the frame first)."""
    from gib.runs import RunDir

    frames = [pd.DataFrame(measure(*enumeration(n, 0.5))).assign(n=n, source="exact", seed=-1) for n in ns]
    frame = pd.concat(frames, ignore_index=True)
    if edit is not None:
        frame = edit(frame)
    run = RunDir.open(tmp_path / "run", "synthetic", {"p": 0.5, "n_samples": 0})
    run.save_table(frame, "results.parquet")
    return run


def test_claim_states_the_exact_numbers(tmp_path):
    from gib.experiments.synthetic import claims

    (claim,) = claims(exact_run(tmp_path, range(2, 6)))
    assert claim.holds is True
    # xor of the first two bits: synergy 2/n bits (joint 1 bit, only the two bits' complements lose it)
    assert "synergy 0.000 -> 0.667 -> 1.000 (n = 3) and 0.000 -> 0.400 -> 1.000 (n = 5)" in claim.measured
    x, noise, prob = enumeration(5, 0.5)
    direct = {r["function"]: r["value"] for r in measure(x, noise, prob) if r["measure"] == "I(f;X)"}
    assert f"and {direct['x1']:.3f} -> {direct['xor2']:.3f} -> {direct['parity']:.3f} (n = 5)" in claim.measured
    # I(f;N) = (a, 0, 0) against synergy (0, s, 1): rho = -sqrt(3)/2 with the tie; I(f;X) strictly falls
    assert "I(f;N) -0.87 at every n, vs I(f;X) -1.00 at every n" in claim.measured
    assert "of the 6 adjacent steps (2 per n)" in claim.measured
    assert "I(f;N) falls in 3, ties in 3, rises in 0, I(f;X) falls in 6, ties in 0, rises in 0" in claim.measured
    assert "exact" in claim.measured and "no interval" in claim.measured


def test_claim_fails_on_one_rising_step(tmp_path):
    from gib.experiments.synthetic import claims

    def raise_parity(frame):  # parity's I(f;X) at n = 4 above xor2's
        at = (frame.n == 4) & (frame.function == "parity") & (frame.measure == "I(f;X)")
        return frame.assign(value=frame.value.where(~at, 0.9))

    (claim,) = claims(exact_run(tmp_path, range(3, 6), raise_parity))
    assert claim.holds is False
    assert "I(f;X) falls in 5, ties in 0, rises in 1" in claim.measured
    # n = 4: synergy ranks (1, 2, 3), I(f;X) (0.72, 0.52, 0.9) ranks (2, 1, 3): rho = 1 - 6 * 2 / 24
    assert "vs I(f;X) -1.00 to +0.50 over n" in claim.measured


def test_claim_needs_three_bits(tmp_path):
    from gib.experiments.synthetic import claims

    (claim,) = claims(exact_run(tmp_path, [2]))
    assert claim.holds is False and "not measured" in claim.measured
