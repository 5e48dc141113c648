"""Signals in worker processes (sample makers of training, batch workers)."""

from __future__ import annotations

import signal


def leave_signals_to_parent() -> None:
    """In a worker process: Ctrl-C and a terminal hang-up, which reach the whole process
    group, are ignored (the parent stops its workers in order; a worker killed by them makes
    the parent's shutdown print tracebacks), and SIGTERM, the way a parent ends a worker,
    ends it at once (the dofkit command turns it into an interrupt, which workers inherit)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
