"""Image input and output: one internal form, honest decoding, atomic writes.

Inside dofkit an image is float32 RGB, shape (H, W, 3), values in [0, 1]. :class:`Picture` adds
what is needed to write a result back like its source: the alpha channel and the bit depth.
BGR exists only here, where OpenCV encodes and decodes.

Modules: :mod:`.decode` (the decode front door; every failure is one ImageError naming the
file), :mod:`.formats` (which formats are read), :mod:`.integrity` (truncated data refused
before decoding), :mod:`.encode` (encode and write), :mod:`.atomic` (the one way any file is
written: all or nothing, no litter).
"""

from .atomic import AtomicFile, write_bytes_atomic, write_text_atomic
from .decode import (DEFAULT_MAX_PIXELS, STDIO, Picture, decode_image, max_pixels_default,
                     open_image, read_bytes, read_focus_map, read_image)
from .encode import (SIXTEEN_BIT_SUFFIXES, WRITE_SUFFIXES, check_output_path, check_suffix,
                     check_unit_range, encode_image, to_uint, write_image, write_stdout)
from .formats import READ_FORMATS

__all__ = ["AtomicFile", "write_bytes_atomic", "write_text_atomic", "DEFAULT_MAX_PIXELS",
           "STDIO", "Picture", "decode_image", "max_pixels_default", "open_image",
           "read_bytes", "read_focus_map", "read_image", "SIXTEEN_BIT_SUFFIXES",
           "WRITE_SUFFIXES", "check_output_path", "check_suffix", "check_unit_range",
           "encode_image", "to_uint", "write_image", "write_stdout", "READ_FORMATS"]
