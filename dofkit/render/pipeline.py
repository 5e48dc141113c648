"""The stylisation passes in order, written once for both backends (GL and CPU).

One smoothed structure tensor of the input steers everything: the orientation-aligned
bilateral abstraction, the flow-based DoG lines and the smoothing of the toon steps along
the flow. The background is abstracted on a reduced-resolution copy and composited with the
full-resolution subject by focus.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .regions import tile_rects, tiles_where
from .sampling import half_kernels, paired_taps

#: Sigma in px of the blur of the structure tensor.
TENSOR_SIGMA = 2.0
#: Reduction of the copy the structure tensor is computed on (it is smooth: half the
#: resolution loses nothing visible and costs a quarter).
FLOW_SCALE = 2
#: Ratio of the wide to the narrow Gaussian of the DoG (Marr-Hildreth's 1.6).
EDGE_RATIO = 1.6
#: Smallest bilateral sigma, in reduced-resolution px, the background copy may be given:
#: below 2 px the filter's shapes are drawn with a handful of texels and come out square
#: (round lights turn into rounded squares).
MIN_BACKGROUND_SIGMA = 2.0
#: Range sigma of the joint bilateral upsampling of the background, in units of
#: ``range_sigma``: it snaps the coarse background to outlines several times stronger than what
#: the abstraction smooths over (round lights), not back to the detail it removed.
UPSAMPLE_RANGE = 4.0
#: Spatial sigma, in background texels, of the joint bilateral upsampling: an isotropic
#: Gaussian (a bilinear tent's square footprint squares round lights).
UPSAMPLE_SIGMA = 0.6
#: Step in px of the walk along the edge flow that smooths the lines (the DoG it reads is
#: already smooth across edges; 2 px halves the taps of a 1 px walk).
LINE_STEP = 2.0

#: Motion in px per frame at which the weight of the moved previous stylised frame falls to
#: a half (``1 / (1 + (motion / STEADY_MOTION)^2)``). The optical flow of a moving subject is
#: off by a fraction of a px, so its moved last frame, blended in frame after frame, blurs it
#: (with the full weight, a third of its detail was left at 1 to 6 px per frame); a static
#: shot, where flicker shows, keeps the full weight (its flow is well under 0.5 px).
STEADY_MOTION = 0.5
#: What flow_dog and flow_lines write where no line can show (a DoG of 1: no ink).
NO_LINE = (1.0, 0.0, 0.0, 1.0)

COMPOSE_UNIFORMS = ("levels", "toon_sharpness", "flow_smoothing", "saturation", "desaturate",
                    "fade", "edge_sharpness", "edge_strength", "background_edges",
                    "line_coherence")


#: Rows converted at a time by the per-pixel conversions on the CPU (:func:`to_bytes`,
#: :func:`packed_lab`): their temporaries (a float32 copy is 12 bytes per pixel of RGB) are
#: then the size of a band, not of the image. Per pixel, so the result is the same.
BAND_ROWS = 256


def _bands(height: int):
    """Row slices of at most :data:`BAND_ROWS` covering ``height`` rows."""
    return (slice(top, top + BAND_ROWS) for top in range(0, height, BAND_ROWS))


def to_bytes(values: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] (any shape) -> uint8, rounded (values outside clipped); (H, W) and
    (H, W, C) arrays by bands of rows."""
    if values.ndim not in (2, 3) or len(values) <= BAND_ROWS:
        return cv2.convertScaleAbs(np.maximum(values, 0.0), alpha=255.0)  # cv2.max breaks 1x1
    out = np.empty(values.shape, np.uint8)
    for rows in _bands(len(values)):
        out[rows] = to_bytes(values[rows])
    return out


