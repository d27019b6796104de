import sys

import pytest
import torch

from gib.models import TokenClassifier, load_text_classifier, tiny_bert_classifier


def test_missing_transformers_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'gib\[text\]'"):
        tiny_bert_classifier()
    with pytest.raises(ImportError, match=r"pip install 'gib\[text\]'"):
        load_text_classifier("/nonexistent", num_labels=2)


def test_tiny_bert_forward_and_seed():
    pytest.importorskip("transformers")
    model = tiny_bert_classifier(num_labels=3, vocab_size=50, seed=0).eval()
    ids = torch.randint(0, 50, (2, 12), generator=torch.Generator().manual_seed(0))
    logits = model(input_ids=ids).logits
    assert logits.shape == (2, 3)
    again = tiny_bert_classifier(num_labels=3, vocab_size=50, seed=0).eval()
    torch.testing.assert_close(again(input_ids=ids).logits, logits)
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 32


def test_load_text_classifier_offline_from_folder(tmp_path):
    pytest.importorskip("transformers")
    saved = tiny_bert_classifier(num_labels=4, vocab_size=50, seed=0)
    saved.save_pretrained(tmp_path)
    model = load_text_classifier(tmp_path, num_labels=4)
    ids = torch.randint(0, 50, (2, 8), generator=torch.Generator().manual_seed(1))
    saved.eval()
    model.eval()
    torch.testing.assert_close(model(input_ids=ids).logits, saved(input_ids=ids).logits)
    # a head of another size is initialised afresh, reproducibly with a seed
    a = load_text_classifier(tmp_path, num_labels=2, seed=3)
    b = load_text_classifier(tmp_path, num_labels=2, seed=3)
    assert a.config.num_labels == 2
    torch.testing.assert_close(a.classifier.weight, b.classifier.weight)


def test_load_text_classifier_bad_arguments(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(FileNotFoundError, match="`model_name_or_path`"):
        load_text_classifier(tmp_path / "missing", num_labels=2)
    with pytest.raises(ValueError, match="`num_labels`"):
        load_text_classifier(tmp_path, num_labels=0)


def test_token_classifier_masks_the_padding():
    pytest.importorskip("transformers")
    model = tiny_bert_classifier(num_labels=3, vocab_size=50, seed=0).eval()
    classifier = TokenClassifier(model, pad_id=0)
    ids = torch.tensor([[5, 7, 9, 11, 0, 0, 0], [3, 4, 0, 0, 0, 0, 0]])
    expected = model(input_ids=ids, attention_mask=(ids != 0).long()).logits
    torch.testing.assert_close(classifier(ids), expected, rtol=0, atol=0)
    # padding more or less leaves a text's logits as they were: the pads are masked out
    for row, length in ((0, 4), (1, 2)):
        alone = classifier(ids[row:row + 1, :length])
        torch.testing.assert_close(classifier(ids[row:row + 1]), alone, rtol=1e-5, atol=1e-5)
    # without the mask the pads would count as tokens
    assert not torch.allclose(model(input_ids=ids).logits, expected, atol=1e-5)
