"""Training on generated data: samples, a tiny run that learns and is reproducible, export."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from dofkit.focus.models import build, normalise
from dofkit.focus.srcnn import SrcnnPredictor
from dofkit.train.data import FocusSamples, SelfSupervisedSamples, masked_pairs
from dofkit.train.experiment import recover_map
from dofkit.train.loop import Settings, fixed_set, train
from dofkit.train.recipe import Sources, train_focus_model
from tests.conftest import textured

SMALL = {"width": 8, "dilations": [1, 2, 4]}


@pytest.fixture
def folders(tmp_path):
    """masked/{img,mask} with 4 textured photos and elliptic masks, and sharp/ with 3 photos."""
    for sub in ("masked/img", "masked/mask", "sharp"):
        (tmp_path / sub).mkdir(parents=True)
    for i in range(4):
        photo = (textured(120, 160, seed=i) * 255).astype(np.uint8)
        mask = np.zeros((120, 160), np.uint8)
        cv2.ellipse(mask, (40 + 20 * i, 60), (30, 40), 0, 0, 360, 255, -1)
        cv2.imwrite(str(tmp_path / f"masked/img/p{i}.png"), photo)
        cv2.imwrite(str(tmp_path / f"masked/mask/p{i}.png"), mask)
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"sharp/s{i}.png"),
                    (textured(100, 100, seed=10 + i) * 255).astype(np.uint8))
    return tmp_path


def test_samples_have_patch_shape_and_binary_labels(folders):
    sampler = FocusSamples(masked_pairs(folders / "masked"),
                           sorted((folders / "sharp").iterdir()), patch=48)
    rng = np.random.default_rng(0)
    kinds_seen = set()
    for _ in range(20):
        image, label = sampler(rng)
        assert image.shape == (48, 48, 3) and image.dtype == np.float32
        assert label.shape == (48, 48) and set(np.unique(label)) <= {0.0, 1.0}
        assert 0.0 <= image.min() and image.max() <= 1.0
        kinds_seen.add(float(label.mean()))
    assert 0.0 in kinds_seen and 1.0 in kinds_seen  # all-blurred and all-sharp samples occur


def test_self_supervised_targets(folders):
    photos = sorted((folders / "sharp").iterdir())
    rng = np.random.default_rng(0)
    image, target = SelfSupervisedSamples(photos, "w", patch=33)(rng)
    assert image.shape == (33, 33, 3) and target.shape == (33, 33, 1)
    image, target = SelfSupervisedSamples(photos, "wi", patch=33)(rng)
    assert target.shape == (33, 33, 3) and (target <= image + 1e-6).all()


def test_recover_map_inverts_w_times_i():
    image = textured(20, 30, seed=5) * 0.8 + 0.1
    weight = np.linspace(0, 1, 30, dtype=np.float32)[None, :].repeat(20, 0)
    recovered = recover_map(weight[:, :, None] * image, image)
    assert np.corrcoef(recovered.ravel(), weight.ravel())[0, 1] > 0.99


def _tiny_run(folders, steps=60):
    sampler = FocusSamples(masked_pairs(folders / "masked"),
                           sorted((folders / "sharp").iterdir()), patch=48)
    torch.manual_seed(0)
    model = build("dilated-srcnn", **SMALL)
    images, targets = fixed_set(sampler, 24, seed=7)

    def loss() -> float:
        with torch.inference_mode():
            return float(torch.nn.functional.binary_cross_entropy_with_logits(
                model.eval()(normalise(images)), targets))

    before = loss()
    history = train(model, sampler, Settings(steps=steps, batch=6, learning_rate=3e-3,
                                             validate_every=10**6, log_every=10**6))
    return before, loss(), history


def test_tiny_training_lowers_loss_and_is_reproducible(folders):
    before, after, history = _tiny_run(folders)
    assert after < before * 0.85
    _, again, history_again = _tiny_run(folders)
    assert history.loss == history_again.loss and after == again


def test_checkpoint_resume_continues(folders, tmp_path):
    sampler = FocusSamples(masked_pairs(folders / "masked"),
                           sorted((folders / "sharp").iterdir()), patch=48)
    checkpoint = tmp_path / "run.ckpt"
    settings = Settings(steps=6, batch=2, checkpoint_every=3, validate_every=10**6)
    train(build("dilated-srcnn", **SMALL), sampler, settings, checkpoint=checkpoint)
    longer = Settings(steps=9, batch=2, checkpoint_every=3, validate_every=10**6)
    history = train(build("dilated-srcnn", **SMALL), sampler, longer, checkpoint=checkpoint,
                    resume=True)
    assert len(history.loss) == 9


def test_recipe_exports_loadable_weights(folders, tmp_path, monkeypatch):
    monkeypatch.setattr("dofkit.train.recipe.CONFIG", SMALL)
    export = tmp_path / "out" / "net.safetensors"
    train_focus_model(Sources([folders / "masked"], [folders / "sharp"]),
                      Settings(steps=3, batch=2, validate_every=3), patch=48, export=export)
    predictor = SrcnnPredictor(export)
    assert predictor.manifest["steps"] == 3
    assert predictor(textured(40, 50)).shape == (40, 50)


def test_paper_experiment_writes_report(folders, tmp_path):
    from rich.console import Console

    from dofkit.train.experiment import run_paper_experiment

    dbd = tmp_path / "dbd"
    (dbd / "img").mkdir(parents=True)
    (dbd / "gt").mkdir()
    for name in ("a", "b"):
        for source, kind in (("masked/img", "img"), ("masked/mask", "gt")):
            cv2.imwrite(str(dbd / kind / f"{name}.png"), cv2.imread(str(folders / source / "p0.png")))
    results = run_paper_experiment([folders / "sharp"], count=3, steps=4, dbd=dbd,
                                   out_dir=tmp_path / "docs", seed=0, command="test",
                                   console=Console(stderr=True, quiet=True))
    assert set(results["runs"]) == {"w", "wi"}
    assert all(len(run["loss"]) == 4 for run in results["runs"].values())
    report = (tmp_path / "docs/paper-replication.md").read_text()
    assert "| W |" in report and "| W x I |" in report
    assert (tmp_path / "docs/paper-replication.png").stat().st_size > 0
