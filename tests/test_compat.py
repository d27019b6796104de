"""The deprecation helpers: old calls keep working, with a warning, and give the same result."""

import warnings

import pytest

from gib._compat import keyword_only, renamed


@keyword_only
def scaled(a, b, *, factor=2, offset=0):
    return (a + b) * factor + offset


@renamed("n_bins", "output_bins")
def binned(x, *, output_bins=30):
    return x * output_bins


def test_keyword_only_options_passed_by_position_warn_and_work():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scaled(1, 2, factor=3) == 9  # the new way: no warning
    with pytest.warns(DeprecationWarning, match="factor=..., offset=..."):
        assert scaled(1, 2, 3, 1) == 10
    with pytest.raises(TypeError, match="multiple values for factor"):
        scaled(1, 2, 3, factor=4)
    with pytest.raises(TypeError, match="got 5 positional"):
        scaled(1, 2, 3, 4, 5)


def test_renamed_argument():
    with pytest.warns(DeprecationWarning, match="`n_bins` of binned\\(\\) is now `output_bins`"):
        assert binned(2, n_bins=4) == 8
    assert binned(2, output_bins=4) == 8
    with pytest.raises(TypeError, match="both"):
        binned(2, n_bins=4, output_bins=4)
