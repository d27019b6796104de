"""Fashion-MNIST (SPEC 5): IDX files from a folder, the Debian package's copy, or a download.

Images come back as float32 in [0, 1] (pixel / 255), shape (N, 1, 28, 28); labels int64 0..9.

Where the loader looks when ``path`` is None, in order:

1. ``/usr/share/datasets/fashion-mnist/`` (Debian package ``dataset-fashion-mnist``:
   ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
   ``t10k-labels-idx1-ubyte.gz``);
2. ``default_data_dir("fashion-mnist")`` (``$GIB_DATA_DIR/fashion-mnist`` or
   ``~/.cache/gib/fashion-mnist``), where ``download=True`` puts the files;
3. a download from the publisher's mirrors (MD5 verified), only with ``download=True``.

The Debian files are recompressed, so their gzip bytes differ from the published ones; their
contents are the same, and the loader checks structure (magic numbers, sizes), not checksums.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._common import ImageData, default_data_dir
from .mnist import IdxDataset, load_idx_dataset

#: Where the Debian package ``dataset-fashion-mnist`` installs the IDX files.
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    md5={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    classes=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
)


def load_fashion_mnist(
    path: str | os.PathLike | None = None, split: str = "train", download: bool = False
) -> ImageData:
    """Load one split of Fashion-MNIST.

    Parameters
    ----------
    path : path, optional
        A folder of IDX files (``train-images-idx3-ubyte[.gz]`` etc.). None searches the Debian
        package's folder, then the data directory.
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    download : bool
        Fetch the IDX files (MD5 verified) into ``path`` or the data directory when they are not found.

    Returns
    -------
    ImageData
        ``x`` float32 (N, 1, 28, 28) in [0, 1], ``y`` int64, ``source`` naming the files read.
    """
    return load_idx_dataset(
        FASHION_MNIST,
        path,
        split,
        download,
        search=[DEBIAN_FOLDER, default_data_dir(FASHION_MNIST.name)],
        fixes=(
            "install the Debian package: `sudo apt-get install dataset-fashion-mnist` "
            f"(files go to {DEBIAN_FOLDER})",
        ),
    )
