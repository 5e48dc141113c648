"""Shared fixtures: small synthetic photos with a known in-focus region."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from dofkit.errors import ResourceError
from dofkit.synth import defocus


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A sharp random texture, float32 RGB (H, W, 3) in [0, 1], rich in fine detail."""
    rng = np.random.default_rng(seed)
    blocks = rng.random((height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    texture = np.kron(blocks, np.ones((4, 4, 1), np.float32))[:height, :width]
    noise = rng.random((height, width, 3)).astype(np.float32)
    return np.clip(0.6 * texture + 0.4 * noise, 0.0, 1.0)


@pytest.fixture
def half_sharp() -> tuple[np.ndarray, np.ndarray]:
    """(image, truth): 96x128 texture whose left half is sharp and right half disc-blurred
    (radius 5 px); truth is bool (H, W), True on the sharp left half."""
    image = textured(96, 128)
    blurred = defocus(image, 5.0)
    result = image.copy()
    result[:, 64:] = blurred[:, 64:]
    truth = np.zeros((96, 128), bool)
    truth[:, :64] = True
    return result, truth


def run_on_terminal(*arguments: str, stdout_terminal: bool) -> tuple[str, str]:
    """Run ``dofkit ARGUMENTS`` with stderr on a pseudo-terminal, and stdout on it too or on a
    pipe: (what the terminal showed, what the pipe received)."""
    terminal, child_side = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "dofkit", *arguments], stdin=subprocess.DEVNULL,
        stdout=child_side if stdout_terminal else subprocess.PIPE, stderr=child_side,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(child_side)
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(terminal)
    piped = child.stdout.read() if child.stdout is not None else b""
    child.wait(timeout=120)
    return shown.decode(errors="replace"), piped.decode()


@pytest.fixture(scope="module")
def gl():
    """A GL backend (EGL, Mesa llvmpipe is enough) for the module; the test is skipped where
    no context can be made."""
    from dofkit.render.gl import GlBackend

    try:
        backend = GlBackend()
    except ResourceError as exc:
        pytest.skip(f"no EGL OpenGL context: {exc}")
    yield backend
    backend.close()


@contextmanager
def fifo(path: Path):
    """A named pipe at ``path`` that no one writes to; should a reader block opening it, a
    writer comes and goes after 5 s, so that a test fails instead of hanging."""
    os.mkfifo(path)

    def unblock():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    rescue = threading.Timer(5, unblock)
    rescue.start()
    try:
        yield path
    finally:
        rescue.cancel()
