"""Score focus maps against ground-truth masks over a folder (protocol of docs/evaluation.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .errors import ImageError, ParameterError
from .io import open_image, read_focus_map
from .io.decode import in_colour
from .metrics import METRICS, score

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


@dataclass(frozen=True)
class Case:
    """One evaluation item: the photo, its mask (255 = in focus) and, optionally, a given map;
    ``problem``: why the case cannot be scored (a partner missing), raised by :func:`evaluate`."""

    name: str
    image: Path
    truth: Path | None
    map: Path | None = None
    problem: str | None = None


def find_cases(images: Path, truth: Path, maps: Path | None = None) -> list[Case]:
    """Pair every image in ``images`` with the mask of the same stem in ``truth`` (and the map
    of the same stem in ``maps``); suffixes in any case. A folder missing or holding no image is
    an ImageError naming it; a missing or doubled partner is the ``problem`` of its case alone
    (the others are still scored)."""
    images, truth = Path(images), Path(truth)
    maps = None if maps is None else Path(maps)
    for folder in (images, truth, maps):
        if folder is not None and not folder.is_dir():
            raise ImageError(f"{folder}: not a folder")
    photos = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not photos:
        dataset = (images / "img").is_dir() and (images / "gt").is_dir()
        hint = " (it holds a dataset: its img/ and gt/ are the photos and masks)" if dataset \
            else ""
        raise ImageError(f"{images}: no images found{hint}")
    masks, given = _by_stem(truth), _by_stem(maps) if maps is not None else {}
    cases = []
    for photo in photos:
        mask, problem = _partner(truth, masks, photo.stem)
        map_file = None
        if maps is not None:
            map_file, missing = _partner(maps, given, photo.stem)
            problem = problem or missing
        cases.append(Case(photo.stem, photo, mask, map_file, problem))
    return cases


def _by_stem(folder: Path) -> dict[str, list[Path]]:
    """The images of ``folder`` (by suffix, in any case), grouped by stem."""
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            found.setdefault(path.stem, []).append(path)
    return found


def _partner(folder: Path, found: dict[str, list[Path]], stem: str
             ) -> tuple[Path | None, str | None]:
    """The file of ``stem`` in ``folder`` (``found``: its :func:`_by_stem`), or None and why."""
    files = found.get(stem, [])
    if len(files) == 1:
        return files[0], None
    if not files:
        return None, f"{folder}: no file for '{stem}'"
    return None, f"{folder}: several files for '{stem}' ({', '.join(p.name for p in files)})"


def evaluate(cases: list[Case], make_map: Callable[[np.ndarray], np.ndarray] | None = None
             ) -> Iterator[tuple[Case, dict[str, float]]]:
    """Yield (case, scores) per case. Maps come from ``case.map`` when given (read as by
    :func:`~dofkit.io.read_focus_map`), else from ``make_map(image)``. The mask is read by
    :func:`read_mask`; mask and map must have the photo's size."""
    for case in cases:
        if case.problem is not None:
            raise ImageError(case.problem)
        if case.map is None and make_map is None:
            raise ParameterError(f"make_map is needed: {case.name} has no given map",
                                 "make_map")
        picture = open_image(case.image)
        truth = read_mask(case.truth, picture.size, case.image)
        if case.map is not None:
            focus = read_focus_map(case.map, size=picture.size)
        else:
            focus = make_map(picture.rgb)
        yield case, score(focus, truth)


def read_mask(path: Path, size: tuple[int, int], image: Path) -> np.ndarray:
    """Read a ground-truth mask (grey, 255 = in focus) -> bool (H, W), True = in focus
    (binarised at 0.5). ImageError naming the file for a mask whose size differs from ``size``
    = (width, height) of ``image``, one in colour, one of values 0 and 1 only, or a 16-bit one
    whose values stay within 0-255, an 8-bit mask stored in 16 bits (never rescaled: 1, or
    255 of 65535, is almost black)."""
    picture = open_image(path)
    if picture.size != tuple(size):
        raise ImageError(f"{path}: ground-truth mask is {picture.size[0]}x{picture.size[1]} "
                         f"but the image {image} is {size[0]}x{size[1]}")
    if in_colour(picture.rgb):
        raise ImageError(f"{path}: ground-truth mask is in colour (a photo given as the "
                         "mask?); a mask is grey, 255 = in focus")
    grey = picture.rgb[..., 0]
    top_level = round(float(grey.max()) * (2 ** picture.bit_depth - 1))
    if top_level == 1:
        raise ImageError(f"{path}: ground-truth mask values are only 0 and 1; 255 = in focus "
                         "is expected (multiply the mask by 255)")
    if picture.bit_depth == 16 and 1 < top_level <= 255:
        raise ImageError(f"{path}: ground-truth mask is 16-bit but its values only reach "
                         f"{top_level}; 65535 = in focus is expected (save it as 8-bit)")
    return grey >= 0.5


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float | None]:
    """Average of each metric over the rows; None for each when there are no rows."""
    return {name: float(np.mean([row[name] for row in rows])) if rows else None
            for name in METRICS}
