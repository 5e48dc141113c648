"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..focus import DEVICES, MAX_THREADS, METHODS
from ..render.styles import DEFAULT_STYLE, PARAMETERS, STYLES
from .batch_run import ENGINES
from .help_style import choices

Method = typer.Option("auto", "--method", "-m", metavar=choices(METHODS),
                      help="Focus map: paper (eq. 3 of the paper) and analytic (refined) need "
                           "no network; srcnn is the trained network; auto: srcnn where it beat "
                           "analytic in validation, else analytic.")
Device = typer.Option("cpu", "--device", metavar=choices(DEVICES),
                      help="Device for the network.")
Threads = typer.Option(None, "--threads", min=1, max=MAX_THREADS,
                       help="CPU threads for the network.")
Weights = typer.Option(None, "--weights", dir_okay=False, metavar="FILE",
                       help="Network weights (.safetensors with its .json manifest) instead of "
                            "the shipped ones, e.g. from `dofkit train --export`.")
MaxPixels = typer.Option(None, "--max-pixels", min=1,
                         help="Refuse images with more pixels (default 100 MP).")
Overwrite = typer.Option(False, "--overwrite", help="Allow replacing a file the command "
                         "reads (an input, a --map), or the existing OUT of the IN OUT form.")
Output = typer.Option(None, "--output", "-o", metavar="FILE", help="Output file for one input "
                      "('-' = PNG on stdout).")
OutDir: Optional[Path] = typer.Option(None, "--out-dir", file_okay=False,
                                      help="Folder for outputs (made if needed).")

# Batches (every command that takes images).
Recursive = typer.Option(False, "--recursive", "-r",
                         help="Take the images of sub-folders too (folders given as inputs).")
FromList = typer.Option(None, "--from", metavar="LIST",
                        help="Also read input paths from this file, one a line ('-' = stdin).")


def name_option(where: str, fields: str = "", default: str = "{stem}.png") -> typer.Option:
    """``--name``: the template of the output files in the folders ``where`` names; ``fields``
    adds this command's own fields to those of every command."""
    return typer.Option(None, "--name", metavar="TEMPLATE",
                        help=f"Output name {where} (sub-folders of the input mirrored): {{stem}}, "
                             f"{{name}}, {{parent}}{fields}; default {default}.")


Name = name_option("under --out-dir")
StylizeName = name_option("under --out-dir, also of a --save-map or --map folder",
                          ", {style}")


SkipExisting = typer.Option(False, "--skip-existing",
                            help="Skip inputs whose outputs all exist (resume a run).")
Report = typer.Option(None, "--report", metavar="FILE.jsonl",
                      help="Write one status record per input (JSON Lines; '-' = stdout).")
Jobs = typer.Option(None, "--jobs", "-j", metavar="N",
                    help="Worker processes, each with its own model and GL context (1-64, "
                         "default 1; with --engine ray: actors, default one per cluster CPU).")
Engine = typer.Option("local", "--engine", metavar=choices(ENGINES),
                      help="local: this machine; ray: a Ray cluster (the ray extra).")
RayAddress = typer.Option(None, "--ray-address", metavar="ADDR",
                          help="--engine ray: cluster to join (default RAY_ADDRESS, else a "
                               "fresh local Ray for this run).")
Quiet = typer.Option(False, "--quiet", "-q", help="Only errors on stderr.")
Verbose = typer.Option(False, "--verbose", "-v",
                       help="Per-input lines, and warnings of the image libraries.")

# In-focus regions (roi, detect, video): one definition each.
Threshold = typer.Option("otsu", "--threshold", "-t", metavar="LEVEL|otsu",
                         help="Focus level counted as in focus, in (0, 1], or otsu.")
MinArea = typer.Option(0.01, "--min-area", min=0.0, max=0.999,
                       help="Drop in-focus regions smaller than this fraction of the image.")
Merge = typer.Option(0.1, "--merge", min=0.0, max=0.999,
                     help="Join in-focus pieces closer than this fraction of the short side.")
Pad = typer.Option(None, "--pad", min=0.0,
                   help="Grow each in-focus region by this fraction of its size on every side "
                        "(default 0; 0.15 for the regions detect --on-rois runs on).")
MaxRois = typer.Option(None, "--max", "--max-rois", min=1, help="Keep the N best regions.")

# Stylisation (stylize, video --mode stylize).
Style = Enum("Style", {name: name for name in STYLES}, type=str)


class Backend(str, Enum):
    auto = "auto"
    gl = "gl"
    cpu = "cpu"


StyleName = typer.Option(DEFAULT_STYLE, "--style", "-s", help=f"Preset: {', '.join(STYLES)}.")
Settings = typer.Option(
    None, "--set", metavar="NAME=VALUE",
    help="Override a preset parameter (repeatable). " + "; ".join(
        f"{p.name} [{p.low:g}-{p.high:g}]: {p.help}" for p in PARAMETERS.values()) + ".")
BackendName = typer.Option(Backend.auto, "--backend", help="gl: EGL OpenGL; cpu: numpy "
                           "reference; auto: gl, else cpu with a notice.")

# Detection (detect, video --mode detect).
Detector = typer.Option(None, "--detector", "-d",
                        help="Built-in detector: hog (people; the default), face (a frontal-face "
                             "cascade found on this machine) or haar:PATH (any OpenCV cascade).")
Gate = typer.Option(0.5, "--gate", "-g", min=0.0, max=1.0,
                    help="Keep detections whose focus score is at least this.")
OnRois = typer.Option(False, "--on-rois", help="Run the detector only on the in-focus regions "
                      "(--threshold, --min-area, --merge, --pad), not the whole frame.")
