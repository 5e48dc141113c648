"""The command with its standard streams closed or gone: stdout or stderr closed by the caller
(``>&-``, a daemon), a reader that closed the pipe. Never a traceback or an 'internal error',
never a silent failure of a run that did its work."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dofkit.io import open_image, write_image


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "a.png"
    write_image(path, np.random.default_rng(0).random((40, 60, 3)).astype(np.float32))
    return path


def dofkit(*arguments, close=(), **options) -> subprocess.CompletedProcess:
    """Run ``dofkit ARGUMENTS`` with the descriptors in ``close`` closed, as ``>&-`` does."""
    def closing():
        for descriptor in close:
            os.close(descriptor)

    options.setdefault("stdout", subprocess.DEVNULL if 1 not in close else None)
    options.setdefault("stderr", subprocess.PIPE if 2 not in close else None)
    return subprocess.run([sys.executable, "-m", "dofkit", *map(str, arguments)],
                          preexec_fn=closing, text=True, **options)


def test_a_run_with_stderr_closed_does_its_work_and_exits_0(image, tmp_path):
    result = dofkit("map", image, "-o", tmp_path / "m.png", "-m", "analytic", close=(2,))
    assert result.returncode == 0
    assert open_image(tmp_path / "m.png").size == (60, 40)


@pytest.mark.parametrize("arguments", [["roi", "--json"], ["map", "-o", "-"]])
def test_a_closed_stdout_is_one_line_naming_it(image, arguments):
    result = dofkit(*arguments, image, "-m", "analytic", close=(1,))
    assert result.returncode == 1
    assert "stdout" in result.stderr and "closed" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_image_for_a_reader_that_closed_the_pipe_is_no_internal_error(image):
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = dofkit("map", image, "-o", "-", "-m", "analytic", stdout=writer)
    finally:
        os.close(writer)
    assert result.returncode == 1
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 1
