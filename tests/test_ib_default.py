"""The IB plane's default estimator (gib.ib_default): closed forms, the saturation it avoids,
determinism, and agreement with gib.ib_point under the options it returns."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gib
from gib.estimators import get_estimator
from gib.estimators.kde import sketch_columns
from gib.ib_default import (CONSTANT_LAYER_NOISE, MAX_SAMPLES, NOISE_FRACTION, SKETCH_WIDTH, KDEUpperIB,
                            default_ib_estimator, estimator_label, layer_options, probe_rows, squared_distances)

#: bits below log2 N that the default must leave a layer of distinct samples at, where binning
#: sits at log2 N
MARGIN = 1.0


def _mlp_probe(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    T = np.tanh(X @ rng.normal(size=(10, 32)))
    return X, y, T


def _cnn_probe(n=200, channels=8, seed=0):
    """A random conv layer (3x3, ReLU) on 8x8 images: width channels * 36."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 8, 8, generator=gen)
    conv = torch.nn.Conv2d(1, channels, 3)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen))
        conv.bias.zero_()
        T = torch.relu(conv(images)).flatten(1).double().numpy()
    y = (images.mean(dim=(1, 2, 3)) > 0.5).long().numpy()
    return images.flatten(1).double().numpy(), y, T


def test_two_clusters_closed_form():
    # n identical rows at -1 and n at +1 in 5 columns: within-pair distance 0, between 4 * 5 = 20;
    # most pairs are between, so the median is 20 and s2 = 0.1 * 20 = 2, an exponent of 20 / 4 = 5.
    n = 50
    T = np.repeat([[-1.0] * 5, [1.0] * 5], n, axis=0)
    X = np.arange(2 * n)[:, None]
    y = np.repeat([0, 1], n)
    options, complexity, prediction = KDEUpperIB(X, y).default_point(T)
    assert options == {"noise_variance": 2.0}
    expected = 1.0 - math.log2(1.0 + math.exp(-5.0))
    assert complexity == pytest.approx(expected, abs=1e-12)
    assert prediction == pytest.approx(expected, abs=1e-12)


def test_noise_is_the_fraction_of_the_median_pairwise_distance():
    # squared gaps of 0, 1, 3, 7: 1, 9, 49, 4, 36, 16; median (9 + 16) / 2
    T = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert layer_options(T) == {"noise_variance": round(NOISE_FRACTION * 12.5, 10)}
    assert layer_options(T, fraction=0.5) == {"noise_variance": 6.25}


@pytest.mark.parametrize("probe", [_mlp_probe, _cnn_probe])
def test_default_leaves_headroom_where_binning_saturates(probe):
    X, y, T = probe()
    n = len(X)
    binned = gib.ib_point(T, X, y, "binning", warn=False)
    assert binned.complexity == pytest.approx(math.log2(n), abs=1e-9)  # every probe row told apart
    assert binned.saturated
    name, options = default_ib_estimator({"t": T}, X, y)["t"]
    point = gib.ib_point(T, X, y, name, warn=False, **options)
    assert point.complexity_ceiling == pytest.approx(math.log2(n))
    assert point.complexity <= math.log2(n) - MARGIN
    assert 0.0 < point.prediction < point.prediction_ceiling
    assert not point.saturated


@pytest.mark.parametrize("probe", [_mlp_probe, _cnn_probe])
def test_options_reproduce_the_value_through_ib_point(probe):
    X, y, T = probe()
    ib = KDEUpperIB(X, y)
    options, complexity, prediction = ib.default_point(T)
    name, returned = default_ib_estimator({"t": T}, X, y)["t"]
    assert (name, returned) == ("kde_upper", options)
    point = gib.ib_point(T, X, y, name, warn=False, **options)
    assert complexity == pytest.approx(point.complexity, abs=1e-9)
    assert prediction == pytest.approx(point.prediction, abs=1e-9)
    # the float32 Gram product of the probe's activations: the same to rounding
    options32, complexity32, prediction32 = ib.default_point(T.astype(np.float32))
    assert options32["noise_variance"] == pytest.approx(options["noise_variance"], rel=1e-3)
    assert complexity32 == pytest.approx(complexity, abs=1e-3)
    assert prediction32 == pytest.approx(prediction, abs=1e-3)


def test_a_wide_layer_is_sketched_and_reproduced_through_ib_point():
    X, y, T = _cnn_probe(n=120, channels=128)  # 128 * 36 = 4608 columns
    assert T.shape[1] > SKETCH_WIDTH
    ib = KDEUpperIB(X, y)
    options, complexity, prediction = ib.default_point(T)
    assert options["sketch"] == SKETCH_WIDTH
    point = gib.ib_point(T, X, y, "kde_upper", warn=False, **options)
    assert (complexity, prediction) == pytest.approx((point.complexity, point.prediction), abs=1e-9)
    # the sketch keeps the estimate near the exact one (same noise)
    exact = ib.point(T, options["noise_variance"])
    assert complexity == pytest.approx(exact[0], abs=0.1)
    assert prediction == pytest.approx(exact[1], abs=0.1)


