"""Batches: which inputs (:mod:`.inputs`), where their outputs go (:mod:`.naming`), and the
engines that run the per-input pipeline over them: :mod:`.local` (this process or ``--jobs``
worker processes) and :mod:`.ray_engine` (a Ray cluster, with the ``ray`` extra). Every
engine yields the same status records, ``{"input", "outputs", "ok", "error", "seconds"}``."""

from .inputs import Source, collect
from .local import run_local, skipped, worker_threads
from .naming import Task, check_template, place, refuse_collisions
from .report import Report

__all__ = ["Source", "collect", "run_local", "skipped", "worker_threads", "Task",
           "check_template", "place", "refuse_collisions", "Report"]
