"""The one adapter between the server and the library: bytes in, encoded image or the CLI's
JSON record out. Made once per process; every method runs on the worker thread, so the model
and the GL context are made once and used from one thread."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .. import io
from ..focus import FocusEstimator
from ..focus.analytic import WORK_SIDE
from .cache import MapCache
from .settings import Settings
from .timing import Timer


@dataclass(frozen=True)
class Upload:
    """An uploaded image: its bytes and the name used in messages and records."""

    data: bytes
    name: str = "-"
    digest: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "digest", hashlib.sha256(self.data).hexdigest())


class Engine:
    """Focus estimators (one per method), the Stylizer and detectors, made on first use and
    kept; maps cached by content hash."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cache = MapCache(int(settings.cache_mb * 2**20))
        self._estimators: dict[str, FocusEstimator] = {}
        self._detectors: dict[str, object] = {}
        self._stylizer = None

    def warm(self) -> None:
        """Make the default model and the GL context and run both once (compiling every GL
        program) on an image of the maps' working size, so the first request is not slow and
        the memory the network needs for any image is taken at start, not under load."""
        image = np.random.default_rng(0).random((WORK_SIDE, WORK_SIDE, 3), dtype=np.float32)
        stylizer = self.stylizer()
        stylizer(image, self.estimator("auto")(image))
        stylizer.release()

    def info(self) -> dict:
        """What this process runs: the method ``auto`` resolved to and the stylise backend."""
        return {"method": self.estimator("auto").method, "backend": self.stylizer().backend}

    def estimator(self, method: str) -> FocusEstimator:
        """The FocusEstimator of ``method``, made once."""
        if method not in self._estimators:
            s = self.settings
            self._estimators[method] = FocusEstimator(method, device=s.device, threads=s.threads,
                                                      weights=s.weights)
        return self._estimators[method]

    def stylizer(self):
        """The process's Stylizer (GL context and programs), made once."""
        if self._stylizer is None:
            from ..render import Stylizer

            self._stylizer = Stylizer(backend=self.settings.backend)
        return self._stylizer

    def detector(self, name: str):
        """The built-in detector ``name``, made once."""
        if name not in self._detectors:
            from ..detect import make_detector

            self._detectors[name] = make_detector(name)
        return self._detectors[name]

    def focus(self, upload: Upload, method: str, timer: Timer) -> tuple[io.Picture, np.ndarray]:
        """Decode ``upload`` and get its map: from the cache, else computed and cached."""
        with timer("decode"):
            picture = io.decode_image(upload.data, upload.name,
                                      max_pixels=self.settings.max_pixels)
        estimator = self.estimator(method)
        key = (upload.digest, estimator.method)
        focus = self.cache.get(key)
        if focus is not None:
            timer.notes["map"] = "cached"
            with timer("map"):
                pass
            return picture, focus
        with timer("map"):
            focus = estimator(picture.rgb)
        self.cache.put(key, focus)
        return picture, focus

    def map_view(self, upload: Upload, method: str, view: str, depth: int, suffix: str,
                 timer: Timer) -> bytes:
        """The map as ``dofkit map`` writes it: ``view`` grey, rainbow or overlay."""
        from ..view import overlay, rainbow

        picture, focus = self.focus(upload, method, timer)
        with timer("view"):
            shown = {"grey": lambda: focus, "rainbow": lambda: rainbow(focus),
                     "overlay": lambda: overlay(picture.rgb, focus)}[view]()
        with timer("encode"):
            return io.encode_image(shown, suffix, depth=depth if view == "grey" else 8)

    def stylize(self, upload: Upload, method: str, style: str, params: dict, suffix: str,
                timer: Timer) -> bytes:
        """The image as ``dofkit stylize`` writes it (alpha kept where the format holds it)."""
        picture, focus = self.focus(upload, method, timer)
        stylizer = self.stylizer()
        stylizer.configure(style, **params)
        with timer("stylize"):
            try:
                styled = stylizer(picture.rgb, focus)
            finally:
                stylizer.release()  # image-sized textures: memory follows the request
        with timer("encode"):
            return io.encode_image(styled, suffix, alpha=picture.alpha)

    def roi(self, upload: Upload, method: str, options: dict, suffix: str | None,
            timer: Timer) -> dict | bytes:
        """``dofkit roi --json``'s record, or (with ``suffix``) its ``--overlay`` picture."""
        from ..cli.focus_input import parse_threshold
        from ..roi import aspect_crop, find_rois, parse_aspect
        from ..roi.draw import YELLOW, draw_boxes

        picture, focus = self.focus(upload, method, timer)
        level = parse_threshold(options["threshold"])
        with timer("roi"):
            if options["aspect"] is not None:
                crop = aspect_crop(focus, parse_aspect(options["aspect"]),
                                   fraction=options["fraction"], threshold=level)
                rois = [crop] if crop else []
            else:
                rois = find_rois(focus, level, min_area=options["min_area"], pad=options["pad"],
                                 max_rois=options["max"], merge=options["merge"])
        if suffix is None:
            width, height = picture.size
            return {"image": upload.name, "width": width, "height": height,
                    "rois": [roi.to_json() for roi in rois]}
        with timer("encode"):
            drawn = draw_boxes(picture.rgb, [roi.xyxy for roi in rois],
                               [f"{i} {roi.score:.2f}" for i, roi in enumerate(rois)],
                               [YELLOW] * len(rois))
            return io.encode_image(drawn, suffix)

    def detect(self, upload: Upload, method: str, options: dict, suffix: str | None,
               timer: Timer) -> dict | bytes:
        """``dofkit detect --json``'s record, or (with ``suffix``) its ``--overlay`` picture."""
        from ..detect import detect_on_rois, gate_detections, saliency_map
        from ..roi import find_rois
        from ..roi.draw import GREEN, RED, draw_boxes

        picture, focus = self.focus(upload, method, timer)
        detector = self.detector(options["detector"])
        with timer("detect"):
            if options["on_rois"]:
                pad = 0.15 if options["pad"] is None else options["pad"]
                found = detect_on_rois(detector, picture.rgb, find_rois(focus), pad=pad)
            else:
                found = list(detector(picture.rgb))
            saliency = saliency_map(picture.rgb) if options["saliency"] else None
            result = gate_detections(found, focus, options["gate"], options["threshold"],
                                     saliency=saliency)
        if suffix is None:
            return {"image": upload.name, "kept": [g.to_json() for g in result.kept],
                    "dropped": [g.to_json() for g in result.dropped]}
        with timer("encode"):
            marked = [(g, GREEN) for g in result.kept] + [(g, RED) for g in result.dropped]
            drawn = draw_boxes(
                picture.rgb, [tuple(round(v) for v in g.detection.xyxy) for g, _ in marked],
                [f"{g.detection.label or ''} {g.focus.score:.2f}".strip() for g, _ in marked],
                [colour for _, colour in marked])
            return io.encode_image(drawn, suffix)

    def close(self) -> None:
        """Free the GL context (call on the worker thread)."""
        if self._stylizer is not None:
            self._stylizer.close()
            self._stylizer = None
