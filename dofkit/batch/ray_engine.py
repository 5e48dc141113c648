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

Interrupted, a run still accounts for every output it wrote: workers finish the inputs they
hold after the driver stops reading, so once they have ended, the tasks whose rows were not
handed out are looked up on disk (:func:`found_after_interrupt`).
"""

from __future__ import annotations

import itertools
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
from ..io import STDIO
from ..pipeline import PipelineSpec
from .naming import Task

#: Set for a run: stay on loopback, no token file in ~/.ray, no usage report, no failure
#: handler of Ray's (on a SIGTERM it printed a stack trace and armed an alarm that aborted
#: the process 3 s later unless the run had ended by then), no colour codes in the notices
#: of the cluster passed on to stderr (they landed in log files).
RAY_ENVIRONMENT = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
                   "RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_FAILURE_SIGNAL_HANDLER": "1",
                   "RAY_COLOR_PREFIX": "0"}
#: Tasks per actor call, each its own block: a status row comes back as its task ends (with
#: 8 a batch, an interrupted run left up to 8 written outputs per actor unreported; the cost
#: per task did not measurably change on 78 small images).
BATCH_SIZE = 1
#: CPUs reserved per actor: fewer than the whole node, or a read step plus actors hang.
ACTOR_CPUS = 0.5
#: Seconds a leftover process of a local Ray gets between SIGTERM and SIGKILL (and at most
#: to be gone after SIGKILL; also the wait for the actors of a joined cluster, doubled).
GRACE = 3.0
#: The key marking a status record made from the files on disk after an interrupt.
FOUND = "found_after_interrupt"
#: HTTP/2's connection preface and an empty SETTINGS frame, and the type of that frame: a
#: gRPC server answers the preface with its own SETTINGS frame.
HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
HTTP2_SETTINGS = 4


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
    naming ``address``), or where no gRPC server (a Ray cluster's GCS, or its client server)
    answers within ``timeout`` s (ResourceError): ``ray.init`` would wait for it for minutes
    without a word, deaf to Ctrl-C. The server is asked to open HTTP/2, which gRPC speaks: it
    answers with its SETTINGS at once; another service, or none, does not."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or "/" in host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ParameterError(f"address must be 'auto' or HOST:PORT (ray://HOST:PORT for a Ray "
                             f"client); got {address!r}", "address")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as peer:
            peer.sendall(HTTP2_HELLO)
            answer = _first_bytes(peer, 9, time.monotonic() + timeout)
    except OSError as exc:
        raise ResourceError(f"cannot reach a Ray cluster at {address} "
                            f"({exc.strerror or 'no answer'})") from None
    if len(answer) < 9 or answer[3] != HTTP2_SETTINGS:
        raise ResourceError(f"cannot reach a Ray cluster at {address} (something that is not "
                            "Ray answers there)")


def _first_bytes(peer: socket.socket, count: int, deadline: float) -> bytes:
    """Up to ``count`` bytes from ``peer``, fewer if it closes; socket.timeout (an OSError)
    past ``deadline`` (time.monotonic())."""
    data = b""
    while len(data) < count:
        peer.settimeout(max(deadline - time.monotonic(), 1e-3))
        chunk = peer.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


def run_ray(spec: PipelineSpec, tasks: list[Task], *, address: str | None = None,
            jobs: int | None = None, guard: tuple = (), overwrite: bool = False,
            quiet: bool = True) -> Iterator[dict]:
    """Status records of ``tasks``, in order, run by ``jobs`` actors (None: one per cluster
    CPU).

    Interrupted (a KeyboardInterrupt raised while it waits for a row, or thrown into it with
    ``throw`` while the caller holds one), it stops the workers and shuts Ray down, then
    yields the records :func:`found_after_interrupt` makes for the tasks whose records it had
    not handed out yet, and raises the interrupt again. ``close()`` instead only stops."""
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"jobs must be a whole number of at least 1; got {jobs!r}",
                             "jobs")
    if spec.focus.get("threads") is None:  # Ray gives workers one OpenMP thread; say so
        spec = PipelineSpec(spec.consumer, spec.settings, {**spec.focus, "threads": 1})
    before = [_outputs_on_disk(task) for task in tasks]  # before any worker may write
    handed = 0
    try:
        with _connected(address, quiet) as ray, _ray_data_set():
            from ray.data import ActorPoolStrategy

            actors = jobs or max(1, int(ray.cluster_resources().get("CPU", 1)))
            dataset = ray.data.from_items([{"task": json.dumps(t.to_json())} for t in tasks],
                                          override_num_blocks=len(tasks))
            statuses = dataset.map_batches(
                PipelineActor, fn_constructor_kwargs={"spec": spec, "folder": os.getcwd(),
                                                      "guard": guard, "overwrite": overwrite},
                batch_size=BATCH_SIZE, compute=ActorPoolStrategy(size=min(actors, len(tasks))),
                num_cpus=ACTOR_CPUS)
            rows = iter(statuses.iter_rows())
            try:
                for row in rows:
                    status = json.loads(row["status"])
                    handed += 1  # the caller's from here on
                    yield status
            finally:
                rows.close()  # Ray Data stops, and kills its actors
    except KeyboardInterrupt:  # Ray is shut down and its workers have ended: none writes
        yield from found_after_interrupt(tasks[handed:], before[handed:])
        raise


def found_after_interrupt(tasks: list[Task], before: list[dict]) -> Iterator[dict]:
    """Status records of those ``tasks`` that have output files written since ``before``
    (each task's :func:`_outputs_on_disk` when the run began: a file that is new, or was
    replaced, as atomic writes do, counts), in order, marked :data:`FOUND`. ``ok`` when the
    task's outputs are all there (a task with crops only: its first crop, as
    ``--skip-existing`` decides; their number is not known beforehand), else failed, naming
    those written. Only sound once nothing of the run can write any more."""
    for task, earlier in zip(tasks, before):
        written = [path for path, identity in _outputs_on_disk(task).items()
                   if identity != earlier.get(path)]
        if not written:
            continue
        files = ([target for role, target in task.targets.items()
                  if role != "crop" and target != STDIO]
                 or [next(_crops(task.targets["crop"]), None)])
        complete = all(path in written for path in files)
        yield {"input": task.source, "outputs": written, "ok": complete,
               "error": None if complete else (f"{task.source}: interrupted after writing "
                                               f"{', '.join(written)}"),
               "seconds": 0.0, FOUND: True}


def _outputs_on_disk(task: Task) -> dict[str, tuple[int, int, int]]:
    """Output path -> (device, inode, modification time in ns) of each of ``task``'s output
    files that exists (through links), crops from index 0 on while they exist."""
    found = {}
    for role, target in task.targets.items():
        if target == STDIO:
            continue
        for path in _crops(target) if role == "crop" else [target]:
            try:
                info = os.stat(path)
            except (OSError, ValueError):  # missing, unreachable, a name with a NUL byte
                break
            found[path] = (info.st_dev, info.st_ino, info.st_mtime_ns)
    return found


def _crops(pattern: str) -> Iterator[str]:
    """The paths of the crops of ``pattern``, index 0 on; none if it does not give each
    crop its own name (the pipeline refuses such a pattern)."""
    try:
        first, second = pattern.format(index=0), pattern.format(index=1)
    except (KeyError, IndexError, ValueError, AttributeError):
        return
    if first != second:
        yield from (pattern.format(index=index) for index in itertools.count())


@contextmanager
def _connected(address: str | None, quiet: bool):
    """The ``ray`` module, initialised for one run: the caller's Ray if this process already
    has one (left running; ``address`` must then be unset), else the cluster at ``address``
    (or ``RAY_ADDRESS``), else a fresh local one on 127.0.0.1; what this opened is shut down
    at the end. The run is made within :data:`RAY_ENVIRONMENT` (read at import, at start and
    as Ray Data runs); the environment is put back at the end, the signal handlers and
    ``sys.excepthook`` as soon as Ray has started. Interrupted on a Ray not started here, it
    first waits for the run's actors to end (:func:`_actors_ended`)."""
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
        began = time.time() * 1000
        with _notices_on_stderr(ray):  # also while Ray winds down: an interrupt's notices
            try:
                yield ray
            except KeyboardInterrupt:
                if folder is None:  # a cluster whose processes are not this one's to end
                    _actors_ended(ray, began)
                raise
            finally:
                with _stop_signals_held(ray, saved) as held:
                    if not joined:
                        _shutdown(ray, folder, earlier)
                        ray_log.setLevel(level)
                    if folder is not None:
                        shutil.rmtree(folder, ignore_errors=True)
                if held:
                    raise KeyboardInterrupt


