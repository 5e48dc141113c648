"""The built wheel carries shaders/ and pretrained/, and dofkit finds them when installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("dofkit-*.whl"))


def test_wheel_contains_bundled_folders(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("shaders", "pretrained"):
        bundled = [n for n in names if n.startswith(f"dofkit/{folder}/")]
        shipped = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert len(bundled) == len(shipped) > 0, folder
    assert "dofkit/cli/__init__.py" in names


def test_installed_wheel_finds_its_resources(wheel, tmp_path):
    """Install the wheel (without dependencies, which this venv already has) into a folder
    outside the checkout and run dofkit from there."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(target), str(wheel)], check=True)
    code = ("import dofkit, sys; from dofkit.resources import resource_dir; "
            "print(dofkit.__file__); print(resource_dir('shaders')); "
            "print(resource_dir('pretrained'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, text=True,
                         capture_output=True, env={"PYTHONPATH": str(target), "PATH": ""})
    module, shaders, pretrained = out.stdout.split()
    for path in (module, shaders, pretrained):
        assert path.startswith(str(target)), path
    assert any(Path(shaders).glob("*.glsl")) and any(Path(pretrained).iterdir())
