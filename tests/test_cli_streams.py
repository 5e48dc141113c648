"""A stderr that cannot be written (``2>/dev/full``): the work's result alone decides the
exit code; a message that cannot be shown never crashes the command or gives Python's 120."""

from __future__ import annotations

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


def dofkit_to_full_stderr(*arguments) -> int:
    with open("/dev/full", "w") as full:
        return subprocess.run([sys.executable, "-m", "dofkit", *map(str, arguments)],
                              stdout=subprocess.DEVNULL, stderr=full).returncode


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_a_done_run_exits_0_though_its_messages_cannot_be_written(image, tmp_path, verbose):
    output = tmp_path / "out.png"
    code = dofkit_to_full_stderr("stylize", image, output, "--backend", "cpu", "--method",
                                 "analytic", *verbose)
    assert code == 0 and open_image(output).size == (60, 40)


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_a_failure_keeps_its_exit_code_though_its_message_cannot_be_written(image, tmp_path,
                                                                            verbose):
    assert dofkit_to_full_stderr("stylize", tmp_path / "missing.png", tmp_path / "o.png",
                                 *verbose) == 1
    assert dofkit_to_full_stderr("stylize", image, image, *verbose) == 2  # refused: usage
    assert dofkit_to_full_stderr("map", image, "--jobs", "x", *verbose) == 2  # click's parse
