import numpy as np
import pytest
import torch

from gib.text import HashTokenizer, attention_mask, encode_texts, load_tokenizer, pad_token_id, vocab_size

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "cup", "final", ",", "."]


def test_hash_tokenizer_pads_truncates_and_places_special_tokens():
    tok = HashTokenizer(vocab_size=50)
    short, long = "Hello world", " ".join(f"w{i}" for i in range(20))
    ids = encode_texts(tok, [short, long, ""], max_length=6)
    assert ids.dtype == np.int64 and ids.shape == (3, 6)
    hello, world = tok.token_id("hello"), tok.token_id("world")
    assert ids[0].tolist() == [tok.cls_token_id, hello, world, tok.sep_token_id, 0, 0]
    # truncated to 4 tokens so that [SEP] still closes the row
    assert ids[1, 0] == tok.cls_token_id and ids[1, -1] == tok.sep_token_id
    assert ids[1, 1:5].tolist() == [tok.token_id(f"w{i}") for i in range(4)]
    assert ids[2].tolist() == [tok.cls_token_id, tok.sep_token_id, 0, 0, 0, 0]
    # ordinary tokens never collide with the special ids, and ids are stable across instances
    words = [f"word{i}" for i in range(500)]
    assert min(tok.token_id(w) for w in words) >= HashTokenizer.n_special
    assert max(tok.token_id(w) for w in words) < 50
    assert [HashTokenizer(vocab_size=50).token_id(w) for w in words] == [tok.token_id(w) for w in words]
    assert tok.tokenize("Cup-final, 2-1!") == ["cup", "-", "final", ",", "2", "-", "1", "!"]
    assert pad_token_id(tok) == 0 and vocab_size(tok) == 50


def test_encode_texts_input_errors():
    tok = HashTokenizer()
    with pytest.raises(ValueError, match="max_length"):
        encode_texts(tok, ["a"], max_length=1)
    with pytest.raises(TypeError, match="list of texts"):
        encode_texts(tok, "one text", max_length=8)
    with pytest.raises(ValueError, match="vocab_size"):
        HashTokenizer(vocab_size=4)


def test_attention_mask_numpy_and_torch():
    ids = np.array([[2, 7, 3, 0, 0]])
    assert attention_mask(ids, 0).tolist() == [[1, 1, 1, 0, 0]]
    assert attention_mask(torch.as_tensor(ids), 0).dtype == torch.long


@pytest.fixture
def bert_tokenizer_folder(tmp_path):
    transformers = pytest.importorskip("transformers")
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    tokenizer = transformers.BertTokenizer(str(tmp_path / "vocab.txt"))
    folder = tmp_path / "tokenizer"
    tokenizer.save_pretrained(folder)
    return folder


def test_hugging_face_tokenizer_to_fixed_length(bert_tokenizer_folder):
    tok = load_tokenizer(bert_tokenizer_folder)
    ids = encode_texts(tok, ["Hello world.", "the cup final , the cup final , hello"], max_length=7, batch_size=1)
    v = {w: i for i, w in enumerate(VOCAB)}
    assert ids.tolist() == [
        [v["[CLS]"], v["hello"], v["world"], v["."], v["[SEP]"], v["[PAD]"], v["[PAD]"]],
        [v["[CLS]"], v["the"], v["cup"], v["final"], v[","], v["the"], v["[SEP]"]],
    ]
    assert pad_token_id(tok) == 0 and vocab_size(tok) == len(VOCAB)


def test_load_tokenizer_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_tokenizer(tmp_path / "no-such-model")
    pytest.importorskip("transformers")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="offline"):
        load_tokenizer(tmp_path / "empty")
