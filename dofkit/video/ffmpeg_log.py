"""FFmpeg's error messages, collected for the videos being read instead of printed.

FFmpeg has one log for the whole process (its decoders log from threads of their own), and
PyAV captures it into the last capture opened. Here one capture serves every block open at a
time, in any thread and in any order of opening and closing: each block sees every error
logged while it is open (two videos read at once both see both videos' errors: FFmpeg does
not say which file a message is about), and the log settings are put back when the last
block closes, as they were before the first opened."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import av.logging

_LOCK = threading.Lock()
#: While any block is open: "capture" (the PyAV capture), "logs" (its list of (level, name,
#: message)), "saved" (the log settings to put back) and "open" (how many blocks).
_SHARED: dict = {}


class Errors:
    """The error messages FFmpeg logged since the block opened or since :meth:`clear`;
    true when there is any. :attr:`last` is the latest since the block opened."""

    def __init__(self, logs: list):
        self._logs, self._seen = logs, len(logs)
        self._opened = self._seen

    @property
    def last(self) -> str | None:
        """The text of the latest message logged while the block is open, or None."""
        return self._logs[-1][2].strip() if len(self._logs) > self._opened else None

    def __len__(self) -> int:
        return len(self._logs) - self._seen

    def __iter__(self):
        return iter(self._logs[self._seen:])

    def clear(self) -> None:
        """Forget the messages so far."""
        self._seen = len(self._logs)


@contextmanager
def ffmpeg_errors() -> Iterator[Errors]:
    """Within the block, FFmpeg's error messages are collected (each one: PyAV's dropping
    of a message that repeats the one before is off) in the :class:`Errors` yielded instead
    of being printed."""
    with _LOCK:
        if not _SHARED:
            saved = av.logging.get_level(), av.logging.get_skip_repeated()
            av.logging.set_level(av.logging.ERROR)
            av.logging.set_skip_repeated(False)
            capture = av.logging.Capture(local=False)
            _SHARED.update(capture=capture, logs=capture.__enter__(), saved=saved, open=0)
        _SHARED["open"] += 1
        errors = Errors(_SHARED["logs"])
    try:
        yield errors
    finally:
        with _LOCK:
            _SHARED["open"] -= 1
            if not _SHARED["open"]:
                _SHARED["capture"].__exit__(None, None, None)
                level, skip = _SHARED["saved"]
                av.logging.set_level(level)
                av.logging.set_skip_repeated(skip)
                _SHARED.clear()
