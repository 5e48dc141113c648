"""Bounds of the command's resource options: refused before any work starts."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import dofkit.batch
from dofkit.cli import app
from dofkit.cli.options import MAX_JOBS
from dofkit.io import write_image

runner = CliRunner()


@pytest.mark.parametrize("jobs", [MAX_JOBS + 1, 100_000])
@pytest.mark.parametrize("command", ["map", "stylize"])
def test_jobs_beyond_the_bound_is_a_usage_error_before_any_worker(command, jobs, tmp_path,
                                                                  monkeypatch):
    photo = tmp_path / "photo.png"
    write_image(photo, np.full((8, 8, 3), 0.5, np.float32))
    started = []
    monkeypatch.setattr(dofkit.batch, "run_local",
                        lambda spec, tasks, jobs, **options: started.append(jobs) or iter(()))
    result = runner.invoke(app, [command, str(photo), "--out-dir", str(tmp_path / "out"),
                                 "--jobs", str(jobs)])
    assert result.exit_code == 2 and "--jobs" in result.stderr
    assert str(MAX_JOBS) in result.stderr and not started
