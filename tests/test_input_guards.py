"""Inputs are never overwritten (through links too), a run that never starts leaves no
report, and --threads and --aspect are range-checked: one line, exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.errors import ParameterError
from dofkit.io import write_image
from tests.conftest import textured

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def run(*arguments):
    return runner.invoke(app, [str(a) for a in arguments])


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dofkit: error:"), result.stderr
    return lines[0]


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "a.png"
    write_image(path, textured(48, 64))
    return path


@pytest.fixture
def weights(tmp_path) -> Path:
    """A copy of the shipped weights and their manifest."""
    for suffix in (".safetensors", ".json"):
        shutil.copy(ROOT / "pretrained" / f"focus-net{suffix}", tmp_path / f"net{suffix}")
    return tmp_path / "net.safetensors"


def link(kind: str, target: Path, name: Path) -> Path:
    os.link(target, name) if kind == "hard" else name.symlink_to(target.name)
    return name


@pytest.mark.parametrize("kind", ["hard", "symbolic"])
def test_an_output_that_is_an_input_through_a_link_is_refused_like_the_input(photo, kind):
    before = photo.read_bytes()
    other = link(kind, photo, photo.with_name("other.png"))
    result = run("map", photo, "-o", other, "-m", "analytic")
    assert result.exit_code == 2
    assert "refusing to overwrite an input file" in one_error_line(result)
    assert photo.read_bytes() == before


@pytest.mark.parametrize("kind", ["same name", "hard", "symbolic"])
def test_a_report_that_is_the_image_is_refused(photo, tmp_path, kind):
    before = photo.read_bytes()
    report = photo if kind == "same name" else link(kind, photo, tmp_path / "r.jsonl")
    result = run("map", photo, "-o", tmp_path / "m.png", "-m", "analytic", "--report", report)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--report" in line and report.name in line and "input" in line
    assert photo.read_bytes() == before and not (tmp_path / "m.png").exists()


def test_a_report_that_is_the_detections_file_is_refused(photo, tmp_path):
    detections = tmp_path / "det.json"
    detections.write_text('[{"bbox": [1, 1, 10, 10], "score": 0.9}]')
    report = link("symbolic", detections, tmp_path / "d.jsonl")
    result = run("detect", photo, "--detections", detections, "--report", report, "--json",
                 "-m", "analytic")
    assert result.exit_code == 2 and "d.jsonl" in one_error_line(result)
    assert detections.read_text() == '[{"bbox": [1, 1, 10, 10], "score": 0.9}]'


def test_a_report_that_is_the_from_list_is_refused(photo, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{photo}\n")
    report = link("symbolic", listing, tmp_path / "l.jsonl")
    result = run("map", "--from", listing, "--out-dir", tmp_path / "maps", "-m", "analytic",
                 "--report", report)
    assert result.exit_code == 2 and "l.jsonl" in one_error_line(result)
    assert listing.read_text() == f"{photo}\n" and not (tmp_path / "maps").exists()


def test_a_report_that_is_the_weights_manifest_is_refused(photo, weights, tmp_path):
    manifest = weights.with_suffix(".json")
    before = manifest.read_bytes()
    result = run("map", photo, "-o", tmp_path / "m.png", "--weights", weights,
                 "--report", manifest)
    assert result.exit_code == 2 and "net.json" in one_error_line(result)
    assert manifest.read_bytes() == before


def _start_failures():
    import torch

    yield ["--weights", "missing.safetensors"]
    if not torch.cuda.is_available():
        yield ["--device", "cuda"]


@pytest.mark.parametrize("failure", list(_start_failures()), ids=lambda f: f[0])
def test_a_run_that_never_starts_writes_no_report(photo, tmp_path, failure):
    previous = tmp_path / "r.jsonl"
    previous.write_text("the previous run\n")
    for report in (previous, tmp_path / "new" / "r.jsonl"):
        result = run("map", photo, "-o", tmp_path / "m.png", "-m", "srcnn", *failure,
                     "--report", report)
        assert result.exit_code == 1, result.stderr
        one_error_line(result)
    assert previous.read_text() == "the previous run\n"
    assert not (tmp_path / "new").exists()


@pytest.fixture
def training(tmp_path) -> Path:
    """masked/{img,mask} and sharp/, three small photos each."""
    for sub in ("masked/img", "masked/mask", "sharp"):
        (tmp_path / sub).mkdir(parents=True)
    mask = np.zeros((96, 96), np.uint8)
    mask[20:70, 30:80] = 255
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"masked/img/p{i}.png"),
                    (textured(96, 96, seed=i) * 255).astype(np.uint8))
        cv2.imwrite(str(tmp_path / f"masked/mask/p{i}.png"), mask)
        cv2.imwrite(str(tmp_path / f"sharp/s{i}.png"),
                    (textured(96, 96, seed=10 + i) * 255).astype(np.uint8))
    return tmp_path


@pytest.mark.parametrize("option, target", [
    ("--checkpoint", "masked/img/p0.png"), ("--checkpoint", "masked/mask/p1.png"),
    ("--export", "sharp/s0.png"), ("--checkpoint", "net.safetensors"),
    ("--export", "net.safetensors"), ("--export", "net.bin"), ("--checkpoint", "link.pt")])
def test_training_refuses_to_overwrite_what_it_reads(training, weights, option, target):
    (training / "link.pt").symlink_to("sharp/s1.png")
    files = [p for p in training.rglob("*") if p.is_file()]
    before = {p: p.read_bytes() for p in files}
    result = run("train", "--masked", training / "masked", "--sharp", training / "sharp",
                 "--no-skimage", "--steps", "1", "--batch", "1", "--patch", "64",
                 "--validate-every", "1", "--init", weights, option, training / target)
    assert result.exit_code == 2
    assert option in one_error_line(result) and "input" in result.stderr
    assert "parameters" not in result.stderr  # refused before the model was made
    assert {p: p.read_bytes() for p in files} == before
    assert sorted(p for p in training.rglob("*") if p.is_file()) == sorted(files)


@pytest.mark.parametrize("threads", ["257", "100000", "2147483648"])
def test_threads_out_of_range_is_a_usage_error(photo, tmp_path, threads):
    result = subprocess.run([sys.executable, "-m", "dofkit", "map", str(photo), "-o",
                             str(tmp_path / "m.png"), "-m", "srcnn", "--threads", threads],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "--threads" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.png").exists()


def test_the_library_refuses_absurd_thread_counts():
    from dofkit import FocusEstimator
    from dofkit.focus.srcnn import SrcnnPredictor

    for make in (lambda n: FocusEstimator("analytic", threads=n),
                 lambda n: SrcnnPredictor(threads=n)):
        with pytest.raises(ParameterError) as refused:
            make(100_000)
        assert refused.value.parameter == "threads"
    assert FocusEstimator("analytic", threads=256).method == "analytic"


@pytest.mark.parametrize("text", ["1:1e-320", "1e300:1e-300", "1:101", "1e-320:1"])
def test_an_aspect_out_of_range_is_refused(photo, text):
    from dofkit.roi import aspect_crop, parse_aspect

    with pytest.raises(ParameterError) as refused:
        parse_aspect(text)
    assert refused.value.parameter == "aspect"
    focus = np.zeros((50, 100), np.float32)
    focus[20:30, 45:55] = 1.0
    with pytest.raises(ParameterError):
        aspect_crop(focus, tuple(float(v) for v in text.split(":")))
    result = run("roi", photo, "--aspect", text, "-m", "analytic")
    assert result.exit_code == 2 and "--aspect" in one_error_line(result)


def test_the_server_answers_400_to_an_aspect_out_of_range():
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from dofkit.serve import Settings, create_app

    image = (ROOT / "samples" / "coffee.jpg").read_bytes()
    with TestClient(create_app(Settings())) as client:
        for aspect in ("1:1e-320", "1e300:1e-300"):
            response = client.post(f"/v1/roi?aspect={aspect}",
                                   files={"image": ("c.jpg", image, "image/jpeg")},
                                   headers={"Accept": "application/json"})
            assert response.status_code == 400 and "aspect" in response.json()["error"]


def test_a_report_that_is_a_folder_is_refused_before_the_run(photo, tmp_path):
    result = run("map", photo, "-o", tmp_path / "m.png", "-m", "analytic",
                 "--report", tmp_path)
    assert result.exit_code == 2 and "is a folder" in result.stderr
    assert not (tmp_path / "m.png").exists()


def test_a_report_that_cannot_be_written_is_found_before_the_run(photo, tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    result = run("map", photo, "-o", tmp_path / "m.png", "-m", "analytic",
                 "--report", tmp_path / "plain" / "r.jsonl")
    assert result.exit_code == 1 and "plain" in result.stderr
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize("case", ["missing", "symbolic", "crop"])
def test_a_report_that_is_an_output_is_refused_even_with_overwrite(photo, tmp_path, case):
    """The report is never one of the run's outputs: compared through links where the file
    exists, by normalised path where it does not; crop patterns included."""
    out = tmp_path / "out"
    if case == "crop":
        command = ("roi", photo, "--crop-dir", out, "-m", "analytic")
        report = out / "sub" / ".." / "a-roi1.png"
    else:
        command = ("map", photo, "--out-dir", out, "-m", "analytic")
        report = out / "." / "a.png"
        if case == "symbolic":
            out.mkdir()
            (out / "a.png").write_bytes(b"an earlier map")
            report = link("symbolic", out / "a.png", out / "r.jsonl")
    before = sorted(out.iterdir()) if out.exists() else []
    result = run(*command, "--overwrite", "--report", report)
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "--report" in line and report.name in line and "output of this run" in line
    assert (sorted(out.iterdir()) if out.exists() else []) == before
    if case == "symbolic":
        assert (out / "a.png").read_bytes() == b"an earlier map"


def test_a_from_list_holding_a_nul_byte_is_one_line_naming_it(photo, tmp_path):
    """A NUL byte is in no file name: such a list (an image given by mistake) is refused."""
    listing = tmp_path / "list.txt"
    listing.write_bytes(f"{photo}\n".encode() + b"b\x00.png\n")
    result = run("map", "--from", listing, "--out-dir", tmp_path / "maps", "-m", "analytic")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"{listing}: cannot read the list of inputs" in line and "NUL" in line


def test_an_input_that_is_a_symlink_loop_is_one_line_and_the_batch_goes_on(photo, tmp_path):
    """Links that lead round in a loop name no file: that input is one error line, the others
    are written (naming the outputs followed the links and failed for the whole batch)."""
    (tmp_path / "x.png").symlink_to("y.png")
    (tmp_path / "y.png").symlink_to("x.png")
    out = tmp_path / "maps"
    result = run("map", tmp_path / "x.png", photo, "--out-dir", out, "-m", "analytic")
    assert result.exit_code == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("dofkit: error:")]
    assert len(errors) == 1 and "x.png: cannot read" in errors[0], result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]
