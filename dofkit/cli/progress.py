"""Progress of a batch on stderr: a rich bar on a terminal (done/failed counts, rate, time
left), a plain line every 10 s otherwise, nothing with --quiet."""

from __future__ import annotations

import time

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn,
                           TextColumn, TimeRemainingColumn)

from .common import console, notice

PLAIN_EVERY = 10.0


class BatchProgress:
    """Counts status records (``ok``, ``skipped``, failed) and shows them."""

    def __init__(self, total: int, label: str, *, quiet: bool = False, live: bool = True):
        """``live`` False: plain lines even on a terminal (stdout shows data there)."""
        self.total, self.label = total, label
        self.done = self.failed = self.skipped = 0
        self._began = self._shown = time.monotonic()
        self._bar = None
        if not quiet and total > 1 and live and console.is_terminal:
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TaskProgressColumn(), TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(), console=console, transient=True,
                redirect_stdout=False)  # stdout is data: it must not be drawn on stderr
        self._plain = not quiet and total > 1 and self._bar is None

    def __enter__(self) -> "BatchProgress":
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, counts="", rate="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def print(self, text: str) -> None:
        """Print a line above the bar."""
        (self._bar.console if self._bar is not None else console).print(text, markup=False)

    def add(self, status: dict) -> None:
        self.done += 1
        self.skipped += bool(status.get("skipped"))
        self.failed += not status["ok"]
        if self._bar is not None:
            self._bar.update(self._task, advance=1, counts=self.counts(), rate=self.rate())
        elif self._plain and time.monotonic() - self._shown >= PLAIN_EVERY:
            self._shown = time.monotonic()
            notice(", ".join(filter(None, (f"{self.label}: {self.done}/{self.total}",
                                           self.counts(), self.rate()))))

    def counts(self) -> str:
        parts = [f"{self.failed} failed"] + ([f"{self.skipped} skipped"] if self.skipped else [])
        return ", ".join(parts)

    def rate(self) -> str:
        """Inputs worked on (not skipped) per second; empty while there are none."""
        worked = self.done - self.skipped
        return f"{worked / max(time.monotonic() - self._began, 1e-9):.1f}/s" if worked else ""

    def summary(self) -> str:
        took = time.monotonic() - self._began
        rate = self.rate()
        return (f"{self.done - self.failed - self.skipped} done, {self.counts()} "
                f"in {took:.1f} s" + (f" ({rate})" if rate else ""))
