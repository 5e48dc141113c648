"""The network focus map: a trained model (:mod:`.models`) that corrects the analytic map.

Pipeline for a photo (H, W, 3): area-downscale to the working size the model was trained at
(long side <= ``work_side``, 640 px, so memory is bounded), compute the analytic logit and
edge evidence there (:func:`.analytic.analytic_evidence`), run the net once on the whole
working copy (edge-padded to the model's size multiple), multiply the logits by the
manifest's ``logit_scale`` (chosen with the checkpoint on the validation sources: a net
trained with cross-entropy hedges where its training data is ambiguous, and the scored maps
reward decisiveness), fill them in from the edges along the photo's regions
(:mod:`.fill`), sigmoid, bilinear upsampling to (H, W). With an untrained (zero)
correction and scale 1 the logits are the analytic map's (clipped to +-12).

Weights are a safetensors file plus a JSON manifest of the same stem (architecture, config,
working size, SHA-256 of the weights, validation per source). They are loaded with strict keys
after checking the hash; anything missing, corrupt or foreign raises
:class:`dofkit.errors.ResourceError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..errors import ResourceError
from ..io.atomic import write_bytes_atomic, write_text_atomic
from ..io.inputs import refuse_irregular
from ..resources import resource_dir
from . import check_threads, manifest_path
from .analytic import analytic_evidence, sigmoid, working_copy
from .fill import fill_from_edges
from .models import ARCHITECTURES, build

DEFAULT_NAME = "focus-net"
#: Channel of :func:`network_inputs` holding the analytic edge strength.
STRENGTH_CHANNEL = 4
#: Working sizes (long side, px) a manifest may give: below, the context net's deepest level
#: (1/32 scale) has under a pixel; above, the network's memory is no longer bounded.
WORK_SIDES = (32, 4096)
#: Largest logit scale a manifest may give: training picks one from 1 to 6; far past that,
#: maps are all but black and white, and float32 logits overflow.
MAX_LOGIT_SCALE = 100.0


def default_weights() -> Path:
    """The shipped weights: ``pretrained/focus-net.safetensors``."""
    return resource_dir("pretrained") / f"{DEFAULT_NAME}.safetensors"


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
    if not path.exists():
        raise ResourceError(f"{path}: weights file not found")
    manifest_file = manifest_path(path)
    for file in (path, manifest_file):  # a FIFO or /dev/zero would be read without end
        refuse_irregular(file, advice=" (weights are a .safetensors file with its .json "
                         "manifest)", error=ResourceError)
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError, RecursionError):  # RecursionError: nested too deeply
        raise ResourceError(f"{manifest_file}: missing or invalid weights manifest") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise ResourceError(f"{manifest_file}: invalid weights manifest ({problem})")
    architecture, config = manifest["architecture"], manifest["config"]
    if sha256(path) != manifest["sha256"]:
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
        state = load_file(str(path))
        model = build(architecture, **config)
        model.load_state_dict(state, strict=True)
    except (SafetensorError, KeyError, RuntimeError, TypeError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResourceError(f"{path}: weights do not fit {architecture} ({first_line})") from None
    if not all(torch.isfinite(tensor).all() for tensor in state.values()):
        raise ResourceError(f"{path}: weights hold NaN or infinite values (corrupt, or saved "
                            "from a training run that diverged)")
    return model.eval(), manifest


def _manifest_problem(manifest: object) -> str | None:
    """What is wrong with the fields of a weights manifest that dofkit uses (type, finite,
    range), as ``"field: problem"``; None when they are all usable."""
    if not isinstance(manifest, dict):
        return "not a JSON object"
    low, high = WORK_SIDES
    fields = (  # name, required, test, what it must be
        ("sha256", True, lambda v: isinstance(v, str), "text (a hex digest)"),
        ("architecture", True, lambda v: isinstance(v, str) and v in ARCHITECTURES,
         f"one of {', '.join(ARCHITECTURES)}"),
        ("config", True, _usable_config, "an object of whole numbers >= 1 or non-empty lists "
         "of them"),
        ("work_side", True, lambda v: _whole(v) and low <= v <= high,
         f"a whole number from {low} to {high}"),
        ("logit_scale", False, lambda v: _number(v) and 0 < v <= MAX_LOGIT_SCALE,
         f"a number above 0 and at most {MAX_LOGIT_SCALE:g}"),
        ("beats_analytic", False, lambda v: isinstance(v, bool), "true or false"))
    for name, required, usable, wanted in fields:
        if name not in manifest:
            if required:
                return f"{name}: missing"
        elif not usable(manifest[name]):
            return f"{name}: must be {wanted}, got {_shown(manifest[name])}"
    return None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _usable_config(config: object) -> bool:
    """An object whose values are sizes (whole numbers >= 1) or non-empty lists of sizes."""
    def size(value):
        return _whole(value) and value >= 1

    return isinstance(config, dict) and all(
        all(map(size, value)) and bool(value) if isinstance(value, list) else size(value)
        for value in config.values())


def _shown(value: object) -> str:
    """A manifest value for a message: its JSON, cut short."""
    try:
        shown = json.dumps(value)
    except RecursionError:  # nested deeper than the encoder goes
        shown = "[[[..." if isinstance(value, list) else "{...}"
    return shown if len(shown) <= 40 else shown[:40] + "..."


def select_device(device: str) -> torch.device:
    """torch device for ``"cpu"`` or ``"cuda"``; ResourceError when CUDA is unavailable."""
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ResourceError("device cuda: no CUDA device available (use device cpu)")
        return torch.device("cuda")
    raise ResourceError(f"device must be cpu or cuda; got {device!r}")


def network_inputs(work: np.ndarray, side: int | None = None) -> np.ndarray:
    """RGB (h, w, 3) at working scale -> the network's float32 (h, w, 6) inputs: the RGB and
    :func:`~dofkit.focus.analytic.analytic_evidence` (``side`` as there)."""
    return np.concatenate([work, analytic_evidence(work, side)], axis=2)


@contextmanager
def torch_threads(count: int | None):
    """Run the block with ``count`` torch intra-op threads (None: leave as is), then restore
    the previous count, so a predictor never changes the process's setting for good."""
    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SrcnnPredictor:
    """Focus maps from the network; made once, called per image or frame.

    Parameters
    ----------
    weights : safetensors file (with its ``.json`` manifest), or None for the shipped ones.
    device : ``"cpu"`` or ``"cuda"``.
    threads : torch intra-op threads while predicting (1 to
        :data:`~dofkit.focus.MAX_THREADS`), or None for torch's setting.
    """

    def __init__(self, weights: str | Path | None = None, device: str = "cpu",
                 threads: int | None = None):
        check_threads(threads)
        self.device = select_device(device)
        self.threads = threads
        path = Path(weights) if weights is not None else default_weights()
        model, self.manifest = load_weights(path)
        self._setup(model, self.manifest["work_side"],
                    float(self.manifest.get("logit_scale", 1.0)))

    @classmethod
    def from_model(cls, model: torch.nn.Module, work_side: int,
                   logit_scale: float = 1.0) -> "SrcnnPredictor":
        """A predictor around an in-memory model (training-time validation)."""
        predictor = cls.__new__(cls)
        predictor.device = next(model.parameters()).device
        predictor.threads = None
        predictor.manifest = {}
        predictor._setup(model, work_side, logit_scale)
        return predictor

    def _setup(self, model: torch.nn.Module, work_side: int, logit_scale: float) -> None:
        self.model = model.to(self.device, memory_format=torch.channels_last)
        self.work_side = work_side
        self.logit_scale = logit_scale

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Map float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1], 1 = in focus."""
        inputs = network_inputs(working_copy(image, self.work_side))
        return to_map(self.logit_scale * self.logits(inputs), inputs[..., :3],
                      inputs[..., STRENGTH_CHANNEL], image.shape[:2])

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        """Raw network logits of the inputs (h, w, 6) of :func:`network_inputs` -> float32
        (h, w), before the logit scale and the filling from edges."""
        height, width = inputs.shape[:2]
        inputs = _pad_to_multiple(inputs, self.model.multiple)
        batch = torch.from_numpy(np.ascontiguousarray(inputs.transpose(2, 0, 1)))[None]
        batch = batch.to(self.device).contiguous(memory_format=torch.channels_last)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode(), torch_threads(self.threads):
                out = self.model(batch)[0, 0, :height, :width]
        finally:
            self.model.train(was_training)
        return out.float().cpu().numpy()


def to_map(logits: np.ndarray, work: np.ndarray, strength: np.ndarray,
           shape: tuple[int, int]) -> np.ndarray:
    """Scaled working-scale logits (h, w), the working-scale photo (h, w, 3) and its edge
    strength (h, w) -> focus map (H, W) = ``shape`` in [0, 1]: filled in from the edges along
    the photo's regions (:func:`~.fill.fill_from_edges`), sigmoid, then bilinear resizing."""
    probability = sigmoid(fill_from_edges(work, logits, strength))
    if probability.shape != tuple(shape):
        probability = cv2.resize(probability, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(probability, 0.0, 1.0)


def _pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Edge-pad (h, w, C) at the bottom/right so both sides are multiples of ``multiple``."""
    pad_y, pad_x = -image.shape[0] % multiple, -image.shape[1] % multiple
    if pad_y or pad_x:
        image = np.pad(image, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
    return image
