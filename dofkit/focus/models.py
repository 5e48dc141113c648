"""Focus networks (imports torch; loaded only by :mod:`.srcnn` and :mod:`dofkit.train`).

Every model maps a batch ``(N, C, H, W)`` whose first three channels are sRGB in [0, 1] to
logits ``(N, out, H, W)`` of the same size, normalising the colours itself (:func:`normalise`).

- :class:`Srcnn`: the paper's network (Dong et al. 2014: conv 9x9 -> 64, conv 1x1 or 5x5 -> 32,
  conv 5x5 -> out, ReLU between), used by the paper replication. It sees 13 px, too little to
  judge flat regions.
- :class:`ContextNet`: the shipped default, a small U-Net that corrects the analytic map's
  logit using colour, the analytic edge evidence and whole-image context.
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
    """Plain SRCNN 9-``middle``-5 (the paper's network) on sRGB (N, 3, H, W) in [0, 1];
    ``out_channels`` 1 for W, 3 for W x I."""

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
        return self.body(normalise(batch))


class ContextNet(nn.Module):
    """Focus net that corrects the analytic map (the shipped default).

    Input (N, 6, H, W): sRGB in [0, 1], then the analytic logit and edge evidence of
    :func:`dofkit.focus.analytic.analytic_evidence`; H and W multiples of :attr:`multiple`.
    Output (N, 1, H, W) logits = ``a * base + b + delta`` with ``base`` the analytic logit
    clipped to +-:attr:`BASE_CLIP`, ``a = 1``, ``b = 0`` and ``delta`` from a zero-initialised
    head: an untrained net gives the analytic logit (clipped).

    ``delta`` comes from a small U-Net: strided 3x3 encoders down to 1/32 scale, a global
    context vector (mean of the deepest features, so a photo sharp everywhere can say so in its
    flat regions), and a decoder of bilinear upsampling + 3x3 convolutions with skips, ending
    at 1/2 scale and upsampled bilinearly. No dilations and no space-to-depth: nothing that
    samples on a lattice, hence no grid or stripe texture in flat regions.
    """

    BASE_CLIP = 12.0
    BASE_SCALE = 6.0  # the base logit enters the features divided by this

    def __init__(self, widths: tuple[int, ...] = (16, 24, 32, 48, 64)):
        super().__init__()
        channels = 6
        self.encoders = nn.ModuleList()
        for width in widths:
            self.encoders.append(nn.Sequential(
                nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)))
            channels = width
        self.context = nn.Sequential(nn.Linear(widths[-1], widths[-1]), nn.ReLU(inplace=True))
        self.lateral = nn.ModuleList(nn.Conv2d(deep, shallow, 1)
                                     for deep, shallow in zip(widths[:0:-1], widths[-2::-1]))
        self.decoders = nn.ModuleList(
            nn.Sequential(nn.Conv2d(shallow, shallow, 3, padding=1), nn.ReLU(inplace=True))
            for shallow in widths[-2::-1])
        self.head = nn.Conv2d(widths[0], 1, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.base_gain = nn.Parameter(torch.ones(1))
        self.base_bias = nn.Parameter(torch.zeros(1))
        self.multiple = 2 ** len(widths)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        height, width = batch.shape[-2:]
        base = batch[:, 3:4].clamp(-self.BASE_CLIP, self.BASE_CLIP)
        x = torch.cat([normalise(batch[:, :3]), base / self.BASE_SCALE, batch[:, 4:6]], dim=1)
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
        x = x + self.context(x.mean(dim=(2, 3)))[:, :, None, None]
        for lateral, decoder, skip in zip(self.lateral, self.decoders, skips[-2::-1]):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = decoder(lateral(x) + skip)
        delta = F.interpolate(self.head(x), size=(height, width), mode="bilinear",
                              align_corners=False)
        return self.base_gain * base + self.base_bias + delta


ARCHITECTURES = {"srcnn": Srcnn, "context-net": ContextNet}


def build(architecture: str, **config) -> nn.Module:
    """A fresh model of a named architecture (:data:`ARCHITECTURES`) with its keyword config."""
    if architecture not in ARCHITECTURES:
        raise KeyError(f"unknown architecture {architecture!r}")
    return ARCHITECTURES[architecture](**config)


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
