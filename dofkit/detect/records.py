"""Detections made by other tools, read from JSON: COCO results or ``xyxy`` boxes.

Accepted content (``dofkit detect --detections FILE``):

- a JSON array of detection objects, as a COCO results file;
- JSON Lines: one detection object per line, or one per-image document per line,
  ``{"image": path, "detections": [...]}`` (``"kept"`` and ``"dropped"`` lists are read too,
  so the output of ``dofkit detect --json`` can be gated again).

A detection object holds ``"bbox": [x, y, w, h]`` (COCO, top-left corner) or
``"xyxy": [x1, y1, x2, y2]``, in pixels; ``bbox`` wins when both are present. Any other
fields are kept as they are. It belongs to the input image named by its document's
``"image"``, or its own ``"image"``, ``"file_name"`` or ``"image_id"``: a name matches an input
with the same path, file name or stem, and a whole-number ``image_id`` matches an input whose
stem is that number (``image_id: 42`` <-> ``000042.jpg``). Objects naming no image belong to
the only input; with several inputs they are an error. With a single input, detections that
all name the same other image (a tool that numbers its one image ``image_id: 1``) are taken
as that input's (:meth:`DetectionFile.adopted_by`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import InputError
from .base import Detection
from .gate import box_problem

DOCUMENT_KEYS = ("detections", "kept", "dropped")
IMAGE_KEYS = ("image", "file_name", "image_id")
#: Deepest nesting of arrays and objects read (a detection in a document needs 4 levels).
MAX_DEPTH = 64


@dataclass(frozen=True)
class DetectionFile:
    """Detections read from one file: ``name`` (for messages) and every ``(image key or
    None, Detection)`` pair in file order. Looking up an image's detections costs the size
    of its answer, not of the file (a COCO results file holds thousands of images)."""

    name: str
    entries: list[tuple[object, Detection]]

    def adopted_by(self, sources: list[str]) -> bool:
        """True when ``sources`` is one input that no detection names, while every detection
        names one same other image: they are then taken as that input's."""
        keys = self._keys
        return (len(sources) == 1 and len(keys) == 1 and None not in keys
                and not names_image(next(iter(keys)), sources[0]))

    def for_image(self, source: str, only_input: bool) -> list[Detection]:
        """The detections belonging to input ``source``, in file order; ``only_input`` when
        it is the sole input (objects naming no image are then its own)."""
        if only_input and self.adopted_by([source]):
            return [detection for _, detection in self.entries]
        unnamed = self._index.get(None, [])
        if unnamed and not only_input:
            raise self._unnamed_error()
        return [self.entries[i][1] for i in sorted(self._matching(source).union(unnamed))]

    def check_inputs(self, sources: list[str]) -> None:
        """InputError naming the file when its detections cannot be shared out among
        ``sources``: a detection naming no image while there are several inputs. Checked once
        for all inputs, before any is read (an input the file does not name simply gets no
        detections: see :meth:`unmatched`)."""
        if len(sources) > 1 and None in self._keys:
            raise self._unnamed_error()

    def _unnamed_error(self) -> InputError:
        return InputError(f"{self.name}: a detection names no image (give \"image\", "
                          "\"file_name\" or \"image_id\") and there are several inputs")

    def unmatched(self, sources: list[str]) -> int:
        """How many detections name none of ``sources`` (and are not adopted)."""
        if self.adopted_by(sources):
            return 0
        matched = set().union(*(self._matching(source) for source in sources))
        return len(self.entries) - len(self._index.get(None, [])) - len(matched)

    def _matching(self, source: str) -> set[int]:
        """Indices of the entries whose image key designates ``source`` (as
        :func:`names_image` decides)."""
        path = Path(source)
        lookups = [("text", source), ("name", path.name), ("text", path.stem)]
        if path.stem.isdigit():
            lookups.append(("number", int(path.stem)))
        return {i for lookup in lookups for i in self._index.get(lookup, ())}

    @cached_property
    def _keys(self) -> set:
        """The distinct image keys (None for detections naming no image)."""
        return {key for key, _ in self.entries}

    @cached_property
    def _index(self) -> dict:
        """Entry indices by what their key matches: ``("number", n)`` for an image_id,
        ``("text", key)`` and ``("name", file name)`` for a name, None for no key."""
        index: dict = {}
        for i, (key, _) in enumerate(self.entries):
            if key is None:
                lookups = [None]
            elif isinstance(key, int) and not isinstance(key, bool):
                lookups = [("number", key)]
            else:
                lookups = {("text", str(key)), ("name", Path(str(key)).name)}
            for lookup in lookups:
                index.setdefault(lookup, []).append(i)
        return index


def names_image(key: object, source: str) -> bool:
    """Whether an ``image``/``file_name``/``image_id`` value designates input ``source``."""
    path = Path(source)
    if isinstance(key, int) and not isinstance(key, bool):
        return path.stem.isdigit() and int(path.stem) == key
    text = str(key)
    return text == source or Path(text).name == path.name or text == path.stem


