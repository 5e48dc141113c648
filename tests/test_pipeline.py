"""The per-input pipeline: in memory and on files, status records, never an exception."""

from __future__ import annotations

import numpy as np
import pytest

from dofkit.errors import ParameterError
from dofkit.io import decode_image, encode_image, open_image, write_image
from dofkit.pipeline import (DetectStep, MapStep, Pipeline, PipelineSpec, RoiSettings, RoiStep,
                             StylizeStep)


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline(MapStep("grey"), method="analytic")


def test_run_in_memory_takes_an_array_or_a_decoded_picture(pipeline, half_sharp):
    image = half_sharp[0]
    result = pipeline.run(image)
    focus = result.images["map"].values
    assert focus.shape == image.shape[:2] and focus.dtype == np.float32
    assert focus[:, :40].mean() > focus[:, 88:].mean() + 0.3
    picture = decode_image(encode_image(image, ".png"), "upload")
    assert np.abs(pipeline.run(picture).images["map"].values - focus).mean() < 0.02


def test_process_writes_and_reports(pipeline, half_sharp, tmp_path):
    write_image(tmp_path / "a.png", half_sharp[0])
    status = pipeline.process(str(tmp_path / "a.png"), {"map": str(tmp_path / "out/a.png")})
    assert status["ok"] and status["error"] is None and status["seconds"] >= 0
    assert status["outputs"] == [str(tmp_path / "out/a.png")]
    assert open_image(tmp_path / "out/a.png").size == (128, 96)


@pytest.mark.parametrize("content, message", [(b"", "empty file"), (b"nope", "not an image"),
                                              (None, "no such file")])
def test_process_never_raises_for_a_bad_input(pipeline, tmp_path, content, message):
    source = tmp_path / "bad.png"
    if content is not None:
        source.write_bytes(content)
    status = pipeline.process(str(source), {"map": str(tmp_path / "m.png")})
    assert not status["ok"] and status["outputs"] == []
    assert status["error"].startswith(f"{source}: ") and message in status["error"]
    assert not (tmp_path / "m.png").exists()


def test_process_reports_an_unexpected_failure_on_one_line(half_sharp, tmp_path):
    def broken(picture, focus):
        raise ZeroDivisionError("boom")

    write_image(tmp_path / "a.png", half_sharp[0])
    status = Pipeline(broken, method="analytic").process(str(tmp_path / "a.png"), {})
    assert status["error"] == f"{tmp_path / 'a.png'}: internal error (ZeroDivisionError: boom)"


def test_running_out_of_memory_fails_the_input_not_as_an_internal_error(half_sharp, tmp_path):
    """A valid photo too large for the memory the process may have (a 92 MP picture under a
    4 GB address-space limit) is one line about memory, and the batch goes on."""
    def hungry(picture, focus):
        raise MemoryError()

    write_image(tmp_path / "a.png", half_sharp[0])
    status = Pipeline(hungry, method="analytic").process(str(tmp_path / "a.png"), {})
    assert not status["ok"]
    assert status["error"] == (f"{tmp_path / 'a.png'}: not enough memory to process it "
                               "(the image is too large for what this process may use)")


def test_given_map_is_used_and_never_overwritten(pipeline, half_sharp, tmp_path):
    write_image(tmp_path / "a.png", half_sharp[0])
    write_image(tmp_path / "m.png", np.ones((96, 128), np.float32))
    before = (tmp_path / "m.png").read_bytes()
    styled = Pipeline(StylizeStep("toon", "cpu", with_map=True), method="analytic")
    status = styled.process(str(tmp_path / "a.png"), {"styled": str(tmp_path / "s.png"),
                                                      "map": str(tmp_path / "m.png")},
                            map_path=str(tmp_path / "m.png"))
    assert not status["ok"] and "refusing to overwrite an input" in status["error"]
    assert (tmp_path / "m.png").read_bytes() == before


def test_pipeline_without_method_uses_given_maps_only(half_sharp):
    picture = decode_image(encode_image(half_sharp[0], ".png"), "p")
    roi = Pipeline(RoiStep(RoiSettings(0.5)), method=None, threads=1)
    assert roi.estimator is None
    assert len(roi.run(picture, half_sharp[1].astype(np.float32)).record["rois"]) == 1
    with pytest.raises(ParameterError) as caught:
        roi.run(picture)
    assert caught.value.parameter == "focus"


def test_roi_and_detect_records(half_sharp):
    picture = decode_image(encode_image(half_sharp[0], ".png"), "p")
    roi = Pipeline(RoiStep(RoiSettings(0.5), crops=True, overlay=True), method="analytic")
    result = roi.run(picture)
    assert result.record["width"] == 128 and len(result.record["rois"]) == 1
    assert {"overlay", "crop0"} <= set(result.images)
    detect = Pipeline(DetectStep(lambda rgb: []), method="analytic")
    assert detect.run(picture).record == {"kept": [], "dropped": []}


def test_spec_builds_the_same_pipeline(half_sharp):
    spec = PipelineSpec("map", {"view": "rainbow"}, {"method": "analytic"})
    built = spec.build()
    assert built.run(half_sharp[0]).images["map"].values.shape == (96, 128, 3)


def test_library_errors_name_their_parameter():
    with pytest.raises(ParameterError, match="^view must be one of") as info:
        MapStep("sepia")
    assert info.value.parameter == "view"


def test_given_maps_and_targets_are_checked(tmp_path):
    pipeline = Pipeline(MapStep(), method="analytic")
    image = np.full((6, 8, 3), 0.5, np.float32)
    for focus in (np.zeros((5, 8), np.float32), np.full((6, 8), 7.0, np.float32),
                  np.full((6, 8), np.nan, np.float32), 7):
        with pytest.raises(ParameterError, match="focus"):
            pipeline.run(image, focus)
    for targets in ("out/x.png", {"bogus": "x.png"}, {"map": 3}):
        with pytest.raises(ParameterError, match="targets must map roles"):
            pipeline.process(str(tmp_path / "a.png"), targets)


@pytest.mark.parametrize("pattern", ["crops/{index}{index}.png", "crops/{index}-{other}.png",
                                     "crops/roi.png", "crops/{index.real}.png", "crops/{}.png"])
def test_a_crop_pattern_needs_index_once_and_no_other_field(pattern):
    """Exactly one {index}: with two, the crops' names could not be told from other files by
    the collision check (it accepted them here and could not parse them there)."""
    from dofkit.errors import OutputError
    from dofkit.pipeline.runner import check_crop_pattern

    with pytest.raises(OutputError, match="once and no other field"):
        check_crop_pattern(pattern)
    check_crop_pattern("crops/photo-roi{index:02d}.png")


def test_a_pipeline_is_a_context_manager_that_frees_its_gl_context(tmp_path):
    from dofkit.pipeline import Pipeline, StylizeStep

    rgb = np.random.default_rng(0).random((32, 40, 3), dtype=np.float32)
    with Pipeline(StylizeStep("toon", "cpu"), method="analytic") as pipeline:
        assert pipeline.run(rgb).images["styled"].values.shape == (32, 40, 3)
        closed = []
        pipeline.consumer.close = lambda: closed.append(True)
    assert closed == [True]
