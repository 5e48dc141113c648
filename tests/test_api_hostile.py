"""Hostile arguments to the library API: every refusal is a dofkit error naming the parameter,
never a raw numpy/OpenCV/torch exception or a crash, and never a silently wrong answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import dofkit
from dofkit.errors import OutputError, ParameterError
from dofkit.metrics import f05, fmax, mae, score
from dofkit.pipeline import DetectStep, MapStep, Pipeline, RoiSettings, RoiStep, StylizeStep
from dofkit.roi import aspect_crop, clip_box, find_rois, nms, otsu_threshold, parse_aspect


def _map() -> np.ndarray:
    focus = np.zeros((40, 60), np.float32)
    focus[10:20, 5:25] = 1.0
    return focus


# --- focus maps ------------------------------------------------------------------------------

def test_image_errors_name_the_image():
    with pytest.raises(ParameterError) as caught:
        dofkit.focus_map(np.zeros((4, 4, 3), np.float64), method="paper")
    assert caught.value.parameter == "image"


def test_image_beyond_opencv_size_is_refused_not_a_crash():
    # a broadcast view costs no memory; OpenCV segfaulted on it (its sizes are int)
    huge = np.broadcast_to(np.float32(0.5), (100_000, 100_000, 3))
    for method in ("paper", "analytic"):
        with pytest.raises(ParameterError, match="image") as caught:
            dofkit.FocusEstimator(method)(huge)
        assert caught.value.parameter == "image"


@pytest.mark.parametrize("weights", [3, b"/tmp/w.safetensors", ["w"]])
def test_weights_of_wrong_type(weights):
    with pytest.raises(ParameterError) as caught:
        dofkit.FocusEstimator("srcnn", weights=weights)
    assert caught.value.parameter == "weights"


def test_focus_map_unhashable_method():
    with pytest.raises(ParameterError) as caught:
        dofkit.focus_map(np.zeros((4, 4, 3), np.float32), method=["paper"])
    assert caught.value.parameter == "method"


def test_threads_numpy_integer_accepted():
    dofkit.FocusEstimator("paper", threads=np.int64(2))


# --- regions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, focus", [
    ("nan", np.where(np.arange(2400).reshape(40, 60) % 7 == 0, np.nan, _map()).astype(np.float32)),
    ("inf", np.where(np.arange(2400).reshape(40, 60) % 7 == 0, np.inf, _map()).astype(np.float32)),
    ("uint8 0-255", (_map() * 255).astype(np.uint8)),
    ("negative", _map() - 2),
    ("complex", _map().astype(np.complex64)),
    ("object", _map().astype(object)),
])
def test_bad_map_values_refused(name, focus):
    for call in (lambda: find_rois(focus), lambda: aspect_crop(focus, (16, 9)),
                 lambda: otsu_threshold(focus), lambda: dofkit.gate_detections(
                     [dofkit.Detection((0, 0, 10, 10), 0.9, "p")], focus)):
        with pytest.raises(ParameterError) as caught:
            call()
        assert caught.value.parameter == "focus"


@pytest.mark.parametrize("focus", [
    _map().astype(np.float64), _map().astype(">f4"), _map() > 0.5, _map().astype(np.int64),
    _map().astype(np.float16), np.repeat(_map(), 2, axis=1)[:, ::2]])
def test_other_map_layouts_work(focus):
    assert [roi.bbox for roi in find_rois(focus)] == [(5, 10, 20, 10)]


def test_otsu_of_empty_map():
    with pytest.raises(ParameterError):
        otsu_threshold(np.zeros((0, 5), np.float32))


@pytest.mark.parametrize("keyword, value", [
    ("threshold", None), ("threshold", [0.5]), ("threshold", True),
    ("min_area", "0.1"), ("min_area", None), ("pad", "1"), ("pad", None),
    ("merge", "0.1"), ("merge", None), ("max_rois", 1.5), ("max_rois", "2"),
    ("max_rois", float("nan")), ("max_rois", True)])
def test_region_parameters_of_wrong_type(keyword, value):
    with pytest.raises(ParameterError) as caught:
        find_rois(_map(), **{keyword: value})
    assert caught.value.parameter == keyword


@pytest.mark.parametrize("keyword, value", [
    ("fraction", "0.5"), ("fraction", None), ("fraction", 2.0), ("threshold", None),
    ("speck", -1.0), ("speck", float("nan")), ("speck", None), ("speck", "x")])
def test_aspect_crop_parameters(keyword, value):
    with pytest.raises(ParameterError) as caught:
        aspect_crop(_map(), (16, 9), **{keyword: value})
    assert caught.value.parameter == keyword


@pytest.mark.parametrize("text", [None, 169])
def test_parse_aspect_of_wrong_type(text):
    with pytest.raises(ParameterError) as caught:
        parse_aspect(text)
    assert caught.value.parameter == "aspect"


def test_box_helpers_refuse_bad_arguments():
    with pytest.raises(ParameterError):
        clip_box((float("nan"), 0, 10, 10), (100, 100))
    with pytest.raises(ParameterError):
        clip_box((0, 0, float("inf"), 10), (100, 100))
    with pytest.raises(ParameterError):
        nms([(0, 0, 1, 1)], [])


# --- stylise ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stylizer():
    with dofkit.Stylizer("toon", "cpu") as made:
        yield made


def _pair():
    rng = np.random.default_rng(0)
    return rng.random((24, 32, 3), dtype=np.float32), rng.random((24, 32), dtype=np.float32)


@pytest.mark.parametrize("bad", ["nan", "inf", "negative", "above"])
def test_stylize_refuses_bad_focus_values(stylizer, bad):
    image, focus = _pair()
    focus = {"nan": np.where(focus > 0.9, np.nan, focus), "inf": np.where(focus > 0.9, np.inf, focus),
             "negative": focus - 2, "above": focus * 100}[bad].astype(np.float32)
    with pytest.raises(ParameterError) as caught:
        stylizer(image, focus)
    assert caught.value.parameter == "focus"


@pytest.mark.parametrize("keyword, value", [
    ("coherence", "0.5"), ("motion", np.zeros((0, 0, 3), np.float32)),
    ("motion", np.full((4, 4, 3), np.nan, np.float32))])
def test_stylize_refuses_bad_motion(stylizer, keyword, value):
    image, focus = _pair()
    given = dict(previous=image, motion=np.zeros((4, 4, 3), np.float32), coherence=0.5)
    given[keyword] = value
    with pytest.raises(ParameterError) as caught:
        stylizer(image, focus, **given)
    assert caught.value.parameter == keyword


@pytest.mark.parametrize("keyword, value", [
    ("fade", "0.5"), ("fade", True), ("fade", None), ("fade", 2.0), ("fade", float("nan")),
    ("levels", "3"), ("levels", 2.5), ("levels", False), ("colour", 1.0), ("style", "nope"),
    ("style", None)])
def test_style_parameters_take_numbers_only(keyword, value):
    image, focus = _pair()
    with pytest.raises(ParameterError) as caught:
        dofkit.stylize(image, focus, backend="cpu", **{keyword: value})
    assert caught.value.parameter == keyword
    assert keyword in str(caught.value)


def test_style_parameters_take_numpy_numbers():
    from dofkit.render.styles import resolve

    chosen = resolve("toon", fade=np.float32(0.5), levels=np.int64(3), radius=2)
    assert (chosen["fade"], chosen["levels"], chosen["radius"]) == (0.5, 3, 2.0)
    assert type(chosen["levels"]) is int and type(chosen["fade"]) is float


def test_style_parameters_take_zero_dimensional_arrays():
    image, focus = _pair()
    expected = dofkit.stylize(image, focus, backend="cpu", radius=3.0, levels=4)
    got = dofkit.stylize(image, focus, backend="cpu", radius=np.array(3.0),
                         levels=np.array(4, np.int64))
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("value", [np.array([3.0]), np.ones((2, 2)), np.array(True),
                                   np.bool_(False), np.array("3")])
def test_style_parameters_refuse_arrays_and_bools_naming_the_parameter(value):
    image, focus = _pair()
    with pytest.raises(ParameterError) as caught:
        dofkit.stylize(image, focus, backend="cpu", radius=value)
    assert caught.value.parameter == "radius" and "radius" in str(caught.value)


def test_stylizer_usable_after_close():
    image, focus = _pair()
    made = dofkit.Stylizer("toon", "auto")
    first = made(image, focus)
    made.close()
    assert np.array_equal(made(image, focus), first)
    made.close()


# --- pipeline --------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: Pipeline(None, method="analytic"),
    lambda: StylizeStep(backend="x"),
    lambda: StylizeStep(settings="x"),
    lambda: RoiSettings(threshold="x"),
    lambda: RoiSettings(threshold=2),
    lambda: RoiSettings(threshold=None),
    lambda: RoiSettings(min_area="a"),
    lambda: RoiStep(aspect=(0, 1)),
    lambda: RoiStep(aspect=(16, 9), fraction=2),
    lambda: RoiStep(regions="x"),
    lambda: DetectStep(gate="0.5"),
    lambda: DetectStep(detector=3),
    lambda: DetectStep(regions="x"),
])
def test_pipeline_parts_refuse_bad_settings_when_made(make):
    with pytest.raises(ParameterError):
        make()


def test_run_gives_a_float32_map_for_a_float64_one():
    image, focus = _pair()
    result = Pipeline(MapStep(), method="analytic").run(image, focus.astype(np.float64))
    assert result.images["map"].values.dtype == np.float32


def test_process_reports_a_bad_crop_pattern_as_a_failed_output(tmp_path):
    pipeline = Pipeline(RoiStep(crops=True), method="analytic")
    for pattern in ("c{nope}.png", "c{.png", "c.png"):
        status = pipeline.process("missing.jpg", {"crop": str(tmp_path / pattern)})
        assert not status["ok"] and "crop path must hold {index}" in status["error"]
        assert "internal error" not in status["error"]


def test_process_status_is_json_for_a_path_input(tmp_path):
    sample = Path(__file__).parents[1] / "samples" / "astronaut.jpg"
    status = Pipeline(MapStep(), method="paper").process(sample, {"map": str(tmp_path / "m.png")})
    assert status["ok"] and status["input"] == str(sample)
    json.dumps(status)


# --- metrics ---------------------------------------------------------------------------------

@pytest.mark.parametrize("focus, truth", [
    (_map(), _map()[:3] > 0.5), (_map().tolist(), _map() > 0.5), (None, _map() > 0.5),
    (np.full((40, 60), np.nan, np.float32), _map() > 0.5), (_map(), _map()),
    (_map(), (_map() * 255).astype(np.uint8)), (np.zeros((0, 0)), np.zeros((0, 0), bool))])
def test_metrics_refuse_bad_arguments(focus, truth):
    for metric in (score, mae, f05, fmax):
        with pytest.raises(ParameterError):
            metric(focus, truth)


# --- training --------------------------------------------------------------------------------

def test_scene_samples_refuse_a_patch_larger_than_the_working_size():
    from dofkit.train.data import PhotoSet, SceneSamples

    photos = PhotoSet("s", [np.zeros((64, 64, 3), np.uint8)], [None], ["a"])
    with pytest.raises(ParameterError) as caught:
        SceneSamples([photos], [], patch=100_000)
    assert caught.value.parameter == "patch"


def test_training_refuses_too_many_workers():
    from dofkit.train.loop import Settings

    with pytest.raises(ParameterError) as caught:
        Settings(workers=1000)
    assert caught.value.parameter == "workers"


def test_unwritable_export_refused_before_training(tmp_path, monkeypatch):
    from dofkit.train import recipe

    monkeypatch.setattr(recipe.Sources, "split", lambda *a: pytest.fail("training started"))
    sources = recipe.Sources([], [], skimage=False)
    for export in (tmp_path, Path("/proc/nowhere/w.safetensors")):
        with pytest.raises(OutputError):
            recipe.train_focus_model(sources, recipe.Settings(steps=1), export=export)


def test_resume_without_checkpoint_refused_before_loading(tmp_path, monkeypatch):
    from dofkit.errors import ResourceError
    from dofkit.train import recipe

    monkeypatch.setattr(recipe.Sources, "split", lambda *a: pytest.fail("data loaded"))
    with pytest.raises(ResourceError):
        recipe.train_focus_model(recipe.Sources([], [], skimage=False), recipe.Settings(steps=1),
                                 checkpoint=tmp_path / "none.pt", resume=True)


def test_training_leaves_the_global_torch_generator_alone():
    import torch

    from dofkit.train.loop import Settings, train

    def sampler(rng):
        return rng.random((16, 16, 3), dtype=np.float32), np.zeros((16, 16), np.float32)

    model = torch.nn.Conv2d(3, 1, 3, padding=1)
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    train(model, sampler, Settings(steps=2, batch=1, loss="mse", log_every=1))
    assert torch.equal(torch.get_rng_state(), before)


def test_evaluate_takes_str_folders_and_names_a_missing_map_function(tmp_path):
    from dofkit.evaluate import evaluate, find_cases

    sample = Path(__file__).parents[1] / "samples"
    cases = find_cases(str(sample), str(sample))  # each photo its own "mask"
    with pytest.raises(ParameterError) as caught:
        next(evaluate(cases))
    assert caught.value.parameter == "make_map"


@pytest.mark.parametrize("jobs", [0, -1, 65, 100_000, 2.0, True, "2"])
def test_run_local_refuses_a_number_of_jobs_naming_it(jobs):
    from dofkit.batch import run_local
    from dofkit.pipeline import PipelineSpec

    with pytest.raises(ParameterError, match="^jobs must be a whole number from 1 to 64") as info:
        run_local(PipelineSpec("map", {}, {"method": "analytic"}), [], jobs=jobs)  # at the call
    assert info.value.parameter == "jobs"
