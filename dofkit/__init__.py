"""dofkit: find the in-focus (depth-of-field) region of a photo and put it to work.

Conventions: an image is float32 RGB (H, W, 3) in [0, 1]; a focus map is float32 (H, W) in
[0, 1], same size, 1 = in focus. Importing dofkit does not import torch.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import DofkitError, ImageError, ParameterError, ResourceError
from .focus import FocusEstimator, focus_map
from .io import open_image, read_image, write_image

# Consumers are imported on first use, so `import dofkit` stays light.
_LAZY = {"stylize": "dofkit.render", "Stylizer": "dofkit.render", "find_rois": "dofkit.roi",
         "gate_detections": "dofkit.detect", "Detection": "dofkit.detect"}

__all__ = ["__version__", "DofkitError", "ImageError", "ParameterError", "ResourceError",
           "FocusEstimator", "focus_map", "open_image", "read_image", "write_image", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dofkit' has no attribute {name!r}")
