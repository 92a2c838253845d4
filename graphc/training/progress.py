"""The progress display of ``fit``: a rich bar per epoch, or one line per epoch.

``verbose``: 0 prints nothing; 2 prints one line per epoch; 1 (and
``"auto"``) draws a ``rich`` progress bar per epoch -- steps done, elapsed
time and the running logs -- when standard output is a terminal, and falls
back to the one-line form otherwise (logs, CI, captured output in tests)::

    Epoch 3/20 - 45/45 - 0.12s - loss: 0.1841 - accuracy: 0.9502 - val_loss: 0.2210

Values are printed with 4 significant decimals (``%.4f``, or ``%.4e`` below
1e-3 so small losses stay readable).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graphc.errors import FrontendError

from .callbacks import Callback


def format_value(value: float) -> str:
    return f"{value:.4e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4f}"


def format_logs(logs: dict[str, float] | None) -> str:
    return " - ".join(f"{k}: {format_value(v)}" for k, v in (logs or {}).items())


def check_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise FrontendError(f"verbose must be 0, 1, 2 or 'auto'. Received: {verbose!r}")
    return int(verbose)


class ProgbarLogger(Callback):
    """Prints training progress to ``stream`` (standard output by default)."""

    def __init__(self, verbose: Any = 1, stream: TextIO | None = None) -> None:
        super().__init__()
        self.verbose = check_verbose(verbose)
        self.stream = stream
        self._bar: Progress | None = None
        self._task: Any = None

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._start = time.perf_counter()
        self._seen = 0
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        console = Console(file=self._out())
        if self.verbose == 1 and console.is_terminal:
            self._bar = Progress(TextColumn(f"Epoch {epoch + 1}/{epochs}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.fields[logs]}"), console=console)
            self._bar.start()
            self._task = self._bar.add_task("train", total=steps, logs="")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._task, completed=batch + 1, logs=format_logs(logs))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        text = format_logs(logs)
        if self._bar is not None:
            self._bar.update(self._task, completed=self._seen, logs=text)
            self._bar.stop()
            self._bar = None
            return
        if self.verbose:
            seconds = time.perf_counter() - self._start
            head = f"Epoch {epoch + 1}/{self.params.get('epochs')} - {self._seen}/" \
                   f"{self.params.get('steps')} - {seconds:.2f}s"
            print(f"{head} - {text}" if text else head, file=self._out(), flush=True)
