"""Fixtures shared by the tracker tests: an offline, isolated Weights & Biases."""

from __future__ import annotations

import os
import struct
import time

import pytest


def _history(run_file: str, timeout: float = 30.0) -> list[dict]:
    """History rows of an offline W&B run file (LevelDB-style log records of protobuf Records).

    W&B's writer process may still be writing when ``finish()`` returns: wait until the file has
    stopped growing."""
    from wandb.proto import wandb_internal_pb2

    deadline, size = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        now = os.path.getsize(run_file)
        if now == size and now > 7:
            break
        size = now
        time.sleep(0.5)
    data, block, pos, buf, out = open(run_file, "rb").read(), 32768, 7, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        buf, pos = buf + data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind in (1, 4):  # FULL or LAST chunk: a record is complete
            record = wandb_internal_pb2.Record()
            record.ParseFromString(buf)
            if record.WhichOneof("record_type") == "history":
                out.append({i.key or "/".join(i.nested_key): float(i.value_json) for i in record.history.item})
            buf = b""
    return out


@pytest.fixture
def offline_wandb(tmp_path, monkeypatch):
    """W&B in offline mode with every folder inside tmp_path; yields a reader of a run's history.

    ``wandb.teardown()`` afterwards: W&B keeps its settings (the run folder) in a process-wide
    singleton, which the next test must not inherit."""
    wandb = pytest.importorskip("wandb")
    for key, sub in (("WANDB_DIR", ""), ("WANDB_CONFIG_DIR", "wandb-config"), ("WANDB_CACHE_DIR", "wandb-cache"),
                     ("WANDB_DATA_DIR", "wandb-data")):
        monkeypatch.setenv(key, str(tmp_path / sub))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    wandb.teardown()

    def history() -> list[dict]:
        wandb.finish()  # a no-op when the run is finished already
        runs = sorted((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
        assert len(runs) == 1, runs
        return _history(str(runs[0]))

    yield history
    wandb.finish()
    wandb.teardown()

