"""Validation across sources: fixed scenes from held-out photos of every source, whole photos
sharp or blurred everywhere (calibration), and a dbd-style folder of real photos.

Scores are per source, so a model is chosen by its *worst* source (:func:`worst_regret`: the
largest amount by which it trails the analytic map on any source), never by a mean that one
large source dominates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..evaluate import evaluate, find_cases, mean_scores
from ..metrics import score
from .data import PhotoSet
from .scenes import Cutout, make_scene, possible_kinds

#: Scene kinds of the per-source validation composites, in turn (mostly plain shallow depth
#: of field, as users' photos are).
COMPOSITE_KINDS = ("shallow", "shallow", "layers", "shallow", "inverted", "backdrop")
SCENES_PER_SOURCE = 12
CALIBRATION_PER_SOURCE = 4

FocusFunction = Callable[[np.ndarray], np.ndarray]


@dataclass
class ValidationData:
    """``composites``: source -> [(image (h, w, 3), truth bool (h, w))]; ``calibration``:
    ``"sharp-all"`` / ``"blurred-all"`` -> [image]; ``real``: dbd-style cases."""

    composites: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    calibration: dict[str, list[np.ndarray]] = field(default_factory=dict)
    real: list = field(default_factory=list)


def build_validation(held_out: list[PhotoSet], cutouts: list[Cutout], seed: int,
                     real: Path | None = None, *, per_source: int = SCENES_PER_SOURCE,
                     kinds: tuple[str, ...] = COMPOSITE_KINDS) -> ValidationData:
    """Fixed validation data from the held-out photos of every source (same ``seed``, same
    scenes): ``per_source`` scenes of ``kinds`` in turn (``shallow``, else ``blurred``, in
    place of a kind a photo cannot make: :func:`~.scenes.possible_kinds`), calibration
    photos, and the dbd-style folder ``real`` (``img/`` + ``gt/``) when given."""
    data = ValidationData(calibration={"sharp-all": [], "blurred-all": []})
    for photo_set in held_out:
        rng = np.random.default_rng([seed, 17, len(photo_set.names)])
        scenes = []
        for i in range(per_source):
            index = i % len(photo_set.photos)
            photo_sharp, mask = photo_set.sharp_all_over(index), photo_set.mask(index)
            possible = possible_kinds(photo_sharp, mask is not None and mask.max() > 0,
                                      bool(cutouts))
            kind = kinds[i % len(kinds)]
            kind = kind if kind in possible else "shallow" if "shallow" in possible else "blurred"
            image, label = make_scene(photo_set.rgb(index), mask, cutouts, rng, kind,
                                      photo_sharp)
            scenes.append((image, label >= 0.5))
        data.composites[photo_set.name] = scenes
        if all(mask is None for mask in photo_set.masks):  # a source of photos sharp all over
            sharp = [i for i in range(len(photo_set.names)) if photo_set.sharp_all_over(i)]
            for i in sharp[:CALIBRATION_PER_SOURCE]:
                for kind, name in (("sharp", "sharp-all"), ("blurred", "blurred-all")):
                    image, _ = make_scene(photo_set.rgb(i), None, [], rng, kind)
                    data.calibration[name].append(image)
    if real is not None:
        data.real = find_cases(real / "img", real / "gt")
    return data


def score_sources(focus: FocusFunction, data: ValidationData) -> dict[str, dict[str, float]]:
    """Per source: ``{"mae", "f05", "fmax"}`` means over its composites; ``dbd-real`` the same
    on the real photos; ``sharp-all`` / ``blurred-all``: ``{"mean", "mae"}``, the mean map
    value and its distance from 1 or 0."""
    scores = {}
    for source, scenes in data.composites.items():
        scores[source] = mean_scores([score(focus(image), truth) for image, truth in scenes])
    if data.real:
        scores["dbd-real"] = mean_scores([s for _, s in evaluate(data.real, focus)])
    for name, images in data.calibration.items():
        if images:
            mean = float(np.mean([focus(image).mean() for image in images]))
            scores[name] = {"mean": mean, "mae": 1.0 - mean if name == "sharp-all" else mean}
    return scores


def scaled_maps(predictor, scales: tuple[float, ...]) -> dict[float, FocusFunction]:
    """Focus functions of a :class:`~dofkit.focus.srcnn.SrcnnPredictor` with its logits
    multiplied by each of ``scales``; each image's logits are computed once (keyed by the
    image's content, so a photo read again from its file is found too)."""
    from ..focus.analytic import working_copy
    from ..focus.srcnn import STRENGTH_CHANNEL, network_inputs, to_map

    cache: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def at(scale: float) -> FocusFunction:
        def focus(image: np.ndarray) -> np.ndarray:
            key = (image.shape, image.dtype.str,
                   hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).digest())
            if key not in cache:
                inputs = network_inputs(working_copy(image, predictor.work_side))
                cache[key] = (inputs[..., :3].copy(), inputs[..., STRENGTH_CHANNEL].copy(),
                              predictor.logits(inputs))
            work, strength, logits = cache[key]
            return to_map(scale * logits, work, strength, image.shape[:2])
        return focus

    return {scale: at(scale) for scale in scales}


#: Calibration sources (mean map of photos sharp / blurred all over) count as matched when
#: within this MAE of the ideal 1 / 0 (the bound the product promises), even where the
#: analytic map is closer still.
CALIBRATION_BOUND = 0.10


def allowances(analytic: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per source, the MAE a network must stay under to count as no worse than the analytic
    map: the analytic MAE, or for calibration sources the larger of it and
    :data:`CALIBRATION_BOUND`."""
    return {source: max(entry["mae"], CALIBRATION_BOUND) if "mean" in entry else entry["mae"]
            for source, entry in analytic.items()}


def worst_regret(scores: dict[str, dict[str, float]], allowed: dict[str, float]) -> float:
    """The model-selection criterion (lower is better): over all sources, the largest excess
    of the network's MAE over what is allowed (:func:`allowances`). Negative means the network
    is better than the analytic map on every source."""
    return max(scores[source]["mae"] - allowed[source] for source in allowed)


def flat(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    """``{"source_metric": value}`` rounded to 4 places, for logs and manifests."""
    return {f"{source}_{metric}": round(float(value), 4)
            for source, entry in scores.items() for metric, value in entry.items()}
