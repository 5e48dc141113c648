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
    nothing was kept), ``complete`` False when it was stopped early, ``expected`` the frames
    the source announced (None when unknown)."""

    frames: int
    path: Path | None
    complete: bool
    expected: int | None = None

    @property
    def ended_early(self) -> bool:
        """True when the source gave clearly fewer frames than it announced (truncated)."""
        return (self.complete and self.expected is not None
                and self.frames < self.expected - max(1, self.expected // 50))


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
    return Outcome(sink.written, sink.finish(), complete=True,
                   expected=getattr(source, "count", None))


#: Signals that stop a run cleanly: Ctrl-C, ``kill`` (TERM) and a closed terminal (HUP).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def interrupt_flag() -> Iterator[Callable[[], bool]]:
    """Within the block, a first SIGINT, SIGTERM or SIGHUP only sets a flag, read by calling
    the value yielded; a second one acts as usual (KeyboardInterrupt, or the end of the
    process). Outside the main thread (where signal handlers cannot be set) the flag never
    turns true."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return
    previous = {}

    def handler(signum, frame) -> None:
        pressed.set()
        signal.signal(signum, previous[signum])

    for number in STOP_SIGNALS:
        previous[number] = signal.signal(number, handler)
    try:
        yield pressed.is_set
    finally:
        for number, action in previous.items():
            signal.signal(number, action)
