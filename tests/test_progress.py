"""Progress bars show on a terminal only, so logs and CI output carry no bar fragments."""

import io
import sys

import numpy as np
import torch

from gib._progress import progress_bar, steps_bar
from gib.monitor import Monitor


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bars_are_off_unless_stderr_is_a_terminal(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    for _ in progress_bar(range(3), desc="outer"):
        for _ in progress_bar(range(3), desc="inner"):
            pass
    assert pipe.getvalue() == ""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    for _ in progress_bar(range(3), desc="shown", file=terminal):
        pass
    assert "shown" in terminal.getvalue()
    quiet = Terminal()
    for _ in progress_bar(range(3), desc="quiet", enabled=False, file=quiet):
        pass
    assert quiet.getvalue() == ""


def test_a_resumed_loop_bar_counts_the_steps_done_and_is_off_when_none_are_left(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with steps_bar(0, 10, "fresh") as bar:  # step 0 is the record before training: nothing done yet
        assert (bar.total, bar.n, bar.disable) == (10, 0, False)
    with steps_bar(4, 10, "resumed", unit="batch") as bar:  # steps 1-3 done
        assert (bar.total, bar.n, bar.unit) == (10, 3, "batch")
    with steps_bar(11, 10, "finished") as bar:
        assert bar.disable
    with steps_bar(4, 10, "quiet", enabled=False) as bar:
        assert bar.disable


def test_monitor_progress_writes_nothing_into_a_log(capfd):
    X = np.random.default_rng(0).integers(0, 2, size=(32, 3)).astype(np.float32)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with Monitor(model, X, X[:, 0].astype(int), progress=True) as monitor:
        monitor.record(0)
    captured = capfd.readouterr()
    assert "MI at step" not in captured.err and "\x1b[A" not in captured.err
