"""Detectors that run offline from what dofkit installs: OpenCV's HOG people detector, and
Haar/LBP cascades where their XML files can be found."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError, ParameterError, ResourceError
from ..io import to_uint
from ..io.inputs import TEXT_MAX_BYTES, read_input, refuse_irregular
from ..roi.boxes import clip_box
from .base import Detection, Detector

#: File names tried, in order, for ``--detector face``.
FACE_CASCADES = ("haarcascade_frontalface_default.xml", "lbpcascade_frontalface_improved.xml",
                 "lbpcascade_frontalface.xml", "lbpcascade_frontalface_opencv.xml")
DETECTOR_NAMES = ("hog", "face", "haar:PATH")


class HogPeopleDetector:
    """OpenCV's HOG + linear SVM pedestrian detector (Dalal & Triggs), compiled into OpenCV.

    Finds upright people at least 64x128 px. ``stride`` is the window step in pixels and
    ``scale`` the pyramid step; detections are grouped by OpenCV and clipped to the image.
    """

    label = "person"
    min_size = (64, 128)

    def __init__(self, stride: int = 8, scale: float = 1.05):
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._stride, self._scale = stride, scale

    def __call__(self, image: np.ndarray) -> list[Detection]:
        """Float32 RGB (H, W, 3) in [0, 1] -> people, score = SVM margin."""
        height, width = image.shape[:2]
        if width < self.min_size[0] or height < self.min_size[1]:
            return []
        rects, weights = self._hog.detectMultiScale(
            to_uint(image), winStride=(self._stride, self._stride), padding=(8, 8),
            scale=self._scale)
        return _detections(rects, np.ravel(weights), self.label, (width, height))


class CascadeDetector:
    """An OpenCV Haar or LBP cascade (e.g. frontal faces) loaded from its XML file."""

    def __init__(self, path: str | Path, label: str | None = None, scale_factor: float = 1.1,
                 min_neighbors: int = 5):
        self._cascade = load_cascade(path)
        self.label = label or cascade_label(path)
        self.min_size = tuple(int(v) for v in self._cascade.getOriginalWindowSize())
        self._scale_factor, self._min_neighbors = scale_factor, min_neighbors

    def __call__(self, image: np.ndarray) -> list[Detection]:
        """Float32 RGB (H, W, 3) in [0, 1] -> objects, score = the last stage's weight."""
        grey = cv2.cvtColor(to_uint(image), cv2.COLOR_RGB2GRAY)
        rects, _, weights = self._cascade.detectMultiScale3(
            grey, scaleFactor=self._scale_factor, minNeighbors=self._min_neighbors,
            outputRejectLevels=True)
        return _detections(rects, np.ravel(weights), self.label, grey.shape[::-1])


def _detections(rects, scores, label: str, size: tuple[int, int]) -> list[Detection]:
    found = []
    for (x, y, w, h), score in zip(np.reshape(rects, (-1, 4)).tolist(), scores.tolist()):
        x1, y1, x2, y2 = clip_box((x, y, x + w, y + h), size)
        found.append(Detection((float(x1), float(y1), float(x2), float(y2)), float(score), label))
    return found


def load_cascade(path: str | Path) -> cv2.CascadeClassifier:
    """A CascadeClassifier from an XML file (a regular file, at most the size of a
    ``--detections`` file); ResourceError naming the file if unusable.

    scikit-image's copy of OpenCV's LBP face cascade misspells one element
    (``featuhreParams``), which OpenCV refuses; it is read with the name mended."""
    refuse_irregular(path, what="the cascade", error=ResourceError)
    try:
        data = read_input(path, TEXT_MAX_BYTES, what="the cascade")
    except InputError as exc:
        raise ResourceError(str(exc)) from None
    text = data.decode("utf-8", errors="replace").replace("featuhreParams", "featureParams")
    cascade = cv2.CascadeClassifier()
    try:
        storage = cv2.FileStorage(text, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
        loaded = storage.isOpened() and cascade.read(storage.getFirstTopLevelNode())
    except (cv2.error, SystemError):  # OpenCV's parse errors surface as either
        loaded = False
    if not loaded or cascade.empty():
        raise ResourceError(f"{path}: not an OpenCV cascade file")
    return cascade


def cascade_label(path: str | Path) -> str:
    """``haarcascade_frontalface_default.xml`` -> ``frontalface_default``."""
    stem = Path(path).stem
    for prefix in ("haarcascade_", "lbpcascade_"):
        stem = stem.removeprefix(prefix)
    return stem


def cascade_folders() -> list[Path]:
    """Where cascade XML files are looked for: the OpenCV wheel's cv2.data (empty in the 5.x
    wheels), Debian's opencv-data package, and scikit-image's data folder when installed."""
    folders = [Path(getattr(getattr(cv2, "data", None), "haarcascades", "") or "/nonexistent")]
    for root in ("/usr/share/opencv4", "/usr/share/opencv"):
        folders += [Path(root) / "haarcascades", Path(root) / "lbpcascades"]
    skimage = importlib.util.find_spec("skimage")
    if skimage is not None and skimage.origin:
        folders.append(Path(skimage.origin).parent / "data")
    return folders


def find_cascade(*names: str) -> Path:
    """The first of ``names`` found in :func:`cascade_folders`; ResourceError listing where
    it looked."""
    folders = cascade_folders()
    for name in names:
        for folder in folders:
            if (folder / name).is_file():
                return folder / name
    raise ResourceError(
        f"no cascade file {' or '.join(names)}: looked in "
        f"{', '.join(str(f) for f in folders if str(f) != '/nonexistent')}; install Debian's "
        "opencv-data or scikit-image, or give haar:PATH")


def make_detector(name: str) -> Detector:
    """A built-in detector from its CLI name: ``hog``, ``face``, or ``haar:PATH`` (a file, or
    a bare file name looked up like ``face``'s)."""
    if name == "hog":
        return HogPeopleDetector()
    if name == "face":
        return CascadeDetector(find_cascade(*FACE_CASCADES), label="face")
    if name.startswith("haar:") and len(name) > 5:
        path = Path(name[5:])
        if not path.exists() and path.name == str(path):
            path = find_cascade(path.name)
        return CascadeDetector(path)
    raise ParameterError(f"detector must be one of {', '.join(DETECTOR_NAMES)}; got {name!r}")
