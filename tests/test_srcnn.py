"""The network focus map: shapes and range, the analytic map as its starting point, weights
round trip and rejection, the shipped model's card and its smoothness."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from dofkit import FocusEstimator
from dofkit.errors import ParameterError, ResourceError
from dofkit.focus.analytic import sigmoid, working_copy
from dofkit.focus.models import ContextNet, Srcnn, build, parameter_count
from dofkit.focus.srcnn import (STRENGTH_CHANNEL, SrcnnPredictor, default_weights, load_weights,
                                manifest_path, network_inputs, save_weights, select_device,
                                sha256, to_map)
from tests.conftest import textured

SMALL = {"widths": [4, 8]}


@pytest.fixture
def weights(tmp_path):
    """A small random context-net exported like the shipped one -> its weights path."""
    torch.manual_seed(0)
    model = build("context-net", **SMALL)
    torch.nn.init.normal_(model.head.weight, std=0.1)
    path = tmp_path / "net.safetensors"
    save_weights(model, path, "context-net", SMALL, work_side=96)
    return path


def test_shapes_and_range(weights):
    predictor = SrcnnPredictor(weights)
    for shape in [(1, 1, 3), (37, 53, 3), (150, 97, 3)]:
        image = np.random.default_rng(1).random(shape).astype(np.float32)
        focus = predictor(image)
        assert focus.shape == shape[:2] and focus.dtype == np.float32
        assert np.isfinite(focus).all() and 0.0 <= focus.min() and focus.max() <= 1.0


def test_untrained_network_gives_the_analytic_logits(half_sharp):
    """The correction head starts at zero, so before training the net gives the analytic
    map's logits (clipped as the net clips its input), and its map is theirs, filled in from
    the edges."""
    image, _ = half_sharp
    torch.manual_seed(0)
    predictor = SrcnnPredictor.from_model(ContextNet(widths=(4, 8)), work_side=640)
    inputs = network_inputs(working_copy(image, predictor.work_side))
    analytic = np.clip(inputs[..., 3], -ContextNet.BASE_CLIP, ContextNet.BASE_CLIP)
    np.testing.assert_allclose(predictor.logits(inputs), analytic, atol=1e-4)
    np.testing.assert_allclose(
        predictor(image),
        to_map(analytic, inputs[..., :3], inputs[..., STRENGTH_CHANNEL], image.shape[:2]),
        atol=1e-4)


def test_prediction_leaves_torch_threads_alone(weights):
    before = torch.get_num_threads()
    SrcnnPredictor(weights, threads=1)(textured(40, 50))
    assert torch.get_num_threads() == before


def test_round_trip(weights):
    model, manifest = load_weights(weights)
    assert manifest["architecture"] == "context-net" and manifest["work_side"] == 96
    assert manifest["sha256"] == sha256(weights)
    torch.manual_seed(0)
    original = build("context-net", **SMALL)
    torch.nn.init.normal_(original.head.weight, std=0.1)
    for key, value in original.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert not model.training


def test_hash_mismatch_is_rejected(weights):
    manifest = json.loads(manifest_path(weights).read_text())
    manifest["sha256"] = "0" * 64
    manifest_path(weights).write_text(json.dumps(manifest))
    with pytest.raises(ResourceError, match="SHA-256"):
        load_weights(weights)


def test_truncated_weights_are_rejected(weights):
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ResourceError, match="SHA-256"):
        load_weights(weights)
    # Even with a manifest that agrees, a truncated file does not load.
    manifest = json.loads(manifest_path(weights).read_text())
    manifest["sha256"] = sha256(weights)
    manifest_path(weights).write_text(json.dumps(manifest))
    with pytest.raises(ResourceError, match="do not fit"):
        load_weights(weights)


def test_foreign_weights_are_rejected(tmp_path):
    path = tmp_path / "other.safetensors"
    save_weights(Srcnn(), path, "srcnn", {}, work_side=96)
    manifest = json.loads(manifest_path(path).read_text())
    manifest.update(architecture="context-net", config=SMALL)
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(ResourceError, match="do not fit context-net"):
        load_weights(path)


def test_missing_manifest_is_rejected(weights):
    manifest_path(weights).unlink()
    with pytest.raises(ResourceError, match="manifest"):
        load_weights(weights)


def test_weights_asked_for_must_load(tmp_path):
    """srcnn, and auto too, fail clearly on weights the user named that do not load; a device
    outside cpu/cuda is a parameter error."""
    missing = str(tmp_path / "absent.safetensors")
    for method in ("srcnn", "auto"):
        with pytest.raises(ResourceError, match="srcnn unavailable.*not found"):
            FocusEstimator(method, weights=missing)
    with pytest.raises(ParameterError, match="device must be one of cpu, cuda"):
        FocusEstimator("auto", device="tpu")


def test_cuda_request_without_cuda_is_clear():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ResourceError, match="no CUDA device"):
        select_device("cuda")
    with pytest.raises(ResourceError, match="no CUDA device"):
        FocusEstimator("auto", device="cuda")


def test_shipped_weights_load_and_are_small():
    """The weights in pretrained/ verify against their manifest and fit the size budget; auto
    takes the network exactly when the manifest says it beat the analytic map everywhere."""
    model, manifest = load_weights(default_weights())
    assert parameter_count(model) < 1_000_000
    assert manifest["sha256"] == sha256(default_weights())
    expected = "srcnn" if manifest["beats_analytic"] else "analytic"
    assert FocusEstimator("auto").method == expected


@pytest.mark.parametrize("beats", [False, True])
def test_auto_takes_given_weights_only_when_their_manifest_says_they_beat_analytic(tmp_path,
                                                                                 beats):
    import json
    import shutil

    weights = tmp_path / "mine.safetensors"
    shutil.copyfile(default_weights(), weights)
    manifest = json.loads(default_weights().with_suffix(".json").read_text())
    weights.with_suffix(".json").write_text(json.dumps({**manifest, "beats_analytic": beats}))
    notices = []
    assert FocusEstimator("auto", weights=weights, notify=notices.append).method == (
        "srcnn" if beats else "analytic")
    assert bool(notices) != beats and all("mine.safetensors" in n for n in notices)
    assert FocusEstimator("srcnn", weights=weights).method == "srcnn"


def test_shipped_network_separates_sharp_from_blurred(half_sharp):
    image, _ = half_sharp
    focus = FocusEstimator("srcnn")(image)
    assert focus[:, 8:48].mean() > focus[:, 80:120].mean() + 0.3


def _smooth_photos() -> dict[str, np.ndarray]:
    """A smooth colour gradient and a flat grey field, 480x640."""
    y, x = np.mgrid[0:480, 0:640].astype(np.float32)
    gradient = np.dstack([x / 639, y / 479, 0.5 + 0.3 * np.sin(x / 200)]).astype(np.float32)
    return {"gradient": gradient, "flat": np.full((480, 640, 3), 0.45, np.float32)}


@pytest.mark.parametrize("name", ["gradient", "flat"])
@pytest.mark.parametrize("filled", [False, True], ids=["raw", "filled"])
def test_shipped_map_has_no_periodic_structure(name, filled):
    """No grid or stripes: the network's map of a smooth photo, raw and as shipped (filled in
    from the edges), differs from a wide Gaussian smoothing of itself by less than one 8-bit
    level (std) anywhere structured."""
    image = _smooth_photos()[name]
    predictor = SrcnnPredictor()
    raw = (predictor(image) if filled else
           sigmoid(predictor.logits(network_inputs(working_copy(image, predictor.work_side)))))
    detail = raw - cv2.GaussianBlur(raw, (0, 0), 8)
    inner = detail[16:-16, 16:-16]  # the border of a blur is not the map's structure
    assert inner.std() < 1 / 255
    amplitude = 2 * np.abs(np.fft.rfft2(inner)) / inner.size  # of each frequency's sinusoid
    amplitude[0, 0] = 0
    assert amplitude.max() < 0.5 / 255  # and no single frequency reaches half an 8-bit level


DBD = Path(__file__).resolve().parents[2] / "shared" / "data" / "dbd-real"


@pytest.mark.skipif(not DBD.is_dir(), reason="shared dbd-real data not present")
def test_model_card_scores_are_those_of_the_shipped_predictor():
    """The dbd-real scores in the manifest are what the shipped predictor computes now."""
    from dofkit.evaluate import evaluate, find_cases, mean_scores

    recorded = load_weights(default_weights())[1]["validation"]["network"]["dbd-real"]
    cases = find_cases(DBD / "img", DBD / "gt")
    measured = mean_scores([s for _, s in evaluate(cases, FocusEstimator("srcnn"))])
    for metric in ("mae", "f05", "fmax"):
        assert measured[metric] == pytest.approx(recorded[metric], abs=1e-3)
