"""Seed files and byte-level mutations for fuzzing the decode front door (tests and
``benchmarks/fuzz.py``)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .encode import encode_image


def seeds() -> dict[str, bytes]:
    """Small valid files of every format and layout dofkit reads, by name."""
    rng = np.random.default_rng(0)
    rgb = rng.random((24, 32, 3)).astype(np.float32)
    grey = rng.random((24, 32)).astype(np.float32)
    files = {f"rgb{suffix}": encode_image(rgb, suffix) for suffix in
             (".png", ".jpg", ".tif", ".bmp", ".webp")}
    files["rgb16.png"] = encode_image(rgb, ".png", depth=16)
    files["rgb16.tif"] = encode_image(rgb, ".tif", depth=16)
    files["grey.png"] = encode_image(grey, ".png")
    files["rgba.png"] = encode_image(rgb, ".png", alpha=grey)
    pixels = (rgb * 255).astype(np.uint8)
    for name, fmt, options in (("palette.png", "PNG", {}), ("prog.jpg", "JPEG",
                                                            {"progressive": True}),
                               ("lzw.tif", "TIFF", {"compression": "tiff_lzw"}),
                               ("deflate.tif", "TIFF", {"compression": "tiff_adobe_deflate"}),
                               ("interlaced.png", "PNG", {"interlace": 1})):
        image = Image.fromarray(pixels)
        if name.startswith("palette"):
            image = image.quantize(16)
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        files[name] = buffer.getvalue()
    return files


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random mutant of ``data``: flipped bytes, a truncation, a spliced or repeated
    block, or an overwritten header field."""
    if len(data) < 2:
        return bytes(data) + bytes([int(rng.integers(256))])
    data = bytearray(data)
    kind = rng.integers(5)
    if kind == 0:
        for _ in range(rng.integers(1, 9)):
            data[rng.integers(len(data))] = rng.integers(256)
    elif kind == 1:
        data = data[:rng.integers(1, len(data))]
    elif kind == 2:
        start = rng.integers(len(data))
        block = data[start:start + rng.integers(1, 64)]
        at = rng.integers(len(data))
        data[at:at] = block * int(rng.integers(1, 4))
    elif kind == 3:
        at = rng.integers(min(len(data), 200))
        value = rng.choice([0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
        data[at:at + 4] = int(value).to_bytes(4, "little" if rng.integers(2) else "big")
    else:
        start = rng.integers(len(data))
        del data[start:start + rng.integers(1, 64)]
    return bytes(data)
