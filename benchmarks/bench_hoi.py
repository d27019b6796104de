"""Higher-order measures against hoi (Neri, Combrisson et al.), values and speed in one process.

On the same data, the O-information of the whole feature set and its per-feature gradients
O(X) - O(X_-i), computed three ways:

- gib: one ``entropies`` call (and one ``pair_complement_entropies`` call for the gradients);
- hoi: ``hoi.metrics.Oinfo`` over the one multiplet of all n features (and, for the gradients,
  over the n multiplets of n - 1 features too), with the matching entropy: ``method="gc"``
  (Gaussian copula, Ince's bias correction: gib's ``gcmi``) and ``method="binning"`` on
  already-discrete data (gib's ``discrete``);
- gib's direct per-subset computation (``entropies_direct``, ``pair_complement_entropies_direct``).

hoi is jitted with jax: each call is run once untimed first, so its times exclude the first
compilation (a fit still costs about a second of fixed overhead at these sizes, which dominates
its time). jax computes in float32 unless ``--x64``: hoi's values then differ from gib's float64
ones by up to ~5e-3 bits at n = 32 (O-information is a difference of many large entropies); with
``--x64`` by at most ~3e-6 bits. Times are best of ``--repeats``; the table reports ratios (other /
gib), all taken in this one process, and the largest difference between the values in bits.

hoi is a benchmark dependency only: ``pip install "gib[bench]"``. Without it the hoi rows are
left out. Run: ``nice -n 15 .venv/bin/python benchmarks/bench_hoi.py`` (``--quick``: smaller).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import gib


def best_of(fn, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def hoi_oinfo(X: np.ndarray, method: str, per_feature: bool):
    """hoi's O-information of all n features (and O(X) - O(X_-i) with ``per_feature``)."""
    from hoi.metrics import Oinfo

    n = X.shape[1]
    model = Oinfo(X, verbose=False)
    values = np.asarray(model.fit(minsize=n - 1 if per_feature else n, maxsize=n, method=method)).ravel()
    sizes = (np.asarray(model.multiplets) >= 0).sum(axis=1)  # hoi pads multiplets with -1
    whole = float(values[sizes == n][0])
    if not per_feature:
        return whole
    gradient = np.empty(n)
    for multiplet, value in zip(np.asarray(model.multiplets)[sizes == n - 1], values[sizes == n - 1]):
        left_out = sorted(set(range(n)) - set(multiplet[multiplet >= 0].tolist()))[0]
        gradient[left_out] = whole - value
    return gradient


def gib_direct(X: np.ndarray, estimator: str, per_feature: bool):
    """The same measure from gib's direct per-subset computation (module docstring)."""
    est = gib.get_estimator(estimator)
    h = est.entropies_direct(X)
    n = X.shape[1]
    whole = (n - 2) * h.joint + np.sum(h.single - h.complement)
    if not per_feature:
        return whole
    pairs = est.pair_complement_entropies_direct(X)
    rest = (n - 3) * h.complement + (np.sum(h.single) - h.single) - (pairs.sum(axis=1) - np.diagonal(pairs))
    return whole - rest


def load_hoi(x64: bool) -> str | None:
    """hoi's version, with jax in float64 when ``x64`` (hoi's own precision is float32), or None
    when hoi is not installed (the extra ``bench``)."""
    try:
        import hoi
    except ImportError:
        return None
    if x64:
        import jax

        jax.config.update("jax_enable_x64", True)
    return hoi.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--x64", action="store_true", help="run jax (hoi) in float64")
    args = parser.parse_args()
    N = 1000 if args.quick else 5000
    widths = (4, 8) if args.quick else (4, 8, 16, 32)
    hoi_version = load_hoi(args.x64)
    rng = np.random.default_rng(0)
    r = args.repeats

    lines = [
        f"Machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, "
        f"hoi {hoi_version or 'not installed'} (jax in float{64 if args.x64 else 32}); N = {N}; best of {r}. "
        "Ratios: other's time / gib's.",
        "",
        "| data, estimator | n | measure | gib (s) | hoi / gib | direct / gib | max \\|gib - hoi\\| (bits) |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in widths:
        mixing = rng.normal(size=(n, n))
        cases = (("Gaussian, gcmi / hoi gc", "gcmi", "gc", rng.normal(size=(N, n)) @ mixing),
                 ("4 levels, discrete / hoi binning", "discrete", "binning",
                  np.digitize(rng.normal(size=(N, n)) @ mixing, [-1.0, 0.0, 1.0])))
        for label, estimator, method, X in cases:
            for per_feature in (False, True):
                what = "O(X) - O(X_-i)" if per_feature else "O(X)"
                ours, value = best_of(lambda: gib.o_information(X, estimator, per_feature=per_feature), r)
                direct, reference = best_of(lambda: gib_direct(X, estimator, per_feature), 1)
                assert np.max(np.abs(np.asarray(value) - reference)) < 1e-6  # the fast path is exact
                if hoi_version is None:
                    hoi_ratio, deviation = "-", "-"
                else:
                    hoi_oinfo(X, method, per_feature)  # compile
                    theirs, hoi_value = best_of(lambda: hoi_oinfo(X, method, per_feature), r)
                    hoi_ratio = f"{theirs / ours:.1f}"
                    deviation = f"{np.max(np.abs(np.asarray(value) - hoi_value)):.1e}"
                lines.append(f"| {label} | {n} | {what} | {ours:.4f} | {hoi_ratio} | {direct / ours:.1f} | "
                             f"{deviation} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
