"""Bad input gives a clear error naming the argument, never a traceback from deep in numpy."""

import numpy as np
import pytest

import gib

rng = np.random.default_rng(0)
X = rng.integers(0, 3, size=(20, 3))
v = rng.integers(0, 2, size=20)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: gib.synergy(np.where(X == 0, np.nan, X), v), ValueError, "`X` contains .* NaN"),
        (lambda: gib.synergy(X.astype(float), np.r_[v[:-1], np.inf]), ValueError, "`v` contains"),
        (lambda: gib.synergy(X, v[:-1]), ValueError, "`X` has 20, `v` has 19"),
        (lambda: gib.mutual_information(X[:1], v[:1]), ValueError, "`a` has 1 sample"),
        (lambda: gib.entropy(np.zeros((4, 2, 2))), ValueError, "`a` has 3 dimensions"),
        (lambda: gib.entropy(3.0), ValueError, "`a` is a scalar"),
        (lambda: gib.synergy(X[:, :1], v), ValueError, "at least 2 features"),
        (lambda: gib.synergy(X, v, estimator="knn"), ValueError, "`estimator` must be one of"),
        (lambda: gib.synergy(X, v, estimator="binning", bins=3), TypeError, "unknown option.*`bins`.*n_bins"),
        (lambda: gib.synergy(X, v, estimator="discrete", n_bins=3), TypeError, "unknown option"),
        (lambda: gib.entropy(X, n_bins=-2), ValueError, "`n_bins` must be a positive integer"),
        (lambda: gib.entropy(X, n_bins=2.5), ValueError, "`n_bins`"),
        (lambda: gib.entropy(X, bin_size=0), ValueError, "`bin_size`"),
        (lambda: gib.entropy(X, range=(1, 0)), ValueError, "`range`"),
        (lambda: gib.entropy(X, bias="jackknife"), ValueError, "`bias` must be one of"),
        (lambda: gib.synergy(X, v, kind="pid"), ValueError, "`kind` must be one of"),
        (lambda: gib.gib_point(X, v, v, target="z"), ValueError, "`target` must be one of"),
        (lambda: gib.gib_point(X, v, v[:-1]), ValueError, "Mismatched"),
        (lambda: gib.synergy(X, v, weights=np.ones(19)), ValueError, "`weights` has shape"),
        (lambda: gib.synergy(X, v, weights=-np.ones(20)), ValueError, "`weights` contains negative"),
        (lambda: gib.synergy(X, v, weights=np.zeros(20)), ValueError, "`weights` sums to 0"),
        (lambda: gib.compression_phase([], []), ValueError, "at least one record"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    a = gib.synergy(torch.tensor(X), torch.tensor(v), estimator="discrete")
    assert a == pytest.approx(gib.synergy(X, v, estimator="discrete"))
