"""``--engine ray`` on a local Ray cluster started here on 127.0.0.1 (and stopped by PID):
the same maps as the local engine, a failure row per broken file, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from dofkit.batch.ray_engine import RAY_ENVIRONMENT  # noqa: E402
from dofkit.io import open_image, write_image  # noqa: E402

ENVIRONMENT = {**os.environ, **RAY_ENVIRONMENT}
ENVIRONMENT.pop("RAY_ADDRESS", None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_cluster(folder: str) -> None:
    """Stop the processes of the cluster kept in ``folder``: raylet first, gcs_server last
    (never `ray stop`, which would end every Ray process on the machine)."""
    mine = [p for p in psutil.process_iter(["cmdline"])
            if folder in " ".join(p.info["cmdline"] or [])]
    order = sorted(mine, key=lambda p: ("raylet" not in " ".join(p.info["cmdline"]),
                                        "gcs_server" in " ".join(p.info["cmdline"])))
    for process in order:
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(10)
        except psutil.TimeoutExpired:
            process.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture(scope="module")
def cluster():
    folder = tempfile.mkdtemp(prefix="dkr-", dir="/tmp")  # socket paths must stay short
    port = free_port()
    ray_command = str(Path(sys.executable).with_name("ray"))
    try:
        subprocess.run([ray_command, "start", "--head", "--node-ip-address", "127.0.0.1",
                        "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
                        "--disable-usage-stats", "--temp-dir", folder], env=ENVIRONMENT,
                       check=True, capture_output=True, timeout=300)
        yield f"127.0.0.1:{port}"
    finally:
        stop_cluster(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    from conftest import textured

    root = tmp_path_factory.mktemp("ray") / "photos"
    for index, name in enumerate(("a.png", "b.jpg", "sub/a.png", "sub/deep/c.tif")):
        write_image(root / name, textured(48, 64, seed=index))
    (root / "cut.png").write_bytes((root / "a.png").read_bytes()[:300])
    (root / "sub" / "empty.jpg").write_bytes(b"")
    return root


#: What dofkit runs with: none of Ray's settings (dofkit sets those it needs itself).
PLAIN = {name: value for name, value in ENVIRONMENT.items() if name not in RAY_ENVIRONMENT}


def dofkit(*arguments, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dofkit", *map(str, arguments)], cwd=cwd,
                          env=PLAIN, capture_output=True, text=True, timeout=600)


def test_ray_engine_matches_the_local_engine(cluster, tree, tmp_path):
    local, remote, report = tmp_path / "local", tmp_path / "ray", tmp_path / "r.jsonl"
    assert dofkit("map", tree, "-r", "-m", "analytic", "--out-dir", local).returncode == 1
    done = dofkit("map", tree, "-r", "-m", "analytic", "--out-dir", remote, "--report", report,
                  "--engine", "ray", "--ray-address", cluster)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    maps = sorted(p.relative_to(local) for p in local.rglob("*.png"))
    assert maps == sorted(p.relative_to(remote) for p in remote.rglob("*.png"))
    assert len(maps) == 4
    for relative in maps:
        np.testing.assert_array_equal(open_image(local / relative).rgb,
                                      open_image(remote / relative).rgb)
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    failed = sorted(Path(r["input"]).name for r in rows if not r["ok"])
    assert failed == ["cut.png", "empty.jpg"] and all(r["error"] for r in rows if not r["ok"])

    stamps = {p: p.stat().st_mtime_ns for p in remote.rglob("*.png")}
    time.sleep(0.01)
    again = dofkit("map", tree, "-r", "-m", "analytic", "--out-dir", remote, "--skip-existing",
                   "--engine", "ray", "--ray-address", cluster)
    assert again.returncode == 1
    assert {p: p.stat().st_mtime_ns for p in remote.rglob("*.png")} == stamps


def test_plain_import_does_not_import_ray():
    code = ("import dofkit, dofkit.cli, dofkit.batch, dofkit.pipeline, sys; "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_or_unreachable_addresses_and_stdout_are_refused_at_once(tmp_path):
    image = tmp_path / "a.png"
    write_image(image, np.random.default_rng(0).random((24, 32, 3)).astype(np.float32))
    started = time.monotonic()
    unreachable = dofkit("map", image, "-o", tmp_path / "m.png", "--engine", "ray",
                         "--ray-address", f"127.0.0.1:{free_port()}")
    assert time.monotonic() - started < 60
    assert unreachable.returncode == 1 and "cannot reach a Ray cluster" in unreachable.stderr
    nonsense = dofkit("map", image, "-o", tmp_path / "m.png", "--engine", "ray",
                      "--ray-address", "nonsense")
    assert nonsense.returncode == 2 and "--ray-address must be" in nonsense.stderr
    to_stdout = dofkit("map", image, "-o", "-", "--engine", "ray")
    assert to_stdout.returncode == 2 and "name an output file" in to_stdout.stderr
    assert to_stdout.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


LIBRARY_RUN = """
import json, logging, os, signal, sys, warnings
import ray
from ray.data import DataContext
from dofkit.batch.naming import Task
from dofkit.batch.ray_engine import RAY_ENVIRONMENT, run_ray
from dofkit.pipeline import PipelineSpec

source, folder = sys.argv[1:]
spec = PipelineSpec("map", {}, {"method": "analytic"})

def state():
    return (dict(os.environ), logging.getLogger("ray.data").level,
            DataContext.get_current().enable_progress_bars, list(warnings.filters),
            [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)])

def run(name):
    oks = []
    for row in run_ray(spec, [Task(source, {"map": f"{folder}/{name}.png"})]):
        notice = {"lines": ["a notice of the cluster"], "pid": "raylet", "is_err": False}
        ray._private.worker.print_to_stdstream(notice, ignore_prefix=False)  # not on stdout
        oks.append(row["ok"])
    return oks

