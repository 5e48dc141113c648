"""Stylisation: every GLSL pass against its CPU reference, focus-weighted behaviour, the
artefacts of issue 13 (axis-aligned abstraction, banding, lines on noise), temporal blending,
determinism, resource handling, bad parameters, and `dofkit stylize`.

Parity criterion (each pass fed identical inputs on both backends, 8-bit inputs as the
pipeline uploads them): after dividing each channel by its range (8-bit results by 255,
tensors by their maximum), at least 99.5 % of the values differ by at most 2/255 and none by
more than 0.1 (isolated XDoG/toon steps or nearest-texel choices that a rounding difference
tips the other way).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import textured
from dofkit.cli import app
from dofkit.errors import ImageError, ParameterError, ResourceError
from dofkit.io import open_image, write_image
from dofkit.render import PARAMETERS, STYLES, Stylizer, stylize
from dofkit.render import cpu
from dofkit.render.compose import to_linear
from dofkit.render.cpu_backend import PROGRAMS, CpuBackend, stored
from dofkit.render import pipeline
from dofkit.render.pipeline import COMPOSE_UNIFORMS, packed_lab, render, to_bytes
from dofkit.render.regions import region_mask, tile_rects, tiles_where
from dofkit.render.sampling import half_kernels, paired_taps
from dofkit.render.styles import resolve
from dofkit.render.stylizer import open_backend

H, W = 64, 96
runner = CliRunner()


def needs(request, backend: str) -> None:
    """Skip a GL-parametrised case (through the ``gl`` fixture) where EGL is missing."""
    if backend == "gl":
        request.getfixturevalue("gl")


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    """A 64x96 texture and a focus ramp from 0 (left) to 1 (right), both float32."""
    image = textured(H, W, seed=3)
    focus = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    return image, focus


def _float(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32) / 255 if values.dtype == np.uint8 else values


def _pass_inputs(scene):
    """{case: (sources as arrays, uniforms, scale of the result)} for each pass."""
    image, focus = scene
    image8 = to_bytes(image)
    lab8 = packed_lab(image, focus)
    small8 = stored(cpu.shrink(_float(lab8), scale=2), "f1")
    structure = cpu.tensor(_float(small8), unit=0.5)
    smoothed = cv2.GaussianBlur(structure, (0, 0), 1.0)
    orient8 = stored(cpu.orient(smoothed, toon_gradient=2.0), "f1")
    lines = dict(taps=4, kernel=half_kernels(4, 1.0, 1.6), opacity=(0.2, 1.0), edge_tau=0.98,
                 edge_threshold=0.0, line_coherence=0.5, components=1)
    dog = cpu.flow_dog(_float(lab8), _float(orient8), **{k: v for k, v in lines.items()
                                                          if k != "components"})[..., :1]
    compose = {k: float(v) for k, v in resolve("toon").items() if k in COMPOSE_UNIFORMS}
    compose.update(flow_taps=2, lines=1, coherence=0.0, steady_motion=0.5, coherent=0)
    motion = np.dstack([np.full((8, 12), 1.5, np.float32), np.full((8, 12), -0.7, np.float32),
                        np.linspace(0, 1, 96, dtype=np.float32).reshape(8, 12)])
    tensor_scale = structure[..., :3].max()
    bilateral = dict(range_sigma=8.0, dtype="f1")
    return {
        "shrink": ({"source": lab8}, dict(scale=2, size=(W // 2, H // 2), dtype="f1"), 1),
        "tensor": ({"source": small8}, dict(unit=0.5), tensor_scale),
        "smooth-x": ({"source": structure}, dict(direction=(1, 0), taps=2,
                                                 kernel=half_kernels(2, 1.0)[:, 0]), tensor_scale),
        "smooth-y": ({"source": structure}, dict(direction=(0, 1), taps=2,
                                                 kernel=half_kernels(2, 1.0)[:, 0]), tensor_scale),
        "orient": ({"source": smoothed}, dict(toon_gradient=2.0, dtype="f1"), 1),
        "bilateral-across": ({"source": lab8, "flow": orient8},
                             dict(axis=0, taps=1, pairs=paired_taps(2, 1.0), focus_range=(0.001, 2.0),
                                  **bilateral), 1),
        "bilateral-along-reduced": ({"source": small8, "flow": orient8},
                                    dict(axis=1, taps=2, pairs=paired_taps(4, 2.0), focus_range=(-1.0, 0.999),
                                         **bilateral), 1),
        "merge": ({"subject": lab8, "background": small8},
                  dict(range_sigma=8.0, upsample_sigma=0.6, dtype="f1"), 1),
        "flow_dog": ({"source": lab8, "flow": orient8}, lines, 1),
        "flow_lines": ({"source": dog, "flow": orient8},
                       dict(taps=2, kernel=half_kernels(2, 1.0)[:, 0], step_length=2.0,
                            components=1), 1),
        "compose": ({"abstracted": lab8, "edges": dog, "flow": orient8},
                    dict(dtype="srgb", **compose), 1),
        "compose-coherent": ({"abstracted": lab8, "edges": dog, "flow": orient8,
                              "previous": image8, "motion": motion},
                             dict(dtype="srgb", **{**compose, "coherence": 0.6, "coherent": 1}), 1),
    }


CASES = ["shrink", "tensor", "smooth-x", "smooth-y", "orient", "bilateral-across",
         "bilateral-along-reduced", "merge", "flow_dog", "flow_lines", "compose",
         "compose-coherent"]


def test_packed_lab_is_opencv_lab_of_the_srgb_bytes_and_the_focus(scene):
    """The buffer every pass starts from: CIELab of the 8-bit photo (OpenCV's fixed-point
    8-bit conversion: within the passes' parity bound of 2 levels of its float conversion,
    half a level on average), packed as pack_lab does, and the focus in channel 3."""
    image, focus = scene
    packed = packed_lab(image, focus)
    assert packed.dtype == np.uint8 and packed.shape == (*focus.shape, 4)
    exact = cpu.pack_lab(cv2.cvtColor(_float(to_bytes(image)), cv2.COLOR_RGB2Lab))
    error = np.abs(_float(packed[..., :3]) - exact)
    assert error.max() <= 2 / 255 and error.mean() <= 0.5 / 255
    assert (packed[..., 3] == to_bytes(focus)).all()


def test_every_program_has_a_parity_case():
    assert {case.split("-")[0] for case in CASES} == set(PROGRAMS)


@pytest.mark.gl
@pytest.mark.parametrize("case", CASES)
def test_each_gl_pass_matches_its_cpu_reference(gl, scene, case):
    sources, uniforms, scale = _pass_inputs(scene)[case]
    program = case.split("-")[0]
    results = []
    for backend in (gl, CpuBackend()):
        for name, values in sources.items():
            backend.load(f"in_{name}", values, srgb=name in ("image", "previous"))
        backend.run(program, "out", {name: f"in_{name}" for name in sources}, **uniforms)
        results.append(_float(backend.read("out")).copy())
    gl_out, cpu_out = results
    with gl.ctx:
        assert gl.ctx.error == "GL_NO_ERROR"
    assert gl_out.shape == cpu_out.shape
    error = np.abs(gl_out - cpu_out) / np.float32(scale)
    assert np.mean(error <= 2 / 255) >= 0.995, np.percentile(error, 99.5)
    assert error.max() <= 0.1


@pytest.mark.parametrize("backend", [pytest.param("gl", marks=pytest.mark.gl), "cpu"])
def test_left_in_focus_keeps_lines_right_is_smoothed(request, half_sharp, backend):
    needs(request, backend)
    image, truth = half_sharp
    focus = truth.astype(np.float32)
    styled = stylize(image, focus, backend=backend)
    grey = cv2.cvtColor((styled * 255).round().astype(np.uint8), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 60, 150) > 0
    left, right = slice(8, 56), slice(72, 120)  # away from the half boundary and the border
    assert edges[:, left].mean() > 3 * edges[:, right].mean()

    def roughness(picture):
        return np.abs(cv2.Laplacian(picture.mean(axis=2), cv2.CV_32F)).mean()

    assert roughness(styled[:, right]) < 0.1 * roughness(styled[:, left])
    assert roughness(styled[:, right]) < roughness(image[:, right])  # abstracted further


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray]:
    """The bundled astronaut sample at 128x128 and its mask as the focus map."""
    from dofkit.io import read_focus_map, read_image
    from dofkit.resources import resource_dir

    folder = resource_dir("shaders").parent / "samples"
    image = cv2.resize(read_image(folder / "astronaut.jpg"), (128, 128),
                       interpolation=cv2.INTER_AREA)
    focus = cv2.resize(read_focus_map(folder / "astronaut-mask.png"), (128, 128),
                       interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image), np.ascontiguousarray(focus)


@pytest.mark.gl
@pytest.mark.parametrize("style", list(STYLES))
def test_gl_and_cpu_pipelines_agree(gl, photo, style):
    image, focus = photo
    params = resolve(style)
    gl_out = render(gl, image, focus, params).astype(np.int16)
    error = np.abs(gl_out - render(CpuBackend(), image, focus, params)) / 255
    # Pixels agree to rounding; isolated discrete choices (the side of a steep toon step, a
    # line kept or skipped) may differ.
    assert np.mean(error <= 2 / 255) >= 0.98


@pytest.mark.gl
@pytest.mark.parametrize("style", list(STYLES))
def test_passes_limited_to_tiles_change_no_pixel(gl, photo, style, monkeypatch):
    """Lines and the smoothing of the toon steps are drawn only over the tiles where focus
    lets them show (a software renderer pays for branches not taken); the frame is the same,
    bit for bit, as when every pass is drawn over the whole frame."""
    width, height = 333, 177  # not multiples of the tile: clipped tiles at the borders
    image = cv2.resize(photo[0], (width, height), interpolation=cv2.INTER_AREA)
    # zero on the left, a ramp, the subject's mask on the right: tiles of every focus level
    ramp = np.clip(np.linspace(-0.5, 1.5, width, dtype=np.float32), 0, 1)
    top = np.arange(height)[:, None] < height // 2
    focus = np.maximum(np.tile(ramp, (height, 1)) * top,
                       cv2.resize(photo[1], (width, height)) * ~top)
    params = resolve(style)
    drawn = []
    run = gl.run

    def recording(program, target, sources, **kwargs):
        drawn.append((program, kwargs.get("regions")))
        run(program, target, sources, **kwargs)

    monkeypatch.setattr(gl, "run", recording)
    limited = render(gl, image, focus, params)
    limited_programs = {program for program, regions in drawn if regions is not None}
    if params["background_edges"] == 0 < params["edge_strength"]:
        assert {"flow_dog", "flow_lines"} <= limited_programs
    if style == "toon":
        assert "compose" in limited_programs

    def everywhere(program, target, sources, regions=None, fill=None, **kwargs):
        if program == "compose":  # the variant with everything compiled in
            kwargs.update(lines=1, flow_taps=math.ceil(2 * params["flow_smoothing"])
                          if params["levels"] > 0 else 0)
        run(program, target, sources, **kwargs)

    monkeypatch.setattr(gl, "run", everywhere)
    assert np.array_equal(render(gl, image, focus, params), limited)


def test_prepare_then_draw_is_a_call_and_keeps_its_parameters(scene):
    image, focus = scene
    with Stylizer("toon", "cpu") as stylizer:
        prepared = stylizer.prepare(image, focus)
        whole = stylizer(image, focus)
        stylizer.configure("toon", background_edges=1.0, line_coherence=0.0)
        assert np.array_equal(stylizer.draw(prepared), whole)
        for wrong in (None, image, (prepared, None)):
            with pytest.raises(ParameterError, match="prepared") as caught:
                stylizer.draw(wrong)
            assert caught.value.parameter == "prepared"


def test_tile_rectangles_cover_exactly_the_tiles():
    rng = np.random.default_rng(5)
    for shape in [(100, 70), (64, 64), (33, 129)]:
        tiles = tiles_where(rng.random(shape) < 0.0008, tile=16)
        inside = region_mask(shape, tile_rects(tiles, shape, tile=16))
        expected = np.kron(tiles, np.ones((16, 16), bool))[:shape[0], :shape[1]]
        assert np.array_equal(inside, expected)
    assert tile_rects(np.zeros((2, 3), bool), (64, 96)) == []
    assert tile_rects(np.ones((2, 3), bool), (50, 70), tile=32) == [(0, 0, 70, 50)]


def test_cpu_backend_fills_outside_the_regions():
    backend = CpuBackend()
    backend.load("source", np.full((4, 6, 4), 0.5, np.float32))
    backend.run("shrink", "out", {"source": "source"}, scale=1, dtype="f2",
                regions=[(2, 1, 3, 2)], fill=(1.0, 0.0, 0.0, 1.0))
    out = backend.read("out")
    inside = region_mask((4, 6), [(2, 1, 3, 2)])
    assert (out[inside] == np.float16(0.5)).all()
    assert (out[~inside] == np.array([1, 0, 0, 1], np.float16)).all()


@pytest.mark.gl
def test_renders_are_bit_identical(gl, scene):
    image, focus = scene
    with Stylizer("painterly", "gl") as first, Stylizer("painterly", "gl") as second:
        a, b = first(image, focus), first(image, focus)
        c = second(image, focus)
    assert a.dtype == np.float32 and a.shape == image.shape
    assert np.array_equal(a, b) and np.array_equal(a, c)


@pytest.mark.gl
def test_textures_follow_the_image_size(gl, scene):
    image, focus = scene
    with Stylizer("toon", "gl") as stylizer:
        small = stylizer(image[:32, :40], focus[:32, :40])
        full = stylizer(image, focus)
        again = stylizer(image[:32, :40], focus[:32, :40])
    assert small.shape == (32, 40, 3) and full.shape == (H, W, 3)
    assert np.array_equal(small, again)


def test_subject_stays_photographic_with_focus_pop(scene):
    """Colour differences stay under a just-noticeable difference (CIE76 Delta E 2.3): the
    8-bit Lab intermediates hold L to 0.4 and a, b to 1 unit."""
    image, _ = scene
    styled = stylize(image, np.ones((H, W), np.float32), style="focus-pop", backend="cpu")
    before, after = (cv2.cvtColor(x, cv2.COLOR_RGB2Lab) for x in (image, styled))
    assert np.linalg.norm(after - before, axis=-1).max() < 2.3


def test_every_preset_sets_every_parameter_within_range():
    for style, values in STYLES.items():
        assert set(values) == set(PARAMETERS), style
        assert resolve(style) == {k: PARAMETERS[k].check(v) for k, v in values.items()}


@pytest.mark.parametrize("style, params, message", [
    ("toon", {"radius": -1}, "radius must be a number in [0, 16]"),
    ("nope", {}, "unknown style 'nope'"),
    ("toon", {"radious": 2}, "unknown parameter 'radious'"),
    ("toon", {"iterations": 1.5}, "iterations must be a whole number"),
    ("toon", {"levels": "many"}, "levels must be a whole number"),
])
def test_bad_parameters_are_clear_errors(style, params, message):
    with pytest.raises(ParameterError, match=message.replace("[", r"\[")):
        Stylizer(style, "cpu", **params)


def test_bad_arrays_are_clear_errors(scene):
    image, focus = scene
    with Stylizer(backend="cpu") as stylizer:
        with pytest.raises(ParameterError, match="focus must be an"):
            stylizer(image, focus[:10])
        with pytest.raises(ParameterError, match="float32"):
            stylizer(image.astype(np.float64), focus)
    with pytest.raises(ParameterError, match="backend must be one of"):
        Stylizer(backend="vulkan")


def test_missing_gl_context_is_an_error_or_a_notice(monkeypatch):
    import moderngl

    def no_display(**kwargs):
        raise Exception("eglGetDisplay failed")

    monkeypatch.setattr(moderngl, "create_context", no_display)
    with pytest.raises(ResourceError, match="no OpenGL context available via EGL"):
        open_backend("gl")
    notices = []
    assert isinstance(open_backend("auto", notices.append), CpuBackend)
    assert len(notices) == 1 and "rendering on the CPU" in notices[0]


@pytest.mark.gl
def test_images_beyond_the_texture_limit(gl, scene, monkeypatch):
    image, focus = scene
    notices = []
    with Stylizer("toon", "gl") as strict, Stylizer("toon", "auto", notify=notices.append) as auto:
        for stylizer in (strict, auto):
            monkeypatch.setattr(stylizer._backend, "max_size", 64)
        with pytest.raises(ImageError, match="exceeds the GL texture limit 64"):
            strict(image, focus)
        reference = render(CpuBackend(), image, focus, auto.params)
        assert np.array_equal(np.round(auto(image, focus) * 255), reference)
    assert "texture limit" in notices[0]


@pytest.fixture
def photo_with_alpha(tmp_path, half_sharp):
    image, truth = half_sharp
    alpha = np.full(truth.shape, 0.5, np.float32)
    write_image(tmp_path / "in.png", image, alpha=alpha)
    write_image(tmp_path / "map.png", truth.astype(np.float32))
    return tmp_path


@pytest.mark.parametrize("backend", [pytest.param("gl", marks=pytest.mark.gl), "cpu"])
def test_cli_stylizes_with_a_given_map_and_keeps_alpha(request, photo_with_alpha, backend):
    needs(request, backend)
    folder = photo_with_alpha
    result = runner.invoke(app, ["stylize", str(folder / "in.png"), str(folder / "out.png"),
                                 "--map", str(folder / "map.png"), "--backend", backend,
                                 "--style", "sketch", "--set", "edge-sigma=1.5",
                                 "--set", "levels=3", "--save-map", str(folder / "used.png")])
    assert result.exit_code == 0, result.output
    out = open_image(folder / "out.png")
    assert out.rgb.shape == (96, 128, 3) and out.alpha is not None
    assert np.allclose(out.alpha, 128 / 255)
    assert np.array_equal(open_image(folder / "used.png").rgb, open_image(folder / "map.png").rgb)
    focus = open_image(folder / "map.png").rgb[..., 0]
    expected = stylize(open_image(folder / "in.png").rgb, focus, style="sketch", backend=backend,
                       edge_sigma=1.5, levels=3)
    assert np.abs(out.rgb - expected).max() <= 1 / 255 + 1e-6


def test_cli_computes_the_map_when_none_is_given(photo_with_alpha):
    folder = photo_with_alpha
    result = runner.invoke(app, ["stylize", str(folder / "in.png"), str(folder / "out.jpg"),
                                 "--method", "analytic", "--backend", "cpu"])
    assert result.exit_code == 0, result.output
    assert open_image(folder / "out.jpg").rgb.shape == (96, 128, 3)


@pytest.mark.parametrize("args, message, code", [
    (["--set", "radius=-2"], "radius must be a number in [0, 16]; got '-2'", 2),
    (["--set", "colour=3"], "unknown parameter 'colour'", 2),
    (["--set", "radius"], "--set expects name=value", 2),
    (["--map", "missing.png"], "missing.png: no such file", 1),
])
def test_cli_bad_options_are_one_line_errors(photo_with_alpha, args, message, code):
    folder = photo_with_alpha
    result = runner.invoke(app, ["stylize", str(folder / "in.png"), str(folder / "out.png"),
                                 "--backend", "cpu", *args])
    assert result.exit_code == code
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (folder / "out.png").exists()


def test_cli_refuses_an_unknown_style(photo_with_alpha):
    folder = photo_with_alpha
    result = runner.invoke(app, ["stylize", str(folder / "in.png"), str(folder / "o.png"),
                                 "--style", "cubist"])
    assert result.exit_code == 2 and "cubist" in result.output


def test_programs_are_split_into_stages_with_includes_expanded():
    from dofkit.render.gl import shader_source
    from dofkit.resources import resource_dir

    for name in PROGRAMS:
        path = resource_dir("shaders") / f"{name}.glsl"
        for stage in ("VERTEX_SHADER", "FRAGMENT_SHADER"):
            source = shader_source(path, stage)
            assert source.splitlines()[:2] == ["#version 330 core", f"#define {stage}"]
            assert "#include" not in source


@pytest.mark.gl
def test_release_frees_the_textures_and_the_context_stays(gl, scene):
    image, focus = scene
    with Stylizer("toon", "gl") as stylizer:
        first = stylizer(image, focus)
        assert stylizer._backend._textures
        stylizer.release()
        assert not stylizer._backend._textures
        assert np.array_equal(stylizer(image, focus), first)


def test_package_level_names():
    import dofkit

    assert dofkit.stylize is stylize and dofkit.Stylizer is Stylizer


def _disc(size: int = 64, radius: float = 14.0) -> np.ndarray:
    """A bright disc (a bokeh highlight) on a dark ground, float32 RGB (size, size, 3)."""
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    inside = np.clip(radius + 0.5 - np.hypot(x, y), 0, 1).astype(np.float32)
    return np.dstack([0.1 + 0.8 * inside] * 3).astype(np.float32)


def test_abstraction_has_no_axis_aligned_shapes():
    """A defocused round highlight stays round: its half-level radius along the diagonals
    matches that along the axes to a pixel (a guard: no pass follows the pixel grid)."""
    image = _disc()
    styled = stylize(image, np.zeros(image.shape[:2], np.float32), style="painterly",
                     backend="cpu", edge_strength=0, background_edges=0).mean(axis=2)
    centre = (styled.shape[0] - 1) / 2
    steps = np.arange(0, 32, 0.25)

    def radius(dx, dy):
        along = cpu_sample(styled, centre + steps * dx, centre + steps * dy)
        return steps[np.argmax(along < 0.5)] * np.hypot(dx, dy)

    axes = [radius(1, 0), radius(0, 1), radius(-1, 0), radius(0, -1)]
    diagonals = [radius(s * 0.5 ** 0.5, t * 0.5 ** 0.5) for s in (-1, 1) for t in (-1, 1)]
    assert abs(np.mean(diagonals) - np.mean(axes)) <= 1.0, (axes, diagonals)


def cpu_sample(values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from dofkit.render.sampling import bilinear

    return bilinear(values[..., None], x, y)[..., 0]


def test_toon_steps_do_not_band_smooth_gradients():
    """On a smooth ramp (a flat, defocused sky) the soft steps keep the slope within the
    steepest slope phi / tanh(phi) of a tanh step of the steepness the ramp gets from its
    gradient and focus 0, plus 0.8 L for the roundings at both ends (half a step of the 8-bit
    Lab intermediates, 0.2 L, and of the 8-bit sRGB output, about 0.2 L at mid-grey); in
    focus, with full-steepness steps, the same ramp exceeds it."""
    ramp = np.tile(np.linspace(0.25, 0.75, 256, dtype=np.float32), (16, 1))
    image = np.dstack([ramp] * 3)
    params = dict(backend="cpu", edge_strength=0, desaturate=0, saturation=1, flow_smoothing=0)

    def slopes(focus, **extra):
        styled = stylize(image, np.full(ramp.shape, focus, np.float32), **params, **extra)
        lightness = cv2.cvtColor(styled, cv2.COLOR_RGB2Lab)[8, 16:-16, 0]
        return np.abs(np.diff(lightness[::16]))  # per 16 px

    toon = resolve("toon")
    gradient = slopes(0.0, levels=0).mean() / 16  # L units per px
    steepness = 0.25 + 0.75 * min(gradient / toon["toon_gradient"], 1)
    phi = toon["toon_sharpness"] * steepness * 0.25  # focus 0
    bound = phi / np.tanh(phi) * 16 * gradient + 0.8
    assert slopes(0.0).max() <= bound
    assert slopes(1.0, toon_gradient=0.1).max() > bound  # hard steps band


def test_lines_skip_noise_and_the_background():
    """Ink follows a clean edge but not iid noise (gravel) of the same contrast; with focus 0
    and background_edges 0 nothing is inked."""
    rng = np.random.default_rng(0)
    image = np.full((64, 128, 3), 0.7, np.float32)
    image[:, 16:32] = 0.3  # a clean vertical band, edges at x = 16 and 32
    image[:, 64:] = np.repeat(rng.choice([0.3, 0.7], (64, 64, 1)), 3, axis=2)
    focus = np.ones((64, 128), np.float32)
    plain = stylize(image, focus, backend="cpu", edge_strength=0, levels=0)
    inked = stylize(image, focus, backend="cpu", levels=0)
    raw = stylize(image, focus, backend="cpu", levels=0, line_coherence=0)
    darkened, raw_darkened = ((plain - x).mean(axis=2) > 0.1 for x in (inked, raw))
    band, noise = (slice(8, -8), slice(12, 36)), (slice(8, -8), slice(72, 120))
    assert darkened[band].mean() == raw_darkened[band].mean() > 0
    assert darkened[noise].mean() <= 0.5 * raw_darkened[noise].mean()
    background = stylize(image, np.zeros_like(focus), backend="cpu", levels=0)
    assert np.array_equal(background, stylize(image, np.zeros_like(focus), backend="cpu",
                                              levels=0, edge_strength=0))


@pytest.mark.parametrize("backend", [pytest.param("gl", marks=pytest.mark.gl), "cpu"])
def test_coherence_blends_the_moved_previous_frame(request, scene, backend, monkeypatch):
    """With confidence 1 (and the weight's fall with motion turned off) the output is
    (1 - c) fresh + c previous moved by the motion."""
    needs(request, backend)
    monkeypatch.setattr(pipeline, "STEADY_MOTION", 1e9)
    image, focus = scene
    with Stylizer("toon", backend) as stylizer:
        fresh = stylizer(image, focus)
        previous = np.roll(fresh, 3, axis=1)  # content 3 px to the right in the last frame
        motion = np.dstack([np.full((8, 12), 3.0, np.float32), np.zeros((8, 12), np.float32),
                            np.ones((8, 12), np.float32)])
        blended = stylizer(image, focus, previous=previous, motion=motion, coherence=0.5)
    expected = 0.5 * fresh + 0.5 * fresh  # the moved previous frame is the fresh one
    assert np.abs(blended - expected)[:, 4:-4].max() <= 1.5 / 255


@pytest.mark.parametrize("backend", [pytest.param("gl", marks=pytest.mark.gl), "cpu"])
def test_the_previous_frame_weighs_less_as_the_motion_grows(request, scene, backend):
    """Weight of the moved previous frame: c * confidence / (1 + (motion / STEADY_MOTION)^2)
    (a black previous frame darkens the output, in linear light, by that share)."""
    needs(request, backend)
    image, focus = scene
    with Stylizer("toon", backend) as stylizer:
        fresh = to_linear(stylizer(image, focus)).sum()
        for speed in (0.0, 0.5, 1.5):
            motion = np.dstack([np.full((8, 12), speed, np.float32),
                                np.zeros((8, 12), np.float32), np.ones((8, 12), np.float32)])
            out = stylizer(image, focus, previous=np.zeros_like(image), motion=motion,
                           coherence=0.5)
            weight = 0.5 / (1 + (speed / pipeline.STEADY_MOTION) ** 2)
            assert to_linear(out).sum() / fresh == pytest.approx(1 - weight, abs=0.01)


@pytest.mark.gl
@pytest.mark.parametrize("speed", [1, 3, 6])
def test_a_moving_subject_keeps_its_detail_with_coherence(gl, speed):
    """A textured square moving over a blurred background, 12 frames through the video path
    with the default smoothing and coherence: at the last frame the square keeps at least
    3/4 of the detail (variance of the Laplacian) it has without coherence. (Blending the
    bilinearly moved previous frame at full weight left a quarter to a third.)"""
    from dofkit.focus import FocusEstimator
    from dofkit.video import DEFAULT_COHERENCE, CoherentStylizer, FrameMaps

    height, width, side = 180, 320, 80
    background = cv2.GaussianBlur(textured(height, width, seed=1), (0, 0), 5)
    square = textured(side, side, seed=2)

    def last_frame_detail(coherence: float) -> float:
        run = CoherentStylizer(stylizer, FrameMaps(FocusEstimator("analytic"), smooth=0.7),
                               coherence)
        for index in range(12):
            frame, left = background.copy(), 20 + speed * index
            frame[50:50 + side, left:left + side] = square
            styled = run(frame)
        grey = cv2.cvtColor(styled, cv2.COLOR_RGB2GRAY)[58:42 + side, left + 8:left + side - 8]
        return float(cv2.Laplacian(grey, cv2.CV_32F).var())

    with Stylizer("toon", "gl") as stylizer:
        assert last_frame_detail(DEFAULT_COHERENCE) >= 0.75 * last_frame_detail(0.0)


def test_static_noise_flickers_less_with_coherence(scene):
    """Per-frame noise on a static shot: with confidence 1, coherence c divides the mean
    frame-to-frame change of an iid signal by sqrt(1 + c) / (1 - c) (4.3 at 0.7)."""
    image, focus = scene
    rng = np.random.default_rng(1)
    frames = [np.clip(image + rng.normal(0, 0.03, image.shape), 0, 1).astype(np.float32)
              for _ in range(8)]
    still = np.dstack([np.zeros((8, 12, 2), np.float32), np.ones((8, 12, 1), np.float32)])

    def flicker(coherence):
        outputs, previous = [], None
        with Stylizer("toon", "cpu") as stylizer:
            for frame in frames:
                previous = stylizer(frame, focus, previous=previous, motion=still,
                                    coherence=coherence)
                outputs.append(previous)
        return np.mean([np.abs(a - b).mean() for a, b in zip(outputs[3:], outputs[4:])])

    assert flicker(0.7) * 3 < flicker(0.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"coherence": 1.0}, r"coherence must be in \[0, 1\)"),
    ({"coherence": 0.5, "previous": np.zeros((4, 4, 3), np.float32),
      "motion": np.zeros((2, 2, 3), np.float32)}, "previous must be the last stylised frame"),
    ({"coherence": 0.5, "previous": "same", "motion": np.zeros((2, 2), np.float32)},
     r"motion must be an \(h, w, 3\) array"),
])
def test_bad_temporal_arguments_are_clear_errors(scene, kwargs, message):
    image, focus = scene
    if isinstance(kwargs.get("previous"), str):
        kwargs = {**kwargs, "previous": image}
    with Stylizer(backend="cpu") as stylizer, pytest.raises(ParameterError, match=message):
        stylizer(image, focus, **kwargs)


@pytest.mark.gl
def test_array_uniforms_are_checked_like_scalars(gl):
    from dofkit.render.gl import set_uniform

    program, _ = gl._program("smooth", {"taps": 2})
    with gl.ctx:
        with pytest.raises(ValueError, match=r"uniform 'kernel': array of shape \(5,\)"):
            set_uniform(program, "kernel", half_kernels(4, 1.0)[:, 0])
        with pytest.raises(ValueError, match="is an array of 3"):
            set_uniform(program, "kernel", 0.5)
        set_uniform(program, "kernel", half_kernels(2, 1.0)[:, 0])
        set_uniform(program, "not_used", 1.0)  # dropped by the compiler: skipped


def test_shaders_use_no_reserved_words():
    """GLSL >= 4.00 reserves ``sample`` (and 4.x ``active``, ``filter``...): none is an
    identifier in our shaders, which must also build on newer drivers."""
    import re

    from dofkit.resources import resource_dir

    reserved = re.compile(r"\b(sample|active|filter|common|partition|input|output)\b")
    for path in resource_dir("shaders").rglob("*.glsl"):
        code = "\n".join(line.split("//")[0] for line in path.read_text().splitlines())
        assert not reserved.search(code), path.name


def test_cached_stylizers_are_closed_at_exit(scene):
    import dofkit.render as render_module

    image, focus = scene
    stylize(image, focus, backend="cpu")
    assert render_module._cached
    render_module._close_cached()
    assert not render_module._cached


def test_coherent_video_flickers_three_times_less_on_a_static_noisy_shot(scene):
    """The check of issue 13: stylised frames of a static shot with sensor noise change from
    frame to frame at least 3x less with the defaults (--smooth 0.7, --coherence 0.7) than
    with --smooth 0 --coherence 0."""
    from dofkit.focus import FocusEstimator
    from dofkit.video import CoherentStylizer, FrameMaps

    image, _ = scene
    rng = np.random.default_rng(2)
    frames = [np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1).astype(np.float32)
              for _ in range(10)]

    def flicker(smooth, coherence):
        with Stylizer("toon", "cpu") as stylizer:
            maps = FrameMaps(FocusEstimator("analytic"), smooth=smooth)
            run = CoherentStylizer(stylizer, maps, coherence)
            styled = [run(frame) for frame in frames]
        return np.mean([np.abs(a - b).mean() for a, b in zip(styled[4:], styled[5:])])

    assert 3 * flicker(0.7, 0.7) <= flicker(0.0, 0.0)


def test_coherence_out_of_range_is_refused():
    from dofkit.video import CoherentStylizer

    with pytest.raises(ParameterError, match=r"coherence must be in \[0, 1\); got 1"):
        CoherentStylizer(None, None, 1.0)


def test_stylize_and_a_shared_stylizer_are_safe_from_several_threads():
    """Threads calling stylize() with different styles got each other's style, or a
    KeyError from the passes (one cached Stylizer reconfigured mid-call); a Stylizer shared
    by threads mixed their textures."""
    from concurrent.futures import ThreadPoolExecutor

    from dofkit.render import stylize

    rng = np.random.default_rng(0)
    image = rng.random((64, 80, 3), dtype=np.float32)
    focus = np.full((64, 80), 0.5, np.float32)
    styles = ("toon", "sketch", "painterly", "focus-pop")
    alone = {style: stylize(image, focus, style) for style in styles}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: stylize(image, focus, styles[i % 4]), range(24)))
    assert all(np.array_equal(r, alone[styles[i % 4]]) for i, r in enumerate(results))

    images = [rng.random((48, 40 + 8 * k, 3), dtype=np.float32) for k in range(4)]
    with Stylizer("toon") as shared:
        expected = [shared(im, np.full(im.shape[:2], 0.5, np.float32)) for im in images]
        with ThreadPoolExecutor(4) as pool:
            again = list(pool.map(lambda i: shared(images[i % 4], np.full(
                images[i % 4].shape[:2], 0.5, np.float32)), range(16)))
    assert all(np.array_equal(r, expected[i % 4]) for i, r in enumerate(again))
