"""Score focus maps against ground-truth masks over a folder (protocol of docs/evaluation.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .errors import ImageError, ParameterError
from .io import open_image, read_focus_map
from .metrics import METRICS, score

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


@dataclass(frozen=True)
class Case:
    """One evaluation item: the photo, its mask (255 = in focus) and, optionally, a given map."""

    name: str
    image: Path
    truth: Path
    map: Path | None = None


def find_cases(images: Path, truth: Path, maps: Path | None = None) -> list[Case]:
    """Pair every image in ``images`` with the mask of the same stem in ``truth`` (and the map
    of the same stem in ``maps``); a missing partner is an ImageError naming it."""
    images, truth = Path(images), Path(truth)
    maps = None if maps is None else Path(maps)
    for folder in (images, truth, maps):
        if folder is not None and not folder.is_dir():
            raise ImageError(f"{folder}: not a folder")
    photos = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not photos:
        raise ImageError(f"{images}: no images found")
    cases = []
    for photo in photos:
        mask = _by_stem(truth, photo.stem)
        given = _by_stem(maps, photo.stem) if maps is not None else None
        cases.append(Case(photo.stem, photo, mask, given))
    return cases


def _by_stem(folder: Path, stem: str) -> Path:
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    raise ImageError(f"{folder}: no file for '{stem}'")


def evaluate(cases: list[Case], make_map: Callable[[np.ndarray], np.ndarray] | None = None
             ) -> Iterator[tuple[Case, dict[str, float]]]:
    """Yield (case, scores) per case. Maps come from ``case.map`` when given, else from
    ``make_map(image)``. The mask is binarised at 128 (255 = in focus)."""
    for case in cases:
        truth_picture = open_image(case.truth)
        truth = truth_picture.rgb[:, :, 0] >= 0.5
        if case.map is not None:
            focus = read_focus_map(case.map, size=truth_picture.size)
        else:
            if make_map is None:
                raise ParameterError(f"make_map is needed: {case.name} has no given map",
                                     "make_map")
            picture = open_image(case.image)
            if picture.size != truth_picture.size:
                raise ImageError(f"{case.truth}: mask size differs from {case.image}")
            focus = make_map(picture.rgb)
        yield case, score(focus, truth)


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    """Average of each metric over the rows."""
    return {name: float(np.mean([row[name] for row in rows])) for name in METRICS}
