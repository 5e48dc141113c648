"""Time of each step of a request, sent back as a ``Server-Timing`` header."""

from __future__ import annotations

import time
from contextlib import contextmanager


class Timer:
    """Collects ``name -> milliseconds``; ``with timer("map"): ...`` times one step."""

    def __init__(self):
        self.steps: dict[str, float] = {}
        self.notes: dict[str, str] = {}

    @contextmanager
    def __call__(self, name: str):
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
