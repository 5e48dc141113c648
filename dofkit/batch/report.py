"""``--report FILE.jsonl``: one status record per input, streamed to an atomic file that
takes its name when the run ends (also when it is interrupted: what was done is kept), or
with ``-`` to stdout as each input finishes. A run that never gets to a record (weights
missing, device absent) writes nothing and replaces nothing; a folder the report cannot be
written in is found before the run, unless the folder is still to be made."""

from __future__ import annotations

import json
from pathlib import Path

from ..io import STDIO, AtomicFile, write_stdout


class Report:
    """Write status records as JSON Lines to ``path`` (``-``: stdout; None: a no-op);
    ``written`` counts them."""

    def __init__(self, path: str | None):
        self._path = path
        self._output: AtomicFile | None = None
        self.written = 0
        if path and path != STDIO and Path(path).parent.exists():
            self._output = AtomicFile(path)  # unnamed until it is committed: no litter

    def write(self, status: dict) -> None:
        line = (json.dumps(status) + "\n").encode("utf-8")
        if self._path == STDIO:
            write_stdout(line)
        elif self._path:
            if self._output is None:  # its folder is made with the first record
                self._output = AtomicFile(self._path)
            self._output.write(line)
        self.written += 1

    def close(self) -> None:
        """Give the report its name if it holds a record, else drop it."""
        if self._output is not None:
            if self.written:
                self._output.commit()
            else:
                self._output.discard()
            self._output = None

    def __enter__(self) -> "Report":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