before = state()
own = run("own") + run("own-again")
unchanged = state() == before
os.environ.update(RAY_ENVIRONMENT)  # the caller's own Ray, on loopback, no token in ~/.ray
ray.init(address="local", num_cpus=1, include_dashboard=False, _temp_dir=folder + "/r")
callers = run("callers")
print(json.dumps({"own": own, "unchanged": unchanged, "callers": callers,
                  "still_up": ray.is_initialized()}))
ray.shutdown()
"""


def test_the_library_leaves_the_process_as_it_found_it(tree, tmp_path):
    folder = tempfile.mkdtemp(prefix="dkl-", dir="/tmp")  # Ray's socket paths must stay short
    environment = {name: value for name, value in os.environ.items()
                   if name not in RAY_ENVIRONMENT and name != "RAY_ADDRESS"}
    try:
        done = subprocess.run([sys.executable, "-c", LIBRARY_RUN, str(tree / "a.png"), folder],
                              env=environment, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == 1, done.stdout  # stdout holds only data
        assert "a notice of the cluster" in done.stderr
        result = json.loads(done.stdout)
        assert result == {"own": [True, True], "unchanged": True, "callers": [True],
                          "still_up": True}
        assert {p.name for p in Path(folder).glob("*.png")} == {"own.png", "own-again.png",
                                                                "callers.png"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_relative_paths_mean_the_callers_files_on_a_joined_cluster(cluster, tree, tmp_path):
    here = tmp_path / "elsewhere"
    shutil.copytree(tree, here / "photos")
    done = dofkit("map", "photos/a.png", "photos/b.jpg", "-m", "analytic", "--out-dir", "maps",
                  "--engine", "ray", "--ray-address", cluster, cwd=here)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (here / "maps").iterdir()) == ["a.png", "b.png"]


def test_a_stop_signal_while_ray_starts_leaves_no_process_behind(tree, tmp_path):
    """SIGTERM as soon as the fresh local Ray's agents run (Ray still starting): exit 130,
    and every process the run started is gone within seconds (the raylet's agents used to
    be orphaned and live on for about a minute)."""
    run = subprocess.Popen([sys.executable, "-m", "dofkit", "map", tree, "-r", "-m",
                            "analytic", "--out-dir", tmp_path / "maps", "--engine", "ray"],
                           env=PLAIN, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    me, seen = psutil.Process(run.pid), {}
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        try:
            children = me.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        seen.update({child.pid: child for child in children})
        if any("Agent" in title for title in map(_title, children)):
            run.send_signal(signal.SIGTERM)
            break
        time.sleep(0.05)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert b"Traceback" not in stderr
    _, alive = psutil.wait_procs(list(seen.values()), timeout=5)
    left = [p for p in alive if _title(p)]  # a zombie (not yet reaped by init) is gone
    for process in left:  # clean up what the run left before failing
        process.kill()
    assert not left, list(map(_title, left))


def _title(process) -> str:
    """The command line of a live process, "" for one that has ended (zombies included)."""
    try:
        return "" if process.status() == psutil.STATUS_ZOMBIE else " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _run_on(cluster: str, *arguments) -> subprocess.CompletedProcess:
    """``dofkit map ... --engine ray`` as a driver of ``cluster``."""
    return dofkit("map", *arguments, "-m", "analytic", "--engine", "ray", "--ray-address",
                  cluster)


def test_report_rows_come_in_input_order_as_with_jobs(cluster, tmp_path):
    """One slow input first, tiny ones after: workers finish the tiny ones first, and still
    the rows come in the order of the inputs, as with ``--jobs``."""
    import cv2

    from conftest import textured

    folder = tmp_path / "in"
    write_image(folder / "a-large.png", cv2.resize(textured(96, 128), (1600, 1200)))
    for index in range(6):
        write_image(folder / f"b{index}.png", textured(24, 32, seed=index))
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert dofkit("map", folder, "-m", "analytic", "--out-dir", tmp_path / "m1", "--jobs", "2",
                  "--report", local).returncode == 0
    done = _run_on(cluster, folder, "--out-dir", tmp_path / "m2", "--report", remote)
    assert done.returncode == 0, done.stderr
    order = [Path(row["input"]).name for row in map(json.loads, remote.read_text().splitlines())]
    assert order == [Path(row["input"]).name
                     for row in map(json.loads, local.read_text().splitlines())]
    assert order == sorted(order)


TERM_IN_START = """
import os, signal, sys, time
import ray
from dofkit.batch.naming import Task
from dofkit.batch.ray_engine import run_ray
from dofkit.pipeline import PipelineSpec

signal.signal(signal.SIGTERM, signal.default_int_handler)  # as the dofkit command does
started = ray.init

def init(*arguments, **options):  # a SIGTERM lands once Ray's driver has its own handlers
    started(*arguments, **options)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)

ray.init = init
try:
    list(run_ray(PipelineSpec("map", {}, {"method": "analytic"}),
                 [Task(sys.argv[1], {"map": sys.argv[2]})]))
except KeyboardInterrupt:
    print("interrupted", flush=True)
time.sleep(5)  # Ray's failure handler had set an alarm that aborts the process after 3 s
print("alive")
"""


def test_a_stop_signal_late_in_the_start_ends_the_run_without_an_abort(tree, tmp_path):
    done = subprocess.run([sys.executable, "-c", TERM_IN_START, str(tree / "a.png"),
                           str(tmp_path / "m.png")], env=PLAIN, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["interrupted", "alive"]