def test_the_rule_is_deterministic_and_takes_tensors():
    X, y, T = _mlp_probe()
    first = default_ib_estimator({"a": T, "b": T[:, :5]}, X, y)
    assert default_ib_estimator({"a": T.copy(), "b": T[:, :5].copy()}, X, y) == first
    assert default_ib_estimator({"a": torch.as_tensor(T), "b": torch.as_tensor(T[:, :5])}) == first
    ib = KDEUpperIB(X, y)
    assert ib.default_point(T) == ib.default_point(T)


def test_scaling_a_layer_leaves_its_point():
    # the noise follows the layer's spread: a ruler in the layer's own units
    X, y, T = _mlp_probe()
    ib = KDEUpperIB(X, y)
    _, c1, p1 = ib.default_point(T)
    options, c2, p2 = ib.default_point(1000.0 * T)
    assert (c2, p2) == pytest.approx((c1, p1), abs=2e-3)  # s2 is rounded to 4 digits


def test_fast_path_groups_repeated_inputs():
    # X with repeated rows: I(X;T) subtracts the within-group terms, as kde_upper does
    X, y, T = _mlp_probe(n=300)
    Xr = np.repeat(X[:100], 3, axis=0)
    name, options = default_ib_estimator({"t": T})["t"]
    point = gib.ib_point(T, Xr, y, name, warn=False, **options)
    assert KDEUpperIB(Xr, y).point(T, **options) == pytest.approx((point.complexity, point.prediction), abs=1e-9)


def test_a_large_probe_is_thinned_to_evenly_spaced_rows():
    X, y, T = _mlp_probe(n=MAX_SAMPLES + 200)
    rows = probe_rows(len(X))
    assert len(rows) == MAX_SAMPLES and rows[0] == 0 and rows[-1] == len(X) - 1
    assert np.all(np.diff(rows) >= 1)
    ib = KDEUpperIB(X, y)
    assert np.array_equal(ib.rows, rows)
    assert ib.ceilings == pytest.approx((math.log2(MAX_SAMPLES), gib.ib_ceilings(X[rows], y[rows], "kde_upper")[1]))
    options, complexity, prediction = ib.default_point(T)
    assert default_ib_estimator({"t": T}, X, y)["t"] == ("kde_upper", options)
    point = gib.ib_point(T[rows], X[rows], y[rows], "kde_upper", warn=False, **options)
    assert (complexity, prediction) == pytest.approx((point.complexity, point.prediction), abs=1e-9)
    # max_samples=None: every row
    assert len(KDEUpperIB(X, y, max_samples=None).rows) == len(X)
    with pytest.raises(ValueError, match="max_samples"):
        probe_rows(10, 1)


def test_a_constant_layer():
    X, y, _ = _mlp_probe(n=50)
    options, complexity, prediction = KDEUpperIB(X, y).default_point(np.ones((50, 4)))
    assert options == {"noise_variance": CONSTANT_LAYER_NOISE}
    assert complexity == pytest.approx(0.0, abs=1e-12) and prediction == pytest.approx(0.0, abs=1e-12)


def test_squared_distances_are_the_direct_ones():
    rng = np.random.default_rng(1)
    T = rng.normal(size=(30, 7)) + 100.0  # a large mean: centring keeps the digits
    direct = ((T[:, None, :] - T[None, :, :]) ** 2).sum(-1)
    assert np.allclose(squared_distances(T), direct, rtol=0, atol=1e-9)
    assert np.all(np.diag(squared_distances(T)) == 0)


def test_sketch_columns():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 10))
    assert sketch_columns(a, 10) is a
    # d = 10 into width 4: 3 folds of k = 4 columns, column c added with its sign into c mod 4
    signs = 2 * np.random.default_rng(0).integers(0, 2, size=10) - 1
    expected = np.zeros((5, 4))
    for c in range(10):
        expected[:, c % 4] += signs[c] * a[:, c]
    assert np.allclose(sketch_columns(a, 4), expected, rtol=0, atol=1e-12)
    # squared distances are kept in expectation: over many pairs the ratio's mean is near 1
    b = rng.normal(size=(200, 8192))
    ratio = squared_distances(b, 2048)[np.triu_indices(200, 1)] / squared_distances(b)[np.triu_indices(200, 1)]
    assert abs(ratio.mean() - 1.0) < 0.01 and ratio.std() < 0.05


def test_sketch_refuses_per_column_measures():
    est = get_estimator("kde_upper", noise_variance=0.1, sketch=4)
    X = np.random.default_rng(3).normal(size=(20, 6))
    with pytest.raises(ValueError, match="sketch"):
        est.leave_one_out(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="sketch"):
        est.entropies(X)


def test_estimator_label():
    assert estimator_label("kde_upper", {"noise_variance": 0.0123, "sketch": 4096}) == \
        "kde_upper(noise_variance=0.0123, sketch=4096)"
    assert estimator_label("binning", {}) == "binning"


def test_bad_input():
    X, y, T = _mlp_probe(n=50)
    with pytest.raises(TypeError, match="layers"):
        default_ib_estimator({})
    with pytest.raises(ValueError, match="same number|samples|length"):
        default_ib_estimator({"t": T[:40]}, X, y)
    bad = T.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        default_ib_estimator({"t": bad})
    with pytest.raises(ValueError, match="fraction"):
        default_ib_estimator({"t": T}, fraction=0.0)
    with pytest.raises(ValueError, match="probe set"):
        KDEUpperIB(X, y).point(T[:40], 1.0)
