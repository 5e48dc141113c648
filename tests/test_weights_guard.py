"""Tampered weights manifests are refused before any large allocation."""

from __future__ import annotations

import json
import shutil

import pytest

from dofkit.errors import ResourceError

torch = pytest.importorskip("torch")


def inflate(value):
    """Every size in a manifest's config x100 (e.g. 64 channels -> 6,400)."""
    if isinstance(value, list):
        return [inflate(item) for item in value]
    return value * 100 if isinstance(value, int) and not isinstance(value, bool) else value


def test_manifest_asking_for_a_huge_model_is_refused_without_allocating(tmp_path):
    from dofkit.focus.srcnn import default_weights, load_weights, manifest_path

    weights = tmp_path / "net.safetensors"
    shutil.copy(default_weights(), weights)
    manifest = json.loads(manifest_path(default_weights()).read_text())
    manifest["config"] = {key: inflate(value) for key, value in manifest["config"].items()}
    manifest_path(weights).write_text(json.dumps(manifest))
    with pytest.raises(ResourceError, match="asks for [0-9,]+ parameters"):
        load_weights(weights)


def test_weights_or_manifest_that_are_not_regular_files_are_named_so(tmp_path):
    """/dev/zero, a folder or a FIFO is "not a regular file" (it would be read without end),
    not "not found"; a missing file still says so."""
    import os
    from pathlib import Path

    from dofkit.focus.srcnn import default_weights, load_weights

    for path in (tmp_path, Path("/dev/zero")):
        with pytest.raises(ResourceError, match=f"{path.name}: not a regular file"):
            load_weights(path)
    for path in (Path("/"), Path("")):  # folders without a name to give a manifest
        with pytest.raises(ResourceError, match="not a regular file"):
            load_weights(path)
    weights = tmp_path / "net.safetensors"
    shutil.copy(default_weights(), weights)
    os.mkfifo(tmp_path / "net.json")  # the manifest: open() would wait for a writer
    with pytest.raises(ResourceError, match="net.json: not a regular file"):
        load_weights(weights)
    with pytest.raises(ResourceError, match="missing.safetensors: weights file not found"):
        load_weights(tmp_path / "missing.safetensors")
