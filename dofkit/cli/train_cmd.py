"""`dofkit train`: train the focus network, or run the paper's W vs W x I experiment."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ParameterError
from . import options
from .common import console, guarded
from .focus_input import print_json


@guarded
def train_command(
    masked: List[Path] = typer.Option([], "--masked", metavar="DIR", help="Folder with img/ + "
                                      "mask/ (255 = object); repeat the option for each "
                                      "folder."),
    sharp: List[Path] = typer.Option([], "--sharp", metavar="DIR", help="Folder of photos sharp "
                                     "all over; repeat the option for each folder."),
    steps: int = typer.Option(4000, "--steps", min=1, help="Training iterations (the shipped "
                              "recipe: 4000)."),
    batch: int = typer.Option(8, "--batch", min=1, help="Patches per iteration."),
    patch: int = typer.Option(224, "--patch", min=64, help="Patch side in px (working scale)."),
    skimage: bool = typer.Option(True, "--skimage/--no-skimage", help="Also train on the photos "
                                 "scikit-image ships (held out: astronaut, coffee, chelsea)."),
    learning_rate: float = typer.Option(2e-3, "--lr", min=1e-6, max=1.0, help="Adam step size."),
    ema: float = typer.Option(0.0, "--ema", min=0.0, max=0.9999, help="Validate and keep the "
                              "moving average of the weights with this decay (e.g. 0.998); "
                              "0 = the raw weights."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, samples and weights."),
    workers: int = typer.Option(1, "--workers", min=0, help="Sample-making processes."),
    validation: Optional[Path] = typer.Option(None, "--val", help="dbd-style folder (img/ + "
                                              "gt/) scored at each validation; never trained on "
                                              "(needed by --experiment)."),
    validate_every: int = typer.Option(400, "--validate-every", min=1,
                                       help="Validate per source (keeping the weights of the "
                                       "best worst source) and save the checkpoint every N "
                                       "steps."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Checkpoint file "
                                              "(saved periodically)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from --checkpoint."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from these weights "
                                        "(.safetensors of the same architecture) instead of "
                                        "from scratch: fine-tuning."),
    export: Optional[Path] = typer.Option(None, "--export", help="Write the trained weights "
                                          "(.safetensors) and manifest (.json) here."),
    experiment: Optional[str] = typer.Option(None, "--experiment", help="'paper': plain SRCNN "
                                             "on --photos, target W vs W x I."),
    photos: List[Path] = typer.Option([], "--photos", metavar="DIR", help="Photo folder for "
                                      "--experiment; repeat the option for each folder."),
    count: int = typer.Option(425, "--count", min=1, help="Photos used by --experiment."),
    out_dir: Path = typer.Option(Path("out/paper-replication"), "--out-dir",
                                 help="Where --experiment writes its report and plot (--out-dir "
                                 "docs replaces the committed ones)."),
    threads: Optional[int] = options.Threads,
) -> None:
    """Train the focus network on composites made on the fly (see dofkit.train)."""
    import torch

    from ..train.loop import Settings

    if threads:
        torch.set_num_threads(threads)
    command = "dofkit train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    if experiment is not None:
        if experiment != "paper":
            raise ParameterError(f"--experiment must be 'paper'; got {experiment!r}")
        if not photos or not validation:
            raise ParameterError("--experiment paper needs --photos and --val")
        from ..train.experiment import run_paper_experiment

        run_paper_experiment(photos, count, steps, validation, out_dir, seed, command, console)
        return
    if not masked or not sharp:
        raise ParameterError("give at least one --masked and one --sharp folder")
    if resume and checkpoint is None:
        raise ParameterError("--resume needs --checkpoint")
    from ..train.recipe import Sources, train_focus_model

    settings = Settings(steps=steps, batch=batch, learning_rate=learning_rate, seed=seed,
                        workers=workers, validate_every=validate_every, ema=ema,
                        checkpoint_every=validate_every)
    train_focus_model(Sources(list(masked), list(sharp), skimage), settings, patch=patch,
                      checkpoint=checkpoint, resume=resume, validation=validation,
                      export=export, init=init, command=command, console=console)
    if export is not None:  # the per-source scores of what was exported, as data on stdout
        from ..focus import manifest_path

        print_json(json.loads(manifest_path(export).read_text())["validation"])