def packed_lab(image: np.ndarray, focus: np.ndarray) -> np.ndarray:
    """sRGB image (H, W, 3) and focus (H, W), float32 in [0, 1] -> the packed buffer every
    pass starts from, uint8 (H, W, 4): OpenCV's 8-bit CIELab (L * 255 / 100, a + 128,
    b + 128; the sRGB curve decoded) and focus. Made here once for both backends: OpenCV's
    vectorised conversion costs a fraction of a GL pass on a software renderer. Made by bands
    of rows, straight into the packed buffer (no image-sized temporaries)."""
    lab = np.empty((*focus.shape, 4), np.uint8)
    for rows in _bands(len(focus)):
        lab[rows, :, :3] = cv2.cvtColor(to_bytes(image[rows]), cv2.COLOR_RGB2Lab)
        lab[rows, :, 3] = to_bytes(focus[rows])
    return lab


def background_scale(radius: float) -> int:
    """Reduction (1, 2 or 4) of the background copy: the largest that leaves its bilateral
    sigma ``radius / scale`` at least :data:`MIN_BACKGROUND_SIGMA`."""
    scale = 1
    while scale < 4 and radius / (2 * scale) >= MIN_BACKGROUND_SIGMA:
        scale *= 2
    return scale


@dataclass(frozen=True)
class Prepared:
    """What the passes start from, made on the CPU (:func:`prepare`; no backend needed, so it
    may be made on another thread): the style ``params`` it was made with, the packed Lab
    buffer uint8 (H, W, 4) of the feathered focus, and the tiles (:mod:`.regions`) where
    lines can show and where toon steps can be steep, bool (ceil(H / TILE), ceil(W / TILE))."""

    params: dict
    lab: np.ndarray
    line_tiles: np.ndarray
    stair_tiles: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the image."""
        return self.lab.shape[:2]


def prepare(image: np.ndarray, focus: np.ndarray, params: dict) -> Prepared:
    """The CPU part of the pipeline: image float32 (H, W, 3) and focus (H, W), both in
    [0, 1] -> :class:`Prepared`."""
    if params["feather"] > 0:
        focus = cv2.GaussianBlur(focus, (0, 0), params["feather"], borderType=cv2.BORDER_REPLICATE)
    lab = packed_lab(image, focus)
    focus_bytes = lab[..., 3]
    line_tiles = tiles_where(focus_bytes > 0 if params["background_edges"] <= 0
                             else np.ones(focus_bytes.shape, bool))
    stair_tiles = tiles_where(focus_bytes > _stairs_free_focus(params["toon_sharpness"]))
    return Prepared(dict(params), lab, line_tiles, stair_tiles)


def render(backend, image: np.ndarray, focus: np.ndarray, params: dict, *,
           previous: np.ndarray | None = None, motion: np.ndarray | None = None,
           coherence: float = 0.0) -> np.ndarray:
    """Run the passes on ``backend``: image float32 (H, W, 3) and focus (H, W), both in
    [0, 1] -> stylised uint8 RGB (H, W, 3); :func:`prepare` then :func:`draw`."""
    return draw(backend, prepare(image, focus, params), previous=previous, motion=motion,
                coherence=coherence)


def draw(backend, prepared: Prepared, *, previous: np.ndarray | None = None,
         motion: np.ndarray | None = None, coherence: float = 0.0) -> np.ndarray:
    """The passes on ``backend`` from what :func:`prepare` made (with its parameters) ->
    stylised uint8 RGB (H, W, 3). With ``coherence`` > 0, ``previous`` (the last stylised
    frame, (H, W, 3), uint8 or float32 in [0, 1]) is moved by ``motion`` (float32 (h, w, 3)
    on a grid covering the frame: (dx, dy) in px to where each point was, and the confidence
    in [0, 1]) and blended in with weight ``coherence * confidence``, less where the motion
    is fast (:data:`STEADY_MOTION`). Textures of another size than the last frame's are
    freed first (``backend.begin``)."""
    params = prepared.params
    backend.begin(prepared.shape)
    backend.load("lab", prepared.lab)
    shrunk = Shrunk(backend, prepared.shape)
    backend.run("tensor", "gradients", {"source": shrunk(FLOW_SCALE)}, unit=1 / FLOW_SCALE)
    sigma = TENSOR_SIGMA / FLOW_SCALE
    blur = dict(taps=math.ceil(2 * sigma), kernel=half_kernels(math.ceil(2 * sigma), sigma)[:, 0])
    backend.run("smooth", "half_flow", {"source": "gradients"}, direction=(1, 0), **blur)
    backend.run("smooth", "tensor", {"source": "half_flow"}, direction=(0, 1), **blur)
    backend.run("orient", "flow", {"source": "tensor"}, dtype="f1",
                toon_gradient=float(params["toon_gradient"]))
    abstracted = abstract(backend, shrunk, params)
    edges = abstracted  # not read by compose when no line is drawn
    if params["edge_strength"] > 0 or params["background_edges"] > 0:
        edges = "edges"
        draw_lines(backend, abstracted, edges, prepared)
    sources = {"abstracted": abstracted, "edges": edges, "flow": "flow"}
    if coherence > 0 and previous is not None and motion is not None:
        backend.load("previous", previous if previous.dtype == np.uint8 else to_bytes(previous),
                     srgb=True)
        backend.load("motion", np.ascontiguousarray(motion[..., :3], np.float32))
        sources.update(previous="previous", motion="motion")
    else:
        coherence = 0.0
    compose(backend, sources, coherence, prepared)
    return cv2.cvtColor(backend.read("styled"), cv2.COLOR_RGBA2RGB)


def compose(backend, sources: dict[str, str], coherence: float, prepared: Prepared) -> None:
    """The last pass into ``styled`` (sRGB), in up to four variants, each compiled with only
    what its tiles need (the same pixels as one full pass, at less cost): the lines where
    they can show (``prepared.line_tiles``, when the style draws any) and the smoothing of
    the toon steps along the flow where the steps can be steep (``prepared.stair_tiles``)."""
    params = prepared.params
    uniforms = dict(dtype="srgb", coherence=float(coherence), steady_motion=STEADY_MOTION,
                    **{name: float(params[name]) for name in COMPOSE_UNIFORMS})
    flow_taps = math.ceil(2 * params["flow_smoothing"]) if params["levels"] > 0 else 0
    drawn = params["edge_strength"] > 0 or params["background_edges"] > 0
    lines, stairs = ((prepared.line_tiles & drawn, prepared.stair_tiles & (flow_taps > 0))
                     if backend.culls else (np.array(drawn), np.array(flow_taps > 0)))
    variants = 2 * lines + stairs  # 0-3: (lines, stairs) of each tile
    present = np.unique(variants)
    for variant in present:
        limits = ({} if len(present) == 1
                  else dict(regions=tile_rects(variants == variant, prepared.shape)))
        backend.run("compose", "styled", sources, lines=int(variant >= 2),
                    flow_taps=flow_taps if variant % 2 else 0, coherent=int(coherence > 0),
                    **uniforms, **limits)


def _stairs_free_focus(toon_sharpness: float) -> int:
    """Highest focus byte (0-255) at which compose's toon steps are never steep enough to be
    smoothed along the flow, less one for safety (-1 if there is none): compose smooths where
    ``toon_sharpness * mix(0.25, 1, steepness) * mix(0.25, 1, focus) > 1``, with the
    steepness (8-bit orientation texture) at most 1."""
    return max(-1, math.floor(255 * (1 / toon_sharpness - 0.25) / 0.75) - 1)


class Shrunk:
    """Reduced copies of the packed Lab buffer ``lab`` (8-bit), made on first request per
    scale and shared by the passes of one frame."""

    def __init__(self, backend, shape: tuple[int, int]):
        self._backend, self._shape, self._made = backend, shape, {1: "lab"}

    def __call__(self, scale: int) -> str:
        """Name of the copy reduced ``scale`` times (1, 2 or 4)."""
        if scale not in self._made:
            height, width = self._shape
            self._made[scale] = f"lab_{scale}"
            self._backend.run("shrink", self._made[scale], {"source": "lab"}, scale=scale,
                              size=(-(-width // scale), -(-height // scale)), dtype="f1")
        return self._made[scale]


def abstract(backend, shrunk: Shrunk, params: dict) -> str:
    """Orientation-aligned bilateral rounds: ``iterations`` on the background (sigma
    ``radius``) on a copy reduced by :func:`background_scale`, skipping where focus = 1; one
    on the subject (sigma ``subject_radius``) at full resolution, skipping where focus = 0;
    then their composite by focus. Returns the name of the abstracted packed-Lab buffer."""
    rounds = params["iterations"]
    if rounds == 0 or params["radius"] == params["subject_radius"] == 0:
        return "lab"
    scale = background_scale(params["radius"])
    far = _bilateral_rounds(backend, shrunk(scale), "far", params["radius"] / scale, rounds,
                            params["background_range"], focus_range=(-1.0, 0.999))
    near = _bilateral_rounds(backend, "lab", "near", params["subject_radius"], 1,
                             params["range_sigma"], focus_range=(0.001, 2.0))
    backend.run("merge", "abstracted", {"subject": near, "background": far}, dtype="f1",
                range_sigma=UPSAMPLE_RANGE * float(params["range_sigma"]),
                upsample_sigma=UPSAMPLE_SIGMA)
    return "abstracted"


def _bilateral_rounds(backend, source: str, prefix: str, sigma: float, rounds: int,
                      range_sigma: float, focus_range: tuple[float, float]) -> str:
    """``rounds`` x (across, along) bilateral passes of ``source`` with spatial ``sigma`` px
    and colour tolerance ``range_sigma`` (Lab units) where focus lies in ``focus_range``;
    returns the result's buffer name (``source`` if sigma 0)."""
    if sigma <= 0:
        return source
    pairs = paired_taps(math.ceil(2 * sigma), sigma)
    settings = dict(taps=len(pairs), pairs=pairs, range_sigma=float(range_sigma),
                    focus_range=focus_range)
    for _ in range(rounds):
        backend.run("bilateral", f"{prefix}_across", {"source": source, "flow": "flow"},
                    axis=0, dtype="f1", **settings)
        backend.run("bilateral", f"{prefix}_along", {"source": f"{prefix}_across",
                                                      "flow": "flow"}, axis=1, dtype="f1",
                    **settings)
        source = f"{prefix}_along"
    return source


