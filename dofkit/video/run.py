"""The frame loop: source -> work -> sink, a few frames in memory (the one worked on and up to
two being written), clean stop on Ctrl-C."""

from __future__ import annotations

import signal
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ImageError
from .io import Frame


@dataclass(frozen=True)
class Outcome:
    """What a run left: ``frames`` written, ``path`` of the output (None for stdout or when
    nothing was kept), ``complete`` False when it was stopped early, ``expected`` the frames
    the source announced (None when unknown); for a video, ``last`` the time of the last frame
    and ``end`` the time its range was to end (s from the source's start; None when
    unknown), ``interval`` its average frame interval (s); ``damage`` a line saying which
    frames of the source were skipped or damaged (see the sources' ``damage``), None when
    none were; ``reached_end`` True when the source read a frame at or past the end of its
    range (so the range was read whole, however long its last frame gap)."""

    frames: int
    path: Path | None
    complete: bool
    expected: int | None = None
    last: float | None = None
    end: float | None = None
    interval: float | None = None
    damage: str | None = None
    reached_end: bool = False

    @property
    def ended_early(self) -> bool:
        """True when the source clearly stopped before its end (truncated): never when it
        read a frame past the end of its range; else by time when the source says when it
        ends (a variable frame rate makes counts estimates), else by the frames it
        announced."""
        if not self.complete or self.reached_end:
            return False
        if self.last is not None and self.end is not None and self.interval is not None:
            return self.end - self.last > max(3 * self.interval, 0.05 * self.end)
        return (self.expected is not None
                and self.frames < self.expected - max(1, self.expected // 50))


def process(source, sink, work: Callable[..., object], *,
            prepare: Callable[[Frame], object] | None = None,
            advance: Callable[[], None] = lambda: None,
            stop: Callable[[], bool] = lambda: False) -> Outcome:
    """Write ``work(frame)`` for every frame of ``source`` to ``sink``, calling ``advance``
    after each frame. With ``prepare``, ``work(frame, prepare(frame))`` is written instead,
    ``prepare`` running on a thread of its own, in order, one frame ahead (e.g. the focus map
    of the next frame made while this one is stylised). The sink is written on a
    :class:`WriteBehind` thread, so encoding one frame overlaps the work on the next. When
    ``stop()`` turns true the output is closed properly and kept as a partial result (see the
    sinks' ``keep_partial``), as it is when the source ended early (:attr:`Outcome.ended_early`);
    on an error it is deleted, except an error of the source after some frames were written:
    what was made is then kept the same way and :class:`SourceFailed` raised. A source that
    yields no frame raises ImageError."""
    writer = WriteBehind(sink)
    ahead = PrepareAhead(prepare)
    failed: list[ImageError] = []
    last = None
    try:
        for frame, prepared in ahead.frames(_until_error(source.frames(writer.on_audio),
                                                         failed)):
            writer.write(frame, work(frame) if prepare is None else work(frame, prepared))
            last = frame.time
            advance()
            if stop():
                ahead.close()
                writer.drain()
                return Outcome(sink.written, sink.keep_partial(), complete=False)
        ahead.close()
        writer.drain()
        if failed and sink.written:
            raise SourceFailed(failed[0], sink.written, sink.keep_partial())
        if failed:
            raise failed[0]
        if not sink.written:
            raise ImageError(f"{source.name}: no video frames to process{_from_start(source)}")
    except SourceFailed:
        raise
    except BaseException as exc:
        writer.abandon()
        sink.discard()
        # last, as it may wait for a map being made; not on an abort (a second Ctrl-C)
        ahead.close(wait=not isinstance(exc, KeyboardInterrupt))
        raise
    end = getattr(source, "end", None)
    outcome = Outcome(sink.written, None, complete=True,
                      expected=getattr(source, "count", None), last=last, end=end,
                      interval=None if end is None else float(1 / source.rate),
                      damage=getattr(source, "damage", None),
                      reached_end=getattr(source, "reached_end", False))
    # a truncated source's frames are kept as an interrupted run's: not in place of an
    # earlier, complete output of the same name
    return replace(outcome, path=sink.keep_partial() if outcome.ended_early else sink.finish())


def _from_start(source) -> str:
    """Where a source started, for the line saying it gave no frame: '' from its beginning,
    else ' from S s on' and, when known, where the whole video ends."""
    start, length = getattr(source, "start", 0), getattr(source, "length", None)
    if not start:
        return ""
    return f" from {start:g} s on" + (f" (the video ends at {length:.2f} s)"
                                      if length is not None else "")


class SourceFailed(ImageError):
    """The source failed after ``frames`` frames were written: what was made is kept at
    ``path`` as an interrupted run keeps it (None when nothing could be kept)."""

    def __init__(self, error: ImageError, frames: int, path: Path | None):
        plural = frames != 1
        kept = "" if path is None else (f"; the {frames} frame{'s' * plural} before it "
                                        f"{'are' if plural else 'is'} kept in {path}")
        super().__init__(f"{error}{kept}")
        self.frames, self.path = frames, path


def _until_error(frames: Iterator[Frame], failed: list[ImageError]) -> Iterator[Frame]:
    """The ``frames`` until one cannot be read: its ImageError is put in ``failed`` and the
    iteration ends (so the frames before it are all worked on and written)."""
    try:
        yield from frames
    except ImageError as exc:
        failed.append(exc)


class PrepareAhead:
    """Runs ``prepare(frame)`` on one background thread, one frame ahead of the caller
    (nothing is run, and no thread made, when ``prepare`` is None)."""

    def __init__(self, prepare: Callable[[Frame], object] | None):
        self._prepare = prepare
        self._pool = None if prepare is None else ThreadPoolExecutor(
            1, thread_name_prefix="dofkit-prepare")

    def frames(self, frames: Iterator[Frame]) -> Iterator[tuple[Frame, object]]:
        """(frame, prepare(frame)) for each of ``frames`` in order (prepared None without
        ``prepare``); an error of ``prepare`` is raised here, at its frame."""
        if self._pool is None:
            yield from ((frame, None) for frame in frames)
            return
        pending: tuple[Frame, Future] | None = None
        for frame in frames:
            future = self._pool.submit(self._prepare, frame)
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (frame, future)
        if pending is not None:
            yield pending[0], pending[1].result()

    def close(self, wait: bool = True) -> None:
        """Drop what is queued, wait for the running call (unless not ``wait``: it then ends
        on its own, its result unused), stop the thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)


class WriteBehind:
    """Calls a sink's ``write`` (and its audio handler) on one background thread, in order,
    at most :attr:`DEPTH` calls behind the caller; an error of a call is raised in the caller
    by the next :meth:`write` or :meth:`drain`. The values handed over must not be changed
    afterwards (the frame loop's never are)."""

    DEPTH = 2

    def __init__(self, sink):
        self._sink = sink
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dofkit-sink")
        self._pending: deque[Future] = deque()
        self.on_audio = None if sink.on_audio is None else self._audio

    def _audio(self, packet) -> None:
        self._pending.append(self._pool.submit(self._sink.on_audio, packet))

    def write(self, frame: Frame, values) -> None:
        """Queue ``sink.write(frame, values)``; wait while more than DEPTH calls are pending."""
        self._pending.append(self._pool.submit(self._sink.write, frame, values))
        while len(self._pending) > self.DEPTH:
            self._pending.popleft().result()

    def drain(self) -> None:
        """Wait for every queued call (raising the first error) and stop the thread."""
        while self._pending:
            self._pending.popleft().result()
        self._pool.shutdown()

    def abandon(self) -> None:
        """Drop the queued calls, wait for the running one, and stop the thread (errors of
        the calls are not raised: the output is being discarded)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()


#: Signals that stop a run cleanly: Ctrl-C, ``kill`` (TERM) and a closed terminal (HUP).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def interrupt_flag() -> Iterator[Callable[[], bool]]:
    """Within the block, a first SIGINT, SIGTERM or SIGHUP only sets a flag, read by calling
    the value yielded; a second one (of any of them) calls the handler the signal had before
    the block when that is a Python function (Python's own raises KeyboardInterrupt), and
    raises KeyboardInterrupt if that returns or when the signal was ignored or left to the
    system before the block (a background job of a script starts with SIGINT ignored): a
    second signal always aborts. Outside the main thread (where signal handlers cannot be
    set) the flag never turns true."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return
    previous = {}

    def handler(signum, frame) -> None:
        if not pressed.is_set():
            pressed.set()
            return
        if callable(previous[signum]):
            previous[signum](signum, frame)
        raise KeyboardInterrupt

    for number in STOP_SIGNALS:
        previous[number] = signal.signal(number, handler)
    try:
        yield pressed.is_set
    finally:
        for number, action in previous.items():
            signal.signal(number, action)
