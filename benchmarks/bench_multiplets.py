"""Every multiplet's O-information against hoi (Neri, Combrisson et al.), values and speed in one process.

On the same data (N samples, n variables), the O-information of every multiplet of orders 3 to
5, computed three ways:

- gib: ``gib.multiplets(X, "o_information", orders=(3, 4, 5), estimator=...)``, which estimates
  each subset entropy once in batches (``Estimator.subset_entropies``);
- hoi: ``hoi.metrics.Oinfo(X).fit(minsize=3, maxsize=5, method=...)``, with the matching
  entropy: ``method="gc"`` (Gaussian copula with Ince's bias correction: gib's ``gcmi``) on
  Gaussian data and ``method="binning"`` on already-discrete data (gib's ``discrete``);
- gib's per-subset loop: ``gib.o_information(X[:, S], estimator)`` for every multiplet S, the
  2k + 1 entropies of each multiplet computed anew (the loop a user writes without
  ``multiplets``).

hoi is jitted with jax: its ``gc`` fit runs once untimed first, so its time excludes the first
compilation; its ``binning`` fit takes minutes, so it runs once and its time includes the
compilation (about a second at these sizes, the ``gc`` rows' first-call overhead). jax computes in
float32 unless ``--x64``; hoi's table is float32 either way, so the values differ from gib's by its
rounding (the last column). Times are best of ``--repeats`` (hoi binning and the loop: one run).
Ratios: other's time / gib's, all taken in this one process.

hoi is a benchmark dependency only: ``pip install "gib[bench]"``. Without it the hoi column shows
"-". Run: ``nice -n 15 .venv/bin/python benchmarks/bench_multiplets.py --x64`` (``--quick``:
smaller).
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

import gib
from bench_hoi import best_of, load_hoi  # beside this script


def hoi_table(X: np.ndarray, orders: tuple[int, ...], method: str) -> dict[tuple, float]:
    """hoi's O-information of every multiplet of the orders, by multiplet."""
    from hoi.metrics import Oinfo

    model = Oinfo(X, verbose=False)
    values = np.asarray(model.fit(minsize=min(orders), maxsize=max(orders), method=method)).ravel()
    return {tuple(int(i) for i in m if i >= 0): float(v) for m, v in zip(np.asarray(model.multiplets), values)}


def per_subset_loop(X: np.ndarray, frame, estimator: str) -> np.ndarray:
    return np.array([gib.o_information(X[:, list(m)], estimator) for m in frame["multiplet"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--x64", action="store_true", help="run jax (hoi) in float64")
    parser.add_argument("--no-loop", action="store_true", help="leave out the per-subset loop (minutes)")
    args = parser.parse_args()
    N, n, orders = (300, 10, (3, 4)) if args.quick else (1000, 20, (3, 4, 5))
    hoi_version = load_hoi(args.x64)
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(n, n))
    gaussian = rng.normal(size=(N, n)) @ mixing
    cases = (("Gaussian, gcmi / hoi gc", "gcmi", "gc", gaussian),
             ("4 levels, discrete / hoi binning", "discrete", "binning", np.digitize(gaussian, [-1.0, 0.0, 1.0])))
    r = args.repeats
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, "
        f"hoi {hoi_version or 'not installed'} (jax in float{64 if args.x64 else 32}); N = {N}, n = {n}, "
        f"orders {orders[0]}-{orders[-1]}. Times in seconds; ratios: other's time / gib's.",
        "",
        "| data, estimator | multiplets | gib (s) | hoi (s) | hoi / gib | loop (s) | loop / gib | "
        "max \\|gib - hoi\\| (bits) | max \\|gib - loop\\| (bits) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, estimator, method, X in cases:
        gib.multiplets(X, orders=orders[0], estimator=estimator)  # imports, caches
        ours, frame = best_of(lambda: gib.multiplets(X, "o_information", orders=orders, estimator=estimator), r)
        hoi_time = hoi_ratio = deviation = "-"
        if hoi_version is not None:
            if method == "gc":
                hoi_table(X, orders, method)  # compile
            theirs, table = best_of(lambda: hoi_table(X, orders, method), r if method == "gc" else 1)
            reference = np.array([table[m] for m in frame["multiplet"]])
            hoi_time, hoi_ratio = f"{theirs:.2f}", f"{theirs / ours:.0f}"
            deviation = f"{np.max(np.abs(frame['value'].to_numpy() - reference)):.1e}"
        loop_time = loop_ratio = loop_deviation = "-"
        if not args.no_loop:
            looped, values = best_of(lambda: per_subset_loop(X, frame, estimator), 1)
            loop_time, loop_ratio = f"{looped:.2f}", f"{looped / ours:.0f}"
            loop_deviation = f"{np.max(np.abs(frame['value'].to_numpy() - values)):.1e}"
        lines.append(f"| {label} | {len(frame)} | {ours:.3f} | {hoi_time} | {hoi_ratio} | {loop_time} | "
                     f"{loop_ratio} | {deviation} | {loop_deviation} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
