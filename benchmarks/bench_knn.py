"""k-NN and matrix-Renyi leave-one-out speed, side by side in one process (issue 15).

- ksg: gib's fast ``leave_one_out`` (I(X;V), every I(X_i;V), every I(X_-i;V)) against
  (a) gib's own KSG mutual information per subset (2n + 1 calls, ``leave_one_out_direct``),
  (b) scikit-learn's ``mutual_info_regression``, which gives only the n singles I(X_i;V)
      (it has no multivariate X), and
  (c) npeet's ``mi`` per subset (2n + 1 calls; KD-trees, max-norm) where it is installed
      (``npeet`` is not on the package registry; its fork ``npeet-plus`` is, same ``mi``);
- renyi: gib's fast ``leave_one_out`` against its per-subset computation, at alpha = 1.01
  (eigenvalues) and alpha = 2 (Frobenius norms, no eigenvalues);
- the peak memory of ksg's ``leave_one_out`` at N = 5000 (tracemalloc: NumPy's allocations);
- ksg's single-feature MIs alone (``mutual_information`` of each column, which goes by k-d trees
  and sorted-value counts from 400 samples on) against scikit-learn's ``mutual_info_regression``
  and ``mutual_info_classif`` at N = 5000 and 20000, and their peak memory.

Ratios are alternative / gib (> 1: gib is faster), timed in this one process, best of
``--repeats``. Run: ``nice -n 15 .venv/bin/python benchmarks/bench_knn.py`` (``--quick``: smaller).
"""

from __future__ import annotations

import argparse
import importlib
import math
import platform
import resource
import tracemalloc

import numpy as np
from bench_synergy import best_of  # the timing helper of the benchmarks (same folder)
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

import gib


def npeet_mi():
    """npeet's ``mi(x, y, k=3, base=2)``, from ``npeet`` or its fork ``npeet_plus``; None if absent."""
    for module in ("npeet.entropy_estimators", "npeet_plus"):
        try:
            return importlib.import_module(module).mi
        except ImportError:
            continue
    return None


def npeet_loop(mi, X: np.ndarray, v: np.ndarray, k: int) -> None:
    mi(X, v, k=k)
    for i in range(X.shape[1]):
        mi(X[:, [i]], v, k=k)
        mi(np.delete(X, i, axis=1), v, k=k)


def peak_memory(N: int, n: int) -> tuple[float, float]:
    """(tracemalloc peak of ksg's leave_one_out, process max RSS), both in MB."""
    rng = np.random.default_rng(1)
    X, v = rng.normal(size=(N, n)), rng.normal(size=N)
    tracemalloc.start()
    gib.leave_one_out(X, v, estimator="ksg")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    N, n, N_renyi, n_renyi = (500, 8, 200, 6) if args.quick else (2000, 16, 500, 8)
    k, r = 3, args.repeats
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, n))
    X[:, 1] += X[:, 0]
    v = np.tanh(X[:, 0]) + X[:, 2] ** 2 + 0.3 * rng.normal(size=N)

    lines = [
        f"Machine: {platform.processor() or platform.machine()}, numpy {np.__version__}; best of {r}; "
        f"k = {k}. Times in seconds; ratio = alternative / gib.",
        "",
        "| measurement | gib (s) | alternative | alternative (s) | ratio |",
        "|---|---|---|---|---|",
    ]

    def row(name, ours, other, label):
        lines.append(f"| {name} | {ours:.3f} | {label} | {other:.3f} | {other / ours:.1f} |")

    ksg = gib.get_estimator("ksg", k=k)
    fast = best_of(lambda: ksg.leave_one_out(X, v), r)
    direct = best_of(lambda: ksg.leave_one_out_direct(X, v), 1)
    what = f"ksg leave_one_out (N = {N}, n = {n})"
    row(what, fast, direct, "gib KSG MI per subset (2n + 1 calls)")
    sk = best_of(lambda: mutual_info_regression(X, v, n_neighbors=k, random_state=0), r)
    row(what, fast, sk, "scikit-learn mutual_info_regression (n singles only)")
    # the same singles as scikit-learn's (which clips at 0), up to its 1e-10 noise
    ours = np.maximum(ksg.leave_one_out(X, v).single, 0.0)
    assert np.allclose(ours, mutual_info_regression(X, v, n_neighbors=k, random_state=0) / math.log(2), atol=2e-3)
    mi = npeet_mi()
    if mi is not None:
        row(what, fast, best_of(lambda: npeet_loop(mi, X, v, k), 1), "npeet mi per subset (2n + 1 calls)")
    else:
        lines.append(f"| {what} | {fast:.3f} | npeet: not installed | - | - |")

    Xr, vr = X[:N_renyi, :n_renyi], v[:N_renyi]
    for alpha in (1.01, 2.0):
        renyi = gib.get_estimator("renyi", alpha=alpha)
        fast = best_of(lambda: renyi.leave_one_out(Xr, vr), r)
        direct = best_of(lambda: renyi.leave_one_out_direct(Xr, vr), 1)
        row(f"renyi leave_one_out, alpha = {alpha} (N = {N_renyi}, n = {n_renyi})", fast, direct,
            "gib Renyi MI per subset (2n + 1 calls)")

    for N_single in (2000, 5000) if args.quick else (5000, 20000):
        n_single = 8
        Xs = rng.normal(size=(N_single, n_single))
        Xs[:, 1] += Xs[:, 0]
        vs = np.tanh(Xs[:, 0]) + Xs[:, 2] ** 2 + 0.3 * rng.normal(size=N_single)
        ys = np.digitize(vs, [0.0, 1.0])
        what = f"ksg single-feature MIs, {{}} (N = {N_single}, n = {n_single})"
        for label, target, theirs in (("continuous V", vs, mutual_info_regression),
                                      ("classes", ys, mutual_info_classif)):
            ours = best_of(lambda: [ksg.mutual_information(Xs[:, [i]], target) for i in range(n_single)], r)
            other = best_of(lambda: theirs(Xs, target, n_neighbors=k, random_state=0), r)
            row(what.format(label), ours, other, f"scikit-learn {theirs.__name__}")
        tracemalloc.start()
        [ksg.mutual_information(Xs[:, [i]], vs) for i in range(n_single)]
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        lines.append(f"| ksg single-feature MIs, continuous V (N = {N_single}): tracemalloc peak {peak:.1f} MB "
                     "| | | | |")
    print("\n".join(lines))
    N_mem, n_mem = (1000, 4) if args.quick else (5000, 8)
    traced, rss = peak_memory(N_mem, n_mem)
    print(f"\nksg leave_one_out at N = {N_mem}, n = {n_mem}: tracemalloc peak {traced:.0f} MB, "
          f"process max RSS {rss:.0f} MB (row blocks: the peak does not grow with N^2 or n).")


if __name__ == "__main__":
    main()
