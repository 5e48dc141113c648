"""Time of each step of a request, sent back as a ``Server-Timing`` header; a request no one
waits for any more stops at its next step."""

from __future__ import annotations

import time
from contextlib import contextmanager


class Stopped(Exception):
    """Raised at the start of a step of a job whose :class:`Timer` was stopped."""


class Timer:
    """Collects ``name -> milliseconds``; ``with timer("map"): ...`` times one step. After
    :meth:`stop` (its client left, the server is stopping), the next step raises
    :class:`Stopped` instead of running: a job already on the worker cannot be interrupted
    mid-step, but it need not run its remaining steps for no one."""

    def __init__(self):
        self.steps: dict[str, float] = {}
        self.notes: dict[str, str] = {}
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    @contextmanager
    def __call__(self, name: str):
        if self.stopped:
            raise Stopped(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0.0) + 1000 * (time.perf_counter() - start)

    def header(self) -> str:
        """``decode;dur=12.3, map;dur=130.0;desc="cached"`` (the Server-Timing syntax)."""
        parts = []
        for name, ms in self.steps.items():
            note = f';desc="{self.notes[name]}"' if name in self.notes else ""
            parts.append(f"{name};dur={ms:.1f}{note}")
        return ", ".join(parts)
