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
        notices = [line for line in done.stderr.splitlines() if "a notice of the cluster" in line]
        assert notices and not any("\x1b[" in line for line in notices)  # no colour codes
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
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    except BaseException:  # as a fork handler in Ray's start drops what is raised in it
        pass

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
    """Not lost where Ray's start drops exceptions (a SIGTERM raised in logging's fork handler
    was dropped with the lock held: the run went on, then hung), and no abort after."""
    done = subprocess.run([sys.executable, "-c", TERM_IN_START, str(tree / "a.png"),
                           str(tmp_path / "m.png")], env=PLAIN, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["interrupted", "alive"]


INTERRUPTED_WIND_DOWN = """
import glob, json, os, signal, sys
import psutil
from dofkit.batch import ray_engine
from dofkit.batch.naming import Task
from dofkit.pipeline import PipelineSpec

wind_down = ray_engine._shutdown
def shutdown(*arguments, **options):  # a Ctrl-C as the run winds down
    os.kill(os.getpid(), signal.SIGINT)
    wind_down(*arguments, **options)

ray_engine._shutdown = shutdown
before = set(glob.glob("/tmp/dofkit-ray-*"))
try:
    list(ray_engine.run_ray(PipelineSpec("map", {}, {"method": "analytic"}),
                            [Task(sys.argv[1], {"map": sys.argv[2]})]))
    ended = "completed"
except KeyboardInterrupt:
    ended = "interrupted"
alive = [p for p in psutil.Process().children(recursive=True)
         if p.status() != psutil.STATUS_ZOMBIE]
print(json.dumps([ended, sorted(set(glob.glob("/tmp/dofkit-ray-*")) - before), len(alive)]))
"""


def test_an_interrupt_as_ray_winds_down_leaves_nothing_behind(tree, tmp_path):
    """Raised in the wind-down, the interrupt left Ray's agents running and the run's folder
    on disk; now the wind-down ends first, then the interrupt is raised."""
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WIND_DOWN, str(tree / "a.png"),
                           str(tmp_path / "m.png")], env=PLAIN, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["interrupted", [], 0]


@pytest.mark.parametrize("where, stop", [("fresh", signal.SIGTERM), ("joined", signal.SIGINT)],
                         ids=["sigterm-fresh-ray", "sigint-joined-cluster"])
def test_an_interrupted_run_reports_every_output_it_wrote(request, tmp_path, where, stop):
    """Slow inputs among quick ones, and the stop signal while a slow one is not written yet
    and quick ones after it are: the workers have gone on past the row the driver waits for
    (those outputs were written and never reported: the report used to miss them). Every
    output on disk is in the report, rows in input order; no process of the run is left."""
    import cv2

    from conftest import textured

    folder, out, report = tmp_path / "in", tmp_path / "maps", tmp_path / "r.jsonl"
    slow = (4, 25, 46)  # a second actor may start after the first slow one is done
    for index in range(80):
        picture = textured(24, 32, seed=index)
        write_image(folder / f"{index:03d}.png",
                    cv2.resize(picture, (2400, 1800)) if index in slow else picture)
    address = request.getfixturevalue("cluster") if where == "joined" else None
    joined = ["--ray-address", address] if address else []
    run = subprocess.Popen([sys.executable, "-m", "dofkit", "map", folder, "-m", "analytic",
                            "--out-dir", out, "--report", report, "--engine", "ray", *joined],
                           env=PLAIN, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    me, seen, sent = psutil.Process(run.pid), {}, False
    deadline = time.monotonic() + 300
    while run.poll() is None and time.monotonic() < deadline:
        try:
            seen.update({child.pid: child for child in me.children(recursive=True)})
        except psutil.NoSuchProcess:
            break
        written = {int(path.stem) for path in out.glob("*.png")}
        waited = min(set(range(80)) - written, default=None)  # the row the driver waits for
        if waited in slow and max(written) > waited:
            run.send_signal(stop)
            sent = True
            break
        time.sleep(0.01)
    _, stderr = run.communicate(timeout=120)
    assert sent, "no quick input after a slow one was written before it"
    assert run.returncode == 130, stderr.decode()[-2000:]
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert {output for row in rows for output in row["outputs"]} == {
        str(path) for path in out.iterdir()}
    names = [Path(row["input"]).name for row in rows]
    assert names == sorted(names)
    found = [row for row in rows if row.get("found_after_interrupt")]
    assert found and all(row["ok"] and row["error"] is None for row in found)
    _, alive = psutil.wait_procs(list(seen.values()), timeout=5)
    left = [p for p in alive if _title(p)]  # a zombie (not yet reaped) is gone
    if address:  # the run's actors on the cluster: its raylet's children
        left += [p for p in _workers_of(address) if "PipelineActor" in _title(p)]
    for process in left:  # clean up what the run left before failing
        process.kill()
    assert not left, list(map(_title, left))


def _workers_of(address: str) -> list:
    """The worker processes of the cluster at ``address`` (children of its raylet)."""
    raylets = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"]
               and p.info["cmdline"][0].endswith("raylet")
               and f"--gcs-address={address}" in p.info["cmdline"]]
    return [child for raylet in raylets for child in raylet.children()]


