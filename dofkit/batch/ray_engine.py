"""The Ray engine: the same tasks on a Ray cluster through Ray Data (the ``ray`` extra).

The task list becomes a dataset; ``map_batches`` runs :class:`PipelineActor`, which builds the
per-process pipeline once (the network in ``__init__``; the GL context on its first call,
because Ray Data calls actors from another thread than the one that made them). Failures are
status rows, never failed blocks, and rows stream back in task order (as the local engine
gives them) as they finish (driver memory flat).

Without an address (and no ``RAY_ADDRESS``) a fresh local Ray is started for the run on
127.0.0.1, in its own short temporary folder, and shut down at the end; an unrelated cluster
is never joined by accident. A Ray the caller has already initialised is used as it is and left
running. Nothing of the process's own state is left changed: the environment Ray needs is set
for the run and put back after it; the signal handlers and ``sys.excepthook`` that importing and
starting Ray change are put back at once (with the abort alarm Ray's handler of a SIGTERM
during the start sets); Ray's log levels and Ray Data's settings are set only for the run; the
processes a local Ray leaves behind get SIGTERM, then SIGKILL after :data:`GRACE` s. Outputs are written by the workers, which work in the caller's folder (a
relative path means the same file to both): on several machines every path, that folder
included, must be on a file system all nodes see.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from ..errors import ParameterError, ResourceError
from ..pipeline import PipelineSpec
from .naming import Task

#: Set for a run: stay on loopback, no token file in ~/.ray, no usage report.
RAY_ENVIRONMENT = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
                   "RAY_USAGE_STATS_ENABLED": "0"}
#: Tasks per actor call, each its own block: a status row comes back as its task ends (with
#: 8 a batch, an interrupted run left up to 8 written outputs per actor unreported; the cost
#: per task did not measurably change on 78 small images).
BATCH_SIZE = 1
#: CPUs reserved per actor: fewer than the whole node, or a read step plus actors hang.
ACTOR_CPUS = 0.5
#: Seconds a leftover process of a local Ray gets between SIGTERM and SIGKILL.
GRACE = 3.0


class PipelineActor:
    """A Ray Data actor holding one :class:`dofkit.pipeline.Pipeline`, working in the
    caller's folder ``folder`` (relative paths mean there what they mean to the caller)."""

    def __init__(self, spec: PipelineSpec, folder: str, guard: tuple = (),
                 overwrite: bool = False):
        import warnings

        warnings.simplefilter("ignore")
        try:
            os.chdir(folder)  # this worker process is the job's own
            self.unreachable = None
        except OSError as exc:
            self.unreachable = (f"the folder {folder} is not reachable on this node "
                                f"({exc.strerror})")
        self.pipeline = spec.build(notify=lambda message: None)
        self.guard, self.overwrite = guard, overwrite

    def __call__(self, batch: dict) -> dict:
        """``{"task": [task JSON, ...]}`` -> ``{"status": [status JSON, ...]}``."""
        statuses = []
        for text in batch["task"]:
            task = json.loads(text)
            if self.unreachable:
                status = {"input": task["source"], "outputs": [], "ok": False,
                          "error": f"{task['source']}: {self.unreachable}", "seconds": 0.0}
            else:
                status = self.pipeline.process(task["source"], task["targets"],
                                               map_path=task["map"], inputs=self.guard,
                                               overwrite=self.overwrite)
            statuses.append(json.dumps(status))
        return {"status": statuses}


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse a Ray address that is not ``auto`` or ``[ray://]HOST:PORT`` (ParameterError
    naming ``address``), or whose port does not answer within ``timeout`` s (ResourceError):
    ``ray.init`` would wait for it for minutes without a word."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ParameterError(f"address must be 'auto' or HOST:PORT (ray://HOST:PORT for a Ray "
                             f"client); got {address!r}", "address")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ResourceError(f"cannot reach a Ray cluster at {address} "
                            f"({exc.strerror or 'no answer'})") from None


