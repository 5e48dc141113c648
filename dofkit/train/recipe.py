"""The shipped model's recipe: sources -> per-source held-out split -> training with model
selection by the worst source -> export of the selected weights to ``pretrained/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from ..batch.naming import refuse_inputs
from ..evaluate import find_cases
from ..focus.analytic import analytic_focus
from ..focus.models import build, parameter_count
from ..errors import OutputError, ParameterError, ResourceError
from ..focus import manifest_path
from ..focus.srcnn import SrcnnPredictor, load_weights, save_weights
from ..io.atomic import AtomicFile
from .data import (SKIMAGE_HELD_OUT, WORK_SIDE, PhotoSet, SceneSamples, cutouts_of, list_images,
                   load_masked, load_sharp, load_skimage, masked_pairs)
from .loop import History, Settings, keeps_torch_rng, train
from .validation import (allowances, build_validation, flat, scaled_maps, score_sources,
                         worst_regret)

ARCHITECTURE = "context-net"
CONFIG = {"widths": [16, 24, 32, 48, 64]}
HELD_OUT_FRACTION = 0.05
#: Logit scales tried at each validation; the best (lowest worst-source regret) is shipped.
LOGIT_SCALES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


@dataclass
class Sources:
    """Training sources: ``masked`` folders hold ``img/`` + ``mask/``; ``sharp`` folders hold
    photos sharp all over; ``skimage`` adds the photos scikit-image ships."""

    masked: list[Path]
    sharp: list[Path]
    skimage: bool = True

    def load(self) -> list[PhotoSet]:
        """Every source as a PhotoSet (photos decoded once, at working scale)."""
        sets = [load_masked(f) for f in self.masked] + [load_sharp(f) for f in self.sharp]
        return sets + ([load_skimage()] if self.skimage else [])

    def files(self) -> list[Path]:
        """The files :meth:`load` reads (photos and masks)."""
        return ([path for folder in self.masked for pair in masked_pairs(folder) for path in pair]
                + [path for folder in self.sharp for path in list_images(folder)])

    def split(self, seed: int) -> tuple[list[PhotoSet], list[PhotoSet]]:
        """(train, held-out) sets: the same seeded split every run uses; scikit-image's
        held-out photos are those the bundled samples come from."""
        pairs = [s.split(HELD_OUT_FRACTION, seed, SKIMAGE_HELD_OUT if s.name == "skimage" else ())
                 for s in self.load()]
        return [train for train, _ in pairs], [held for _, held in pairs]


def shared_sources(data: Path) -> Sources:
    """The shipped recipe's sources in a ``shared/data`` folder: ``masked/{people,horses}``,
    ``sharp/{kodak24,sun80,urban100}`` and scikit-image's photos."""
    return Sources([data / "masked" / name for name in ("people", "horses")],
                   [data / "sharp" / name for name in ("kodak24", "sun80", "urban100")])


class Selector:
    """Validation callback of the loop: scores the model per source at each logit scale of
    :data:`LOGIT_SCALES`, and keeps the weights and scale with the lowest worst-source regret
    against the analytic map (in memory, and in the file ``best`` when given, so that a resumed
    run keeps its choice)."""

    def __init__(self, data, best: Path | None, resume: bool):
        self.data, self.best = data, best
        self.analytic = score_sources(analytic_focus, data)
        self.allowed = allowances(self.analytic)
        self.record, self.state = None, None
        if best is not None and resume and best.is_file():
            self.record = torch.load(best, weights_only=True)["record"]

    def __call__(self, model: torch.nn.Module) -> dict:
        maps = scaled_maps(SrcnnPredictor.from_model(model, WORK_SIDE), LOGIT_SCALES)
        by_scale = {scale: score_sources(focus, self.data) for scale, focus in maps.items()}
        scale = min(by_scale, key=lambda s: worst_regret(by_scale[s], self.allowed))
        record = {"worst_regret": round(worst_regret(by_scale[scale], self.allowed), 4),
                  "logit_scale": scale, **flat(by_scale[scale])}
        if self.record is None or record["worst_regret"] < self.record["worst_regret"]:
            self.record = record
            self.state = {name: value.clone() for name, value in model.state_dict().items()}
            if self.best is not None:
                with AtomicFile(self.best) as output:
                    torch.save({"model": self.state, "record": record}, output.file)
        return record

    def load_best(self, model: torch.nn.Module) -> None:
        """Put the selected weights into ``model`` (from this run, else from the best file of
        the run resumed; nothing to do when nothing was validated)."""
        if self.state is not None:
            model.load_state_dict(self.state)
        elif self.best is not None and self.best.is_file():
            model.load_state_dict(torch.load(self.best, weights_only=True)["model"])


