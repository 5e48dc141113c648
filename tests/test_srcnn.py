"""The network focus map: shapes and range, exact tiling, weights round trip and rejection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dofkit import FocusEstimator
from dofkit.errors import ParameterError, ResourceError
from dofkit.focus.models import (DilatedSrcnn, EdgeBlurEvidence, Srcnn, build, normalise,
                                 parameter_count)
from dofkit.focus.srcnn import (SrcnnPredictor, default_weights, load_weights, manifest_path,
                                save_weights, select_device, sha256)
from dofkit.synth import defocus
from tests.conftest import textured

SMALL = {"width": 8, "dilations": [1, 2, 4]}


@pytest.fixture
def weights(tmp_path):
    """A small random dilated-srcnn exported like the shipped one -> its weights path."""
    torch.manual_seed(0)
    model = build("dilated-srcnn", **SMALL)
    path = tmp_path / "net.safetensors"
    save_weights(model, path, "dilated-srcnn", SMALL, work_side=96)
    return path


def test_shapes_and_range(weights):
    predictor = SrcnnPredictor(weights)
    for shape in [(1, 1, 3), (37, 53, 3), (150, 97, 3)]:
        image = np.random.default_rng(1).random(shape).astype(np.float32)
        focus = predictor(image)
        assert focus.shape == shape[:2] and focus.dtype == np.float32
        assert np.isfinite(focus).all() and 0.0 <= focus.min() and focus.max() <= 1.0


@pytest.mark.parametrize("architecture, config", [
    ("dilated-srcnn", SMALL), ("dilated-srcnn", {**SMALL, "edge_evidence": True}),
    ("srcnn", {"middle": 5})])
def test_tiled_equals_untiled(architecture, config):
    torch.manual_seed(0)
    model = build(architecture, **config)
    image = textured(91, 133, seed=2)
    whole = SrcnnPredictor.from_model(model, work_side=256, tile=4096).logits(image)
    tiled = SrcnnPredictor.from_model(model, work_side=256, tile=24).logits(image)
    assert whole.shape == (91, 133)
    np.testing.assert_allclose(tiled, whole, atol=1e-4)


def test_round_trip(weights):
    model, manifest = load_weights(weights)
    assert manifest["architecture"] == "dilated-srcnn" and manifest["work_side"] == 96
    assert manifest["sha256"] == sha256(weights)
    torch.manual_seed(0)
    original = build("dilated-srcnn", **SMALL)
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
    manifest.update(architecture="dilated-srcnn", config=SMALL)
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(ResourceError, match="do not fit dilated-srcnn"):
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
    """The weights in pretrained/ verify against their manifest and fit the size budget."""
    model, manifest = load_weights(default_weights())
    assert parameter_count(model) < 1_000_000
    assert manifest["sha256"] == sha256(default_weights())
    assert FocusEstimator("auto").method == "srcnn"


def test_shipped_network_separates_sharp_from_blurred(half_sharp):
    image, _ = half_sharp
    focus = FocusEstimator("srcnn")(image)
    assert focus[:, 8:48].mean() > focus[:, 80:120].mean() + 0.3


def test_dilated_margin_covers_receptive_field():
    """Changing a pixel just outside the declared margin leaves the centre untouched."""
    torch.manual_seed(0)
    model = DilatedSrcnn(**SMALL).eval()
    size = 2 * model.margin + 2
    batch = torch.randn(1, 3, size, size)
    centre = size // 2
    changed = batch.clone()
    changed[..., centre + model.margin + 1:, :] += 5.0
    with torch.inference_mode():
        a, b = model(batch)[0, 0, centre, centre], model(changed)[0, 0, centre, centre]
    assert torch.allclose(a, b, atol=1e-5)


def test_edge_evidence_tells_sharp_edges_from_blurred():
    """At edges, the evidence's blur term is negative where sharp and not where disc-blurred."""
    image = textured(64, 96, seed=4)
    image[:, 48:] = defocus(image, 3.0)[:, 48:]
    batch = normalise(torch.from_numpy(image.transpose(2, 0, 1).copy())[None])
    strength, blur = EdgeBlurEvidence()(batch)[0].numpy()
    assert strength.min() >= 0.0 and strength.max() < 1.0
    edges = strength > 0.2
    sharp, blurred = edges[:, 4:44], edges[:, 52:92]
    assert (blur[:, 4:44][sharp] / strength[:, 4:44][sharp]).mean() < -0.4
    assert (blur[:, 52:92][blurred] / strength[:, 52:92][blurred]).mean() > 0.0
    assert strength[:, 4:44].mean() > strength[:, 52:92].mean()


DBD = Path(__file__).resolve().parents[2] / "shared" / "data" / "dbd-real"


@pytest.mark.skipif(not DBD.is_dir(), reason="shared dbd-real data not present")
def test_shipped_network_meets_its_dbd_real_targets():
    """The shipped model's scores on dbd-real (model card) stay at the issue's targets and
    ahead of the analytic map."""
    from dofkit.evaluate import evaluate, find_cases, mean_scores

    cases = find_cases(DBD / "img", DBD / "gt")
    network = mean_scores([s for _, s in evaluate(cases, FocusEstimator("srcnn"))])
    analytic = mean_scores([s for _, s in evaluate(cases, FocusEstimator("analytic"))])
    assert network["mae"] <= 0.12 and network["f05"] >= 0.94
    assert network["mae"] < analytic["mae"] and network["f05"] > analytic["f05"]
