import numpy as np
import pytest
import scipy.io

from gib.data import (
    DataFormatError,
    DataNotFoundError,
    load_var_u_mat,
    split_indices,
    twelve_bit_labels,
    twelve_bit_patterns,
    twelve_bit_task,
)
from gib.data.twelve_bit import ICOSAHEDRON


def test_all_4096_unique_patterns():
    patterns = twelve_bit_patterns()
    assert patterns.shape == (4096, 12) and patterns.dtype == np.float32
    assert set(np.unique(patterns)) == {0.0, 1.0}
    assert len(np.unique(patterns, axis=0)) == 4096
    np.testing.assert_array_equal(patterns[5], [0] * 9 + [1, 0, 1])  # row k is k in binary, MSB first


def test_labels_balanced():
    labels = twelve_bit_labels()
    assert labels.dtype == np.int64 and set(np.unique(labels)) == {0, 1}
    assert abs(labels.mean() - 0.5) < 0.01


def test_icosahedron_is_regular():
    np.testing.assert_allclose(np.linalg.norm(ICOSAHEDRON, axis=1), 1.0)
    gram = np.round(ICOSAHEDRON @ ICOSAHEDRON.T, 6)
    # each vertex: itself, 5 neighbours at 1/sqrt(5), 5 at -1/sqrt(5), its antipode
    for row in gram:
        values, counts = np.unique(row, return_counts=True)
        assert dict(zip(values, counts)) == {-1.0: 1, round(-5**-0.5, 6): 5, round(5**-0.5, 6): 5, 1.0: 1}


@pytest.mark.parametrize(
    "rotation",
    [np.diag([1.0, -1.0, -1.0]), np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])],
)
def test_labels_invariant_under_rotations_of_the_sphere(rotation):
    # a rotation that maps the vertices onto themselves permutes the bits; labels must not change
    rotated = ICOSAHEDRON @ rotation.T
    permutation = [int(np.argmin(np.linalg.norm(ICOSAHEDRON - v, axis=1))) for v in rotated]
    assert sorted(permutation) == list(range(12))
    patterns = twelve_bit_patterns()
    moved = np.empty_like(patterns)
    moved[:, permutation] = patterns
    np.testing.assert_array_equal(twelve_bit_labels(moved), twelve_bit_labels(patterns))


def test_split_is_deterministic_and_partitions():
    a, b = twelve_bit_task(seed=3), twelve_bit_task(seed=3)
    np.testing.assert_array_equal(a.train_index, b.train_index)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert len(a.test_index) == round(4096 * 0.2)
    assert np.intersect1d(a.train_index, a.test_index).size == 0
    assert len(np.union1d(a.train_index, a.test_index)) == 4096
    other = twelve_bit_task(seed=4)
    assert not np.array_equal(a.test_index, other.test_index)
    x_train, y_train, x_test, y_test = a
    np.testing.assert_array_equal(x_train, twelve_bit_patterns()[a.train_index])
    np.testing.assert_array_equal(y_test, twelve_bit_labels()[a.test_index])
    assert "generated" in a.source


def test_split_indices_checks():
    with pytest.raises(ValueError, match="test_fraction"):
        split_indices(10, test_fraction=1.5)
    with pytest.raises(ValueError, match="test_fraction"):
        split_indices(3, test_fraction=0.01)


def test_var_u_mat_round_trip(tmp_path):
    patterns, labels = twelve_bit_patterns(), twelve_bit_labels()
    file = tmp_path / "var_u.mat"
    scipy.io.savemat(file, {"F": patterns.astype(np.float64), "y": labels[None, :].astype(np.uint8)})
    got_patterns, got_labels = load_var_u_mat(file)
    np.testing.assert_array_equal(got_patterns, patterns)
    np.testing.assert_array_equal(got_labels, labels)
    task = twelve_bit_task(data_path=file, seed=1)
    assert str(file) in task.source
    np.testing.assert_array_equal(task.y_train, labels[twelve_bit_task(seed=1).train_index])


def test_var_u_mat_transposed_patterns(tmp_path):
    file = tmp_path / "var_u.mat"
    scipy.io.savemat(file, {"F": twelve_bit_patterns().T, "y": twelve_bit_labels()})
    assert load_var_u_mat(file)[0].shape == (4096, 12)


def test_var_u_mat_missing_field(tmp_path):
    file = tmp_path / "var_u.mat"
    scipy.io.savemat(file, {"F": twelve_bit_patterns(), "labels": twelve_bit_labels()})
    with pytest.raises(DataFormatError, match=r"lacks the field\(s\) y.*labels"):
        load_var_u_mat(file)


def test_var_u_mat_missing_or_corrupt_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="var_u.mat.*data_path=None"):
        load_var_u_mat(tmp_path / "var_u.mat")
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"not a matlab file at all")
    with pytest.raises(DataFormatError, match="not a readable MATLAB file"):
        load_var_u_mat(bad)
