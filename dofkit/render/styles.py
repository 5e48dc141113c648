"""Style presets and their parameters: names, meanings, ranges, validation.

Every preset sets every parameter; a caller overrides any of them by name. Light module (no
numpy, no GL) so the CLI can list presets and parameters in its help.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

from ..errors import ParameterError


@dataclass(frozen=True)
class Parameter:
    """One stylisation setting: accepted closed range ``[low, high]`` and its meaning.
    ``pixel_power``: how the value follows a resize of the image by a factor s, to give the
    same look: times ``s ** pixel_power`` (1: a length in px, -1: an amount per px, 0: no
    unit of length)."""

    name: str
    low: float
    high: float
    help: str
    integer: bool = False
    pixel_power: int = 0

    def check(self, value) -> float | int:
        """``value`` (an int or float, numpy's too, or a 0-d numpy array of one; not a bool,
        not text, not an array of several) as int/float within range, else ParameterError
        naming the parameter."""
        given = value
        if getattr(value, "shape", None) == ():  # a 0-d array: its one element
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, Real):
            hint = " (text; pass a number)" if isinstance(value, str) else ""
            raise self._refusal(given, hint)
        number = float(value)
        if not self.low <= number <= self.high or (self.integer and not number.is_integer()):
            raise self._refusal(given)
        return int(number) if self.integer else number

    def parse(self, text: str) -> float | int:
        """The number written in ``text`` (a ``--set`` value), checked as by :meth:`check`;
        a refusal shows ``text`` as given."""
        try:
            return self.check(float(text))
        except (TypeError, ValueError):  # not a number, or out of range (ParameterError)
            raise self._refusal(text) from None

    def _refusal(self, value, hint: str = "") -> ParameterError:
        kind = "a whole number" if self.integer else "a number"
        return ParameterError(f"{self.name} must be {kind} in [{self.low:g}, {self.high:g}]; "
                              f"got {value!r}{hint}", self.name)


PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    Parameter("feather", 0, 64, "Gaussian sigma in px that softens the focus map's boundaries",
              pixel_power=1),
    Parameter("radius", 0, 16, "smoothing sigma in px where focus = 0 (abstraction strength)",
              pixel_power=1),
    Parameter("subject_radius", 0, 16, "smoothing sigma in px where focus = 1", pixel_power=1),
    Parameter("iterations", 0, 8, "rounds of bilateral smoothing across, then along edges, of "
              "the background (the subject gets one)", integer=True),
    Parameter("range_sigma", 0.5, 100, "colour tolerance of the smoothing of the subject, in "
              "Lab units"),
    Parameter("background_range", 0.5, 100, "colour tolerance of the smoothing of the "
              "background, in Lab units: wider than the subject's keeps only the strong "
              "outlines of a defocused background"),
    Parameter("levels", 0, 32, "lightness steps of the toon quantisation, 0 = off", integer=True),
    Parameter("toon_sharpness", 0.1, 20, "steepness of the toon steps at strong gradients "
              "and focus 1 (0.1 soft, 20 hard); a quarter in flat areas, and a quarter where "
              "focus = 0"),
    Parameter("toon_gradient", 0.1, 50, "lightness gradient, L units per px, at which the toon "
              "steps reach full steepness", pixel_power=-1),
    Parameter("flow_smoothing", 0, 4, "smoothing of the toon steps along the edge flow, px",
              pixel_power=1),
    Parameter("saturation", 0, 3, "chroma gain everywhere"),
    Parameter("desaturate", 0, 1, "share of chroma removed where focus = 0"),
    Parameter("fade", 0, 1, "fade to white where focus = 0"),
    Parameter("edge_sigma", 0.3, 8, "line scale: inner DoG sigma in px", pixel_power=1),
    Parameter("flow_sigma", 0, 8, "smoothing of the lines along the edge flow, px (coherence)",
              pixel_power=1),
    Parameter("edge_tau", 0.5, 1, "DoG weight of the wide blur (nearer 1 = more lines)"),
    Parameter("edge_threshold", -0.5, 0.5, "XDoG threshold, lightness / 100 (higher = more "
              "lines); with edge_tau near 1, about -0.1 (almost none) to 0.05 (heavy): flat "
              "areas turn to ink above (1 - edge_tau) x lightness / 100"),
    Parameter("edge_sharpness", 1, 1000, "XDoG steepness: higher = crisper lines"),
    Parameter("edge_strength", 0, 1, "line opacity where focus = 1"),
    Parameter("background_edges", 0, 1, "line opacity where focus = 0"),
    Parameter("line_coherence", 0, 1, "edge anisotropy (0-1) under which lines fade out, gone "
              "at half of it: drops lines on noise and texture; 0 = off"),
)}

_LINES = dict(edge_sigma=1.0, flow_sigma=2.0, edge_tau=0.98, edge_threshold=0.0)

STYLES: dict[str, dict[str, float]] = {
    # In-focus subject keeps its detail and gets ink lines; the rest turns into flat toon colour.
    "toon": dict(feather=3.0, radius=4.0, subject_radius=0.0, iterations=3, range_sigma=8.0,
                 background_range=16.0, levels=8, toon_sharpness=3.0, toon_gradient=2.0,
                 flow_smoothing=1.0, saturation=1.1, desaturate=0.3, fade=0.0, **_LINES,
                 edge_sharpness=200.0, edge_strength=1.0, background_edges=0.0,
                 line_coherence=0.5),
    # Soft, strongly smoothed colour fields; light lines on the subject only.
    "painterly": dict(feather=3.0, radius=6.0, subject_radius=1.5, iterations=4,
                      range_sigma=12.0, background_range=12.0, levels=0, toon_sharpness=1.0,
                      toon_gradient=2.0, flow_smoothing=0.0, saturation=1.25, desaturate=0.15,
                      fade=0.0, **{**_LINES, "edge_sigma": 1.2}, edge_sharpness=100.0,
                      edge_strength=0.5, background_edges=0.0, line_coherence=0.5),
    # Pencil lines on a pale wash; the background fades to paper.
    "sketch": dict(feather=3.0, radius=4.0, subject_radius=1.0, iterations=2, range_sigma=10.0,
                   background_range=15.0, levels=4, toon_sharpness=1.0, toon_gradient=2.0,
                   flow_smoothing=1.0, saturation=0.0, desaturate=1.0, fade=0.7, **_LINES,
                   edge_sharpness=300.0, edge_strength=1.0, background_edges=0.2,
                   line_coherence=0.6),
    # The subject stays photographic; the rest is smoothed and drained of colour.
    "focus-pop": dict(feather=3.0, radius=6.0, subject_radius=0.0, iterations=3,
                      range_sigma=15.0, background_range=15.0, levels=0, toon_sharpness=1.0,
                      toon_gradient=2.0, flow_smoothing=0.0, saturation=1.0, desaturate=0.85,
                      fade=0.1, **_LINES, edge_sharpness=100.0, edge_strength=0.0,
                      background_edges=0.0, line_coherence=0.0),
}

DEFAULT_STYLE = "toon"


def resolve(style: str = DEFAULT_STYLE, **overrides) -> dict[str, float | int]:
    """The full, validated parameter set of preset ``style`` with ``overrides`` applied.

    >>> resolve("toon", radius=2)["radius"]
    2.0
    """
    if not isinstance(style, str) or style not in STYLES:
        raise ParameterError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}",
                             "style")
    unknown = sorted(set(overrides) - set(PARAMETERS))
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}; parameters are "
                             f"{', '.join(PARAMETERS)}", unknown[0])
    values = {**STYLES[style], **overrides}
    return {name: PARAMETERS[name].check(values[name]) for name in PARAMETERS}


def parse_setting(text: str) -> tuple[str, float | int | str]:
    """``"name=value"`` -> (name, number) for ``--set``: the value is text here and a number
    for :func:`resolve` (see :meth:`Parameter.parse`). An unknown name keeps its text value;
    :func:`resolve` refuses it.

    >>> parse_setting("edge-sigma=1.5"), parse_setting("levels=4")
    (('edge_sigma', 1.5), ('levels', 4))
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ParameterError(f"--set expects name=value (e.g. radius=6); got {text!r}")
    name, value = name.strip().replace("-", "_"), value.strip()
    return name, PARAMETERS[name].parse(value) if name in PARAMETERS else value
