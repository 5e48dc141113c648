"""Bounds of the command's resource options: refused before any work starts."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import dofkit.batch.local
from dofkit.batch.local import MAX_JOBS
from dofkit.cli import app
from dofkit.io import write_image

runner = CliRunner()


@pytest.mark.parametrize("jobs", [0, -3, MAX_JOBS + 1, 100_000])  # 0: the same words
@pytest.mark.parametrize("command", ["map", "stylize"])
def test_jobs_beyond_the_bound_is_a_usage_error_before_any_worker(command, jobs, tmp_path,
                                                                  monkeypatch):
    photo = tmp_path / "photo.png"
    write_image(photo, np.full((8, 8, 3), 0.5, np.float32))
    pools = []
    monkeypatch.setattr(dofkit.batch.local, "ProcessPoolExecutor",
                        lambda *arguments, **options: pools.append(arguments))
    result = runner.invoke(app, [command, str(photo), "--out-dir", str(tmp_path / "out"),
                                 "--jobs", str(jobs)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"dofkit: error: --jobs must be a whole number from 1 to "
                                     f"{MAX_JOBS}; got {jobs}")
    assert not pools and not (tmp_path / "out").exists()
