"""A bounded fuzz run of the decode front door: every mutant decodes to a sane Picture or
raises one ImageError naming the file, never anything else (``benchmarks/fuzz.py`` runs
many more)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dofkit.errors import ImageError
from dofkit.io import decode_image
from dofkit.io.mutants import mutate, seeds

SEEDS = seeds()


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=2000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SEEDS)), st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_mutants_decode_or_fail_with_one_image_error(name, seed, rounds):
    rng = np.random.default_rng(seed)
    data = SEEDS[name]
    for _ in range(rounds):
        data = mutate(data, rng) or b"\x00"
    try:
        picture = decode_image(data, "fuzz.bin", max_pixels=4_000_000)
    except ImageError as exc:
        assert str(exc).startswith("fuzz.bin: ") and "\n" not in str(exc)
        return
    assert picture.rgb.dtype == np.float32 and picture.rgb.ndim == 3
    assert picture.rgb.shape[2] == 3 and np.isfinite(picture.rgb).all()
    assert 0.0 <= picture.rgb.min() and picture.rgb.max() <= 1.0
