"""Training on generated data: scenes, samples, a tiny run that learns and is reproducible,
model selection and export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from dofkit.errors import ParameterError, ResourceError
from dofkit.focus.models import build
from dofkit.focus.srcnn import SrcnnPredictor, manifest_path, torch_threads
from dofkit.train.data import (PhotoSet, SceneSamples, SelfSupervisedSamples, load_masked,
                               load_sharp)
from dofkit.train.experiment import recover_map
from dofkit.train.loop import Settings, fixed_set, train
from dofkit.train.recipe import Sources, train_focus_model
from dofkit.train.scenes import (KINDS, NEED_SHARP_PHOTO, Cutout, Layer, flat_fill, make_scene,
                                  object_layer, possible_kinds, render)
from dofkit.train.validation import allowances
from tests.conftest import textured

SMALL = {"widths": [4, 8]}


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


def _sampler(folders, patch=48):
    sets = [load_masked(folders / "masked"), load_sharp(folders / "sharp")]
    return SceneSamples(sets, [], patch)


def test_photos_smaller_than_a_patch_are_not_drawn_unless_none_is_as_large(folders):
    # masked photos are 120x160, sharp ones 100x100
    samples = _sampler(folders, patch=110)
    assert samples.usable == [[0, 1, 2, 3], [0, 1, 2]]  # sharp/: none as large, all kept
    photos = [(textured(h, w, seed=h) * 255).astype(np.uint8) for h, w in ((90, 140), (128, 120))]
    mixed = SceneSamples([PhotoSet("mixed", photos, [None, None], ["small", "large"])], [], 112)
    assert mixed.usable == [[1]]
    inputs, label = mixed(np.random.default_rng(0))
    assert inputs.shape == (112, 112, 6) and label.shape == (112, 112)


def test_flat_regions_take_the_label_of_their_layer():
    """A flat fill inside a blurred layer is labelled blurred, inside a sharp one sharp; the
    label follows the front-most layer's mask."""
    rng = np.random.default_rng(0)
    photo = textured(64, 80)
    photo[:24] = flat_fill((24, 80), rng)
    alpha = np.zeros((64, 80), np.float32)
    alpha[30:60, 20:60] = 1
    for back_radius, object_radius in ((5.0, 0.0), (0.0, 5.0)):
        image, label = render([Layer(photo, np.ones_like(alpha), back_radius),
                               Layer(photo, alpha, object_radius)], rng)
        assert image.shape == photo.shape and 0 <= image.min() and image.max() <= 1
        assert (label[:24] == float(back_radius == 0)).all()
        assert (label[alpha == 1] == float(object_radius == 0)).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_scene_kind(kind):
    rng = np.random.default_rng(3)
    mask = np.zeros((90, 120), np.float32)
    mask[20:70, 30:90] = 1
    image, label = make_scene(textured(90, 120, seed=4), mask, [], rng, kind)
    assert image.shape == (90, 120, 3) and label.shape == (90, 120)
    if kind == "sharp":
        assert (label == 1).all()
    elif kind == "blurred":
        assert (label == 0).all()
    else:
        assert 0 < label.mean() < 1


def test_a_photo_of_unknown_focus_is_labelled_sharp_only_on_its_mask():
    """A masked photo's background may be defocused already: never labelled sharp, with or
    without cutouts; no kind that shows it sharp, no random shape of it as a sharp object."""
    mask = np.zeros((90, 120), np.float32)
    mask[20:70, 30:90] = 1
    photo = textured(90, 120, seed=5)
    for seed in range(40):
        _, label = make_scene(photo, mask, [], np.random.default_rng(seed), photo_sharp=False)
        assert (label[mask == 0] == 0).all()
    cutout = Cutout(textured(30, 30, seed=6), np.ones((30, 30), np.float32))
    for seed in range(40):
        rgb, alpha = object_layer(photo, mask, [cutout], np.random.default_rng(seed),
                                  own_shapes=False)
        assert (rgb is photo and alpha is mask) or rgb is not photo
    assert not set(possible_kinds(False, True, True)) & set(NEED_SHARP_PHOTO)
    for kind in NEED_SHARP_PHOTO:
        with pytest.raises(ValueError, match="kind"):
            make_scene(photo, mask, [cutout], np.random.default_rng(0), kind, photo_sharp=False)


