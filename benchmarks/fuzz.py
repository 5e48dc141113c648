"""Fuzz the decode front door: N byte-level mutants of small files of every format dofkit
reads, decoded in worker processes. Reports crashes (any exception other than ImageError, or
a worker dying), hangs (a mutant taking longer than --timeout s) and peak memory.

    .venv/bin/python benchmarks/fuzz.py --mutants 10000 [--seed 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

CHUNK = 250


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def run_chunk(job: tuple[int, int, int, float]) -> dict:
    """Decode ``count`` mutants made from seed ``(seed, index)``; count the outcomes."""
    import warnings

    from dofkit.errors import ImageError
    from dofkit.io import decode_image
    from dofkit.io.mutants import mutate, seeds

    warnings.simplefilter("ignore")
    seed, index, count, timeout = job
    files = seeds()
    names = sorted(files)
    rng = np.random.default_rng([seed, index])
    signal.signal(signal.SIGALRM, _alarm)
    tally = {"decoded": 0, "refused": 0, "crashes": [], "hangs": [], "slowest_s": 0.0}
    for number in range(count):
        name = names[rng.integers(len(names))]
        data = files[name]
        for _ in range(rng.integers(1, 4)):
            data = mutate(data, rng) or b"\x00"
        began = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            decode_image(data, "fuzz", max_pixels=4_000_000)
            tally["decoded"] += 1
        except ImageError:
            tally["refused"] += 1
        except Hang:
            tally["hangs"].append({"seed": [seed, index, number], "from": name})
        except Exception as exc:  # the thing this benchmark looks for
            tally["crashes"].append({"seed": [seed, index, number], "from": name,
                                     "error": f"{type(exc).__name__}: {exc}"[:200]})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        tally["slowest_s"] = max(tally["slowest_s"], time.perf_counter() - began)
    tally["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per mutant")
    args = parser.parse_args()
    chunks = [(args.seed, i, min(CHUNK, args.mutants - i * CHUNK), args.timeout)
              for i in range((args.mutants + CHUNK - 1) // CHUNK)]
    total = {"mutants": args.mutants, "decoded": 0, "refused": 0, "crashes": [], "hangs": [],
             "dead_workers": [], "slowest_s": 0.0, "peak_rss_mb": 0.0}
    began = time.perf_counter()
    pending = list(chunks)
    while pending:
        with ProcessPoolExecutor(args.workers) as pool:
            futures = {pool.submit(run_chunk, job): job for job in pending}
            pending = []
            for future, job in futures.items():
                try:
                    tally = future.result()
                except BrokenProcessPool:  # a native crash: note the chunk, run it no more
                    total["dead_workers"].append(job[:2])
                    continue
                for key in ("decoded", "refused"):
                    total[key] += tally[key]
                total["crashes"] += tally["crashes"]
                total["hangs"] += tally["hangs"]
                total["slowest_s"] = max(total["slowest_s"], tally["slowest_s"])
                total["peak_rss_mb"] = max(total["peak_rss_mb"], tally["peak_rss_mb"])
    total["seconds"] = round(time.perf_counter() - began, 1)
    total["slowest_s"] = round(total["slowest_s"], 3)
    print(json.dumps(total, indent=1))


if __name__ == "__main__":
    main()
