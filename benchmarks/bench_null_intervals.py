"""What the bootstrap intervals of the GIB plane's references (the null predictor and C*) add to a
record step, and what batching a plug-in plane's replicates saves.

One GIB recorder (``binning``, feature-wise synergy) on N probe samples of n binary features, its
rows computed for predictions at ten accuracies 0.505, 0.555, ..., 0.955 (each between two grid
accuracies of the null, so each reaches two grid points the run has not met), then at the same ten
again (the null's points and replicates cached). For each setting (bootstrap 0 or B, null none or
"linear" with 3 seeds) the table gives the median seconds of a record at new accuracies and at
accuracies already met; the null's intervals cost the difference between the last two rows.
The last line compares one plane's B replicates batched (``GIBPlane.replicates``) with one
leave-one-out per replicate (the estimator's own, under the same weights).

    python benchmarks/bench_null_intervals.py                 # N=1000, n=12, B=200
    python benchmarks/bench_null_intervals.py --samples 4000 --replicates 100
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np

from gib.planes import GIBPlane
from gib.recorders import GIBRecorder, Probed, ProbeSet


def task(samples: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Binary features, y = majority(x0, x1, x2) xor x3, and predictions at ten accuracies with
    nested errors."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(samples, features)).astype(np.float32)
    y = (X[:, :3].sum(axis=1) >= 2).astype(np.int64) ^ X[:, 3].astype(np.int64)
    order = rng.permutation(samples)
    predictions = []
    for accuracy in np.arange(0.505, 0.96, 0.05):
        yhat = y.copy()
        errors = order[: samples - int(round(accuracy * samples))]
        yhat[errors] = 1 - y[errors]
        predictions.append(yhat)
    return X, y, predictions


def record_seconds(X, y, predictions, bootstrap: int, null: str | None) -> tuple[float, float]:
    """Median seconds of the recorder's rows at new accuracies, then at the same ones again."""
    recorder = GIBRecorder("binning", null=null, bootstrap=bootstrap, seed=1)
    recorder.bind(ProbeSet(inputs=X, raw=X, y=y, task="classification", layers=(), output_width=2))
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for yhat in predictions + predictions:
            probed = Probed(step=0, epoch=0.0, layers={}, outputs=np.eye(2)[yhat], yhat=yhat)
            start = time.perf_counter()
            recorder.rows(0, probed)
            times.append(time.perf_counter() - start)
    half = len(predictions)
    return float(np.median(times[:half])), float(np.median(times[half:]))


def batched_vs_loop(X, y, yhat, replicates: int) -> tuple[float, float, float]:
    """Seconds of B replicates batched and one leave-one-out each, and their largest difference."""
    plane = GIBPlane(X, y, "binning", bootstrap=replicates, seed=1)
    plane.replicates(yhat)  # imports and caches out of the timing
    start = time.perf_counter()
    batched = plane.replicates(yhat)
    batched_seconds = time.perf_counter() - start
    a, b, z = plane._codes(yhat)
    start = time.perf_counter()
    largest = 0.0
    for (pieces, _), counts in zip(batched, plane.counts):
        joint = np.zeros((a.max() + 1, b.max() + 1))
        np.add.at(joint, (a, b), counts)
        pmi = joint[a, b] * joint.sum() / (joint.sum(axis=1)[a] * joint.sum(axis=0)[b])
        w = counts * pmi / np.sum(counts * pmi)
        loop = plane.bound.subsets.leave_one_out(z, w)
        largest = max(largest, abs(loop.joint - pieces.joint), float(np.max(np.abs(loop.single - pieces.single))),
                      float(np.max(np.abs(loop.complement - pieces.complement))))
    return batched_seconds, time.perf_counter() - start, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--features", type=int, default=12)
    parser.add_argument("--replicates", type=int, default=200)
    args = parser.parse_args()
    X, y, predictions = task(args.samples, args.features)
    print(f"N={args.samples}, n={args.features} binary features, B={args.replicates}, binning, linear null "
          f"(3 seeds); {platform.machine()}, NumPy {np.__version__}")
    print(f"{'bootstrap':>9}  {'null':>6}  {'new accuracies (s)':>18}  {'met accuracies (s)':>18}")
    for bootstrap, null in ((0, None), (0, "linear"), (args.replicates, None), (args.replicates, "linear")):
        new, met = record_seconds(X, y, predictions, bootstrap, null)
        print(f"{bootstrap:>9}  {str(null):>6}  {new:>18.3f}  {met:>18.3f}")
    batched, loop, largest = batched_vs_loop(X, y, predictions[3], args.replicates)
    print(f"{args.replicates} replicates of one plane: batched {batched:.3f} s, one leave-one-out each "
          f"{loop:.3f} s, largest difference {largest:.1e} bits")


if __name__ == "__main__":
    main()