def test_scene_kinds_keep_their_shares_whatever_the_sources(folders, monkeypatch):
    """Kinds that show a photo's own background sharp are drawn from photos sharp all over
    only, at their share of KINDS, though half the sources here are masked photos."""
    drawn = []

    def record(photo, mask, cutouts, rng, kind=None, photo_sharp=True):
        drawn.append((kind, photo_sharp))
        return photo, np.zeros(photo.shape[:2], np.float32)

    monkeypatch.setattr("dofkit.train.data.make_scene", record)
    sampler = SceneSamples([load_masked(folders / "masked"), load_sharp(folders / "sharp")],
                           [Cutout(textured(20, 20, seed=1), np.ones((20, 20), np.float32))], 48)
    rng = np.random.default_rng(0)
    for _ in range(1500):
        sampler(rng)
    for kind in NEED_SHARP_PHOTO:
        share = np.mean([k == kind for k, _ in drawn])
        assert share == pytest.approx(KINDS[kind] / sum(KINDS.values()), abs=0.03)
        assert all(sharp for k, sharp in drawn if k == kind)


def test_samples_have_patch_shape_and_binary_labels(folders):
    sampler = _sampler(folders)
    rng = np.random.default_rng(0)
    means = set()
    for _ in range(30):
        inputs, label = sampler(rng)
        assert inputs.shape == (48, 48, 6) and inputs.dtype == np.float32
        assert label.shape == (48, 48) and set(np.unique(label)) <= {0.0, 1.0}
        assert 0.0 <= inputs[:, :, :3].min() and inputs[:, :, :3].max() <= 1.0
        means.add(float(label.mean()))
    assert 0.0 in means and 1.0 in means  # all-blurred and all-sharp samples occur


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


def _tiny_run(folders, steps=30):
    sampler = _sampler(folders)
    torch.manual_seed(0)
    model = build("context-net", **SMALL)
    images, targets = fixed_set(sampler, 24, seed=7)

    def loss() -> float:
        with torch.inference_mode():
            return float(torch.nn.functional.binary_cross_entropy_with_logits(
                model.eval()(images), targets))

    before = loss()
    history = train(model, sampler, Settings(steps=steps, batch=6, learning_rate=3e-3,
                                             validate_every=10**6, log_every=10**6))
    return before, loss(), history


def test_tiny_training_lowers_loss_and_is_reproducible(folders):
    """Same seed, same run, to the bit, with one torch thread (with several, the order of
    torch's parallel sums varies from run to run, and so do the last bits)."""
    with torch_threads(1):
        before, after, history = _tiny_run(folders)
        assert after < before
        _, again, history_again = _tiny_run(folders)
    assert history.loss == history_again.loss and after == again


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_checkpoint_resume_continues(folders, tmp_path, ema):
    sampler = _sampler(folders)
    checkpoint = tmp_path / "run.ckpt"
    settings = Settings(steps=6, batch=2, checkpoint_every=3, validate_every=10**6, ema=ema)
    train(build("context-net", **SMALL), sampler, settings, checkpoint=checkpoint)
    longer = Settings(steps=9, batch=2, checkpoint_every=3, validate_every=10**6, ema=ema)
    model = build("context-net", **SMALL)
    history = train(model, sampler, longer, checkpoint=checkpoint, resume=True)
    assert len(history.loss) == 9
    state = torch.load(checkpoint, weights_only=True)
    if ema:  # the model returned is the average, which differs from the raw weights
        average = {k[len("module."):]: v for k, v in state["average"].items()
                   if k.startswith("module.")}
        assert all(torch.equal(v, average[k]) for k, v in model.state_dict().items())
        assert not all(torch.equal(v, state["model"][k]) for k, v in average.items())
    else:
        assert "average" not in state


class _Payload:
    """An arbitrary object: pickled into a checkpoint, loading it would run code."""


