"""The one input conversion (``gib._validation.as_array``): containers whose columns carry their
own types (DataFrames, object arrays, lists) are converted column by column, each exactly as it
would be alone, or refused naming the column; pandas' missing values are NaN everywhere."""

import numpy as np
import pandas as pd
import pytest

import gib

rng = np.random.default_rng(0)
x = rng.normal(size=40)
codes = rng.integers(0, 3, 40)
letters = np.array(["u", "v", "w"])[codes]
flags = rng.integers(0, 2, 40).astype(bool)


@pytest.mark.parametrize("estimator", ["discrete", "binning", "renyi"])
def test_columns_of_one_kind_give_what_the_array_gives(estimator):
    frame = pd.DataFrame({"a": letters, "b": np.array(["p", "q"])[flags.astype(int)]})
    as_array = np.column_stack([frame["a"].to_numpy(str), frame["b"].to_numpy(str)])
    assert gib.entropy(frame, estimator) == pytest.approx(gib.entropy(as_array, estimator), abs=1e-12)
    # integers beside booleans: one integer array; nullable and categorical dtypes as their values
    ints = pd.DataFrame({"c": pd.array(codes, dtype="Int64"), "f": flags,
                         "k": pd.Categorical(codes)})
    assert gib.total_correlation(ints, estimator) == pytest.approx(
        gib.total_correlation(np.column_stack([codes, flags, codes]), estimator), abs=1e-12)
    assert gib.mutual_information(frame[["a"]], pd.Series(codes), estimator) == pytest.approx(
        gib.mutual_information(letters, codes, estimator), abs=1e-12)


def test_a_float_column_beside_labels_is_refused_naming_both():
    """Before: the float column was turned into strings (each value its own class) beside the
    labels, TC = 1.0 bit where the two columns' MI is 0.41."""
    frame = pd.DataFrame({"a": x, "b": ["u", "v"] * 20})
    with pytest.raises(TypeError, match=r"`X` mixes columns of different kinds \(floating-point column\(s\) 'a'; "
                                        r"label column\(s\) 'b'\)"):
        gib.total_correlation(frame)
    for mixed in ([[1.5, "a"], [2.5, "b"]] * 20, np.array([[1.5, "a"], [2.5, "b"]] * 20, dtype=object)):
        with pytest.raises(TypeError, match=r"`a` mixes columns .*floating-point column\(s\) 0; "
                                            r"label column\(s\) 1"):
            gib.entropy(mixed)
    with pytest.raises(TypeError, match="`X` mixes .* integer column\\(s\\) 'n'"):
        gib.leave_one_out(pd.DataFrame({"x": x, "n": codes}), codes)
    # a list of labels is labels, as before
    assert gib.entropy([["u", "p"], ["v", "p"]] * 20, "discrete") == pytest.approx(1.0)


@pytest.mark.parametrize("estimator", ["renyi", "discrete"])
def test_object_arrays_give_per_feature_values_equal_to_the_direct_ones(estimator):
    """Strings in an object array are labels in every subset: before, a subset whose strings all
    looked like numbers ('0', '1') became floats, so TC(X_-i) computed alone differed from the
    fast path's (renyi: 0.6478 against 0.6513 bits)."""
    obj = np.empty((40, 3), dtype=object)
    obj[:, 0] = [str(v) for v in rng.integers(0, 4, 40)]
    obj[:, 1] = letters
    obj[:, 2] = [str(v) for v in codes]
    whole = gib.total_correlation(obj, estimator)
    direct = [whole - gib.total_correlation(np.delete(obj, i, 1), estimator) for i in range(3)]
    np.testing.assert_allclose(gib.total_correlation(obj, estimator, per_feature=True), direct, atol=1e-12)
    assert whole == pytest.approx(gib.total_correlation(obj.astype(str), estimator), abs=1e-12)


def test_missing_values_are_nan_everywhere():
    """pd.NA, None and NaN: an error naming the column in a frame as for the column alone."""
    with_na = pd.array([1, 2, pd.NA, 3] * 10, dtype="Int64")
    frame = pd.DataFrame({"a": with_na, "b": [1, 2] * 20})
    for data in (frame, pd.Series(with_na), np.array(list(with_na), dtype=object)):
        with pytest.raises(ValueError, match="`a` contains 10 NaN or infinite value"):
            gib.entropy(data, "discrete")
    with pytest.raises(ValueError, match="column 'a'"):
        gib.entropy(frame, "discrete")
    with pytest.raises(ValueError, match=r"`a` has 20 missing value\(s\) .* among labels \(column 's'\)"):
        gib.entropy(pd.DataFrame({"s": pd.array(["a", None] * 20, dtype="string")}), "discrete")
    with pytest.raises(ValueError, match="`y` has 1 missing value"):
        gib.ib_point(x, x, np.array(["a", pd.NA] + ["b"] * 38, dtype=object))
    # without the missing rows the frame is integer codes
    codes = np.tile([[1, 1], [2, 2], [3, 2]], (10, 1))
    assert gib.entropy(frame.dropna(), "discrete") == pytest.approx(gib.entropy(codes, "discrete"), abs=1e-12)


def test_values_that_are_neither_numbers_nor_labels_are_refused():
    with pytest.raises(TypeError, match="`a` holds values that are neither numbers nor labels"):
        gib.entropy(np.array([{1: 2}, {3: 4}] * 20, dtype=object))


@pytest.mark.parametrize("estimator", ["discrete", "kde", "gcmi", "renyi"])
def test_uint64_above_int64_gives_the_same_values_on_every_path(estimator):
    """torch computes with int64: uint64 values of 2^63 and more are shifted by -2^63 as a whole
    (order and gaps kept; a plain cast wrapped them to negative numbers, out of order), so a
    tensor and the device option give what NumPy's uint64 gives."""
    torch = pytest.importorskip("torch")
    X = np.random.default_rng(2).choice(np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64), size=(40, 3))
    y = (X[:, 0] > 2**62).astype(int)
    host = gib.leave_one_out(X, y, estimator)
    for data, options in ((torch.from_numpy(X), {}), (X, {"device": "cpu"})):
        got = gib.leave_one_out(data, y, estimator, **options)
        np.testing.assert_allclose(got.complement, host.complement, atol=1e-9)
        assert got.joint == pytest.approx(host.joint, abs=1e-9)
    assert gib.o_information(torch.from_numpy(X), estimator) == pytest.approx(gib.o_information(X, estimator),
                                                                               abs=1e-9)


def test_object_columns_of_whole_numbers_stay_integers():
    """[0, 2^63, 1, 2^64 - 1] as Python ints: NumPy's own guess is float64 (2^64 - 1 and 2^64
    then coincide); the column is uint64, as the same numbers in a uint64 array."""
    big = np.array([0, 2**63, 1, 2**64 - 1] * 10, dtype=np.uint64)
    obj = np.array(big.tolist(), dtype=object)
    assert gib.entropy(obj, "discrete") == pytest.approx(gib.entropy(big, "discrete")) == pytest.approx(2.0)
