"""Ending the processes a local Ray left behind: SIGTERM first, SIGKILL only after a grace."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dofkit.batch import ray_engine

CHILD = """
import signal, sys, time
def stop(number, frame):
    open(sys.argv[2], "w").write("stopped")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop if sys.argv[3] == "polite" else signal.SIG_IGN)
print("ready", flush=True)
time.sleep(120)
"""


class FakeRay:
    def shutdown(self):
        pass


def test_leftover_processes_get_sigterm_before_sigkill(tmp_path):
    folder = tempfile.mkdtemp(prefix="dks-", dir="/tmp")
    marks = [tmp_path / "polite", tmp_path / "stubborn"]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, folder, str(mark), mark.name],
                                 stdout=subprocess.PIPE) for mark in marks]
    try:
        for child in children:
            assert child.stdout.readline() == b"ready\n"
        started = time.monotonic()
        ray_engine._shutdown(FakeRay(), folder, earlier={})
        assert time.monotonic() - started < 10
        assert [child.wait(10) for child in children] == [0, -9]
        assert marks[0].read_text() == "stopped" and not marks[1].exists()
    finally:
        for child in children:
            child.kill()
        Path(folder).rmdir()