def draw_lines(backend, source: str, target: str, prepared: Prepared) -> None:
    """Flow-based DoG of the lightness of buffer ``source`` into ``target`` (one half-float
    channel): the two blurs across edges and their difference, then its smoothing along the
    edge flow over ``flow_sigma`` px. Both passes are drawn only over the tiles where lines
    can show (``prepared.line_tiles``: without lines in the background, where the focus is
    above 0); elsewhere they hold :data:`NO_LINE`, which flow_dog writes where the line
    opacity is 0 (the focus byte reaches this pass unchanged) and flow_lines copies."""
    params = prepared.params
    edge_sigma, flow_sigma = params["edge_sigma"], params["flow_sigma"]
    limits = {}
    if backend.culls and not prepared.line_tiles.all():
        limits = dict(regions=tile_rects(prepared.line_tiles, prepared.shape), fill=NO_LINE)
    dog_taps = math.ceil(2.5 * EDGE_RATIO * edge_sigma)
    backend.run("flow_dog", "dog", {"source": source, "flow": "flow"}, taps=dog_taps,
                kernel=half_kernels(dog_taps, edge_sigma, EDGE_RATIO * edge_sigma),
                opacity=(float(params["background_edges"]), float(params["edge_strength"])),
                edge_tau=float(params["edge_tau"]), edge_threshold=float(params["edge_threshold"]),
                line_coherence=float(params["line_coherence"]), components=1, **limits)
    line_taps = math.ceil(2 * flow_sigma / LINE_STEP)
    backend.run("flow_lines", target, {"source": "dog", "flow": "flow"}, taps=line_taps,
                components=1, step_length=LINE_STEP,
                kernel=half_kernels(line_taps, max(flow_sigma / LINE_STEP, 1e-3))[:, 0],
                **limits)
