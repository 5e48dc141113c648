"""Where the bundled folders (``shaders/``, ``pretrained/``) are, installed or in a checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_dir(name: str) -> Path:
    """Path of the bundled folder ``name``: inside the installed package (wheel), else the
    top level of a source checkout."""
    packaged = Path(str(files("dofkit") / name))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name
