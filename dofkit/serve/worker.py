"""The one worker thread that runs every job of a process, with a bounded queue and a timeout.

A GL context is current on one thread only, and one model is enough per process: all image
work runs here, one job at a time, while the event loop keeps accepting and refusing requests.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import math
import statistics
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, TypeVar

from .errors import ApiError

T = TypeVar("T")
#: How many of the last jobs' durations the Retry-After estimate takes the median of.
RECENT = 16


def _glibc_trim() -> Callable[[], object]:
    """glibc's ``malloc_trim(0)`` (hands freed heap back to the OS), or a no-op elsewhere."""
    try:
        return functools.partial(ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim, 0)
    except (OSError, AttributeError, TypeError):
        return lambda: None


#: Called after every job, so the RSS follows the work in flight rather than the peak.
trim = _glibc_trim()


class Worker:
    """Runs jobs on one thread; at most ``capacity`` wait or run at once (503 with
    ``Retry-After`` beyond), and a job not finished ``timeout`` s after it was queued is
    answered 503 (dropped if it had not started)."""

    def __init__(self, capacity: int, timeout: float):
        self.capacity, self.timeout = capacity, timeout
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.pending = 0
        self._running: tuple[dict, float] | None = None  # what the job running is, its start
        self._seconds = deque([0.5], maxlen=RECENT)  # the last jobs' durations, s

    def start(self) -> None:
        """Start the thread (again after :meth:`close`, as at each ASGI lifespan)."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="dofkit-worker")

    def submit(self, job: Callable[..., T], *args) -> Future:
        """Queue ``job(*args)`` without the limits (start-up and shut-down work)."""
        return self._executor.submit(job, *args)

    async def run(self, job: Callable[..., T], *args, about: dict | None = None) -> T:
        """``job(*args)`` on the worker thread, awaited within the limits; ``about`` (e.g.
        the path and upload size) is what :meth:`running` says while it runs."""
        with self._lock:
            if self.pending >= self.capacity:
                raise ApiError(503, f"server busy ({self.pending} requests queued); retry later",
                               {"Retry-After": self.retry_after()})
            self.pending += 1
        future = self._executor.submit(self._timed, about or {}, job, *args)
        future.add_done_callback(self._done)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except asyncio.TimeoutError:
            future.cancel()
            raise ApiError(503, f"request timed out after {self.timeout:g} s (server busy); "
                                "retry later", {"Retry-After": self.retry_after()}) from None

    def retry_after(self) -> str:
        """Seconds until the queue has likely drained, 1 to 120: the jobs waiting or
        running times the median of the last :data:`RECENT` jobs' durations (a mean stayed
        high for dozens of jobs after one very large photo)."""
        typical = statistics.median(self._seconds)
        return str(min(120, max(1, math.ceil(self.pending * typical))))

    def running(self) -> dict | None:
        """The ``about`` of the job running and its ``seconds`` so far, or None when idle."""
        running = self._running
        if running is None:
            return None
        about, start = running
        return {**about, "seconds": round(time.perf_counter() - start, 1)}

    def _timed(self, about: dict, job: Callable[..., T], *args) -> T:
        start = time.perf_counter()
        self._running = (about, start)
        try:
            return job(*args)
        finally:
            self._running = None
            trim()
            self._seconds.append(time.perf_counter() - start)

    def _done(self, future: Future) -> None:
        with self._lock:
            self.pending -= 1

    def close(self) -> None:
        """Finish the running job, drop the queued ones, stop the thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
