"""The Ray engine: the same tasks on a Ray cluster through Ray Data (the ``ray`` extra).

The task list becomes a dataset; ``map_batches`` runs :class:`PipelineActor`, which builds the
per-process pipeline once (the network in ``__init__``; the GL context on its first call,
because Ray Data calls actors from another thread than the one that made them). Failures are
status rows, never failed blocks, and rows stream back as they finish (driver memory flat).

Without an address (and no ``RAY_ADDRESS``) a fresh local Ray is started for the run on
127.0.0.1, in its own short temporary folder, and shut down at the end; an unrelated cluster
is never joined by accident. A Ray the caller has already initialised is used as it is and left
running. Nothing of the process's own state is left changed: the environment Ray needs is set
only while it starts, and what ``ray.init`` changes (environment, signal handlers) is put back
at once; Ray Data's log level and progress bars are set only for the run. Outputs are
written by the workers: on several machines every path must be on a file system all nodes see.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

from ..errors import ParameterError, ResourceError
from ..pipeline import PipelineSpec
from .naming import Task

#: Set while Ray starts: stay on loopback, no token file in ~/.ray, no usage report.
RAY_ENVIRONMENT = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
                   "RAY_USAGE_STATS_ENABLED": "0"}
BATCH_SIZE = 8
#: CPUs reserved per actor: fewer than the whole node, or a read step plus actors hang.
ACTOR_CPUS = 0.5


class PipelineActor:
    """A Ray Data actor holding one :class:`dofkit.pipeline.Pipeline`."""

    def __init__(self, spec: PipelineSpec, guard: tuple = (), overwrite: bool = False):
        import warnings

        warnings.simplefilter("ignore")
        self.pipeline = spec.build(notify=lambda message: None)
        self.guard, self.overwrite = guard, overwrite

    def __call__(self, batch: dict) -> dict:
        """``{"task": [task JSON, ...]}`` -> ``{"status": [status JSON, ...]}``."""
        statuses = []
        for text in batch["task"]:
            task = json.loads(text)
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
    """Status records of ``tasks`` run by ``jobs`` actors (default: one per cluster CPU)."""
    try:
        import ray
        from ray.data import ActorPoolStrategy
    except ImportError:
        raise ResourceError("--engine ray needs the ray extra: pip install 'dofkit[ray]'"
                            ) from None
    if spec.focus.get("threads") is None:  # Ray gives workers one OpenMP thread; say so
        spec = PipelineSpec(spec.consumer, spec.settings, {**spec.focus, "threads": 1})
    with _connected(ray, address, quiet), _quiet_ray_data():
        actors = jobs if jobs > 1 else max(1, int(ray.cluster_resources().get("CPU", 1)))
        dataset = ray.data.from_items([{"task": json.dumps(t.to_json())} for t in tasks])
        statuses = dataset.map_batches(
            PipelineActor, fn_constructor_kwargs={"spec": spec, "guard": guard,
                                                  "overwrite": overwrite},
            batch_size=BATCH_SIZE, compute=ActorPoolStrategy(size=min(actors, len(tasks))),
            num_cpus=ACTOR_CPUS)
        for row in statuses.iter_rows():
            yield json.loads(row["status"])


@contextmanager
def _connected(ray, address: str | None, quiet: bool):
    """Ray initialised for one run: the caller's if this process already has one (left
    running; ``address`` must then be unset), else the cluster at ``address`` (or
    ``RAY_ADDRESS``), else a fresh local one; what this opened is shut down at the end."""
    if ray.is_initialized():
        if address:
            raise ParameterError("Ray is already initialised in this process; leave address "
                                 "unset to use it", "address")
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        check_reachable(address)
    folder = None if address else tempfile.mkdtemp(prefix="dofkit-ray-", dir="/tmp")
    options = dict(log_to_driver=not quiet, logging_level=logging.WARNING,
                   include_dashboard=False)
    try:
        with _process_state_kept(RAY_ENVIRONMENT):
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(address="local", num_cpus=os.cpu_count() or 1, _temp_dir=folder,
                         **options)
        yield
    finally:
        ray.shutdown()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _process_state_kept(defaults: dict[str, str]):
    """``defaults`` set in ``os.environ`` where unset, for the block; after it, the
    environment and the handlers of SIGINT, SIGTERM and SIGHUP as they were before
    (``ray.init`` sets environment variables and its own SIGTERM handler, and leaves them)."""
    environment = dict(os.environ)
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    handlers = ({number: signal.getsignal(number) for number in watched}
                if threading.current_thread() is threading.main_thread() else {})
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
        for number, handler in handlers.items():
            signal.signal(number, handler)


@contextmanager
def _quiet_ray_data():
    """Ray Data's driver log at ERROR and its progress bars off (ours is on the driver) for
    the block; both as they were after."""
    from ray.data import DataContext

    log, context = logging.getLogger("ray.data"), DataContext.get_current()
    level, bars = log.level, context.enable_progress_bars
    log.setLevel(logging.ERROR)
    context.enable_progress_bars = False
    try:
        yield
    finally:
        log.setLevel(level)
        context.enable_progress_bars = bars
