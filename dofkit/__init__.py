"""dofkit: find the in-focus (depth-of-field) region of a photo and put it to work.

Conventions: an image is float32 RGB (H, W, 3) in [0, 1]; a focus map is float32 (H, W) in
[0, 1], same size, 1 = in focus. Importing dofkit does not import torch.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import DofkitError, ImageError, ParameterError, ResourceError

# Imported on first use, so that `import dofkit` (and the command's start, which a Ctrl-C may
# interrupt: see __main__) loads no numpy, OpenCV or torch.
_LAZY = {"FocusEstimator": "dofkit.focus", "focus_map": "dofkit.focus",
         "open_image": "dofkit.io", "read_image": "dofkit.io", "write_image": "dofkit.io",
         "stylize": "dofkit.render", "Stylizer": "dofkit.render", "find_rois": "dofkit.roi",
         "gate_detections": "dofkit.detect", "Detection": "dofkit.detect"}

__all__ = ["__version__", "DofkitError", "ImageError", "ParameterError", "ResourceError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dofkit' has no attribute {name!r}")
