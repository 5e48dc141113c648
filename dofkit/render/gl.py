"""GL backend: a headless EGL context, the programs of ``shaders/`` compiled once, and named
textures and framebuffers made on first use and reused across frames (remade only when a
texture's size, channels or storage change).

Programs are ``shaders/<name>.glsl`` files holding both stages, switched by
``#if defined VERTEX_SHADER`` / ``FRAGMENT_SHADER``; ``#include "file"`` lines are replaced by
that file (relative to ``shaders/``). Loop lengths and switches (:data:`CONSTANTS`) are
``#define``s, not uniforms: llvmpipe runs fixed-length loops about twice as fast, so each
program is compiled once per set of them, on first use, and kept. Every draw is one
full-screen triangle. Storage: 8-bit uploads (``uint8`` arrays) and the 8-bit final image,
half floats (``"f2"``) in between.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import ImageError, ResourceError
from ..resources import resource_dir
from .cpu_backend import PROGRAMS, check_fill
from .regions import Rect

#: GL internal formats of the sRGB textures: 3 and 4 channels (GL_SRGB8, GL_SRGB8_ALPHA8).
_SRGB_FORMATS = {3: 0x8C41, 4: 0x8C43}
_FRAMEBUFFER_SRGB = 0x8DB9
_INCLUDE = re.compile(r'^#include\s+"([^"]+)"\s*$', re.MULTILINE)
#: Settings passed as compile-time constants: keyword of the pass -> GLSL macro.
CONSTANTS = {"taps": "TAPS", "axis": "AXIS", "scale": "SCALE", "flow_taps": "FLOW_TAPS",
             "lines": "LINES", "coherent": "COHERENT"}


def shader_source(path: Path, stage: str, defines: dict[str, int] | None = None) -> str:
    """Source of one stage (``VERTEX_SHADER``/``FRAGMENT_SHADER``) of the program at ``path``,
    includes expanded (nesting works), ``defines`` (macro -> int) added after ``#version``."""
    root = path.parent

    def expand(text: str) -> str:
        return _INCLUDE.sub(lambda m: expand((root / m.group(1)).read_text()), text)

    version, _, body = expand(path.read_text()).partition("\n")
    lines = [f"#define {macro} {int(value)}" for macro, value in (defines or {}).items()]
    return "\n".join([version, f"#define {stage}", *lines, body])


def create_context(device: int | None = None):
    """A standalone EGL context (OpenGL >= 3.3), or ResourceError saying why there is none."""
    try:
        import moderngl
    except ImportError as exc:  # pragma: no cover - moderngl is a dependency
        raise ResourceError(f"GL backend unavailable: moderngl not installed ({exc})") from None
    options = {} if device is None else {"device_index": device}
    try:
        ctx = moderngl.create_context(standalone=True, backend="egl", require=330, **options)
    except Exception as exc:  # moderngl raises bare Exception for a missing driver
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResourceError(f"no OpenGL context available via EGL ({reason})") from None
    ctx.pack_alignment = ctx.unpack_alignment = 1
    return ctx


def set_uniform(shader, name: str, value) -> None:
    """Set uniform ``name`` of ``shader``: scalars and vectors by value, arrays (float32,
    (length,) or (length, components)) checked against the declared length and type first.
    Names the program does not use are skipped (the compiler drops unused uniforms)."""
    if name not in shader:
        return
    uniform = shader[name]
    if isinstance(value, np.ndarray):
        expected = (uniform.array_length,) + ((uniform.dimension,) if uniform.dimension > 1 else ())
        if value.shape != expected:
            raise ValueError(f"uniform {name!r}: array of shape {value.shape}; the program "
                             f"declares {expected}")
        uniform.write(np.ascontiguousarray(value, np.float32))
    else:
        if uniform.array_length != 1:
            raise ValueError(f"uniform {name!r} is an array of {uniform.array_length}; pass a "
                             "numpy array")
        uniform.value = value


