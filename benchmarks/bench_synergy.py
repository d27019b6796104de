"""Synergy speed, side by side in one process (issue: the core's speed goals).

For each estimator, gib's fast leave-one-out synergy is timed against the alternative a user
would write, on the same data, best of ``--repeats`` runs:

- binning / discrete: the scikit-learn loop (``mutual_info_score`` on ``np.unique`` row codes:
  one joint + n singles + n complements), and the floor: hash each row once, then sort n + 2
  columns of N 64-bit keys (the least work any sort-based exact method does);
- gcmi: gib's own GCMI mutual information called per subset (2n + 1 calls);
- kde: gib's own KDE mutual information per subset, plus where the fast path's time goes.

Run: ``.venv/bin/python benchmarks/bench_synergy.py`` (``--quick`` for smaller sizes).
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import time
import warnings

import numpy as np
from sklearn.metrics import mutual_info_score

import gib

warnings.simplefilter("ignore", gib.SaturationWarning)


def multipliers(n: int) -> np.ndarray:
    """Random odd 64-bit multipliers, one per column, like the plug-in estimators' row keys."""
    rng = np.random.default_rng(0)
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True) | np.uint64(1)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def binned(X: np.ndarray, n_bins: int = 30) -> np.ndarray:
    lo, hi = X.min(0), X.max(0)
    return np.clip(np.floor((X - lo) / (hi - lo) * n_bins), 0, n_bins - 1).astype(np.int64)


def sklearn_loop(X: np.ndarray, v: np.ndarray, discrete: bool) -> float:
    """The loop a user writes: MI per subset on np.unique row codes."""
    codes = X if discrete else binned(X)

    def rows(a):
        return np.unique(a, axis=0, return_inverse=True)[1].ravel()

    joint = mutual_info_score(v, rows(codes))
    single = np.array([mutual_info_score(v, codes[:, i]) for i in range(codes.shape[1])])
    comp = np.array([mutual_info_score(v, rows(np.delete(codes, i, axis=1))) for i in range(codes.shape[1])])
    return float(np.mean(joint - single - comp)) / np.log(2)


def floor(X: np.ndarray, v: np.ndarray, discrete: bool) -> None:
    """Hash each row once, then sort n + 2 columns of N 64-bit keys."""
    codes = (X if discrete else binned(X)).astype(np.uint64)
    N, n = codes.shape
    with np.errstate(over="ignore"):
        h = (codes * multipliers(n)).sum(axis=1)
        keys = h[None, :] - codes.T * multipliers(n)[:, None]
        keys = np.vstack([keys, h[None, :], (h ^ v.astype(np.uint64))[None, :]])
    np.sort(keys, axis=1)


def row(name, ours, other, label, goal):
    """Speed-ups over an alternative read alternative / gib; against the floor, gib / floor."""
    if label.startswith("floor"):
        ratio = f"gib / floor = {ours / other:.2f}"
    else:
        ratio = f"{other / ours:.1f}x faster"
    return f"| {name} | {ours:.4f} | {label} | {other:.4f} | {ratio} | {goal} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    N, n, N_kde, n_wide = (1000, 20, 500, 500) if args.quick else (5000, 50, 2000, 3072)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, n))
    Xd = rng.integers(0, 4, size=(N, n))
    v = rng.integers(0, 10, size=N)
    r = args.repeats

    lines = [
        f"Machine: {platform.processor() or platform.machine()}, numpy {np.__version__}; "
        f"best of {r}; N = {N}, n = {n} unless stated. Times in seconds.",
        "",
        "| measurement | gib (s) | alternative | alternative (s) | ratio | goal |",
        "|---|---|---|---|---|---|",
    ]
    for est, data, discrete in (("binning", X, False), ("discrete", Xd, True)):
        ours = best_of(lambda: gib.synergy(data, v, estimator=est), r)
        sk = best_of(lambda: sklearn_loop(data, v, discrete), max(1, r - 2))
        fl = best_of(lambda: floor(data, v, discrete), r)
        lines.append(row(f"{est} synergy", ours, sk, "scikit-learn loop", ">= 60x faster"))
        lines.append(row(f"{est} synergy", ours, fl, "floor (hash + sort n+2 columns)", "gib / floor <= 3"))
        # the same answer as the user's loop
        assert abs(gib.synergy(data, v, estimator=est) - sklearn_loop(data, v, discrete)) < 1e-9

    gc = gib.get_estimator("gcmi")
    ours = best_of(lambda: gib.synergy(X, v, estimator="gcmi"), r)
    direct = best_of(lambda: gc.leave_one_out_direct(X, v), 1)
    lines.append(row("gcmi synergy", ours, direct, "gib GCMI MI per subset", ">= 20x faster"))

    Xk, vk = X[:N_kde], v[:N_kde]
    kde = gib.get_estimator("kde")
    ours_kde = best_of(lambda: gib.synergy(Xk, vk, estimator="kde"), 1)
    direct = best_of(lambda: kde.leave_one_out_direct(Xk, vk), 1)
    lines.append(row(f"kde synergy (N = {N_kde})", ours_kde, direct, "gib KDE MI per subset", "faster"))

    Xw = rng.normal(size=(N, n_wide))
    ours = best_of(lambda: gib.synergy(Xw, v, estimator="binning"), r)
    fl = best_of(lambda: floor(Xw, v, False), r)
    lines.append(row(f"binning synergy, n = {n_wide}", ours, fl, "floor (hash + sort n+2 columns)",
                     "gib / floor <= 3"))

    print("\n".join(lines))

    # where the KDE fast path spends its time
    profile = cProfile.Profile()
    profile.enable()
    gib.synergy(Xk, vk, estimator="kde")
    profile.disable()
    stats = pstats.Stats(profile)
    total = sum(s[3] for s in stats.stats.values() if s[0] == s[1]) or ours_kde
    print(f"\nKDE fast path (N = {N_kde}, n = {n}), top functions by own time:")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:6]
    for (file, line, func), (_, _, own, _, _) in rows:
        print(f"- {func} ({file.rsplit('/', 1)[-1]}:{line}): {own:.3f} s")


if __name__ == "__main__":
    main()