def run_ray(spec: PipelineSpec, tasks: list[Task], *, address: str | None = None,
            jobs: int = 1, guard: tuple = (), overwrite: bool = False,
            quiet: bool = True) -> Iterator[dict]:
    """Status records of ``tasks``, in order, run by ``jobs`` actors (default: one per
    cluster CPU)."""
    if spec.focus.get("threads") is None:  # Ray gives workers one OpenMP thread; say so
        spec = PipelineSpec(spec.consumer, spec.settings, {**spec.focus, "threads": 1})
    with _connected(address, quiet) as ray, _ray_data_set():
        from ray.data import ActorPoolStrategy

        actors = jobs if jobs > 1 else max(1, int(ray.cluster_resources().get("CPU", 1)))
        dataset = ray.data.from_items([{"task": json.dumps(t.to_json())} for t in tasks],
                                      override_num_blocks=len(tasks))
        statuses = dataset.map_batches(
            PipelineActor, fn_constructor_kwargs={"spec": spec, "folder": os.getcwd(),
                                                  "guard": guard, "overwrite": overwrite},
            batch_size=BATCH_SIZE, compute=ActorPoolStrategy(size=min(actors, len(tasks))),
            num_cpus=ACTOR_CPUS)
        for row in statuses.iter_rows():
            yield json.loads(row["status"])


@contextmanager
def _connected(address: str | None, quiet: bool):
    """The ``ray`` module, initialised for one run: the caller's Ray if this process already
    has one (left running; ``address`` must then be unset), else the cluster at ``address``
    (or ``RAY_ADDRESS``), else a fresh local one on 127.0.0.1; what this opened is shut down
    at the end. The run is made within :data:`RAY_ENVIRONMENT` (read at import, at start and
    as Ray Data runs); the environment is put back at the end, the signal handlers and
    ``sys.excepthook`` as soon as Ray has started."""
    with _environment_kept(RAY_ENVIRONMENT):
        with _handlers_kept() as saved:
            try:
                import ray
            except ImportError:
                raise ResourceError("--engine ray needs the ray extra: pip install "
                                    "'dofkit[ray]'") from None
            joined = ray.is_initialized()
            if joined and address:
                raise ParameterError("Ray is already initialised in this process; leave "
                                     "address unset to use it", "address")
            address = None if joined else address or os.environ.get("RAY_ADDRESS") or None
            folder = (None if joined or address
                      else tempfile.mkdtemp(prefix="dofkit-ray-", dir="/tmp"))
            ray_log = logging.getLogger("ray")
            level = ray_log.level  # ray.init sets it
            earlier = _ray_processes(folder) if folder is not None else None
            if not joined:
                _start(ray, address, folder, quiet, earlier, saved)
        try:
            with _notices_on_stderr(ray):
                yield ray
        finally:
            if not joined:
                _shutdown(ray, folder, earlier)
                ray_log.setLevel(level)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def _start(ray, address: str | None, folder: str | None, quiet: bool,
           earlier: dict | None, saved: tuple) -> None:
    """``ray.init`` of the cluster at ``address``, or of a new local one kept in ``folder``
    (removed, and its processes ended, if the start fails; ``earlier`` as for
    :func:`_shutdown`; ``saved`` put back first, see :func:`_put_back`). Ray's own SIGTERM
    handler is in force meanwhile: a SIGTERM then becomes an interrupt, as everywhere in
    dofkit, not a silent exit."""
    options = dict(log_to_driver=not quiet, logging_level=logging.WARNING,
                   include_dashboard=False)
    try:
        if address:
            check_reachable(address)
            ray.init(address=address, **options)
        else:
            ray.init(address="local", num_cpus=os.cpu_count() or 1, _temp_dir=folder,
                     _node_ip_address="127.0.0.1", **options)
    except BaseException as exc:
        _put_back(saved)
        _shutdown(ray, folder, earlier)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, SystemExit):
            raise KeyboardInterrupt from None
        raise


def _shutdown(ray, folder: str | None, earlier: dict | None) -> None:
    """``ray.shutdown()``; for a local Ray kept in ``folder``, then also end the processes it
    started that outlive it (interrupted while starting, the raylet's agents were left
    orphaned for about a minute). ``earlier``: :func:`_ray_processes` before it started, so
    that only this run's processes are ended."""
    started = {} if folder is None else _ray_processes(folder)
    ray.shutdown()
    _end({pid: since for pid, since in started.items() if pid not in (earlier or {})})


