"""What a consumer returns for one image: pictures to write (by role) and a JSON record."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Rendered:
    """One picture to write: ``values`` float32 (H, W, 3) RGB or (H, W) grey in [0, 1],
    written with ``depth`` 8 or 16 bits and the optional ``alpha`` (H, W) in [0, 1]."""

    values: np.ndarray
    depth: int = 8
    alpha: np.ndarray | None = None


@dataclass(frozen=True)
class Result:
    """A consumer's answer for one image.

    ``images`` maps a role to its picture: ``"map"`` (focus map or its view), ``"styled"``,
    ``"overlay"``, ``"crop0"``, ``"crop1"``, ... ``record`` is JSON-ready (the boxes of
    ``roi``, the kept and dropped detections of ``detect``) or None.
    """

    images: dict[str, Rendered] = field(default_factory=dict)
    record: dict | None = None
