"""The shipped model's recipe: folders -> seeded split -> training -> export to ``pretrained/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from ..evaluate import evaluate, find_cases, mean_scores
from ..focus.models import build, normalise, parameter_count
from ..focus.srcnn import SrcnnPredictor, save_weights
from .data import WORK_SIDE, FocusSamples, list_images, masked_pairs, split
from .loop import History, Settings, fixed_set, train

ARCHITECTURE = "dilated-srcnn"
CONFIG = {"width": 32, "dilations": [1, 2, 4, 8, 16, 32, 1], "edge_evidence": True}
#: Logit scale written to the manifest (see SrcnnPredictor.probability): chosen on held-out
#: composites by benchmarks/synthetic_eval.py (MAE 0.085 at 1, 0.066 at 2, 0.062 at 3; Fmax
#: 0.936 -> 0.933 -> 0.931), never on dbd-real.
LOGIT_SCALE = 2.0
VALIDATION_FRACTION = 0.05
VALIDATION_SAMPLES = 48


@dataclass
class Sources:
    """Training folders: ``masked`` hold ``img/`` + ``mask/``; ``sharp`` hold sharp photos."""

    masked: list[Path]
    sharp: list[Path]

    def masked_split(self, seed: int) -> tuple[list, list]:
        """(train, held-out) (photo, mask) pairs: the seeded split every run uses."""
        pairs = [pair for folder in self.masked for pair in masked_pairs(folder)]
        return split(pairs, VALIDATION_FRACTION, seed)

    def samplers(self, patch: int, seed: int) -> tuple[FocusSamples, FocusSamples]:
        """(train, validation) samplers over a seeded split of the photos."""
        photos = [photo for folder in self.sharp for photo in list_images(folder)]
        pairs_train, pairs_val = self.masked_split(seed)
        sharp_train, sharp_val = split(photos, VALIDATION_FRACTION, seed)
        return (FocusSamples(pairs_train, sharp_train, patch),
                FocusSamples(pairs_val or pairs_train, sharp_val or sharp_train, patch))


def validator(sampler: FocusSamples, seed: int, dbd: Path | None):
    """A function model -> scores: BCE and MAE on a fixed synthetic validation set, plus the
    ``dofkit eval`` metrics on a dbd-style folder (``img/`` + ``gt/``) when given."""
    images, targets = fixed_set(sampler, VALIDATION_SAMPLES, seed)
    cases = find_cases(dbd / "img", dbd / "gt") if dbd else []

    def validate(model: torch.nn.Module) -> dict:
        model.eval()
        with torch.inference_mode():
            logits = torch.cat([model(normalise(chunk)) for chunk in images.split(8)])
        scores = {"val_bce": float(torch.nn.functional.binary_cross_entropy_with_logits(
                      logits, targets)),
                  "val_mae": float((torch.sigmoid(logits) - targets).abs().mean())}
        if cases:
            predictor = SrcnnPredictor.from_model(model, WORK_SIDE)
            means = mean_scores([s for _, s in evaluate(cases, predictor)])
            scores.update({f"dbd_{k}": v for k, v in means.items()})
        return scores

    return validate


def train_focus_model(sources: Sources, settings: Settings, *, patch: int = 192,
                      checkpoint: Path | None = None, resume: bool = False,
                      validation: Path | None = None, export: Path | None = None,
                      command: str = "", console: Console | None = None
                      ) -> tuple[torch.nn.Module, History]:
    """Train the shipped architecture; with ``export`` write weights + manifest there."""
    console = console or Console(stderr=True)
    torch.manual_seed(settings.seed)
    model = build(ARCHITECTURE, **CONFIG)
    console.print(f"{ARCHITECTURE}: {parameter_count(model)} parameters")
    train_sampler, val_sampler = sources.samplers(patch, settings.seed)
    validate = validator(val_sampler, settings.seed, validation)
    history = train(model, train_sampler, settings, checkpoint=checkpoint, resume=resume,
                    validate=validate, console=console)
    if export is not None:
        last = history.validation[-1] if history.validation else {}
        digest = save_weights(model.eval(), export, ARCHITECTURE, CONFIG, WORK_SIDE,
                              parameters=parameter_count(model), steps=settings.steps,
                              seed=settings.seed, command=command, logit_scale=LOGIT_SCALE,
                              final_validation={k: round(float(v), 4) for k, v in last.items()},
                              final_loss=round(float(np.mean(history.loss[-100:])), 4))
        console.print(f"exported {export} (sha256 {digest})")
    return model, history
