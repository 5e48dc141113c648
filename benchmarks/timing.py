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
