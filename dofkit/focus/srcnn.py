"""The network focus map: a trained SRCNN-family model (:mod:`.models`) run with torch.

Pipeline for a photo (H, W, 3): area-downscale to the working size the model was trained at
(long side <= ``work_side``, 640 px), run the net (in tiles with enough overlap to be exact,
so memory stays bounded), sigmoid, bilinear upsampling to (H, W) and a guided filter driven by
the full-resolution photo that snaps the map to object boundaries.

Weights are a safetensors file plus a JSON manifest of the same stem (architecture, config,
working size, SHA-256 of the weights). They are loaded with strict keys after checking the
hash; anything missing, corrupt or foreign raises :class:`dofkit.errors.ResourceError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..errors import ResourceError
from ..io.atomic import write_bytes_atomic, write_text_atomic
from ..resources import resource_dir
from .models import build, normalise

DEFAULT_NAME = "focus-net"
GUIDE_RADIUS_FRACTION = 0.008   # guided-filter radius, fraction of the output's long side
GUIDE_EPS = 1e-3
DEFAULT_TILE = 768              # px at working scale


def default_weights() -> Path:
    """The shipped weights: ``pretrained/focus-net.safetensors``."""
    return resource_dir("pretrained") / f"{DEFAULT_NAME}.safetensors"


def manifest_path(weights: Path) -> Path:
    """The JSON manifest that goes with a weights file (same stem, ``.json``)."""
    return weights.with_suffix(".json")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_weights(model: torch.nn.Module, path: Path, architecture: str, config: dict,
                 work_side: int, **extra) -> str:
    """Write ``model``'s weights as safetensors and its manifest; return the SHA-256."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    data = save(state, metadata={"architecture": architecture})
    digest = hashlib.sha256(data).hexdigest()
    write_bytes_atomic(path, data)
    manifest = {"architecture": architecture, "config": config, "work_side": work_side,
                "sha256": digest, **extra}
    write_text_atomic(manifest_path(path), json.dumps(manifest, indent=2) + "\n")
    return digest


