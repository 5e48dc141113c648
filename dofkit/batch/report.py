"""``--report FILE.jsonl``: one status record per input, streamed to an atomic file that
takes its name when the run ends (also when it is interrupted: what was done is kept)."""

from __future__ import annotations

import json

from ..io import AtomicFile


class Report:
    """Write status records as JSON Lines to ``path`` (None: a no-op)."""

    def __init__(self, path: str | None):
        self._output = AtomicFile(path) if path else None

    def write(self, status: dict) -> None:
        if self._output is not None:
            self._output.file.write((json.dumps(status) + "\n").encode("utf-8"))
            self._output.file.flush()

    def close(self) -> None:
        """Give the report its name."""
        if self._output is not None:
            self._output.commit()
            self._output = None

    def __enter__(self) -> "Report":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
