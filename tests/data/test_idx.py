import gzip

import numpy as np
import pytest

from gib.data import DataFormatError, DataNotFoundError, read_idx, write_idx
from gib.data.idx import read_idx_split


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    file = write_idx(tmp_path / f"a-idx3-ubyte{suffix}", array)
    back = read_idx(file)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_gzip_detected_from_content_not_name(tmp_path):
    file = write_idx(tmp_path / "labels-idx1-ubyte", np.array([3, 1, 4], dtype=np.uint8), compress=True)
    assert file.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(file), [3, 1, 4])


def test_header_is_the_published_layout(tmp_path):
    file = write_idx(tmp_path / "x-idx1-ubyte", np.array([7, 8], dtype=np.uint8))
    assert file.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 2, 7, 8])


def test_bad_magic(tmp_path):
    file = tmp_path / "bad-idx1-ubyte"
    file.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DataFormatError, match="bad-idx1-ubyte is not an IDX file"):
        read_idx(file)


def test_unknown_type_code(tmp_path):
    file = tmp_path / "odd-idx1-ubyte"
    file.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(DataFormatError, match="unknown IDX type code 0x07"):
        read_idx(file)


def test_truncated_file(tmp_path):
    file = write_idx(tmp_path / "t-idx3-ubyte", np.zeros((3, 4, 4), dtype=np.uint8))
    file.write_bytes(file.read_bytes()[:-5])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        read_idx(file)


def test_damaged_gzip(tmp_path):
    file = tmp_path / "t-idx1-ubyte.gz"
    file.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))[:-6])
    with pytest.raises(DataFormatError, match="damaged gzip"):
        read_idx(file)


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_idx(tmp_path / "nope-idx1-ubyte")


def test_write_rejects_dtype(tmp_path):
    with pytest.raises(ValueError, match="dtype int64.*cast"):
        write_idx(tmp_path / "x", np.arange(3))


def test_read_split_checks_the_pair(tmp_path, write_mnist_folder):
    write_mnist_folder(tmp_path, n_train=5)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataFormatError, match="5 images but .* 4 labels"):
        read_idx_split(tmp_path, "train")


def test_read_split_dotted_names(tmp_path):
    write_idx(tmp_path / "t10k-images.idx3-ubyte", np.zeros((2, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels.idx1-ubyte", np.array([1, 2], dtype=np.uint8))
    images, labels, _ = read_idx_split(tmp_path, "test")
    assert images.shape == (2, 28, 28) and labels.dtype == np.int64