def _start(ray, address: str | None, folder: str | None, quiet: bool,
           earlier: dict | None, saved: tuple) -> None:
    """``ray.init`` of the cluster at ``address``, or of a new local one kept in ``folder``
    (removed, and its processes ended, if the start fails; ``earlier`` as for
    :func:`_shutdown`; ``saved`` put back first, see :func:`_put_back`). A stop signal
    meanwhile is held until ``ray.init`` returns (:func:`_stop_signals_held`), then raised as
    a KeyboardInterrupt, as everywhere in dofkit."""
    options = dict(log_to_driver=not quiet, logging_level=logging.WARNING,
                   include_dashboard=False)
    try:
        with _stop_signals_held(ray, saved) as held:
            if address:
                check_reachable(address)
                try:
                    ray.init(address=address, **options)
                except ConnectionError as exc:  # the port answered, Ray did not (in time)
                    raise ResourceError(f"cannot reach a Ray cluster at {address} "
                                        f"({exc})") from None
                except ValueError as exc:  # a Ray client without the ray[client] extra
                    raise ResourceError(f"cannot use the Ray client at {address}: "
                                        f"{exc}") from None
            else:
                ray.init(address="local", num_cpus=os.cpu_count() or 1, _temp_dir=folder,
                         _node_ip_address="127.0.0.1", **options)
        if held:
            raise KeyboardInterrupt
    except BaseException as exc:
        _put_back(saved)
        _shutdown(ray, folder, earlier, grace=0.0)  # no task ran: nothing is being written
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, SystemExit):  # Ray's own handler, where it could not be held off
            raise KeyboardInterrupt from None
        raise


