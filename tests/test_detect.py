"""Detector front-end: gating hand-made detections, piped JSON (COCO results and xyxy) round
trips and errors, HOG and cascade detectors, ROI-first detection, `dofkit detect` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit import ParameterError, ResourceError, gate_detections
from dofkit.cli import app
from dofkit.detect import (Detection, Detector, HogPeopleDetector, detect_on_rois,
                           make_detector, parse_detections, saliency_map)
from dofkit.detect.builtin import FACE_CASCADES, cascade_folders, find_cascade
from dofkit.detect.on_rois import crop_box
from dofkit.errors import InputError
from dofkit.io import open_image, read_image, write_image
from dofkit.roi import Roi

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def left_sharp(height: int = 60, width: int = 100) -> np.ndarray:
    """Map: 1 on the left 40 columns, 0 elsewhere."""
    focus = np.zeros((height, width), np.float32)
    focus[:, :40] = 1.0
    return focus


def test_gate_scores_and_splits_hand_made_detections():
    detections = [Detection((0, 0, 40, 60), 0.9, "a"),    # all in focus
                  Detection((20, 0, 60, 30), 0.8, "b"),   # half
                  Detection((60, 10, 90, 50), 0.7, "c")]  # none
    result = gate_detections(detections, left_sharp(), gate=0.6, threshold=0.5)
    assert [g.detection.label for g in result.kept] == ["a"]
    assert [g.detection.label for g in result.dropped] == ["b", "c"]
    half = result.dropped[0].focus
    assert (half.mean, half.above, half.saliency, half.score) == (0.5, 0.5, None, 0.5)
    assert gate_detections(detections, left_sharp(), gate=0.5).kept[1].detection.label == "b"


def test_above_counts_the_fraction_over_the_threshold():
    focus = np.full((10, 10), 0.6, np.float32)
    focus[:, 5:] = 0.2
    scored = gate_detections([Detection((0, 0, 10, 10))], focus, threshold=0.5).dropped[0].focus
    assert scored.mean == pytest.approx(0.4) and scored.above == 0.5


def test_saliency_weights_the_focus_inside_the_box():
    focus = left_sharp()
    saliency = np.zeros_like(focus)
    saliency[:, 30:40] = 1.0  # the salient part of the box is in focus
    box = [Detection((20, 0, 60, 60))]
    plain = gate_detections(box, focus, gate=0.6).dropped[0].focus
    weighted = gate_detections(box, focus, gate=0.6, saliency=saliency).kept[0].focus
    assert plain.score == 0.5 and weighted.score == pytest.approx(1.0)
    assert weighted.saliency == pytest.approx(0.25) and weighted.mean == 0.5
    image = read_image(SAMPLES / "chelsea.jpg")
    values = saliency_map(image)
    assert values.shape == image.shape[:2] and values.max() == pytest.approx(1.0)


@pytest.mark.parametrize("box, message", [((-5, 0, 10, 10), "outside the 100x60 image"),
                                          ((0, 0, 101.5, 10), "outside"),
                                          ((100, 60, 101, 61), "outside"),  # no pixel in it
                                          ((-1, 5, 0, 9), "outside"),
                                          ((10, 0, 10, 10), "empty"),
                                          ((0, 0, float("nan"), 10), "finite")])
def test_gate_refuses_boxes_it_cannot_score(box, message):
    with pytest.raises(ParameterError, match=message):
        gate_detections([Detection(box)], left_sharp())
    # rounding over the edge by up to a pixel is clipped
    assert gate_detections([Detection((-0.5, 0, 40.5, 60.8))], left_sharp()).kept


# ---- piped detections -----------------------------------------------------------------

COCO = [{"image_id": 7, "category_id": 1, "bbox": [0, 0, 40, 60], "score": 0.9},
        {"image_id": 7, "category_id": 3, "bbox": [60, 10, 30, 40], "score": 0.4},
        {"image_id": 8, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.2}]
XYXY = [{"file_name": "000007.png", "xyxy": [0, 0, 40, 60], "label": "cat", "extra": [1, 2]},
        {"file_name": "000007.png", "xyxy": [60, 10, 90, 50], "label": "dog"}]


@pytest.fixture
def scene(tmp_path):
    """(photo 000007.png, its map) with the left 40 columns in focus."""
    photo, focus = tmp_path / "000007.png", tmp_path / "map.png"
    write_image(photo, np.random.default_rng(0).random((60, 100, 3)).astype(np.float32))
    write_image(focus, left_sharp())
    return photo, focus


@pytest.mark.parametrize("records, as_lines", [(COCO, False), (XYXY, False), (XYXY, True)])
def test_json_round_trip_keeps_every_input_field(scene, tmp_path, records, as_lines):
    photo, focus = scene
    path = tmp_path / "detections.json"
    path.write_text("\n".join(json.dumps(r) for r in records) if as_lines
                    else json.dumps(records))
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections",
                                 str(path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["image"] == str(photo)
    kept, dropped = document["kept"], document["dropped"]
    assert [{k: v for k, v in d.items() if k != "focus"} for d in kept + dropped] == records[:2]
    assert kept[0]["focus"] == {"mean": 1.0, "above": 1.0, "score": 1.0}
    assert dropped[0]["focus"]["score"] == 0.0
    if records is COCO:
        assert "1 detection names none of the inputs" in result.stderr


def test_single_input_adopts_detections_that_all_name_one_other_image(scene):
    """A tool that numbers its one image ``image_id: 1`` still gates the only input."""
    photo, focus = scene
    piped = [{"image_id": 1, "bbox": [2, 5, 30, 40], "score": 0.9, "category_id": 1}]
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections", "-",
                                 "--json"], input=json.dumps(piped))
    assert result.exit_code == 0, result.output
    kept = json.loads(result.stdout)["kept"]
    assert [k["bbox"] for k in kept] == [[2, 5, 30, 40]] and kept[0]["image_id"] == 1
    assert f"taken as {photo}, the only input" in result.stderr


def test_error_text_with_brackets_is_printed_whole(scene):
    photo, focus = scene
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections", "-"],
                           input=json.dumps([{"score": 1}]))
    assert result.exit_code == 1
    assert '"bbox": [x, y, w, h] or "xyxy": [x1, y1, x2, y2]' in result.stderr


def test_output_can_be_gated_again_from_stdin(scene):
    photo, focus = scene
    first = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections", "-",
                                "--json"], input=json.dumps(COCO))
    again = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections", "-",
                                "--json", "--gate", "0"], input=first.stdout)
    assert again.exit_code == 0, again.output
    document = json.loads(again.stdout)
    assert len(document["kept"]) == 2 and document["dropped"] == []
    assert document["kept"][1]["bbox"] == COCO[1]["bbox"]


def test_association_by_name_and_id():
    parsed = parse_detections(json.dumps(COCO + XYXY), "d.json")
    assert len(parsed.for_image("data/000007.png", only_input=False)) == 4
    assert len(parsed.for_image("000008.jpg", only_input=False)) == 1
    assert parsed.unmatched(["000007.png"]) == 1
    bare = parse_detections('{"xyxy": [0, 0, 1, 1]}', "d.json")
    assert len(bare.for_image("x.png", only_input=True)) == 1
    with pytest.raises(InputError, match="names no image"):
        bare.for_image("x.png", only_input=False)


def test_lookup_by_image_agrees_with_the_naming_rule_on_every_mix():
    """The file's index (built for COCO files of thousands of images) answers as the rule
    :func:`names_image` does, detection by detection, in file order."""
    import random

    from dofkit.detect.records import DetectionFile, names_image

    rng = random.Random(0)
    keys = [None, 42, 7, 0, "a.jpg", "a", "42", "b.png", "other/b.png", "dir/a.jpg", "zzz"]
    inputs = ["a.jpg", "dir/a.jpg", "a", "42", "000042.png", "b.png", "x/b.png", "7.jpg",
              "sub/42.jpg", "c.tif"]
    for _ in range(500):
        entries = [(rng.choice(keys), Detection((n, 0, n + 1, 1)))
                   for n in range(rng.randint(1, 10))]
        given, sources = DetectionFile("d.json", entries), rng.sample(inputs, rng.randint(1, 3))
        only = len(sources) == 1
        for source in sources:
            if only and given.adopted_by(sources):
                expected = [d for _, d in entries]
            elif not only and any(key is None for key, _ in entries):
                with pytest.raises(InputError, match="names no image"):
                    given.for_image(source, only)
                continue
            else:
                expected = [d for key, d in entries if key is None or names_image(key, source)]
            assert given.for_image(source, only) == expected
        assert given.unmatched(sources) == (0 if given.adopted_by(sources) else sum(
            key is not None and not any(names_image(key, s) for s in sources)
            for key, _ in entries))


def test_json_lines_of_images_without_detections():
    """`dofkit detect --json` on two images where nothing was found, read back."""
    text = "\n".join(json.dumps({"image": name, "kept": [], "dropped": []})
                     for name in ("a.png", "b.png"))
    parsed = parse_detections(text, "d.json")
    assert parsed.entries == [] and parsed.for_image("a.png", only_input=False) == []


@pytest.mark.parametrize("text, message", [
    ('[{"bbox": [0, 0, 10]}]', "d.json: detection 0: needs \"bbox\""),
    ('{"xyxy": [0, 0, 1, 1]}\n{"xyxy": [0, 0, 1, 1]\n', "d.json: line 2: not valid JSON"),
    ("[1, 2]", "d.json: detection 0: a detection must be a JSON object"),
    ('{"image": "a.png", "detections": 5}', "\"detections\" must be a list"),
    ('{"xyxy": [0, 0, "1", 1]}', "4 finite numbers"),
    ("hello", "d.json: line 1: not valid JSON"),
    ("[" * 100_000, "d.json: nested too deeply"),
    ('[{"bbox": [0, 0, 9, 9], "x": ' + "[" * 500 + "]" * 500 + "}]", "d.json: nested too deep"),
    ('[{"bbox": [0, 0, 9, 9], "image_id": {"x": 1}}]',
     'd.json: detection 0: an image is named by a file name or a whole number'),
    ('{"bbox": [0, 0, 9, 9], "file_name": ["c.jpg"]}\n',
     'd.json: line 1: an image is named by a file name or a whole number .*\\["c.jpg"\\]'),
    ('{"image": ["c.jpg"], "detections": [{"bbox": [0, 0, 9, 9]}]}', "an image is named"),
    ('[{"bbox": [0, 0, 9, 9], "score": NaN}]', "d.json: NaN is not a finite number"),
    ('{"bbox": [0, 0, 9, 9]}\n{"bbox": [0, 0, 9, 9], "score": Infinity}\n',
     "d.json: line 2: Infinity is not a finite number"),
    ('[{"bbox": [0, 0, 9, 9], "score": -1e999}]', "-1e999 is not a finite number"),
    ('[{"bbox": [0, 0, 9, 9], "bbox": [5, 5, 9, 9]}]', 'gives the key "bbox" twice'),
    ('{"image": "a.png", "detections": [], "image": "b.png"}\n',
     "d.json: an object gives the key \"image\" twice"),
    ('[{"bbox": [0, 0, 9, 9], "score": ' + "9" * 400 + "}]", "9+\\.\\.\\. is not a finite"),
    ('[{"bbox": [0, 0, 9, 9], "score": ' + "9" * 5000 + "}]", "9+\\.\\.\\. is not a finite"),
])
def test_malformed_or_hostile_detections_are_one_line_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_detections(text, "d.json")


@pytest.mark.parametrize("text", ['[{"bbox": [1, 2, 3, 4]}]', '{"bbox": [1, 2, 3, 4]}\r\n'])
def test_detections_after_a_byte_order_mark_are_read(text):
    parsed = parse_detections("\ufeff" + text, "d.json")
    assert [d.xyxy for _, d in parsed.entries] == [(1.0, 2.0, 4.0, 6.0)]


def test_cli_malformed_json_and_boxes_outside_name_the_file(scene, tmp_path):
    photo, focus = scene
    bad = tmp_path / "bad.json"
    bad.write_text('[{"bbox": [0, 0, 10, 10]},')
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections",
                                 str(bad)])
    assert result.exit_code == 1 and "bad.json: line 1: not valid JSON" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps([{"bbox": [80, 10, 50, 10]}]))
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections",
                                 str(outside), "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert (f"outside.json ({photo}): box lies outside the 100x60 image: "
            '{"bbox": [80, 10, 50, 10]}') in result.stderr
    assert "Traceback" not in result.output


def test_cli_refuses_conflicting_sources(scene):
    photo, focus = scene
    result = runner.invoke(app, ["detect", str(photo), "--detections", "x.json", "-d", "hog"])
    assert result.exit_code == 2 and "takes no --detector" in result.stderr
    result = runner.invoke(app, ["detect", "-", "--detections", "-"])
    assert result.exit_code == 2 and "stdin cannot carry both" in result.stderr
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--pad", "0.2"])
    assert result.exit_code == 2 and "--pad goes with --on-rois" in result.stderr
    result = runner.invoke(app, ["detect", str(photo), "--on-rois", "--pad", "-1"])
    assert result.exit_code == 2 and "Invalid value for '--pad'" in result.stderr


# ---- detectors ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def astronaut():
    return read_image(SAMPLES / "astronaut.jpg")


def test_hog_runs_on_a_sample_image(astronaut):
    import cv2

    large = cv2.resize(astronaut, (1024, 1024))
    people = HogPeopleDetector()(large)
    assert people and all(d.label == "person" and d.score > 0 for d in people)
    for d in people:
        x1, y1, x2, y2 = d.xyxy
        assert 0 <= x1 < x2 <= 1024 and 0 <= y1 < y2 <= 1024 and y2 - y1 >= 128
    assert HogPeopleDetector()(astronaut[:100, :50]) == []  # smaller than one window


def test_face_cascade_finds_the_astronaut(astronaut):
    try:
        detector = make_detector("face")
    except ResourceError:
        pytest.skip("no face cascade on this machine (opencv-data or scikit-image)")
    faces = detector(astronaut)
    assert len(faces) == 1 and faces[0].label == "face"
    x1, y1, x2, y2 = faces[0].xyxy
    assert 160 < x1 < 185 and 55 < y1 < 80 and 90 < x2 - x1 < 115  # her face


def test_missing_cascade_is_a_clear_error(tmp_path):
    with pytest.raises(ResourceError, match="no cascade file nothing.xml: looked in"):
        find_cascade("nothing.xml")
    with pytest.raises(ResourceError, match="not an OpenCV cascade file"):
        (tmp_path / "junk.xml").write_text("<opencv_storage></opencv_storage>")
        make_detector(f"haar:{tmp_path / 'junk.xml'}")
    with pytest.raises(ResourceError, match="cannot read the cascade"):
        make_detector(f"haar:{tmp_path / 'missing' / 'x.xml'}")
    with pytest.raises(ParameterError, match="detector must be one of hog, face"):
        make_detector("yolo")
    assert FACE_CASCADES and cascade_folders()


class Counting:
    """A user detector: finds a fixed 20x20 box at (10, 10) of every crop, records sizes."""

    min_size = (48, 48)

    def __init__(self):
        self.sizes: list[tuple[int, int]] = []

    def __call__(self, image):
        self.sizes.append(image.shape[1::-1])
        return [Detection((10.0, 10.0, 30.0, 30.0), 1.0, "thing")]


def test_roi_first_detection_maps_boxes_back_and_merges_duplicates():
    detector = Counting()
    assert isinstance(detector, Detector)
    image = np.zeros((200, 300, 3), np.float32)
    rois = [Roi(100, 50, 40, 40, 1.0, 1600, 1600.0), Roi(100, 52, 40, 38, 1.0, 1500, 1500.0),
            Roi(250, 170, 20, 20, 1.0, 400, 400.0)]
    found = detect_on_rois(detector, image, rois, pad=0.1)
    assert detector.sizes == [(48, 48), (48, 48), (48, 48)]  # grown to min_size
    # crops start at (96, 46), (96, 47) and, kept inside the image, (236, 152)
    assert [d.xyxy for d in found] == [(106.0, 56.0, 126.0, 76.0), (246.0, 162.0, 266.0, 182.0)]
    assert crop_box(rois[2], 0.1, (48, 48), (300, 200)) == (236, 152, 284, 200)


def test_cli_detect_on_rois_with_hog(tmp_path, astronaut):
    import cv2

    photo, focus = tmp_path / "big.png", tmp_path / "map.png"
    write_image(photo, cv2.resize(astronaut, (1024, 1024)))
    write_image(focus, cv2.resize(read_image(SAMPLES / "astronaut-mask.png"), (1024, 1024)))
    overlay = tmp_path / "overlay.png"
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--on-rois",
                                 "--json", "--gate", "0", "--overlay", str(overlay)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kept"] and all(d["label"] == "person" for d in document["kept"])
    assert open_image(overlay).size == (1024, 1024)


def test_gate_detections_names_its_parameter_for_plain_dicts():
    import dofkit

    focus = np.ones((10, 10), np.float32)
    with pytest.raises(ParameterError) as refused:
        dofkit.gate_detections([{"bbox": [0, 0, 5, 5]}], focus)
    assert refused.value.parameter == "detections" and "got dict" in str(refused.value)
    kept = dofkit.gate_detections([dofkit.Detection((0, 0, 5, 5), 0.9, "cat")], focus).kept
    assert [d.detection.label for d in kept] == ["cat"]


def test_cascade_must_be_a_regular_file_of_bounded_size(tmp_path, monkeypatch):
    """A FIFO (or /dev/zero) is refused before it is opened, not read without end; a file
    larger than the --detections limit is refused without being read."""
    from conftest import fifo

    from dofkit.detect import builtin

    with fifo(tmp_path / "cascade.xml") as pipe:
        with pytest.raises(ResourceError, match="cascade.xml: cannot read the cascade "
                                                r"\(not a regular file\)"):
            make_detector(f"haar:{pipe}")
    big = tmp_path / "big.xml"
    big.write_text("<opencv_storage>" + " " * 200 + "</opencv_storage>")
    monkeypatch.setattr(builtin, "TEXT_MAX_BYTES", 100)
    with pytest.raises(ResourceError, match=r"big.xml: cannot read the cascade \(too large"):
        make_detector(f"haar:{big}")


def test_cli_refuses_non_finite_scores_instead_of_printing_bare_nan(scene, tmp_path):
    photo, focus = scene
    nan = tmp_path / "nan.json"
    nan.write_text('[{"bbox": [0, 0, 40, 60], "score": NaN, "image_id": 7}]')
    result = runner.invoke(app, ["detect", str(photo), "--map", str(focus), "--detections",
                                 str(nan), "--json"])
    assert result.exit_code == 1 and result.stdout == "" and "NaN" not in result.stdout
    assert result.stderr.strip() == (f"dofkit: error: {nan}: NaN is not a finite number "
                                     "(detections take finite numbers only)")


@pytest.mark.parametrize("keyword, value", [
    ("gate", "0.5"), ("gate", None), ("gate", True), ("gate", float("nan")), ("gate", 1.5),
    ("threshold", "0.5"), ("threshold", None), ("threshold", 0.0),
    ("detections", None), ("detections", 3), ("detections", "box"),
    ("detections", [Detection((0, 0, 150, 10))]), ("saliency", np.ones((3, 3), np.float32)),
    ("saliency", "map")])
def test_gate_detections_refuses_bad_arguments_naming_them(keyword, value):
    arguments = {"detections": [Detection((0, 0, 10, 10))], "focus": left_sharp(),
                 keyword: value}
    with pytest.raises(ParameterError) as refused:
        gate_detections(**arguments)
    assert refused.value.parameter == keyword


def test_gate_detections_takes_any_iterable_of_detections():
    boxes = (Detection(box) for box in [(0, 0, 10, 10), (0, 0, 20, 20)])
    assert len(gate_detections(boxes, left_sharp(), gate=0.0).kept) == 2
