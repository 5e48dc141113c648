"""GL backend: a headless EGL context, the programs of ``shaders/`` compiled once, and float
textures sized to the image, reused across frames of the same size.

Programs are ``shaders/<name>.glsl`` files holding both stages, switched by
``#if defined VERTEX_SHADER`` / ``FRAGMENT_SHADER``; ``#include "file"`` lines are replaced by
that file (relative to ``shaders/``). Every draw is one full-screen triangle.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import ImageError, ResourceError
from ..resources import resource_dir
from .cpu import PROGRAMS

_INCLUDE = re.compile(r'^#include\s+"([^"]+)"\s*$', re.MULTILINE)


def shader_source(path: Path, stage: str) -> str:
    """Source of one stage (``VERTEX_SHADER``/``FRAGMENT_SHADER``) of the program at ``path``,
    includes expanded (one level deep is all the shaders use, but nesting works)."""
    root = path.parent

    def expand(text: str) -> str:
        return _INCLUDE.sub(lambda m: expand((root / m.group(1)).read_text()), text)

    version, _, body = expand(path.read_text()).partition("\n")
    return f"{version}\n#define {stage}\n{body}"


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


class GlBackend:
    """Runs the passes as GLSL programs on named float textures (same interface as
    :class:`~.cpu.CpuBackend`). Make once; textures follow the image size."""

    name = "gl"

    def __init__(self, device: int | None = None):
        import moderngl

        self._moderngl = moderngl
        self.ctx = create_context(device)
        self.max_size = self.ctx.info["GL_MAX_TEXTURE_SIZE"]
        self._textures: dict[str, object] = {}
        self._framebuffers: dict[str, object] = {}
        self._size: tuple[int, int] | None = None
        self._programs, self._triangles = {}, {}
        try:
            with self.ctx:
                self._build(resource_dir("shaders"))
        except (OSError, moderngl.Error) as exc:
            self.close()
            raise ResourceError(f"shaders failed to build: {exc}") from None

    def _build(self, folder: Path) -> None:
        for name in PROGRAMS:
            path = folder / f"{name}.glsl"
            self._programs[name] = self.ctx.program(
                vertex_shader=shader_source(path, "VERTEX_SHADER"),
                fragment_shader=shader_source(path, "FRAGMENT_SHADER"))
            self._triangles[name] = self.ctx.vertex_array(self._programs[name], [])

    def _fit(self, width: int, height: int) -> None:
        """Release all textures when the image size changes; refuse sizes GL cannot hold."""
        if max(width, height) > self.max_size:
            raise ImageError(f"image {width}x{height} exceeds the GL texture limit "
                             f"{self.max_size} px per side; use --backend cpu")
        if self._size != (width, height):
            self._release()
            self._size = (width, height)

    def _texture(self, name: str, components: int):
        """Texture ``name`` (float32, image-sized, ``components`` channels), made on demand."""
        texture = self._textures.get(name)
        if texture is None or texture.components != components:
            if texture is not None:
                texture.release()
                if name in self._framebuffers:
                    self._framebuffers.pop(name).release()
            texture = self.ctx.texture(self._size, components, dtype="f4")
            texture.filter = (self._moderngl.LINEAR, self._moderngl.LINEAR)  # for bilinear()
            texture.repeat_x = texture.repeat_y = False  # clamp to edge
            self._textures[name] = texture
        return texture

    def _framebuffer(self, name: str):
        if name not in self._framebuffers:
            texture = self._texture(name, 4)
            self._framebuffers[name] = self.ctx.framebuffer(color_attachments=[texture])
        return self._framebuffers[name]

    # Public methods make this context current (``with self.ctx``, which must not nest): several
    # contexts may live in one process, e.g. one per Stylizer.

    def load(self, name: str, values: np.ndarray) -> None:
        """Upload float32 (H, W) or (H, W, C) ``values`` into texture ``name``."""
        height, width = values.shape[:2]
        with self.ctx:
            self._fit(width, height)
            texture = self._texture(name, 1 if values.ndim == 2 else values.shape[2])
            texture.write(np.ascontiguousarray(values, dtype=np.float32))

    def run(self, program: str, target: str, sources: dict[str, str], **uniforms) -> None:
        """Draw ``program`` into texture ``target`` (RGBA f4), reading textures ``sources``
        (sampler name -> texture name), with ``uniforms`` set by name."""
        if target in sources.values():
            raise ValueError(f"{program}: target {target!r} is also a source")
        shader = self._programs[program]
        with self.ctx:
            for unit, (sampler, texture) in enumerate(sources.items()):
                self._textures[texture].use(location=unit)
                shader[sampler].value = unit
            for name, value in uniforms.items():
                if isinstance(value, np.ndarray):
                    shader[name].write(np.ascontiguousarray(value, np.float32))
                elif name in shader:  # the compiler drops uniforms a program does not use
                    shader[name].value = value
            self._framebuffer(target).use()
            self._triangles[program].render(self._moderngl.TRIANGLES, vertices=3)

    def read(self, name: str) -> np.ndarray:
        """Texture ``name`` as float32 (H, W, C)."""
        texture = self._textures[name]
        width, height = texture.size
        with self.ctx:
            data = np.frombuffer(texture.read(), np.float32)
        return data.reshape(height, width, texture.components)

    def _release(self) -> None:
        for item in (*self._framebuffers.values(), *self._textures.values()):
            item.release()
        self._framebuffers.clear()
        self._textures.clear()
        self._size = None

    def release(self) -> None:
        """Free all textures and framebuffers (programs and context stay)."""
        with self.ctx:
            self._release()

    def close(self) -> None:
        """Free everything, the context included."""
        with self.ctx:
            self._release()
            for item in (*self._triangles.values(), *self._programs.values()):
                item.release()
        self._triangles, self._programs = {}, {}
        self.ctx.release()
