"""Showing video frames upright: the display matrix a clip carries (a phone's portrait clip is
stored as landscape frames with a quarter turn to apply; a mirror may be asked too), turned into
the steps FFmpeg's own players apply."""

from __future__ import annotations

import math

import av
import numpy as np
from av.sidedata.sidedata import Type as SideDataType

from ..errors import ImageError


#: The steps that turn a frame (H, W, C) upright, by the names of FFmpeg's filters.
UPRIGHT_STEPS = {
    "clock": lambda rgb: np.rot90(rgb, -1),           # a quarter turn clockwise
    "cclock": lambda rgb: np.rot90(rgb, 1),           # a quarter turn counter-clockwise
    "cclock_flip": lambda rgb: rgb.transpose(1, 0, 2),  # mirrored along the main diagonal
    "clock_flip": lambda rgb: np.rot90(rgb, -1)[::-1],  # ... along the other diagonal
    "hflip": lambda rgb: rgb[:, ::-1],
    "vflip": lambda rgb: rgb[::-1],
}


def upright_steps(matrix: np.ndarray | None, name: str) -> tuple[str, ...]:
    """Steps (:data:`UPRIGHT_STEPS`) that show a frame as its display matrix says (9 int32,
    16.16 fixed point; None = none), decided as FFmpeg's own players decide them: quarter
    turns and mirrors. Any other angle is an ImageError naming ``name``."""
    if matrix is None:
        return ()
    scale_x, scale_y = math.hypot(matrix[0], matrix[3]), math.hypot(matrix[1], matrix[4])
    if not scale_x or not scale_y:
        return ()  # a singular matrix says nothing usable
    # the clockwise turn, in [-0.9, 359.1) degrees
    theta = round(math.degrees(math.atan2(matrix[1] / scale_y, matrix[0] / scale_x)))
    theta -= 360 * math.floor(theta / 360 + 0.9 / 360)
    if abs(theta - 90) < 1:
        return ("cclock_flip",) if matrix[3] > 0 else ("clock",)
    if abs(theta - 180) < 1:
        return tuple(step for step, flip in (("hflip", matrix[0] < 0), ("vflip", matrix[4] < 0))
                     if flip)
    if abs(theta - 270) < 1:
        return ("clock_flip",) if matrix[3] < 0 else ("cclock",)
    if abs(theta) > 1:
        counter_clockwise = (180 - theta) % 360 - 180
        turn = (f"{counter_clockwise:g} degrees counter-clockwise" if counter_clockwise > 0
                else f"{-counter_clockwise:g} degrees clockwise")
        raise ImageError(f"{name}: the video asks to be shown turned by {turn}; only quarter "
                         "turns and mirrors are supported")
    return ("vflip",) if matrix[4] < 0 else ()


def transposes(steps: tuple[str, ...]) -> bool:
    """True when ``steps`` swap a frame's width and height."""
    return any(step in ("clock", "cclock", "cclock_flip", "clock_flip") for step in steps)


def display_matrix(decoded: av.VideoFrame) -> np.ndarray | None:
    """The display matrix a decoded frame carries (9 int32), or None."""
    entry = decoded.side_data.get(SideDataType.DISPLAYMATRIX)
    return None if entry is None else np.frombuffer(bytes(entry), np.int32)
