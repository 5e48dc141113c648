"""The SRCNN family of focus networks (imports torch; loaded only by :mod:`.srcnn` and
:mod:`dofkit.train`).

Every model maps a normalised RGB batch ``(N, 3, H, W)`` (see :func:`normalise`) to logits
``(N, C, H, W)`` of the same size (``C = 1`` for a focus map); zero padding only, so a tile that
carries :attr:`margin` pixels of real context on each side computes its centre exactly as the
whole image would.

- :class:`Srcnn`: the paper's network (Dong et al. 2014: conv 9x9 -> 64, conv 1x1 or 5x5 -> 32,
  conv 5x5 -> out, ReLU between). It sees 13 px, too little to judge flat regions.
- :class:`DilatedSrcnn`: the shipped default. The same kind of small convolutions, run on a
  2x2 space-to-depth copy (full-resolution detail, half-resolution cost), widened by a stack of
  dilated 3x3 layers (a pyramid of receptive fields, ~250 px) whose outputs are fused by a
  1x1 head; logits are upsampled back to the input size. Optionally fed, beside the colours,
  the local edge-blur evidence of the analytic method (:class:`EdgeBlurEvidence`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

#: Mean and spread used by :func:`normalise` (sRGB values in [0, 1]).
RGB_MEAN = 0.45
RGB_SCALE = 0.25


def normalise(batch: torch.Tensor) -> torch.Tensor:
    """sRGB (N, 3, H, W) in [0, 1] -> zero-centred network input of the same shape."""
    return (batch - RGB_MEAN) / RGB_SCALE


class Srcnn(nn.Module):
    """Plain SRCNN 9-``middle``-5 (the paper's network); ``out_channels`` 1 for W, 3 for W x I."""

    def __init__(self, out_channels: int = 1, middle: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 9, padding=4), nn.ReLU(inplace=True),
            nn.Conv2d(64, 32, middle, padding=middle // 2), nn.ReLU(inplace=True),
            nn.Conv2d(32, out_channels, 5, padding=2),
        )
        self.margin = 4 + middle // 2 + 2
        self.multiple = 1

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.body(batch)


class EdgeBlurEvidence(nn.Module):
    """The analytic method's local blur evidence as two extra input channels (fixed, no
    weights): at gradient peaks, the re-blur gradient ratio gives the edge's blur sigma
    (see :func:`dofkit.focus.analytic.edge_blur`).

    Normalised RGB (N, 3, H, W) -> (N, 2, H, W): edge strength ``c`` in [0, 1) at peaks (else
    0), and ``c * (log sigma - log 1.1)`` (negative = sharper than 1.1 px). Receptive radius
    :attr:`margin` px.
    """

    EDGE_SCALE = 0.03   # gradient per unit intensity at which c = 0.5
    SHARP_LOG_SIGMA = 0.0953  # log(1.1 px)
    margin = 7

    def __init__(self):
        super().__init__()
        scharr = torch.tensor([[-3.0, 0.0, 3.0], [-10.0, 0.0, 10.0], [-3.0, 0.0, 3.0]]) / 32
        kernels = torch.stack([scharr, scharr.T])[:, None].repeat(3, 1, 1, 1)  # (6, 1, 3, 3)
        taps = torch.exp(-torch.arange(-3.0, 4.0) ** 2 / 2)
        self.register_buffer("gradient", kernels, persistent=False)
        self.register_buffer("blur", (taps / taps.sum())[None, None, None].repeat(3, 1, 1, 1),
                             persistent=False)

    def magnitude(self, rgb: torch.Tensor) -> torch.Tensor:
        g = F.conv2d(F.pad(rgb, (1, 1, 1, 1), mode="replicate"), self.gradient, groups=3)
        return g.unflatten(1, (3, 2)).pow(2).sum(2).sqrt().amax(1, keepdim=True)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        rgb = batch * RGB_SCALE + RGB_MEAN
        blurred = F.conv2d(F.pad(rgb, (3, 3, 0, 0), mode="replicate"), self.blur, groups=3)
        blurred = F.conv2d(F.pad(blurred, (0, 0, 3, 3), mode="replicate"),
                           self.blur.transpose(2, 3), groups=3)
        before, after = self.magnitude(rgb), self.magnitude(blurred)
        ratio = before / after.clamp_min(1e-6)
        log_sigma = (-0.5 * torch.log((ratio * ratio - 1.0).clamp_min(1e-6))).clamp(-3.0, 2.08)
        peak = before >= F.max_pool2d(before, 3, stride=1, padding=1)
        strength = before / (before + self.EDGE_SCALE) * peak
        return torch.cat([strength, strength * (log_sigma - self.SHARP_LOG_SIGMA)], dim=1)


class DilatedSrcnn(nn.Module):
    """SRCNN-style focus net with a 2x2 space-to-depth stem and dilated 3x3 layers.

    Input height and width must be even (:attr:`multiple`). With ``edge_evidence`` the colours
    are joined by :class:`EdgeBlurEvidence`.
    """

    def __init__(self, width: int = 32, dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 1),
                 edge_evidence: bool = False):
        super().__init__()
        self.evidence = EdgeBlurEvidence() if edge_evidence else None
        channels = 3 + 2 * edge_evidence
        self.stem = nn.Sequential(nn.PixelUnshuffle(2),
                                  nn.Conv2d(4 * channels, width, 3, padding=1),
                                  nn.ReLU(inplace=True))
        self.layers = nn.ModuleList(
            nn.Conv2d(width, width, 3, padding=d, dilation=d) for d in dilations)
        self.head = nn.Conv2d(width * 2, 1, 1)
        # receptive radius in half-resolution px: stem 1 + sum of dilations; x2 for full
        # resolution, +2 for the space-to-depth cell and bilinear upsampling.
        self.margin = 2 * (1 + sum(dilations)) + 2 + EdgeBlurEvidence.margin * edge_evidence
        self.multiple = 2

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        height, width = batch.shape[-2:]
        if self.evidence is not None:
            batch = torch.cat([batch, self.evidence(batch)], dim=1)
        features = self.stem(batch)
        local = features
        for layer in self.layers:
            features = F.relu(layer(features)) + features
        logits = self.head(torch.cat([local, features], dim=1))
        return F.interpolate(logits, size=(height, width), mode="bilinear", align_corners=False)


ARCHITECTURES = {"srcnn": Srcnn, "dilated-srcnn": DilatedSrcnn}


def build(architecture: str, **config) -> nn.Module:
    """A fresh model of a named architecture (:data:`ARCHITECTURES`) with its keyword config."""
    if architecture not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {architecture!r}")
    return ARCHITECTURES[architecture](**config)


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