@pytest.mark.parametrize("content", ["pickled", "other-model", "garbage"])
def test_resume_refuses_what_is_not_a_checkpoint_of_this_model(folders, tmp_path, content):
    """--resume reads tensors only: a file holding pickled objects, another model's state or
    junk is one ResourceError naming it, and nothing is run or changed."""
    checkpoint = tmp_path / "run.ckpt"
    if content == "pickled":
        torch.save({"model": _Payload(), "step": 1}, checkpoint)
    elif content == "other-model":
        torch.save({"model": build("context-net", widths=[4, 8, 8]).state_dict(),
                    "optimiser": {}, "schedule": {}, "history": {}, "step": 1}, checkpoint)
    else:
        checkpoint.write_bytes(b"not a checkpoint")
    before = checkpoint.read_bytes()
    said = {"other-model": "not a checkpoint of this model",
            "pickled": "not a readable checkpoint .*holding more than tensors",
            "garbage": "not a readable checkpoint"}[content]
    with pytest.raises(ResourceError, match=f"^{checkpoint}: {said}") as refused:
        train(build("context-net", **SMALL), _sampler(folders),
              Settings(steps=2, batch=2, validate_every=10**6), checkpoint=checkpoint,
              resume=True)
    assert "weights_only" not in str(refused.value)  # torch's advice to load it unsafely
    assert checkpoint.read_bytes() == before


def test_recipe_selects_by_worst_source_and_exports(folders, tmp_path, monkeypatch):
    """The export holds the per-source scores of exactly the exported predictor, the analytic
    map's on the same data, and the selection record of the best worst source."""
    monkeypatch.setattr("dofkit.train.recipe.CONFIG", SMALL)
    monkeypatch.setattr("dofkit.train.validation.SCENES_PER_SOURCE", 2)
    export = tmp_path / "out" / "net.safetensors"
    train_focus_model(Sources([folders / "masked"], [folders / "sharp"], skimage=False),
                      Settings(steps=4, batch=2, validate_every=2), patch=48, export=export,
                      checkpoint=tmp_path / "run.ckpt")
    predictor = SrcnnPredictor(export)
    manifest = predictor.manifest
    assert manifest["steps"] == 4
    network, analytic = manifest["validation"]["network"], manifest["validation"]["analytic"]
    assert set(network) == set(analytic) >= {"masked", "sharp", "sharp-all", "blurred-all"}
    regret = _worst_regret(manifest)
    assert manifest["selected"]["worst_regret"] == pytest.approx(regret, abs=2e-4)
    assert manifest["beats_analytic"] == (regret < 0)
    assert predictor(textured(40, 50)).shape == (40, 50)


@pytest.fixture
def exported(folders, tmp_path, monkeypatch):
    """(sources, weights file) of a tiny run of the recipe (small config, 2 scenes per
    source) exported to tmp_path."""
    monkeypatch.setattr("dofkit.train.recipe.CONFIG", SMALL)
    monkeypatch.setattr("dofkit.train.validation.SCENES_PER_SOURCE", 2)
    sources = Sources([folders / "masked"], [folders / "sharp"], skimage=False)
    weights = tmp_path / "first.safetensors"
    train_focus_model(sources, Settings(steps=2, batch=2, validate_every=2), patch=48,
                      export=weights)
    return sources, weights


def test_the_command_prints_the_exported_scores_as_data(folders, tmp_path, monkeypatch):
    """The per-source scores of the exported predictor are the one line of stdout (they were
    printed among the messages on stderr)."""
    from typer.testing import CliRunner

    from dofkit.cli import app

    monkeypatch.setattr("dofkit.train.recipe.CONFIG", SMALL)
    monkeypatch.setattr("dofkit.train.validation.SCENES_PER_SOURCE", 2)
    weights = tmp_path / "net.safetensors"
    result = CliRunner().invoke(app, [
        "train", "--masked", str(folders / "masked"), "--sharp", str(folders / "sharp"),
        "--no-skimage", "--steps", "2", "--batch", "2", "--patch", "64", "--validate-every",
        "2", "--export", str(weights)])
    assert result.exit_code == 0, result.output
    line, = result.stdout.splitlines()
    assert json.loads(line) == json.loads(manifest_path(weights).read_text())["validation"]
    assert "validation" not in line and "network" in json.loads(line)


def _worst_regret(manifest: dict) -> float:
    """The worst-source regret of a manifest's recorded network scores."""
    network, analytic = manifest["validation"]["network"], manifest["validation"]["analytic"]
    allowed = allowances(analytic)
    return max(network[s]["mae"] - allowed[s] for s in network)


