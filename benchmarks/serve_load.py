"""Load on `dofkit serve`: N requests, C at a time, mixing image sizes and endpoints, against a
server started here on 127.0.0.1 (and stopped at the end). Reports throughput, p50/p95
latency per endpoint, status counts and the server's RSS: at boot, after a warm-up pass that
maps every image of the pool once (so the map cache is full; ``--no-warm-up`` skips it), at
the end, and its peak.

Run: .venv/bin/python benchmarks/serve_load.py [--requests 500] [--concurrency 8]
Prints one JSON document on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SIDES = (256, 512, 768, 1280)  # long side of the images sent
#: (endpoint, query) drawn per request, weighted towards what the web app sends most.
CALLS = [("map", ""), ("map", "colormap=rainbow"), ("roi", ""), ("detect", "gate=0.3"),
         ("stylize", ""), ("stylize", "style=sketch&radius=6"), ("stylize", "style=painterly"),
         ("stylize", "style=focus-pop&feather=8")]
WEIGHTS = [2, 1, 2, 1, 3, 2, 2, 1]


def image_pool() -> list[bytes]:
    """The samples at every size of SIDES, as JPEG and PNG."""
    pool = []
    for path in sorted(SAMPLES.glob("*.jpg")):
        photo = cv2.imread(str(path))
        for side in SIDES:
            scale = side / max(photo.shape[:2])
            resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            for suffix in (".jpg", ".png"):
                pool.append(cv2.imencode(suffix, resized)[1].tobytes())
    return pool


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(base: str, endpoint: str, query: str, body: bytes, timeout: float) -> tuple[int, float]:
    """(status, seconds) of one POST of ``body``."""
    request = urllib.request.Request(f"{base}/v1/{endpoint}?{query}", data=body, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    except OSError:
        status = 0  # connection failed or timed out
    return status, time.perf_counter() - start


def start_server(port: int) -> subprocess.Popen:
    command = [sys.executable, "-c", "from dofkit.cli import run; run()", "serve", "--host",
               "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2).read()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("server exited during start-up")
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start within 120 s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=180.0, help="per request, seconds")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="start the load right after boot (RSS growth counts the cache)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = image_pool()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        boot = rss_mb(server.pid)
        for body in pool if args.warm_up else ():  # every image mapped once
            post(base, "stylize", "", body, args.timeout)
        warm = peak = rss_mb(server.pid)
        plan = [(*rng.choices(CALLS, WEIGHTS)[0], rng.choice(pool)) for _ in range(args.requests)]
        results: list[tuple[str, int, float]] = []
        lock, done = threading.Lock(), threading.Event()

        def one(call):
            endpoint, query, body = call
            status, seconds = post(base, endpoint, query, body, args.timeout)
            with lock:
                results.append((endpoint, status, seconds))
                if len(results) % 50 == 0:
                    print(f"serve_load: {len(results)}/{args.requests}", file=sys.stderr)

        def watch():
            nonlocal peak
            while not done.wait(0.5):
                peak = max(peak, rss_mb(server.pid))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as executor:
            list(executor.map(one, plan))
        elapsed = time.perf_counter() - began
        done.set()
        end = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    latencies = [s for _, _, s in results]
    per_endpoint = {}
    for endpoint in sorted({e for e, _, _ in results}):
        times = [s for e, _, s in results if e == endpoint]
        per_endpoint[endpoint] = {"n": len(times), "p50_ms": round(1000 * statistics.median(times)),
                                  "p95_ms": round(1000 * percentile(times, 0.95))}
    statuses: dict[str, int] = {}
    for _, status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    report = {
        "requests": len(results), "concurrency": args.concurrency, "images": len(pool),
        "sides": SIDES, "seconds": round(elapsed, 1),
        "throughput_per_s": round(len(results) / elapsed, 2),
        "p50_ms": round(1000 * statistics.median(latencies)),
        "p95_ms": round(1000 * percentile(latencies, 0.95)), "statuses": statuses,
        "endpoints": per_endpoint,
        "rss_mb": {"boot": round(boot), "after_warm_up": round(warm), "end": round(end),
                   "peak": round(peak)},
        "rss_growth_after_warm_up": round(end / warm - 1, 4),
        "rss_growth_from_boot": round(end / boot - 1, 4),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
