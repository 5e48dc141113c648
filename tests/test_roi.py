"""ROIs from focus maps: exact boxes on synthetic blobs, Otsu, padding, empty and full maps,
the aspect crop, and `dofkit roi` through typer's runner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit import ParameterError, find_rois
from dofkit.cli import app
from dofkit.io import open_image, write_image
from dofkit.roi import aspect_crop, box_iou, nms, otsu_threshold, parse_aspect

runner = CliRunner()


def blobs(height: int = 120, width: int = 200, level: float = 1.0) -> np.ndarray:
    """Map with a big rectangle (x 20-79, y 10-59), a disc (centre (150, 90), radius 15) at
    ``level`` and a 2x2 speck at (5, 110); background 0."""
    focus = np.zeros((height, width), np.float32)
    focus[10:60, 20:80] = level
    yy, xx = np.mgrid[:height, :width]
    focus[(yy - 90) ** 2 + (xx - 150) ** 2 <= 15 ** 2] = level
    focus[110:112, 5:7] = level
    return focus


def test_exact_boxes_sorted_by_mass_and_specks_removed():
    rois = find_rois(blobs(), 0.5, merge=0)
    assert [roi.bbox for roi in rois] == [(20, 10, 60, 50), (135, 75, 31, 31)]
    assert [roi.xyxy for roi in rois] == [(20, 10, 80, 60), (135, 75, 166, 106)]
    assert rois[0].area == 3000 and rois[0].score == pytest.approx(1.0)
    assert rois[1].area == int((blobs()[70:110, 130:170] > 0).sum())
    assert rois[0].mass > rois[1].mass


def test_score_is_mean_focus_in_the_box():
    focus = blobs()
    focus[10:60, 20:50] = 0.8  # left half of the rectangle less sharp
    roi = find_rois(focus, 0.5, merge=0)[0]
    assert roi.score == pytest.approx(0.9)


def test_max_and_min_area():
    assert len(find_rois(blobs(), 0.5, merge=0, max_rois=1)) == 1
    # the disc covers about 3% of the image: gone at min_area 0.05, the rectangle stays
    assert [roi.bbox for roi in find_rois(blobs(), 0.5, merge=0, min_area=0.05)] == [
        (20, 10, 60, 50)]
    # with no speck removal (min_area 0) the 2x2 speck is a region of its own
    assert (5, 110, 2, 2) in [roi.bbox for roi in find_rois(blobs(), 0.5, merge=0, min_area=0)]


def test_nearby_pieces_merge():
    focus = np.zeros((100, 100), np.float32)
    focus[20:40, 20:40] = 1.0
    focus[44:70, 25:45] = 1.0  # 4 px below the first piece
    assert [roi.bbox for roi in find_rois(focus, 0.5, merge=0)] == [(25, 44, 20, 26),
                                                                     (20, 20, 20, 20)]
    merged, = find_rois(focus, 0.5, merge=0.05)
    assert merged.bbox == (20, 20, 25, 50) and merged.area == 400 + 520


def test_otsu_finds_a_dim_subject_a_fixed_threshold_misses():
    focus = np.full((80, 80), 0.1, np.float32)
    focus[20:50, 30:60] = 0.45  # in focus only relative to the rest
    assert find_rois(focus, 0.5) == []
    assert 0.1 < otsu_threshold(focus) <= 0.45
    assert [roi.bbox for roi in find_rois(focus, "otsu")] == [(30, 20, 30, 30)]


def test_otsu_is_clamped_for_maps_sharp_or_blurred_all_over():
    rng = np.random.default_rng(0)
    sharp = (0.9 + 0.1 * rng.random((60, 90))).astype(np.float32)
    assert otsu_threshold(sharp) == 0.75
    assert [roi.bbox for roi in find_rois(sharp, "otsu")] == [(0, 0, 90, 60)]
    assert find_rois(sharp * 0.1, "otsu") == []


def test_padding_is_clipped_at_the_borders():
    focus = np.zeros((50, 100), np.float32)
    focus[0:25, 90:100] = 1.0  # touches the top and right edges
    focus[30:40, 40:60] = 1.0
    rois = find_rois(focus, 0.5, pad=0.5, merge=0)
    assert [roi.xyxy for roi in rois] == [(85, 0, 100, 38), (30, 25, 70, 45)]


def test_empty_map_gives_nothing_and_full_map_the_frame():
    assert find_rois(np.zeros((30, 40), np.float32)) == []
    full, = find_rois(np.ones((30, 40), np.float32))
    assert full.bbox == (0, 0, 40, 30) and full.area == 1200 and full.score == 1.0


def test_crop_refuses_an_array_the_box_does_not_fit():
    roi, = find_rois(np.pad(np.ones((10, 20), np.float32), ((20, 20), (30, 30))), pad=0)
    photo = np.zeros((50, 80, 3), np.float32)
    assert roi.crop(photo).shape == (10, 20, 3)
    for smaller in (photo[:25], photo[:, :45], photo[0]):
        with pytest.raises(ParameterError, match="does not hold the box") as caught:
            roi.crop(smaller)
        assert caught.value.parameter == "array"


@pytest.mark.parametrize("kwargs, message", [
    ({"threshold": 0.0}, "threshold must be in (0, 1]"),
    ({"threshold": "median"}, "or 'otsu'"),
    ({"min_area": 5}, "min_area must be a fraction"),
    ({"pad": -1}, "pad must be in"),
    ({"pad": float("inf")}, "pad must be in"),
    ({"pad": float("nan")}, "pad must be in"),
    ({"max_rois": 0}, "max_rois must be >= 1"),
    ({"merge": 2}, "merge must be"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_rois(blobs(), **kwargs)
    with pytest.raises(ParameterError, match="non-empty"):
        find_rois(np.zeros((4, 4, 3), np.float32))


def test_aspect_crop_is_the_smallest_window_with_the_mass():
    focus = np.zeros((100, 200), np.float32)
    focus[40:60, 90:110] = 1.0  # 20x20 square, centre (99.5, 49.5)
    assert aspect_crop(focus, (2, 1), fraction=1.0).bbox == (80, 40, 40, 20)
    square = aspect_crop(focus, (1, 1), fraction=1.0)
    assert square.bbox == (90, 40, 20, 20) and square.score == 1.0 and square.area == 400
    # half the mass fits a 10-pixel-high 2:1 window
    assert aspect_crop(focus, (2, 1), fraction=0.5).h == 10
    assert aspect_crop(np.zeros((10, 10), np.float32), (1, 1)) is None


def test_aspect_crop_holds_the_fraction_for_two_blobs():
    focus = blobs()
    crop = aspect_crop(focus, (16, 9), fraction=0.9, threshold=0.5)
    x1, y1, x2, y2 = crop.xyxy
    assert abs(crop.w / crop.h - 16 / 9) < 0.05
    kept = focus[y1:y2, x1:x2].sum() / (focus.sum() - 4)  # the speck is not mass
    assert kept >= 0.9
    smaller = focus[y1 + 1:y2 - 1, x1 + 2:x2 - 2].sum() / (focus.sum() - 4)
    assert smaller < 0.9 or crop.h <= 2


@pytest.mark.parametrize("text, message", [("16x9", "W:H"), ("0:1", "positive"),
                                           ("a:b", "W:H")])
def test_parse_aspect(text, message):
    assert parse_aspect("16:9") == (16.0, 9.0)
    with pytest.raises(ParameterError, match=message):
        parse_aspect(text)


def test_iou_and_nms():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    boxes = [(0, 0, 10, 10), (1, 0, 11, 10), (20, 20, 30, 30)]
    assert nms(boxes, [0.5, 0.9, 0.1], 0.5) == [1, 2]


# ---- CLI -------------------------------------------------------------------------------

@pytest.fixture
def photo_and_map(tmp_path):
    """A 200x120 photo and its map (the blobs), written as PNG."""
    rng = np.random.default_rng(1)
    photo = tmp_path / "photo.png"
    write_image(photo, rng.random((120, 200, 3)).astype(np.float32))
    focus = tmp_path / "focus.png"
    write_image(focus, blobs())
    return photo, focus


def test_cli_json_crops_and_overlay(photo_and_map, tmp_path):
    photo, focus = photo_and_map
    crops, overlay = tmp_path / "crops", tmp_path / "overlay.png"
    result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "--threshold", "0.5",
                                 "--merge", "0", "--json", "--crop-dir", str(crops),
                                 "--overlay", str(overlay)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {"image": str(photo), "width": 200, "height": 120, "rois": [
        {"bbox": [20, 10, 60, 50], "xyxy": [20, 10, 80, 60], "score": 1.0, "area": 3000},
        {"bbox": [135, 75, 31, 31], "xyxy": [135, 75, 166, 106], "score": document["rois"][1][
            "score"], "area": document["rois"][1]["area"]}]}
    first = open_image(crops / "photo-roi0.png").rgb
    assert first.shape == (50, 60, 3)
    np.testing.assert_allclose(first, open_image(photo).rgb[10:60, 20:80], atol=1 / 255)
    assert (crops / "photo-roi1.png").exists() and not (crops / "photo-roi2.png").exists()
    drawn = open_image(overlay).rgb
    assert drawn.shape == (120, 200, 3)
    red, green, blue = drawn[35, 20]  # the box's left edge is yellow
    assert red > 0.8 and green > 0.6 and blue < 0.2
    assert "2 regions" in result.stderr


def test_cli_given_map_computes_none_and_refuses_network_options(photo_and_map, monkeypatch):
    """With --map no network is loaded (the maps are read), and the options that set one are
    refused, not silently dropped."""
    import dofkit.pipeline.runner as runner_module

    photo, focus = photo_and_map

    def no_estimator(*args, **kwargs):
        raise AssertionError("a focus estimator was made although --map gives the map")

    monkeypatch.setattr(runner_module, "FocusEstimator", no_estimator)
    result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "--method", "paper"])
    assert result.exit_code == 2 and "--method does nothing with --map" in result.stderr


def test_cli_empty_map_exits_zero_with_no_roi(photo_and_map, tmp_path):
    photo, _ = photo_and_map
    empty = tmp_path / "empty.png"
    write_image(empty, np.zeros((120, 200), np.float32))
    result = runner.invoke(app, ["roi", str(photo), "--map", str(empty), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["rois"] == []


def test_cli_aspect(photo_and_map):
    photo, focus = photo_and_map
    result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "--aspect", "2:1",
                                 "--fraction", "1", "-t", "0.5", "--json"])
    roi, = json.loads(result.stdout)["rois"]
    assert roi["bbox"][2:] == [192, 96]  # rectangle and disc span x 20-165, y 10-105
    for extra in (["--pad", "0.1"], ["--merge", "0.2"], ["--min-area", "0.1"], ["--max", "2"]):
        result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "--aspect", "1:1",
                                     *extra])
        assert result.exit_code == 2
        assert f"{extra[0]} does nothing with --aspect" in result.stderr
    result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "--fraction", "0.5"])
    assert result.exit_code == 2 and "--fraction does nothing without --aspect" in result.stderr


def test_cli_batch_goes_on_after_a_bad_input(photo_and_map, tmp_path):
    photo, _ = photo_and_map
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really")
    result = runner.invoke(app, ["roi", str(broken), str(photo), "--json", "-m", "analytic"])
    assert result.exit_code == 1
    assert "broken.jpg: truncated or corrupt image" in result.stderr
    assert "Traceback" not in result.output
    assert [json.loads(line)["image"] for line in result.stdout.splitlines()] == [str(photo)]


def test_cli_map_folder_for_several_inputs(photo_and_map, tmp_path):
    photo, focus = photo_and_map
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "photo.png").write_bytes(focus.read_bytes())
    other = tmp_path / "other.png"
    other.write_bytes(photo.read_bytes())
    result = runner.invoke(app, ["roi", str(photo), str(other), "--map", str(maps), "--json"])
    assert result.exit_code == 1 and "other.png: no such file" in result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_cli_bad_threshold(photo_and_map):
    photo, focus = photo_and_map
    result = runner.invoke(app, ["roi", str(photo), "--map", str(focus), "-t", "high"])
    assert result.exit_code == 2 and "--threshold must be a number" in result.stderr


def test_cli_map_folder_finds_the_map_of_stdin(photo_and_map, tmp_path):
    photo, focus = photo_and_map
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "stdin.png").write_bytes(focus.read_bytes())  # `dofkit map - --out-dir` names
    result = runner.invoke(app, ["roi", "-", str(photo), "--map", str(maps), "--json",
                                 "-t", "0.5", "--merge", "0"], input=photo.read_bytes())
    assert "photo.png: no such file" in result.stderr  # maps/photo.png is missing
    document, = [json.loads(line) for line in result.stdout.splitlines()]
    assert document["image"] == "-" and document["rois"][0]["bbox"] == [20, 10, 60, 50]


def test_cli_crops_never_replace_another_input(photo_and_map, tmp_path):
    photo, focus = photo_and_map
    other = tmp_path / "photo-roi0.png"  # the name the first crop of photo.png would take
    other.write_bytes(photo.read_bytes())
    before = other.read_bytes()
    maps = tmp_path / "maps"
    maps.mkdir()
    for name in ("photo.png", "photo-roi0.png"):
        (maps / name).write_bytes(focus.read_bytes())
    result = runner.invoke(app, ["roi", str(photo), str(other), "--map", str(maps),
                                 "--crop-dir", str(tmp_path)])
    assert result.exit_code == 2 and "refusing to overwrite an input file" in result.stderr
    assert other.read_bytes() == before


@pytest.mark.parametrize("stem", ["a{x}", "a{index}", "a{}", "a}", "{"])
def test_cli_crops_of_a_file_named_with_braces(photo_and_map, tmp_path, stem):
    """Braces in the input's name, its folder or the crop folder are taken as they are."""
    photo, focus = photo_and_map
    folder = tmp_path / "in{y}"
    folder.mkdir()
    source = folder / f"{stem}.png"
    source.write_bytes(photo.read_bytes())
    crops = tmp_path / "crops{z}"
    result = runner.invoke(app, ["roi", str(source), "--map", str(focus), "--threshold", "0.5",
                                 "--merge", "0", "--crop-dir", str(crops)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in crops.iterdir()) == [f"{stem}-roi0.png", f"{stem}-roi1.png"]


def test_cli_crops_of_a_file_named_with_braces_never_replace_another_input(photo_and_map,
                                                                             tmp_path):
    photo, focus = photo_and_map
    source, other = tmp_path / "a{x}.png", tmp_path / "a{x}-roi0.png"
    for path in (source, other):
        path.write_bytes(photo.read_bytes())
    maps = tmp_path / "maps"
    maps.mkdir()
    for path in (source, other):
        (maps / path.name).write_bytes(focus.read_bytes())
    result = runner.invoke(app, ["roi", str(source), str(other), "--map", str(maps),
                                 "--crop-dir", str(tmp_path)])
    assert result.exit_code == 2 and "refusing to overwrite an input file" in result.stderr
    assert other.read_bytes() == photo.read_bytes()