def test_rescore_exports_the_same_weights_scored_anew(exported, tmp_path, monkeypatch):
    """rescore: the weights are copied unchanged to a new file whose manifest is scored as an
    export is (logit scale chosen again by the worst source) and keeps the training record;
    the weights read are left as they were."""
    from dofkit.train.recipe import LOGIT_SCALES, rescore

    sources, trained = exported
    before = {path: path.read_bytes() for path in (trained, manifest_path(trained))}
    rescored = tmp_path / "rescored.safetensors"
    rescore(trained, sources, rescored)
    assert {path: path.read_bytes() for path in before} == before
    assert rescored.read_bytes() == trained.read_bytes()
    old, new = (SrcnnPredictor(path).manifest for path in (trained, rescored))
    assert new["trained_selection"] == old["selected"] and new["seed"] == old["seed"]
    assert new["logit_scale"] in LOGIT_SCALES
    assert new["selected"]["worst_regret"] == pytest.approx(_worst_regret(new), abs=2e-4)
    for export in (rescored, rescored.with_suffix(".bin")):  # the .bin's manifest is ours
        with pytest.raises(ParameterError) as refused:
            rescore(rescored, sources, export)
        assert refused.value.parameter == "export"
    monkeypatch.setattr("dofkit.train.recipe.CONFIG", {"widths": [4, 8, 8]})
    with pytest.raises(ParameterError) as refused:
        rescore(rescored, sources, tmp_path / "other.safetensors")
    assert refused.value.parameter == "weights"
    assert not (tmp_path / "other.safetensors").exists()


def test_fine_tuning_starts_from_init_and_refuses_other_architectures(exported, monkeypatch):
    """--init: training starts from the given weights (scored as a candidate before the first
    step); weights of another config are refused naming the parameter."""
    sources, first = exported
    start = SrcnnPredictor(first).model.state_dict()
    model, history = train_focus_model(sources, Settings(steps=1, batch=2, learning_rate=1e-9,
                                                         validate_every=10**6), patch=48,
                                       init=first)
    for name, value in model.state_dict().items():
        assert torch.allclose(value, start[name], atol=1e-6), name
    monkeypatch.setattr("dofkit.train.recipe.CONFIG", {"widths": [4, 8, 8]})
    with pytest.raises(ParameterError) as refused:
        train_focus_model(sources, Settings(steps=1, batch=2), patch=48, init=first)
    assert refused.value.parameter == "init"


def test_ctrl_c_stops_training_with_workers_in_one_line(folders, tmp_path):
    """Ctrl-C reaches the whole process group, sample-making workers too: one line, exit 130,
    no traceback from torch's worker shutdown."""
    command = [sys.executable, "-m", "dofkit", "train", "--masked", str(folders / "masked"),
               "--sharp", str(folders / "sharp"), "--no-skimage", "--steps", "100000",
               "--batch", "2", "--patch", "64", "--workers", "1",
               "--checkpoint", str(tmp_path / "run.ckpt")]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None and not _children(child.pid):
        time.sleep(0.1)  # until the worker process has started
    time.sleep(2.0)
    os.killpg(child.pid, signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr and "Exception" not in stderr


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


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


def test_validation_makes_only_scenes_a_photo_can_make():
    """Without cutouts, a photo of unknown focus without a mask (scikit-image's coffee) can
    only be blurred all over; a masked one shallow; a sharp one anything."""
    from dofkit.train.validation import build_validation

    photo = (textured(64, 80, seed=9) * 255).astype(np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[16:48, 20:60] = 255
    sets = [PhotoSet("shallow", [photo], [None], ["coffee"]),
            PhotoSet("masked", [photo], [mask], ["p"]),
            PhotoSet("sharp", [photo], [None], ["s"])]
    data = build_validation(sets, [], 0, per_source=6)
    assert all(not truth.any() for _, truth in data.composites["shallow"])
    for _, truth in data.composites["masked"]:
        assert not truth[mask < 128].any()
    assert any(truth[mask < 128].any() for _, truth in data.composites["sharp"])  # inverted
    assert len(data.calibration["sharp-all"]) == 1  # coffee is not sharp all over
