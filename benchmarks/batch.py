"""Batch engines: per-file overhead of the local and Ray engines on many small images, the
Ray driver's memory over many tiny items, and the speed-up of --jobs 2 over --jobs 1.

    .venv/bin/python benchmarks/batch.py [--files 2000] [--items 20000] [--skip-ray]

Overhead: wall time per file of the whole run (read, map with method 'paper' on 32x32 px,
write), local engine in one process vs the Ray engine on a fresh local Ray (start-up time
reported apart). Driver RSS: sampled while 20,000 status rows stream back from Ray (no outputs
written). Jobs: 48 photos of 640x480 mapped with the analytic method.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dofkit.batch import Task, run_local  # noqa: E402
from dofkit.io import write_image  # noqa: E402
from dofkit.pipeline import PipelineSpec  # noqa: E402

SPEC = PipelineSpec("map", {"view": "grey"}, {"method": "paper"})


def make_images(folder: Path, count: int, size: tuple[int, int]) -> list[str]:
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        path = folder / f"{index:05d}.png"
        write_image(path, rng.random((size[1], size[0], 3)).astype(np.float32))
        paths.append(str(path))
    return paths


def timed(statuses) -> tuple[float, int]:
    began, count = time.perf_counter(), 0
    for status in statuses:
        assert status["ok"], status
        count += 1
    return time.perf_counter() - began, count


def ray_run(tasks, jobs=1):
    from dofkit.batch.ray_engine import run_ray

    return run_ray(SPEC, tasks, jobs=jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    results: dict = {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sources = make_images(root / "in", args.files, (32, 32))
        tasks = [Task(s, {"map": str(root / "out-local" / Path(s).name)}) for s in sources]
        seconds, count = timed(run_local(SPEC, tasks))
        results["local_ms_per_file"] = round(1000 * seconds / count, 2)
        if not args.skip_ray:
            tasks = [Task(s, {"map": str(root / "out-ray" / Path(s).name)}) for s in sources]
            statuses = ray_run(tasks)
            began = time.perf_counter()
            first = next(statuses)  # includes starting Ray and the actors
            startup = time.perf_counter() - began
            seconds, count = timed(statuses)
            results["ray_startup_s"] = round(startup, 1)
            results["ray_ms_per_file_after_first"] = round(1000 * seconds / count, 2)
            results["ray_overhead_ms_per_file"] = round(
                results["ray_ms_per_file_after_first"] - results["local_ms_per_file"], 2)
            assert first["ok"]
            driver = psutil.Process()
            tiny = [Task(sources[0], {}) for _ in range(args.items)]
            samples = {}
            for index, status in enumerate(ray_run(tiny), 1):
                if index in (1000, args.items // 4, args.items // 2, args.items):
                    samples[index] = round(driver.memory_info().rss / 2**20)
            results["ray_driver_rss_mb_by_rows"] = samples
        photos = make_images(root / "photos", 48, (640, 480))
        spec = PipelineSpec("map", {"view": "grey"}, {"method": "analytic"})
        for jobs in (1, 2):
            tasks = [Task(s, {"map": str(root / f"jobs{jobs}" / Path(s).name)}) for s in photos]
            results[f"jobs{jobs}_s"] = round(timed(run_local(spec, tasks, jobs=jobs))[0], 2)
        results["jobs2_speedup"] = round(results["jobs1_s"] / results["jobs2_s"], 2)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