@contextmanager
def _stop_signals_held(ray, saved: tuple):
    """For the block (Ray's start or wind-down, in the main thread): a SIGINT, SIGTERM or
    SIGHUP that would interrupt (its handler in ``saved`` is Python's ``default_int_handler``,
    or a SIGTERM's is the default) is only noted in the list yielded, and a second one raises
    KeyboardInterrupt (a block that hangs can still be left); Ray does not install its
    SIGTERM handlers (its node's drained for up to 30 s, for work that cannot exist yet,
    before it ended). Raised in the middle of Ray's start, an interrupt can land in logging's
    fork handler, which drops it with its lock held: the run went on, then hung; raised in
    its wind-down, it left processes and the run's folder behind. After the block, ``saved``
    is put back (:func:`_put_back`): a signal after it interrupts as before."""
    held: list[int] = []
    utils = getattr(getattr(ray, "_private", None), "utils", None)
    installer = getattr(utils, "set_sigterm_handler", None)
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(number, frame):  # passed on by Ray's failure handler too, which armed its alarm
        held.append(number)
        _abort_alarm_cancelled(saved)
        if len(held) > 1:
            raise KeyboardInterrupt

    for number, handler in saved[1].items():
        if handler is signal.default_int_handler or (number == signal.SIGTERM
                                                     and handler == signal.SIG_DFL):
            signal.signal(number, hold)
    if installer is not None:
        utils.set_sigterm_handler = lambda handler: None
    try:
        yield held
    finally:
        _put_back(saved)
        if installer is not None:
            utils.set_sigterm_handler = installer


def _shutdown(ray, folder: str | None, earlier: dict | None, grace: float = GRACE) -> None:
    """``ray.shutdown()``; for a local Ray kept in ``folder``, then also end the processes it
    started that outlive it (interrupted while starting, the raylet's agents were left
    orphaned for about a minute), within ``grace`` s (:func:`_end`). ``earlier``:
    :func:`_ray_processes` before it started, so that only this run's processes are ended."""
    started = {} if folder is None else _ray_processes(folder)
    ray.shutdown()
    _end({pid: since for pid, since in started.items() if pid not in (earlier or {})}, grace)


def _end(processes: dict[int, str], grace: float = GRACE) -> None:
    """End the ``processes`` (PID -> start time) still running: SIGTERM, then SIGKILL for
    those left after ``grace`` seconds (a worker ending on SIGTERM removes the temporary
    file of an output it was writing); returns once they are gone (or GRACE s more)."""
    _send(_running(processes), signal.SIGTERM)
    _wait_gone(processes, grace)
    _send(_running(processes), signal.SIGKILL)
    _wait_gone(processes, GRACE)  # a killed process may still end a system call (a rename)


def _wait_gone(processes: dict[int, str], seconds: float) -> None:
    """Wait until none of ``processes`` (PID -> start time) runs, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while _running(processes) and time.monotonic() < deadline:
        time.sleep(0.05)


def _actors_ended(ray, since: float) -> None:
    """Wait, at most 2 * :data:`GRACE` s, until the actors of this run (this job's
    :class:`PipelineActor` actors started since ``since``, Unix ms) are dead for the cluster
    and, on this machine, their processes gone (the cluster marks an actor dead before its
    process has ended). Ray Data kills them when a run stops; the processes on other
    machines cannot be watched from here. Read from the cluster's actor table (Ray's
    ``ray._private.state``); where that cannot be read (a Ray client), nothing is waited for."""
    deadline = time.monotonic() + 2 * GRACE
    try:
        from ray._private import state

        context = ray.get_runtime_context()
        job, node = context.get_job_id(), context.get_node_id()
        while time.monotonic() < deadline:
            ours = [actor for actor in state.actors().values() if actor["JobID"] == job
                    and "PipelineActor" in actor["ActorClassName"]
                    and actor["StartTime"] >= since]
            if not any(actor["State"] != "DEAD" or actor["Address"]["NodeID"] == node
                       and actor["Pid"] and _process_table([actor["Pid"]]) for actor in ours):
                return
            time.sleep(0.05)
    except Exception:  # Ray's private table changed, or cannot be read
        return


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
    excepthook, handlers, _ = saved
    sys.excepthook = excepthook
    for number, handler in handlers.items():
        signal.signal(number, handler)
    _abort_alarm_cancelled(saved)


def _abort_alarm_cancelled(saved: tuple) -> None:
    """Cancel the alarm timer unless one was set when ``saved`` was (see :func:`_put_back`)."""
    if saved[2] == (0.0, 0.0):
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
