"""`dofkit detect` after a new user's trial: ROI-first detection keeps what the full frame finds
in large regions, and a detections file's own problems are reported once, before any map."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.detect import Detection, detect_on_rois
from dofkit.errors import InputError
from dofkit.io import write_image
from dofkit.roi import Roi

runner = CliRunner()


class FrameGrid:
    """A detector whose borderline face is found only on the frame's own sampling grid, as
    with OpenCV's cascades and HOG (a crop rounds their pyramid levels from its own size and
    starts their windows at its corner); records the sizes it is given."""

    min_size = (24, 24)

    def __init__(self, frame: tuple[int, int]):
        self.frame, self.sizes = frame, []

    def __call__(self, image):
        self.sizes.append(image.shape[1::-1])
        if image.shape[1::-1] != self.frame:
            return []
        return [Detection((150.0, 8.0, 190.0, 48.0), 4.3, "face"),      # over the crop's top
                Detection((10.0, 170.0, 40.0, 198.0), 6.0, "face")]     # outside every crop


def test_roi_first_keeps_a_detection_near_a_region_edge():
    """A region of most of the frame: the detector runs once on the whole frame (as fast, and
    on its grid), and what it finds with its centre in the padded region is kept."""
    detector = FrameGrid((300, 200))
    image = np.zeros((200, 300, 3), np.float32)
    region = Roi(0, 30, 300, 120, 1.0, 36000, 36000.0)  # padded by 0.15: rows 12 to 168
    found = detect_on_rois(detector, image, [region], pad=0.15)
    assert [d.xyxy for d in found] == [(150.0, 8.0, 190.0, 48.0)]
    assert detector.sizes == [(300, 200)]


def test_roi_first_runs_on_the_crops_of_small_regions():
    detector = FrameGrid((300, 200))
    found = detect_on_rois(detector, np.zeros((200, 300, 3), np.float32),
                           [Roi(100, 50, 40, 40, 1.0, 1600, 1600.0)], pad=0.1)
    assert found == [] and detector.sizes == [(48, 48)]


@pytest.fixture
def photos(tmp_path):
    """Two photos, 000007.png and 000008.png, and a map for each in maps/."""
    rng = np.random.default_rng(0)
    paths = []
    (tmp_path / "maps").mkdir()
    for name in ("000007.png", "000008.png"):
        write_image(tmp_path / name, rng.random((60, 100, 3)).astype(np.float32))
        write_image(tmp_path / "maps" / name, np.ones((60, 100), np.float32))
        paths.append(str(tmp_path / name))
    return paths


def test_detections_naming_no_image_with_several_inputs_is_one_early_error(
        photos, tmp_path, monkeypatch):
    import dofkit.cli.detect_cmd as detect_cmd

    def no_maps(*args, **kwargs):
        raise AssertionError("maps made before the detections file was checked")

    monkeypatch.setattr(detect_cmd, "execute", no_maps)
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps([{"bbox": [1, 1, 10, 10]}]))
    result = runner.invoke(app, ["detect", *photos, "--map", str(tmp_path / "maps"),
                                 "--detections", str(path), "--json"])
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert f"{path}: a detection names no image" in result.stderr


def test_check_inputs_refuses_unnamed_detections_only_with_several_inputs():
    from dofkit.detect import parse_detections

    bare = parse_detections('{"xyxy": [0, 0, 1, 1]}', "d.json")
    bare.check_inputs(["a.png"])
    with pytest.raises(InputError, match="^d.json: a detection names no image"):
        bare.check_inputs(["a.png", "b.png"])
    parse_detections('{"image": "c.png", "xyxy": [0, 0, 1, 1]}', "d.json").check_inputs(
        ["a.png", "b.png"])


@pytest.mark.parametrize("ids, said", [([7, 99], "1 detection names none of the inputs"),
                                       ([7, 98, 99], "2 detections name none of the inputs")])
def test_ignored_detections_are_counted_once_in_good_grammar(photos, tmp_path, ids, said):
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps([{"image_id": i, "bbox": [1, 1, 10, 10]} for i in ids]))
    result = runner.invoke(app, ["detect", *photos, "--map", str(tmp_path / "maps"),
                                 "--detections", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count(said) == 1
    assert result.stderr.index(said) < result.stderr.index("kept")  # before any input's line
    assert [len(json.loads(line)["kept"]) for line in result.stdout.splitlines()] == [1, 0]


def test_overlay_labels_stay_inside_the_image_and_clear_of_each_other():
    """A label of a box at the right edge was cut ("face 1."); labels of boxes close
    together covered each other."""
    from dofkit.roi.draw import label_place

    assert label_place((90, 30), (20, 10), (100, 100), []) == (80, 20)
    first = label_place((40, 40), (30, 10), (100, 100), [])
    second = label_place((45, 42), (30, 10), (100, 100), [(*first, first[0] + 30, first[1] + 10)])
    assert second[1] >= first[1] + 10  # below the first, not over it


def test_a_models_numpy_numbers_stay_json_and_nan_is_refused():
    """ONNX and torch detectors give numpy scores: the record could not be written as JSON
    (float32 is not serializable); a NaN box or score wrote invalid JSON."""
    import json

    import numpy as np

    from dofkit.detect import Detection
    from dofkit.errors import ParameterError

    found = Detection(np.array([1, 2, 31, 42], np.int64), np.float32(0.9), "cat")
    assert json.loads(json.dumps(found.to_json())) == {"bbox": [1, 2, 30, 40], "score": 0.9,
                                                       "label": "cat"}
    for xyxy, score in (((1, 1, float("nan"), 3), 0.5), ((1, 1, 3), 0.5), ((1, 1, 3, 3), np.nan)):
        with pytest.raises(ParameterError):
            Detection(xyxy, score)


def test_a_detectors_wrong_answer_and_a_bad_saliency_map_are_named():
    """On the regions, a detector giving None or tuples failed with a TypeError or an
    AttributeError (on the full frame: a ParameterError); saliency_map took RGBA into
    OpenCV, and a saliency map of 5s was used as given."""
    import numpy as np

    from dofkit.detect import Detection, detect_on_rois, gate_detections, saliency_map
    from dofkit.errors import ParameterError
    from dofkit.roi import find_rois

    image = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    focus = np.zeros((64, 64), np.float32)
    focus[10:40, 10:40] = 1.0
    for detector in (lambda crop: None, lambda crop: [(1, 1, 5, 5)]):
        with pytest.raises(ParameterError, match="^detections must be"):
            detect_on_rois(detector, image, find_rois(focus))
    with pytest.raises(ParameterError, match="^image "):
        saliency_map(np.zeros((8, 8, 4), np.float32))
    with pytest.raises(ParameterError, match="^saliency "):
        gate_detections([Detection((1, 1, 5, 5))], focus,
                        saliency=np.full((64, 64), 5.0, np.float32))