def load_weights(path: Path) -> tuple[torch.nn.Module, dict]:
    """(model in eval mode, manifest) from a weights file; ResourceError if unusable."""
    manifest_file = manifest_path(path)
    if not path.is_file():
        raise ResourceError(f"{path}: weights file not found")
    try:
        manifest = json.loads(manifest_file.read_text())
        expected = manifest["sha256"]
        architecture, config = manifest["architecture"], manifest["config"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ResourceError(f"{manifest_file}: missing or invalid weights manifest") from None
    if sha256(path) != expected:
        raise ResourceError(f"{path}: SHA-256 differs from {manifest_file.name} "
                            "(corrupt or replaced weights)")
    try:
        with torch.device("meta"):  # sized from the manifest without allocating: a manifest
            sized = sum(p.numel() for p in build(architecture, **config).parameters())
        with safe_open(str(path), "pt") as stored:  # asking for 4000 channels is refused here
            held = sum(math.prod(stored.get_slice(k).get_shape()) for k in stored.keys())
        if sized != held:
            raise ValueError(f"the manifest asks for {sized:,} parameters, the file holds "
                             f"{held:,}")
        model = build(architecture, **config)
        model.load_state_dict(load_file(str(path)), strict=True)
    except (SafetensorError, KeyError, RuntimeError, TypeError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResourceError(f"{path}: weights do not fit {architecture} ({first_line})") from None
    return model.eval(), manifest


def select_device(device: str) -> torch.device:
    """torch device for ``"cpu"`` or ``"cuda"``; ResourceError when CUDA is unavailable."""
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ResourceError("--device cuda: no CUDA device available (use --device cpu)")
        return torch.device("cuda")
    raise ResourceError(f"--device must be cpu or cuda; got {device!r}")


class SrcnnPredictor:
    """Focus maps from the network; made once, called per image or frame.

    Parameters
    ----------
    weights : safetensors file (with its ``.json`` manifest), or None for the shipped ones.
    device : ``"cpu"`` or ``"cuda"``.
    threads : torch intra-op threads, or None for torch's default.
    tile : largest tile side in working-scale px (memory bound); tiles overlap by the
        model's receptive margin, so the result equals the untiled one.
    """

    def __init__(self, weights: str | Path | None = None, device: str = "cpu",
                 threads: int | None = None, tile: int = DEFAULT_TILE):
        self.device = select_device(device)
        if threads is not None:
            torch.set_num_threads(threads)
        path = Path(weights) if weights is not None else default_weights()
        model, self.manifest = load_weights(path)
        self._setup(model, int(self.manifest["work_side"]), tile)

    @classmethod
    def from_model(cls, model: torch.nn.Module, work_side: int,
                   tile: int = DEFAULT_TILE) -> "SrcnnPredictor":
        """A predictor around an in-memory model (training-time validation)."""
        predictor = cls.__new__(cls)
        predictor.device = next(model.parameters()).device
        predictor.manifest = {}
        predictor._setup(model, work_side, tile)
        return predictor

    def _setup(self, model: torch.nn.Module, work_side: int, tile: int) -> None:
        self.model = model.to(self.device, memory_format=torch.channels_last)
        self.work_side = work_side
        self.tile = max(tile, model.multiple)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Map float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1], 1 = in focus."""
        height, width = image.shape[:2]
        scale = min(1.0, self.work_side / max(height, width))
        work = image
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            work = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        probability = self.probability(work)
        if probability.shape != (height, width):
            probability = cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)
        return self.refine(image, probability)

    def probability(self, work: np.ndarray) -> np.ndarray:
        """Raw network map of a working-scale photo (h, w, 3) -> float32 (h, w) in [0, 1]:
        sigmoid of the logits times the manifest's ``logit_scale`` (1 if absent)."""
        scale = float(self.manifest.get("logit_scale", 1.0))
        logits = np.clip(scale * self.logits(work), -50.0, 50.0)
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def logits(self, work: np.ndarray) -> np.ndarray:
        """Network logits of (h, w, 3), computed tile by tile -> float32 (h, w)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                return self._tiled(work)
        finally:
            self.model.train(was_training)

    def _tiled(self, work: np.ndarray) -> np.ndarray:
        height, width = work.shape[:2]
        multiple = self.model.multiple
        margin = -(-self.model.margin // multiple) * multiple
        padded = _pad_to_multiple(work, multiple)
        out = np.empty(padded.shape[:2], np.float32)
        step = max(multiple, self.tile // multiple * multiple)
        for top in range(0, padded.shape[0], step):
            for left in range(0, padded.shape[1], step):
                y0, x0 = max(0, top - margin), max(0, left - margin)
                y1 = min(padded.shape[0], top + step + margin)
                x1 = min(padded.shape[1], left + step + margin)
                result = self._run(padded[y0:y1, x0:x1])
                bottom, right = min(top + step, padded.shape[0]), min(left + step, padded.shape[1])
                out[top:bottom, left:right] = result[top - y0:bottom - y0, left - x0:right - x0]
        return out[:height, :width]

    def _run(self, crop: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))[None]
        batch = normalise(batch.to(self.device)).contiguous(memory_format=torch.channels_last)
        return self.model(batch)[0, 0].float().cpu().numpy()

    @staticmethod
    def refine(image: np.ndarray, probability: np.ndarray) -> np.ndarray:
        """Edge-aware refinement: guided filter of the map driven by the photo's luma."""
        radius = max(1, round(max(image.shape[:2]) * GUIDE_RADIUS_FRACTION))
        guide = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        refined = cv2.ximgproc.guidedFilter(guide, probability, radius, GUIDE_EPS)
        return np.clip(refined, 0.0, 1.0).astype(np.float32)


def _pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Edge-pad (h, w, 3) at the bottom/right so both sides are multiples of ``multiple``."""
    pad_y, pad_x = -image.shape[0] % multiple, -image.shape[1] % multiple
    if pad_y or pad_x:
        image = np.pad(image, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
    return image