@keeps_torch_rng
def train_focus_model(sources: Sources, settings: Settings, *, patch: int = 224,
                      checkpoint: Path | None = None, resume: bool = False,
                      validation: Path | None = None, export: Path | None = None,
                      init: Path | None = None, command: str = "",
                      console: Console | None = None) -> tuple[torch.nn.Module, History]:
    """Train the shipped architecture, from scratch or (fine-tuning) from the weights file
    ``init``; with ``export`` write the selected weights there, with a manifest holding the
    per-source scores of exactly the exported predictor and of the analytic map on the same
    data."""
    best = checkpoint.with_suffix(checkpoint.suffix + ".best") if checkpoint else None
    refuse_inputs([("checkpoint", checkpoint), ("checkpoint", best)]
                  + [("export", path) for path in _weights_files(export)],
                  _read_files(sources, validation, init))
    if resume and (checkpoint is None or not checkpoint.is_file()):
        raise ResourceError(f"{checkpoint}: no checkpoint to resume from")
    check_writable([checkpoint, best, *_weights_files(export)])
    console = console or Console(stderr=True)
    torch.manual_seed(settings.seed)
    model = build(ARCHITECTURE, **CONFIG) if init is None else recipe_weights(init, "init")[0]
    console.print(f"{ARCHITECTURE}: {parameter_count(model)} parameters")
    train_sets, held_sets = sources.split(settings.seed)
    cutouts = cutouts_of(train_sets)
    console.print("sources (train/held-out photos): " + ", ".join(
        f"{t.name} {len(t.photos)}/{len(h.photos)}" for t, h in zip(train_sets, held_sets)))
    data = build_validation(held_sets, cutouts_of(held_sets), settings.seed, validation)
    selector = Selector(data, best, resume)
    if init is not None and not resume:  # the starting weights are a candidate too
        console.print("validation of --init " + json.dumps(selector(model)))
    samples = SceneSamples(train_sets, cutouts, patch)
    console.print(f"photos drawn (at least {patch} px on the short side): " + ", ".join(
        f"{s.name} {len(u)}/{len(s.photos)}" for s, u in zip(samples.sets, samples.usable)))
    history = train(model, samples, settings,
                    checkpoint=checkpoint, resume=resume, validate=selector, console=console)
    selector.load_best(model)
    if export is not None:
        export_selected(model, selector, export, console, steps=settings.steps,
                        seed=settings.seed, command=command,
                        final_loss=round(float(np.mean(history.loss[-100:])), 4))
    return model, history


def export_selected(model: torch.nn.Module, selector: Selector, export: Path, console: Console,
                    **extra) -> None:
    """Write ``model``'s weights to ``export`` with a manifest holding the logit scale the
    ``selector`` chose, the per-source scores of exactly that predictor and of the analytic
    map on the same data, and ``extra`` (steps, seed, command, ...)."""
    scale = (selector.record or {}).get("logit_scale", 1.0)
    network = score_sources(SrcnnPredictor.from_model(model.eval(), WORK_SIDE, scale),
                            selector.data)
    beats = worst_regret(network, selector.allowed) < 0
    digest = save_weights(model.eval(), export, ARCHITECTURE, CONFIG, WORK_SIDE,
                          parameters=parameter_count(model), logit_scale=scale,
                          selected=selector.record or {},
                          validation={"network": _rounded(network),
                                      "analytic": _rounded(selector.analytic)},
                          beats_analytic=beats, **extra)
    console.print(f"exported {export} (sha256 {digest}); no worse than the analytic map "
                  f"on any source: {beats} (the per-source scores are its manifest's "
                  f"'validation')")


def rescore(weights: Path, sources: Sources, export: Path, validation: Path | None = None,
            command: str = "", console: Console | None = None) -> None:
    """Choose the logit scale of the weights file ``weights`` again and export them to
    ``export`` with a manifest scored as :func:`export_selected` does (the training record
    kept as ``trained_selection``, ``command`` as ``rescored_by``), with the predictor as the
    code now computes it: for a change after the network (e.g. :mod:`dofkit.focus.fill`) that
    needs no retraining. ``sources`` and ``validation`` (a dbd-style folder or None) are those
    the run used; its seed comes from the manifest. ``weights`` and its manifest are only
    read."""
    console = console or Console(stderr=True)
    refuse_inputs([("export", path) for path in _weights_files(export)], _weights_files(weights))
    check_writable(_weights_files(export))
    model, manifest = recipe_weights(weights, "weights")
    if "seed" not in manifest:
        raise ParameterError(f"weights: {weights} has no seed in its manifest, so its held-out "
                             "split is unknown", "weights")
    _, held_sets = sources.split(manifest["seed"])
    selector = Selector(build_validation(held_sets, cutouts_of(held_sets), manifest["seed"],
                                         validation), None, False)
    console.print("validation " + json.dumps(selector(model)))
    kept = {k: manifest[k] for k in ("steps", "seed", "command", "final_loss") if k in manifest}
    export_selected(model, selector, export, console, **kept, rescored_by=command,
                    trained_selection=manifest.get("trained_selection", manifest.get("selected")))


def recipe_weights(path: Path, parameter: str) -> tuple[torch.nn.Module, dict]:
    """(model in training mode, manifest) of the weights file ``path``; ParameterError naming
    ``parameter`` unless they are of this recipe's architecture and config."""
    model, manifest = load_weights(path)
    if manifest["architecture"] != ARCHITECTURE or manifest["config"] != CONFIG:
        raise ParameterError(f"{parameter}: {path} holds {manifest['architecture']} "
                             f"{manifest['config']}, not this recipe's {ARCHITECTURE} "
                             f"{CONFIG}", parameter)
    return model.train(), manifest


def check_writable(paths: list[Path | None]) -> None:
    """OutputError naming the first of ``paths`` (None passes) that cannot be written (a
    folder, or in a folder that cannot be made or written), before a run spends its time."""
    for path in paths:
        if path is None:
            continue
        if Path(path).is_dir():
            raise OutputError(f"{path}: is a folder; name a file")
        AtomicFile(path).discard()  # makes the folder and opens a nameless file in it


def _read_files(sources: Sources, validation: Path | None, init: Path | None) -> list[Path]:
    """The files a training run reads: photos and masks, the validation cases, the ``init``
    weights and their manifest."""
    cases = find_cases(validation / "img", validation / "gt") if validation else []
    return (sources.files() + [path for case in cases for path in (case.image, case.truth)]
            + _weights_files(init))


def _weights_files(path: Path | None) -> list[Path]:
    """A weights file and its manifest (none for None)."""
    return [] if path is None else [path, manifest_path(path)]


def _rounded(scores: dict) -> dict:
    return {s: {k: round(float(v), 4) for k, v in entry.items()} for s, entry in scores.items()}
