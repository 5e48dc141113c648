"""The local engine: tasks through one pipeline in this process, or through ``jobs`` worker
processes that each build their own (network, GL context). Status records come back in
task order, at most ``2 * jobs`` tasks in flight (memory stays flat)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputInterrupted, ParameterError
from ..pipeline import PipelineSpec
from ..signals import leave_signals_to_parent
from .naming import Task

#: Most worker processes: each holds a model and a GL context.
MAX_JOBS = 64

_worker: dict = {}


def run_local(spec: PipelineSpec, tasks: Iterable[Task], *, jobs: int = 1,
              guard: tuple = (), overwrite: bool = False, quiet: bool = True,
              notify=None) -> Iterator[dict]:
    """Status records of ``tasks`` (see :meth:`dofkit.pipeline.Pipeline.process`);
    ``guard`` are the run's other input files (never overwritten unless ``overwrite``);
    ``jobs`` worker processes, 1 to :data:`MAX_JOBS` (1: this process)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= MAX_JOBS:
        raise ParameterError(f"jobs must be a whole number from 1 to {MAX_JOBS}; got {jobs!r}",
                             "jobs")
    return _statuses(spec, tasks, jobs, guard, overwrite, quiet, notify)


def _statuses(spec, tasks, jobs, guard, overwrite, quiet, notify) -> Iterator[dict]:
    """:func:`run_local` once its arguments are checked."""
    if jobs == 1:
        pipeline = spec.build(notify)
        try:
            for task in tasks:
                try:
                    status = pipeline.process(task.source, task.targets, map_path=task.map,
                                              inputs=guard, overwrite=overwrite)
                except InputInterrupted as interrupt:  # report what it wrote, then stop
                    yield interrupt.status
                    raise
                yield status
        finally:
            pipeline.close()
        return
    spec.build(notify).close()  # a bad setting fails here once, not in every worker
    remaining = iter(tasks)
    while True:  # a fresh pool whenever a worker dies (killed, or crashed in native code)
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start,
                                 initargs=(spec, guard, overwrite, quiet)) as pool:
            unsent, progressed = yield from _through(pool, remaining, jobs)
        if unsent is None:
            return
        remaining = itertools.chain(unsent, remaining)
        if not progressed:  # workers die before finishing anything: a new pool would too
            yield from map(_died, remaining)
            return


def _through(pool: ProcessPoolExecutor, tasks: Iterator[Task], jobs: int):
    """Status records of ``tasks`` run on ``pool``, in order, at most ``2 * jobs`` in
    flight. Returns (None, True) when all are done. If a worker died, the tasks it may have
    been on are reported failed and it returns the task taken but not yet sent (a list; the
    rest is left in ``tasks``) for a new pool, and whether any task ran to the end here."""
    pending: deque = deque()  # (task, future)
    unsent: list[Task] = []
    progressed = False
    try:
        for task in tasks:
            unsent = [task]
            pending.append((task, pool.submit(_process, task)))
            unsent = []
            while len(pending) >= 2 * jobs:
                yield _collect(pending)
                progressed = True
        while pending:
            yield _collect(pending)
        return None, True
    except BrokenProcessPool:
        for task, future in pending:
            status = next(_finished([future]), None)
            progressed = progressed or status is not None
            yield status or _died(task)
        return unsent, progressed
    except KeyboardInterrupt:
        pool.shutdown(wait=True, cancel_futures=True)
        yield from _finished(future for _, future in pending)  # written: reported
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def _finished(futures: Iterable) -> Iterator[dict]:
    """The status records of the ``futures`` that ran to the end, in order."""
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is None:
            yield future.result()


def _collect(pending: deque) -> dict:
    """The first pending task's status record, waited for, then taken off ``pending`` (left
    on it if the wait is interrupted, so that it can still be reported)."""
    status = pending[0][1].result()
    pending.popleft()
    return status


def _died(task: Task) -> dict:
    """The status record of a task in flight when a worker process died (its outputs may have
    been written just before: a broken pool loses the answers not yet collected)."""
    return {"input": task.source, "outputs": [], "ok": False, "seconds": 0.0,
            "error": f"{task.source}: not known to be done: a worker process ended "
                     "abruptly (killed, or crashed) while it was in flight"}


def worker_threads(jobs: int) -> int:
    """CPU threads for each of ``jobs`` workers: the cores shared out, at least 1."""
    return max(1, (os.cpu_count() or 1) // max(jobs, 1))


def _start(spec: PipelineSpec, guard: tuple, overwrite: bool, quiet: bool) -> None:
    """Worker set-up: signals are the parent's to handle; the pipeline is built once."""
    leave_signals_to_parent()
    if quiet:
        warnings.simplefilter("ignore")
    _worker.update(pipeline=spec.build(notify=lambda message: None), guard=guard,
                   overwrite=overwrite)


def _process(task: Task) -> dict:
    return _worker["pipeline"].process(task.source, task.targets, map_path=task.map,
                                       inputs=_worker["guard"],
                                       overwrite=_worker["overwrite"])


def skipped(task: Task) -> dict | None:
    """The status record of a task whose outputs all exist (``--skip-existing``), else None.
    A task with no file outputs is never skipped; crops count when the first one exists."""
    files = [target.format(index=0) if role == "crop" else target
             for role, target in task.targets.items() if target != "-"]
    if not files or not all(Path(f).exists() for f in files):
        return None
    return {"input": task.source, "outputs": files, "ok": True, "error": None,
            "seconds": 0.0, "skipped": True}