def test_outputs_found_after_an_interrupt_are_those_the_run_wrote(tmp_path):
    """What :func:`found_after_interrupt` makes of the files on disk: new or replaced files
    (atomic writes rename) count, files left as they were do not; crops from index 0."""
    from dofkit.batch.naming import Task
    from dofkit.batch.ray_engine import _outputs_on_disk, found_after_interrupt
    from dofkit.io import write_bytes_atomic

    def path(name: str) -> str:
        return str(tmp_path / name)

    write_bytes_atomic(path("kept.png"), b"old")
    write_bytes_atomic(path("replaced.png"), b"old")
    write_bytes_atomic(path("r-crop0.png"), b"old")
    tasks = [Task("kept.jpg", {"map": path("kept.png")}),
             Task("replaced.jpg", {"map": path("replaced.png")}),
             Task("new.jpg", {"overlay": path("new-overlay.png"),
                              "crop": path("n-crop{index}.png")}),
             Task("half.jpg", {"map": path("half-map.png"), "styled": path("half.png")}),
             Task("crops.jpg", {"crop": path("r-crop{index}.png")}),
             Task("untouched.jpg", {"map": path("untouched.png")})]
    before = [_outputs_on_disk(task) for task in tasks]
    for name in ("replaced.png", "new-overlay.png", "n-crop0.png", "n-crop1.png",
                 "half-map.png", "r-crop1.png"):
        write_bytes_atomic(path(name), b"new")
    rows = list(found_after_interrupt(tasks, before))
    assert [(row["input"], row["outputs"], row["ok"]) for row in rows] == [
        ("replaced.jpg", [path("replaced.png")], True),
        ("new.jpg", [path("new-overlay.png"), path("n-crop0.png"), path("n-crop1.png")], True),
        ("half.jpg", [path("half-map.png")], False),
        ("crops.jpg", [path("r-crop1.png")], False)]
    assert rows[2]["error"] == f"half.jpg: interrupted after writing {path('half-map.png')}"
    assert all(row["found_after_interrupt"] and row["seconds"] == 0.0 for row in rows)


