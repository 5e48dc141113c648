"""Shared timing helper of the benchmark scripts (wall clock; read ratios, not milliseconds)."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_ms(work: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``work()`` in ms over ``repeats`` runs, after one warm-up run (the
    first GL draw of a program compiles it; the first torch call allocates)."""
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def interleaved_ms(works: dict[str, Callable[[], object]],
                   repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, process CPU) time in ms of each ``works`` entry over ``repeats`` rounds,
    every round running each once in turn (after one warm-up round), so a change of the
    machine's load hits all of them alike. The CPU time counts every thread of the process
    (llvmpipe's too): the work done, whatever else the machine runs."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in works}
    for round_ in range(repeats + 1):
        for name, work in works.items():
            wall, cpu = time.perf_counter(), time.process_time()
            work()
            if round_:
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: (1000 * statistics.median(w for w, _ in values),
                   1000 * statistics.median(c for _, c in values))
            for name, values in times.items()}
