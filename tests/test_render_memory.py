"""Memory held by a long-lived Stylizer (a server keeps one): GL textures kept for the size
of the last call only (reused while it repeats, freed when another size comes). Small images
only; the sizes of a large photo are measured by ``benchmarks/stylize_memory.py``."""

from __future__ import annotations

import numpy as np
import pytest

from dofkit.render import Stylizer


def _scene(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(height * width)
    image = rng.random((height, width, 3), dtype=np.float32)
    focus = np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))
    return image, focus


@pytest.mark.gl
def test_textures_are_held_for_the_last_size_only(gl):
    big, small = _scene(64, 96), _scene(32, 40)
    with Stylizer("painterly", "gl") as stylizer:  # painterly: the subject's own passes too
        stylizer(*big)
        assert set(stylizer.held.values()) >= {(96, 64)}
        kept = dict(stylizer._backend._textures)
        stylizer(*big)  # same size: the same textures, none remade (video frames)
        assert stylizer._backend._textures == kept
        assert all(stylizer._backend._textures[name] is texture for name, texture in kept.items())
        stylizer.configure("toon")  # uses fewer textures than painterly
        stylizer(*small)
        held = stylizer.held
        assert held and set(held) <= set(kept) | {"lab_4"}
        # every texture is of the new size (full, half or quarter): none left from the old one
        assert all(size in ((40, 32), (20, 16), (10, 8)) for size in held.values()), held
        stylizer.release()
        assert stylizer.held == {}


def test_cpu_backend_keeps_no_buffers():
    with Stylizer("toon", "cpu") as stylizer:
        stylizer(*_scene(16, 24))
        assert stylizer.held == {}