def _end(processes: dict[int, str]) -> None:
    """End the ``processes`` (PID -> start time) still running: SIGTERM, then SIGKILL for
    those left after :data:`GRACE` seconds."""
    _send(_running(processes), signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while _running(processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    _send(_running(processes), signal.SIGKILL)


def _send(pids: list[int], number: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, number)
        except OSError:  # ended meanwhile
            pass


def _running(processes: dict[int, str]) -> list[int]:
    """Those of ``processes`` (PID -> start time) still running (not ended nor a zombie)."""
    table = _process_table(processes)
    return [pid for pid, since in processes.items() if table.get(pid, (0, ""))[1] == since]


def _ray_processes(folder: str) -> dict[int, str]:
    """PID -> start time of this process's descendants that are Ray's: named ``ray::...``
    or naming ``folder`` on their command line."""
    table = _process_table()
    mine, grown = {os.getpid()}, True
    while grown:
        new = {pid for pid, (parent, _, _) in table.items() if parent in mine} - mine
        mine, grown = mine | new, bool(new)
    return {pid: table[pid][1] for pid in mine - {os.getpid()}
            if table[pid][2].startswith("ray::") or folder in table[pid][2]}


def _process_table(pids=None) -> dict[int, tuple[int, str, str]]:
    """PID -> (parent PID, start time, command line) of every running process (or of those
    of ``pids``), zombies left out, from /proc (empty where there is none)."""
    table = {}
    listed = os.listdir("/proc") if pids is None and os.path.isdir("/proc") else pids or ()
    for entry in map(str, listed):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            if fields[0] == b"Z":
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as line:
                command = line.read().replace(b"\0", b" ").decode("utf-8", "replace")
            table[int(entry)] = (int(fields[1]), fields[19].decode(), command)
        except (OSError, IndexError, ValueError):
            continue
    return table


@contextmanager
def _notices_on_stderr(ray):
    """Ray's driver prints the cluster's notices (e.g. "A worker died...") on stdout, which
    is for data; for the block they go to stderr (put back after; nothing if this Ray has no
    such printer)."""
    module = getattr(getattr(ray, "_private", None), "worker", None)
    printer = getattr(module, "print_to_stdstream", None)
    if printer is None:
        yield
        return
    module.print_to_stdstream = lambda data, **options: printer({**data, "is_err": True},
                                                                **options)
    try:
        yield
    finally:
        module.print_to_stdstream = printer


@contextmanager
def _environment_kept(defaults: dict[str, str]):
    """``defaults`` set in ``os.environ`` where unset, for the block; after it, the
    environment as it was (Ray also sets variables of its own and leaves them)."""
    environment = dict(os.environ)
    os.environ.update({name: value for name, value in defaults.items()
                       if name not in environment})
    try:
        yield
    finally:
        for name in set(os.environ) - set(environment):
            del os.environ[name]
        for name, value in environment.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


@contextmanager
def _handlers_kept():
    """The handlers of SIGINT, SIGTERM, SIGHUP and SIGALRM, ``sys.excepthook`` and the
    alarm timer as they were before the block, after it (importing Ray and ``ray.init``
    change them and leave them); the block gets what :func:`_put_back` puts back."""
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)
    main = threading.current_thread() is threading.main_thread()
    saved = (sys.excepthook, {number: signal.getsignal(number) for number in watched}
             if main else {}, signal.getitimer(signal.ITIMER_REAL) if main else None)
    try:
        yield saved
    finally:
        _put_back(saved)


def _put_back(saved: tuple) -> None:
    """Put back what :func:`_handlers_kept` saved. Ray's driver handles failure signals,
    SIGTERM among them: it then arms a 3 s alarm that aborts the process (exit 134), and
    the interrupt it passes on takes longer to wind Ray down; with no alarm set before,
    that alarm is cancelled here."""
    excepthook, handlers, timer = saved
    sys.excepthook = excepthook
    for number, handler in handlers.items():
        signal.signal(number, handler)
    if timer == (0.0, 0.0):
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def _ray_data_set():
    """For the block: Ray Data's driver log at ERROR, its progress bars off (ours is on the
    driver) and rows in task order (as the local engine gives them); all as they were after."""
    from ray.data import DataContext

    log, context = logging.getLogger("ray.data"), DataContext.get_current()
    level, bars = log.level, context.enable_progress_bars
    order = context.execution_options.preserve_order
    log.setLevel(logging.ERROR)
    context.enable_progress_bars = False
    context.execution_options.preserve_order = True
    try:
        yield
    finally:
        log.setLevel(level)
        context.enable_progress_bars = bars
        context.execution_options.preserve_order = order
