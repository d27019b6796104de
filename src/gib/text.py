"""Tokenisation to fixed-length token-id rows, the GIB input features of SPEC 4 ``bert``.

Two kinds of tokenizer are accepted wherever one is needed:

- a Hugging Face tokenizer (``transformers.AutoTokenizer``), loaded offline by
  :func:`load_tokenizer` from a model folder or the local cache;
- :class:`HashTokenizer`, a dependency-free stand-in for tests and smoke runs: lower-cased words
  and punctuation marks, each mapped to an id by a stable hash, with BERT's layout of special
  tokens (``[CLS] tokens [SEP] [PAD]...``).

:func:`encode_texts` turns texts into an ``(N, max_length)`` int64 array with padding and
truncation, whichever tokenizer it gets. Token ids are integers, so the plug-in estimators take
each position as one discrete variable (``binning`` passes integer columns through unbinned).
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import positive_int

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class HashTokenizer:
    """Offline word tokenizer: ids by a stable hash (CRC-32) of each lower-cased token.

    Ids 0..3 are ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]`` (BERT's order differs, its ids come
    from its vocabulary file; only the layout of a row matters here). Every other token maps to
    ``4 + crc32(token) mod (vocab_size - 4)``, so distinct words may share an id when the
    vocabulary is small: it is a hashing trick, not a vocabulary.

    Parameters
    ----------
    vocab_size : int, default 1000
        Number of ids, special ones included (at least 5).
    lowercase : bool, default True

    Examples
    --------
    >>> tok = HashTokenizer(vocab_size=100)
    >>> tok.tokenize("Hello, World!")
    ['hello', ',', 'world', '!']
    >>> ids = encode_texts(tok, ["Hello, World!"], max_length=8)
    >>> ids[0, [0, 5]].tolist() == [tok.cls_token_id, tok.sep_token_id], ids[0, 6:].tolist()
    (True, [0, 0])
    """

    pad_token_id = 0
    unk_token_id = 1
    cls_token_id = 2
    sep_token_id = 3
    n_special = 4

    def __init__(self, vocab_size: int = 1000, lowercase: bool = True):
        vocab_size = positive_int(vocab_size, "vocab_size")
        if vocab_size <= self.n_special:
            raise ValueError(f"`vocab_size` must exceed {self.n_special} (the special tokens), got {vocab_size}.")
        self.vocab_size = vocab_size
        self.lowercase = bool(lowercase)

    def __repr__(self) -> str:
        return f"HashTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase})"

    def tokenize(self, text: str) -> list[str]:
        """Words (runs of letters, digits, underscores) and single punctuation marks."""
        return _WORD.findall(text.lower() if self.lowercase else text)

    def token_id(self, token: str) -> int:
        return self.n_special + zlib.crc32(token.encode("utf-8")) % (self.vocab_size - self.n_special)

    def encode(self, texts: Sequence[str], max_length: int) -> np.ndarray:
        """``[CLS] t_1 ... t_k [SEP] [PAD] ...`` rows of length ``max_length`` (k truncated to fit)."""
        out = np.full((len(texts), max_length), self.pad_token_id, dtype=np.int64)
        room = max_length - 2
        for row, text in enumerate(texts):
            ids = [self.token_id(t) for t in self.tokenize(text)[:room]]
            out[row, 0] = self.cls_token_id
            out[row, 1 : 1 + len(ids)] = ids
            out[row, 1 + len(ids)] = self.sep_token_id
        return out


def load_tokenizer(source: str | os.PathLike[str]) -> Any:
    """A Hugging Face tokenizer from a model folder or the local cache, never from the network.

    Parameters
    ----------
    source : str or path
        A model folder holding the tokenizer files, or a hub name already in the local cache.

    Returns
    -------
    transformers.PreTrainedTokenizerBase
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise ImportError(
            "Tokenizers of Hugging Face models need the `transformers` package; install the text "
            "extra with `pip install 'gib[text]'`."
        ) from exc
    source = os.path.expanduser(os.fspath(source))
    if source.startswith((".", os.sep)) and not Path(source).exists():
        raise FileNotFoundError(f"`source` {source!r} does not exist; pass a Hugging Face model folder.")
    try:
        return AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise OSError(
            f"Could not load a tokenizer from {source!r} offline: it is neither a folder with "
            "tokenizer files nor a name in the local Hugging Face cache (downloads are off)."
        ) from exc


def pad_token_id(tokenizer: Any) -> int:
    """The id that marks padding (the attention mask is ``ids != pad_token_id``)."""
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        raise ValueError(f"the tokenizer {type(tokenizer).__name__} has no padding token; pass one that does.")
    return int(pad)


def vocab_size(tokenizer: Any) -> int:
    """Number of ids the tokenizer can produce (added tokens included)."""
    return int(len(tokenizer)) if hasattr(tokenizer, "__len__") else int(tokenizer.vocab_size)


def encode_texts(tokenizer: Any, texts: Sequence[str], max_length: int, batch_size: int = 2048) -> np.ndarray:
    """Token ids of ``texts``, padded and truncated to exactly ``max_length`` per row.

    Parameters
    ----------
    tokenizer : HashTokenizer or transformers tokenizer
    texts : sequence of str
    max_length : int
        Row length, special tokens included (at least 2: ``[CLS]`` and ``[SEP]``).
    batch_size : int
        Texts per call of a Hugging Face tokenizer (bounds memory on 120,000 texts).

    Returns
    -------
    np.ndarray
        int64, shape (len(texts), max_length). Each row is ``[CLS] tokens [SEP]`` followed by
        padding; a long text is cut so that ``[SEP]`` still ends the row.
    """
    max_length = positive_int(max_length, "max_length")
    if max_length < 2:
        raise ValueError(f"`max_length` must be at least 2 (room for [CLS] and [SEP]), got {max_length}.")
    if isinstance(texts, str):
        raise TypeError("`texts` is one string; pass a list of texts.")
    texts = [str(t) for t in texts]
    if isinstance(tokenizer, HashTokenizer):
        return tokenizer.encode(texts, max_length)
    if not callable(tokenizer):
        raise TypeError(
            f"`tokenizer` must be a HashTokenizer or a Hugging Face tokenizer, got {type(tokenizer).__name__}."
        )
    out = np.empty((len(texts), max_length), dtype=np.int64)
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(
            texts[start : start + batch_size], padding="max_length", truncation=True, max_length=max_length,
            return_attention_mask=False, return_token_type_ids=False,
        )["input_ids"]
        out[start : start + len(encoded)] = np.asarray(encoded, dtype=np.int64)
    return out


def attention_mask(ids: Any, pad_id: int) -> Any:
    """1 where a row holds a token, 0 on padding (works on NumPy arrays and torch tensors)."""
    mask = ids != pad_id
    return mask.long() if hasattr(mask, "long") else mask.astype(np.int64)
