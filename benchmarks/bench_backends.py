"""NumPy versus torch (CPU, and CUDA when present) for the leave-one-out paths, side by side.

One process, the same data for every backend, the best of a few repeats; prints a markdown
table of seconds and of the NumPy time divided by each torch time (> 1: torch is faster).

    python benchmarks/bench_backends.py                 # every case
    python benchmarks/bench_backends.py --threads 1     # torch's and BLAS's threads
    python benchmarks/bench_backends.py --skip-slow     # without kde at n = 784
    python benchmarks/bench_backends.py --only kde/784 --repeats 1
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
import torch

import gib

# (estimator, options, N, n): SPEC 3's sizes; kde is quadratic in N, so it gets N = 2000.
CASES = [
    ("binning", {}, 5000, 50),
    ("binning", {}, 5000, 784),
    ("gcmi", {}, 5000, 50),
    ("gcmi", {}, 5000, 784),
    ("kde", {}, 2000, 50),
    ("kde", {}, 2000, 784),
]
SLOW = {("kde", 784)}


def activations(N: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A hidden layer's worth of tanh activations and 4 class labels that depend on them (4, so
    that each class has more samples than gcmi's 784-dimensional covariance needs)."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(N, 20))
    X = np.tanh(inputs @ rng.normal(size=(20, n)) / np.sqrt(20) + 0.1 * rng.normal(size=(N, n)))
    score = inputs[:, 0] + inputs[:, 1]
    labels = np.digitize(score, np.quantile(score, [0.25, 0.5, 0.75]))
    return X, labels


def best_time(run, repeats: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()  # results come back as NumPy arrays: the device work is finished
        best = min(best, time.perf_counter() - start)
    return best, result


def deviation(a, b) -> float:
    return max(abs(a.joint - b.joint), np.max(np.abs(a.single - b.single)), np.max(np.abs(a.complement - b.complement)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of torch and of NumPy's BLAS (default: their own)"
    )
    parser.add_argument("--skip-slow", action="store_true", help="leave out kde at n = 784")
    parser.add_argument("--only", action="append", default=[], help="NAME or NAME/n, e.g. kde/784 (repeatable)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        try:  # a multi-threaded BLAS on a busy machine can be slower than one thread
            from threadpoolctl import threadpool_limits

            threadpool_limits(args.threads)  # for the rest of the process
        except ImportError:
            pass
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s)"
        + (f", {torch.cuda.get_device_name()}" if "cuda" in devices else ", no CUDA device")
        + f"; best of {args.repeats}\n"
    )
    header = ["estimator", "N", "n", "NumPy s"]
    for d in devices:
        header += [f"torch-{d} s", f"NumPy / torch-{d}", f"max dev {d} (bits)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, options, N, n in CASES:
        if args.skip_slow and (name, n) in SLOW:
            continue
        if args.only and name not in args.only and f"{name}/{n}" not in args.only:
            continue
        X, labels = activations(N, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gib.SaturationWarning)
            numpy_est = gib.get_estimator(name, **options)
            t_numpy, reference = best_time(lambda: numpy_est.leave_one_out(X, labels), args.repeats)
            row = [name, str(N), str(n), f"{t_numpy:.3f}"]
            for d in devices:
                est = gib.get_estimator(name, device=d, **options)
                if d == "cuda":
                    est.leave_one_out(X[:200, :5], labels[:200])  # CUDA context and kernels, not timed
                t, result = best_time(lambda: est.leave_one_out(X, labels), args.repeats)
                row += [f"{t:.3f}", f"{t_numpy / t:.2f}", f"{deviation(reference, result):.1e}"]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
