"""Tiles a pass can be limited to. A software renderer (llvmpipe) evaluates both sides of a
shader branch, so a pass that has nothing to do where focus is low still costs its full price
there unless it is not drawn: the pipeline draws such passes only over the tiles that need
them (as scissor rectangles) and fills the rest with the value the pass would have written.
"""

from __future__ import annotations

import numpy as np

#: Side in px of a tile.
TILE = 32

Rect = tuple[int, int, int, int]  # (x, y, width, height) in px; y counts rows from the top


def tiles_where(mask: np.ndarray, tile: int = TILE) -> np.ndarray:
    """bool (H, W) -> bool (ceil(H / tile), ceil(W / tile)): the tiles holding a True."""
    height, width = mask.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.zeros((rows * tile, cols * tile), bool)
    padded[:height, :width] = mask
    return padded.reshape(rows, tile, cols, tile).any(axis=(1, 3))


def tile_rects(tiles: np.ndarray, shape: tuple[int, int], tile: int = TILE) -> list[Rect]:
    """Rectangles covering exactly the True tiles of ``tiles`` (from :func:`tiles_where`) of
    an image of ``shape`` (H, W), clipped to it: the runs of each tile row, a run merged with
    the one just above when they span the same columns."""
    height, width = shape
    rects: list[list[int]] = []
    above: dict[tuple[int, int], list[int]] = {}
    for row, line in enumerate(tiles):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], line.astype(np.int8), [0]])))
        current = {}
        for start, stop in zip(edges[::2], edges[1::2]):
            span = (int(start), int(stop))
            rect = above.get(span)
            if rect is not None:
                rect[3] += 1
            else:
                rect = [span[0], row, span[1] - span[0], 1]
                rects.append(rect)
            current[span] = rect
        above = current
    return [(x * tile, y * tile, min(w * tile, width - x * tile), min(h * tile, height - y * tile))
            for x, y, w, h in rects]


def region_mask(shape: tuple[int, int], rects: list[Rect]) -> np.ndarray:
    """bool (H, W): True inside any of ``rects``."""
    inside = np.zeros(shape, bool)
    for x, y, width, height in rects:
        inside[y:y + height, x:x + width] = True
    return inside
