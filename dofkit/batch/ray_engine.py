"""The Ray engine: the same tasks on a Ray cluster through Ray Data (the ``ray`` extra).

The task list becomes a dataset; ``map_batches`` runs :class:`PipelineActor`, which builds the
per-process pipeline once (the network in ``__init__``; the GL context on its first call,
because Ray Data calls actors from another thread than the one that made them). Failures are
status rows, never failed blocks, and rows stream back as they finish (driver memory flat).

Without an address (and no ``RAY_ADDRESS``) a fresh local Ray is started for the run on
127.0.0.1, in its own short temporary folder, and shut down at the end; an unrelated cluster
is never joined by accident. Outputs are written by the workers: on several machines every
path must be on a file system all nodes see.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
from typing import Iterator

from ..errors import ParameterError, ResourceError
from ..pipeline import PipelineSpec
from .naming import Task

#: Set before Ray is imported: stay on loopback, no token file in ~/.ray, no usage report.
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
    for name, value in RAY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    try:
        import ray
        from ray.data import ActorPoolStrategy, DataContext
    except ImportError:
        raise ResourceError("--engine ray needs the ray extra: pip install 'dofkit[ray]'"
                            ) from None
    if spec.focus.get("threads") is None:  # Ray gives workers one OpenMP thread; say so
        spec = PipelineSpec(spec.consumer, spec.settings, {**spec.focus, "threads": 1})
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        check_reachable(address)
    folder = None if address else tempfile.mkdtemp(prefix="dofkit-ray-", dir="/tmp")
    options = dict(log_to_driver=not quiet, logging_level=logging.WARNING,
                   include_dashboard=False)
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(address="local", num_cpus=os.cpu_count() or 1, _temp_dir=folder,
                     **options)
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        DataContext.get_current().enable_progress_bars = False  # ours is on the driver
        actors = jobs if jobs > 1 else max(1, int(ray.cluster_resources().get("CPU", 1)))
        dataset = ray.data.from_items([{"task": json.dumps(t.to_json())} for t in tasks])
        statuses = dataset.map_batches(
            PipelineActor, fn_constructor_kwargs={"spec": spec, "guard": guard,
                                                  "overwrite": overwrite},
            batch_size=BATCH_SIZE, compute=ActorPoolStrategy(size=min(actors, len(tasks))),
            num_cpus=ACTOR_CPUS)
        for row in statuses.iter_rows():
            yield json.loads(row["status"])
    finally:
        ray.shutdown()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