class GlBackend:
    """Runs the passes as GLSL programs on named textures (same interface as
    :class:`~.cpu_backend.CpuBackend`). Make once; textures follow the image size: those of
    one size are held (:attr:`held`) and reused for every frame of that size, freed when a
    frame of another size begins (:meth:`begin`) or on :meth:`release`."""

    name = "gl"
    culls = True  # a pass drawn over some tiles (``regions``) costs only those

    def __init__(self, device: int | None = None):
        import moderngl

        self._moderngl = moderngl
        self.ctx = create_context(device)
        self.max_size = self.ctx.info["GL_MAX_TEXTURE_SIZE"]
        self._textures: dict[str, object] = {}
        self._kinds: dict[str, tuple] = {}  # texture name -> (size, components, dtype)
        self._framebuffers: dict[str, object] = {}
        self._programs: dict[tuple, tuple] = {}  # (name, constants) -> (program, triangle)
        self._folder = resource_dir("shaders")
        # Bound before a framebuffer is released: Mesa reports GL_INVALID_OPERATION for the
        # next framebuffer made after the bound one is deleted.
        with self.ctx:
            self._parking = self.ctx.framebuffer([self.ctx.texture((1, 1), 4, dtype="f1")])
            self.ctx.enable_direct(_FRAMEBUFFER_SRGB)  # encode on writes to sRGB targets

    def _program(self, name: str, constants: dict[str, int]):
        """(program, its full-screen triangle) of ``name`` built with ``constants``, compiled
        on first use and kept; ResourceError if it fails to build."""
        key = (name, tuple(sorted(constants.items())))
        if key not in self._programs:
            path = self._folder / f"{name}.glsl"
            defines = {CONSTANTS[k]: v for k, v in constants.items()}
            try:
                program = self.ctx.program(
                    vertex_shader=shader_source(path, "VERTEX_SHADER", defines),
                    fragment_shader=shader_source(path, "FRAGMENT_SHADER", defines))
            except (OSError, self._moderngl.Error) as exc:
                raise ResourceError(f"shader {name} failed to build: {exc}") from None
            self._programs[key] = (program, self.ctx.vertex_array(program, []))
        return self._programs[key]

    def _texture(self, name: str, size: tuple[int, int], components: int, dtype: str):
        """Texture ``name`` of that size, channels and storage, reused when it matches (its
        framebuffer dropped when it is remade)."""
        if max(size) > self.max_size:
            raise ImageError(f"image {size[0]}x{size[1]} exceeds the GL texture limit "
                             f"{self.max_size} px per side; use the cpu backend")
        texture = self._textures.get(name)
        if texture is not None and self._kinds[name] == (size, components, dtype):
            return texture
        if texture is not None:
            if name in self._framebuffers:
                self._parking.use()
                self._framebuffers.pop(name).release()
            texture.release()
        if dtype == "srgb":
            texture = self.ctx.texture(size, components, dtype="f1",
                                       internal_format=_SRGB_FORMATS[components])
        else:
            texture = self.ctx.texture(size, components, dtype=dtype)
        self._kinds[name] = (size, components, dtype)
        texture.filter = (self._moderngl.LINEAR, self._moderngl.LINEAR)  # for bilinear()
        texture.repeat_x = texture.repeat_y = False  # clamp to edge
        self._textures[name] = texture
        return texture

    # Public methods make this context current (``with self.ctx``, which must not nest): several
    # contexts may live in one process, e.g. one per Stylizer.

    def begin(self, shape: tuple[int, int]) -> None:
        """Start a frame of ``shape`` (H, W): the textures of another size are freed first (so
        they are held for one size only, the last, and a new size does not add to them); those
        of the same size are kept for reuse."""
        size = self.size
        if size is not None and size != (shape[1], shape[0]):
            self.release()

    def load(self, name: str, values: np.ndarray, *, srgb: bool = False) -> None:
        """Upload (H, W) or (H, W, C) ``values`` into texture ``name``: uint8 as 8-bit
        normalised (read as [0, 1]; with ``srgb``, sRGB bytes read as linear RGB), anything
        else as float32."""
        height, width = values.shape[:2]
        dtype = ("srgb" if srgb else "f1") if values.dtype == np.uint8 else "f4"
        with self.ctx:
            texture = self._texture(name, (width, height),
                                    1 if values.ndim == 2 else values.shape[2], dtype)
            texture.write(np.ascontiguousarray(values, np.float32 if dtype == "f4" else np.uint8))

    def run(self, program: str, target: str, sources: dict[str, str], *,
            size: tuple[int, int] | None = None, dtype: str = "f2", components: int = 4,
            regions: list[Rect] | None = None, fill: tuple[float, ...] | None = None,
            **uniforms) -> None:
        """Draw ``program`` into texture ``target`` (``components`` channels of ``dtype``:
        ``"f1"`` 8-bit, ``"srgb"`` 8-bit sRGB-encoded on write, ``"f2"`` half float; ``size``
        (width, height), default that of the first source), reading
        textures ``sources`` (sampler name -> texture name), with ``uniforms`` set by name.
        With ``regions`` (rectangles, :mod:`.regions`) only they are drawn; the rest of the
        target is set to ``fill`` (RGBA as stored; not for ``"srgb"`` targets), or with
        ``fill`` None keeps what it holds."""
        if target in sources.values():
            raise ValueError(f"{program}: target {target!r} is also a source")
        if program not in PROGRAMS:
            raise ValueError(f"unknown program {program!r}")
        check_fill(fill, dtype)
        constants = {k: uniforms.pop(k) for k in list(uniforms) if k in CONSTANTS}
        with self.ctx:
            shader, triangle = self._program(program, constants)
            for unit, (sampler, texture) in enumerate(sources.items()):
                self._textures[texture].use(location=unit)
                set_uniform(shader, sampler, unit)  # a sampler the compiler dropped is skipped
            for name, value in uniforms.items():
                set_uniform(shader, name, value)
            size = size or self._textures[next(iter(sources.values()))].size
            self._texture(target, size, components, dtype)
            if target not in self._framebuffers:
                self._framebuffers[target] = self.ctx.framebuffer(
                    color_attachments=[self._textures[target]])
            framebuffer = self._framebuffers[target]
            framebuffer.use()
            if fill is not None:
                framebuffer.clear(color=fill)
            try:
                for rect in [None] if regions is None else regions:
                    framebuffer.scissor = rect
                    triangle.render(self._moderngl.TRIANGLES, vertices=3)
            finally:
                framebuffer.scissor = None

    def read(self, name: str) -> np.ndarray:
        """Texture ``name`` as stored: uint8 (8-bit) or float32 (H, W, C)."""
        texture = self._textures[name]
        width, height = texture.size
        kind = {"f1": np.uint8, "f2": np.float16, "f4": np.float32}[texture.dtype]  # srgb: f1
        with self.ctx:
            data = np.frombuffer(texture.read(), kind)
        data = data.reshape(height, width, texture.components)
        return data if kind is np.uint8 else data.astype(np.float32)

    def _release(self) -> None:
        self._parking.use()
        for item in (*self._framebuffers.values(), *self._textures.values()):
            item.release()
        self._framebuffers.clear()
        self._textures.clear()
        self._kinds.clear()

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the image the textures are for (that of ``lab``), None when
        none is held."""
        lab = self._textures.get("lab")
        return None if lab is None else lab.size

    @property
    def held(self) -> dict[str, tuple[int, int]]:
        """Texture name -> (width, height) of the textures held (each has at most one
        framebuffer)."""
        return {name: texture.size for name, texture in self._textures.items()}

    def release(self) -> None:
        """Free all textures and framebuffers (programs and context stay)."""
        with self.ctx:
            self._release()

    def close(self) -> None:
        """Free everything, the context included (safe to call twice)."""
        if self.ctx is None:
            return
        with self.ctx:
            self._release()
            for program, triangle in self._programs.values():
                triangle.release()
                program.release()
            for attachment in self._parking.color_attachments:
                attachment.release()
            self._parking.release()
        self._programs = {}
        self.ctx.release()
        self.ctx = None