def parse_detections(text: str, name: str) -> DetectionFile:
    """Read detections from JSON ``text`` (see the module docs); ``name`` labels errors.
    Raises InputError naming ``name`` and the line or detection at fault. A UTF-8 byte order
    mark, as Windows tools write, is skipped."""
    text = text.removeprefix("\ufeff")
    try:
        whole = _load(text, name)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, list):
        items = [(None, item, f"detection {i}") for i, item in enumerate(whole)]
    elif isinstance(whole, dict):
        items = list(_from_document(whole, name, "line 1"))
    else:
        items = []
        for number, line in enumerate(text.split("\n"), 1):  # not U+2028 and the like
            if not line.strip():
                continue
            try:
                document = _load(line, f"{name}: line {number}")
            except json.JSONDecodeError as exc:
                problem = exc.msg.removesuffix(" at")  # "Invalid control character at"
                raise InputError(f"{name}: line {number}: not valid JSON ({problem} at "
                                 f"column {exc.colno})") from None
            items += _from_document(document, name, f"line {number}")
    entries = []
    for image, item, where in items:
        if not isinstance(item, dict):
            raise InputError(f"{name}: {where}: a detection must be a JSON object")
        key = image if image is not None else next(
            (item[k] for k in IMAGE_KEYS if item.get(k) is not None), None)
        if key is not None and (isinstance(key, bool) or not isinstance(key, (str, int))):
            raise InputError(f"{name}: {where}: an image is named by a file name or a whole "
                             f"number (image_id); got {json.dumps(key)[:40]}")
        entries.append((key, _detection(item, f"{name}: {where}")))
    return DetectionFile(name, entries)


def _load(text: str, where: str) -> object:
    """``json.loads(text)``, refusing numbers that cannot be written back as JSON or used
    (NaN, Infinity, 1e999, an integer too long), an object giving one key twice (which value
    is meant is unknown) and nesting deeper than :data:`MAX_DEPTH`: InputError naming
    ``where``; JSONDecodeError for text that is not JSON."""
    def number(literal: str) -> int | float:
        try:
            value = float(literal) if any(c in literal for c in ".eEIN") else int(literal)
            if math.isfinite(value):
                return value
        except (ValueError, OverflowError):  # over 4300 digits; an int beyond float's range
            pass
        shown = literal if len(literal) <= 24 else literal[:24] + "..."
        raise InputError(f"{where}: {shown} is not a finite number (detections take finite "
                         "numbers only)")

    def unique_keys(pairs: list[tuple[str, object]]) -> dict:
        document = dict(pairs)
        if len(document) < len(pairs):
            twice = next(key for i, (key, _) in enumerate(pairs)
                         if key in (k for k, _ in pairs[:i]))
            raise InputError(f"{where}: an object gives the key {json.dumps(twice)[:40]} twice "
                             "(which value is meant is unknown)")
        return document

    deep = InputError(f"{where}: nested too deeply (over {MAX_DEPTH} levels of arrays and "
                      "objects)")
    try:
        whole = json.loads(text, parse_float=number, parse_int=number, parse_constant=number,
                           object_pairs_hook=unique_keys)
    except RecursionError:
        raise deep from None
    level = [whole]
    for _ in range(MAX_DEPTH + 1):  # level by level: deeper values break pickle and json.dumps
        level = [child for value in level if isinstance(value, (dict, list))
                 for child in (value.values() if isinstance(value, dict) else value)]
        if not level:
            return whole
    raise deep


def _from_document(document: object, name: str, where: str):
    """(image, detection object, place) from one line: a detection or a per-image document."""
    if isinstance(document, dict) and any(k in document for k in DOCUMENT_KEYS):
        for key in DOCUMENT_KEYS:
            items = document.get(key, [])
            if not isinstance(items, list):
                raise InputError(f"{name}: {where}: \"{key}\" must be a list")
            for index, item in enumerate(items):
                yield document.get("image"), item, f"{where}, {key}[{index}]"
    else:
        yield None, document, where


def _detection(item: dict, where: str) -> Detection:
    key = "bbox" if "bbox" in item else "xyxy" if "xyxy" in item else None
    values = item.get(key) if key else None
    if (not isinstance(values, list) or len(values) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       and math.isfinite(v) for v in values)):
        raise InputError(f"{where}: needs \"bbox\": [x, y, w, h] or \"xyxy\": "
                         "[x1, y1, x2, y2] (4 finite numbers)")
    x, y, a, b = (float(v) for v in values)
    xyxy = (x, y, x + a, y + b) if key == "bbox" else (x, y, a, b)
    if not all(map(math.isfinite, xyxy)):  # x + w past the largest number
        raise InputError(f"{where}: the box {json.dumps(values)} reaches past the largest "
                         "number")
    score = item.get("score")
    label = item.get("label", item.get("category_id"))
    return Detection(xyxy, float(score) if isinstance(score, (int, float)) else None,
                     None if label is None else str(label),
                     {k: v for k, v in item.items() if k != "focus"})


def check_boxes(detections: list[Detection], size: tuple[int, int], where: str) -> None:
    """Raise InputError naming ``where`` for the first box that cannot be scored in an
    image of ``size`` = (width, height)."""
    for detection in detections:
        problem = box_problem(detection.xyxy, size)
        if problem:
            shown = detection.record if detection.record is not None else detection.xyxy
            raise InputError(f"{where}: {problem}: {json.dumps(shown)}")
