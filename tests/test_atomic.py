"""The one atomic-output helper: all or nothing, no litter after kill -9, one-line errors."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys

import pytest

from dofkit.errors import OutputError
from dofkit.io import AtomicFile, write_bytes_atomic

WRITER = """
import sys, time
from dofkit.io import AtomicFile
output = AtomicFile(sys.argv[1])
output.file.write(b"x" * 1_000_000)
output.file.flush()
print("ready", flush=True)
time.sleep(60)
"""


def test_kill_9_while_writing_leaves_nothing(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "out.png")],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert list(tmp_path.iterdir()) == []


def test_commit_discard_and_other_name(tmp_path):
    with AtomicFile(tmp_path / "a.bin") as output:
        output.file.write(b"abc")
        assert list(tmp_path.iterdir()) == []  # invisible until complete
    assert (tmp_path / "a.bin").read_bytes() == b"abc"
    with pytest.raises(RuntimeError):
        with AtomicFile(tmp_path / "b.bin") as output:
            output.file.write(b"half")
            raise RuntimeError("stop")
    output = AtomicFile(tmp_path / "c.mp4")
    output.file.write(b"partial")
    assert output.commit(tmp_path / "c.partial.mp4").read_bytes() == b"partial"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "c.partial.mp4"]


def test_temporaries_of_dead_processes_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    host = socket.gethostname()[:32]
    stale = tmp_path / f".dofkit-{host}-{dead}-0a1b2c3d.part"
    stale.write_bytes(b"left by kill -9 between link and rename")
    alive = tmp_path / f".dofkit-{host}-{os.getpid()}-0a1b2c3d.part"
    alive.write_bytes(b"ours, in progress")
    write_bytes_atomic(tmp_path / "new.png", b"data")
    assert not stale.exists() and alive.exists()


def test_os_errors_are_one_output_error_naming_the_file(tmp_path, monkeypatch):
    long_name = tmp_path / ("x" * 300 + ".png")
    with pytest.raises(OutputError, match=r"x\.png: cannot write \(File name too long\)"):
        write_bytes_atomic(long_name, b"data")
    with pytest.raises(OutputError, match="a file is in the way"):
        (tmp_path / "file").write_text("x")
        write_bytes_atomic(tmp_path / "file" / "out.png", b"data")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match=r"disk\.png: cannot write \(No space left on device\)"):
        write_bytes_atomic(tmp_path / "disk.png", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_link_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    dangling = tmp_path / "dangling.bin"
    dangling.symlink_to(tmp_path / "made.bin")
    write_bytes_atomic(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "made.bin").read_bytes() == b"made"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.bin", "link.bin",
                                                          "made.bin", "real.bin"]


def test_a_device_or_pipe_is_written_into_not_replaced(tmp_path):
    link = tmp_path / "null.png"
    link.symlink_to(os.devnull)
    write_bytes_atomic(link, b"data")
    write_bytes_atomic(os.devnull, b"data")
    assert link.is_symlink() and os.path.realpath(link) == os.devnull
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_bytes_atomic(fifo, b"through the pipe")
    assert reader.communicate(timeout=10)[0] == b"through the pipe"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.png", "pipe"]


def test_dev_stdout_is_written_into_the_descriptor_so_appending_appends(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text("kept\n")
    link = tmp_path / "out.txt"
    link.symlink_to("/dev/stdout")
    code = ("from dofkit.io import AtomicFile, write_bytes_atomic\n"
            f"write_bytes_atomic('/dev/stdout', b'one\\n')\n"
            f"write_bytes_atomic({str(link)!r}, b'two\\n')\n"
            "partial = AtomicFile('/dev/stdout')\n"
            "partial.file.write(b'three\\n')\n"
            f"partial.commit({str(tmp_path / 'other.partial.txt')!r})\n")
    with open(log, "ab") as stream:
        subprocess.run([sys.executable, "-c", code], stdout=stream, check=True)
    assert log.read_text() == "kept\none\ntwo\nthree\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt", "out.txt"]


def test_a_block_device_is_refused(tmp_path):
    device = tmp_path / "disk"
    try:
        os.mknod(device, 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    except OSError:
        pytest.skip("cannot make a block device node here")
    with pytest.raises(OutputError, match="block device"):
        write_bytes_atomic(device, b"data")
