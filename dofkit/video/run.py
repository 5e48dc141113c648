"""The frame loop: source -> work -> sink, one frame in memory, clean stop on Ctrl-C."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ImageError
from .io import Frame


@dataclass(frozen=True)
class Outcome:
    """What a run left: ``frames`` written, ``path`` of the output (None for stdout or when
    nothing was kept), ``complete`` False when it was stopped early."""

    frames: int
    path: Path | None
    complete: bool


def process(source, sink, work: Callable[[Frame], object], *,
            advance: Callable[[], None] = lambda: None,
            stop: Callable[[], bool] = lambda: False) -> Outcome:
    """Write ``work(frame)`` for every frame of ``source`` to ``sink``, calling ``advance``
    after each frame. When ``stop()`` turns true the output is closed properly and kept as a
    partial result (see the sinks' ``keep_partial``); on an error it is deleted. A source
    that yields no frame raises ImageError."""
    try:
        for frame in source.frames(sink.on_audio):
            sink.write(frame, work(frame))
            advance()
            if stop():
                return Outcome(sink.written, sink.keep_partial(), complete=False)
        if not sink.written:
            raise ImageError(f"{source.name}: no video frames to process")
    except BaseException:
        sink.discard()
        raise
    return Outcome(sink.written, sink.finish(), complete=True)


@contextmanager
def interrupt_flag() -> Iterator[Callable[[], bool]]:
    """Within the block, a first Ctrl-C (SIGINT) only sets a flag, read by calling the value
    yielded; a second one raises KeyboardInterrupt as usual. Outside the main thread (where
    signal handlers cannot be set) the flag never turns true."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return

    def handler(signum, frame) -> None:
        pressed.set()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