@pytest.mark.parametrize("where", ["writing", "showing"])
def test_an_interrupt_between_rows_is_thrown_into_the_engine(tmp_path, monkeypatch, where):
    """Ctrl-C while the command writes or shows a record (not while it waits for the
    engine): the record in hand is reported, then the interrupt is thrown into the engine,
    whose records found after it are reported too; the run ends with 130."""
    import typer

    from dofkit.batch import Report
    from dofkit.batch.naming import Task
    from dofkit.cli import batch_run
    from dofkit.pipeline import PipelineSpec

    for name in ("a", "b"):
        write_image(tmp_path / f"{name}.png", np.zeros((8, 8, 3), np.float32))
    report = tmp_path / "r.jsonl"
    options = batch_run.Shared(report=str(report)).batch([str(tmp_path / "a.png"),
                                                           str(tmp_path / "b.png")])
    tasks = [Task(str(tmp_path / f"{name}.png"), {"map": str(tmp_path / f"m-{name}.png")})
             for name in ("a", "b")]
    first = {"input": tasks[0].source, "outputs": [tasks[0].targets["map"]], "ok": True,
             "error": None, "seconds": 0.1, "result": {}}
    found = {"input": tasks[1].source, "outputs": [tasks[1].targets["map"]], "ok": True,
             "error": None, "seconds": 0.0, "found_after_interrupt": True}

    def engine(spec, todo, options, guard, quiet):
        try:
            yield first
            yield {**found, "found_after_interrupt": False}  # never asked for
        except KeyboardInterrupt:
            yield found
            raise

    class Interrupted(Report):  # Ctrl-C as the first record is written
        interrupted = False

        def write(self, status):
            if not Interrupted.interrupted:
                Interrupted.interrupted = True
                raise KeyboardInterrupt
            super().write(status)

    shown = []

    def show(status):
        shown.append(status["input"])
        if where == "showing" and len(shown) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(batch_run, "_engine", engine)
    if where == "writing":
        monkeypatch.setattr(batch_run, "Report", Interrupted)
    with pytest.raises(typer.Exit) as ended:
        batch_run.execute(PipelineSpec("map", {}, {"method": "analytic"}), tasks, options,
                          label="mapping", on_status=show)
    assert ended.value.exit_code == 130
    assert [json.loads(line) for line in report.read_text().splitlines()] == [first, found]
    assert shown == [tasks[0].source]  # a record found on disk holds no result to show


def test_only_a_port_where_ray_answers_is_joined(cluster):
    """A port that accepts and never answers, or answers as another service, was joined:
    ray.init then waited for minutes (once 10), deaf to Ctrl-C."""
    import socket
    import threading

    from dofkit.batch import ray_engine
    from dofkit.errors import ResourceError

    ray_engine.check_reachable(cluster)  # a Ray cluster's GCS
    with socket.create_server(("127.0.0.1", 0)) as silent:
        with pytest.raises(ResourceError, match=r"\(no answer\)$"):
            ray_engine.check_reachable(f"127.0.0.1:{silent.getsockname()[1]}", timeout=1.0)
    with socket.create_server(("127.0.0.1", 0)) as other:
        def answer():  # as a web server does
            peer, _ = other.accept()
            with peer:
                peer.recv(64)
                peer.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        with pytest.raises(ResourceError, match="something that is not Ray answers there"):
            ray_engine.check_reachable(f"127.0.0.1:{other.getsockname()[1]}")


def test_an_address_with_a_scheme_is_refused_and_a_silent_cluster_is_unreachable():
    """``http://HOST:PORT`` passed the format check (then 'Name or service not known'); a port
    that answers while Ray does not gave an internal error (ConnectionError from ray.init)."""
    import socket

    from dofkit.batch import ray_engine
    from dofkit.errors import ParameterError, ResourceError

    with pytest.raises(ParameterError, match="^address must be"):
        ray_engine.check_reachable("http://127.0.0.1:6399")

    class SilentRay:
        def init(self, **options):
            raise ConnectionError("Failed to connect to Ray cluster")

        def shutdown(self):
            pass

    with socket.create_server(("127.0.0.1", 0)) as listening:
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        with pytest.raises(ResourceError, match=f"^cannot reach a Ray cluster at {address}"):
            ray_engine._start(SilentRay(), address, None, True, None,
                              (sys.excepthook, {}, None))
