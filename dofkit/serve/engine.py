"""The one adapter between the server and the library: an upload and a consumer of
:mod:`dofkit.pipeline` (the same steps every CLI command runs) in, encoded picture or the CLI's
JSON record out. Made once per process; its methods run on the worker thread, so the network
and the GL context are made once and used from one thread."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .. import io
from ..focus import FocusEstimator
from ..focus.analytic import WORK_SIDE
from ..pipeline import StylizeStep
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
    """Focus estimators (one per method) and the stylise step (its GL context), made on first
    use and kept; maps cached by content hash and method. Detectors are made per request:
    OpenCV's cascade keeps buffers the size of the largest image it has seen (gigabytes after
    one large photo), and making one takes milliseconds."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cache = MapCache(int(settings.cache_mb * 2**20))
        self._estimators: dict[str, FocusEstimator] = {}
        self._stylize = StylizeStep(backend=settings.backend)

    def warm(self) -> None:
        """Make the default network and the GL context and run both once (compiling every
        GL program) on an image of the maps' working size, so the first request is not slow
        and the memory the network needs for any image is taken at start, not under load."""
        image = np.random.default_rng(0).random((WORK_SIDE, WORK_SIDE, 3), dtype=np.float32)
        self._stylize(io.Picture(image, None, 8, "warm-up"), self.estimator("auto")(image))
        self._stylize.stylizer.release()

    def info(self) -> dict:
        """What this process runs: the method ``auto`` resolved to and the stylise backend."""
        return {"method": self.estimator("auto").method,
                "backend": self._stylize.stylizer.backend}

    def estimator(self, method: str) -> FocusEstimator:
        """The FocusEstimator of ``method``, made once."""
        if method not in self._estimators:
            s = self.settings
            self._estimators[method] = FocusEstimator(method, device=s.device, threads=s.threads,
                                                      weights=s.weights)
        return self._estimators[method]

    def focus(self, upload: Upload, method: str, timer: Timer) -> tuple[io.Picture, np.ndarray]:
        """Decode ``upload`` and get its map: from the cache, else computed and cached."""
        with timer("decode"):
            picture = io.decode_image(upload.data, upload.name,
                                      max_pixels=self.settings.max_pixels)
        estimator = self.estimator(method)
        key = (upload.digest, estimator.method)
        focus = self.cache.get(key)
        if focus is None:
            with timer("focus"):
                focus = estimator(picture.rgb)
            self.cache.put(key, focus)
        else:
            timer.steps["focus"], timer.notes["focus"] = 0.0, "cached"
        return picture, focus

    def consume(self, upload: Upload, method: str, step, role: str, suffix: str | None,
                timer: Timer) -> dict | bytes:
        """Run the pipeline consumer ``step`` on the upload and its map: with ``suffix`` the
        picture of ``role`` encoded as such a file, else ``{"image": name, **record}`` (the
        JSON Lines record of the CLI)."""
        picture, focus = self.focus(upload, method, timer)
        with timer(type(step).__name__.removesuffix("Step").lower()):
            result = step(picture, focus)
        if suffix is None:
            return {"image": upload.name, **result.record}
        rendered = result.images[role]
        with timer("encode"):
            return io.encode_image(rendered.values, suffix, depth=rendered.depth,
                                   alpha=rendered.alpha)

    def stylize(self, upload: Upload, method: str, style: str, overrides: dict, suffix: str,
                timer: Timer) -> bytes:
        """The image as ``dofkit stylize --style STYLE --set ...`` writes it."""
        stylizer = self._stylize.stylizer
        stylizer.configure(style, **overrides)
        try:
            return self.consume(upload, method, self._stylize, "styled", suffix, timer)
        finally:
            stylizer.release()  # image-sized textures: memory follows the request

    def detect(self, upload: Upload, method: str, name: str, options: dict,
               suffix: str | None, timer: Timer) -> dict | bytes:
        """``dofkit detect --json``'s record (or its overlay) with built-in detector ``name``
        and the other :class:`~dofkit.pipeline.DetectStep` ``options``."""
        from ..pipeline import DetectStep

        step = DetectStep(name, overlay=suffix is not None, single=True,
                          **options)
        return self.consume(upload, method, step, "overlay", suffix, timer)

    def close(self) -> None:
        """Free the GL context (call on the worker thread)."""
        self._stylize.close()
