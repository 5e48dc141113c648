"""The paper's claim tested: plain SRCNN trained on target W (eq. 3 map, smoothed) versus
target W x I, on the same photos, same patches, same optimiser; MSE logged per iteration.

A network trained on W x I predicts ``F(I) ~ W * I``; the map is recovered per pixel by least
squares over the colour channels, ``W = sum_c F_c I_c / (sum_c I_c^2 + eps)``, then scaled
like eq. 3 (the image's own 99th percentile).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.console import Console

from ..evaluate import evaluate, find_cases, mean_scores
from ..focus.models import Srcnn, parameter_count
from ..io.atomic import AtomicFile, write_text_atomic
from ..focus.paper import SCALE_PERCENTILE, paper_focus
from .data import (TARGET_SMOOTH_SIGMA, WORK_SIDE, SelfSupervisedSamples, list_images,
                   resize)
from .loop import Settings, fixed_set, keeps_torch_rng, train

PATCH = 33           # px, SRCNN's training patch
BATCH = 32
LEARNING_RATE = 1e-3
RECOVERY_EPS = 1e-2  # regularises the division by I in dark pixels
EXPERIMENT_SIDE = WORK_SIDE // 2  # photos are used at long side 320 px


def recover_map(prediction: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Map (H, W) in [0, 1] from a W x I prediction (H, W, 3) and the photo (H, W, 3)."""
    weight = np.sum(prediction * image, axis=2) / (np.sum(image * image, axis=2) + RECOVERY_EPS)
    scale = max(float(np.percentile(weight, SCALE_PERCENTILE)), 1e-6)
    return np.clip(weight / scale, 0.0, 1.0).astype(np.float32)


def map_function(model: Srcnn, target: str):
    """image (H, W, 3) -> map (H, W): run the net at the experiment's scale, recover, resize."""

    def focus(image: np.ndarray) -> np.ndarray:
        small = resize(image, min(1.0, EXPERIMENT_SIDE / max(image.shape[:2])))
        batch = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1)))[None]
        with torch.inference_mode():
            output = model.eval()(batch)[0].numpy().transpose(1, 2, 0)
        if target == "wi":
            result = recover_map(output, small)
        else:
            result = np.clip(output[:, :, 0], 0.0, 1.0)
        return cv2.resize(result, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)

    return focus


def diagnostics(images: torch.Tensor, targets: torch.Tensor):
    """model -> validation MSE, explained variance (R^2), and the correlation of the output with
    the target and with the input's grey level (a 'grey copy of the input' shows as the latter)."""
    variance = float(targets.var())
    grey = images.mean(dim=1, keepdim=True)

    def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
        a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
        return float((a * b).sum() / (a.norm() * b.norm() + 1e-12))

    def validate(model: torch.nn.Module) -> dict:
        model.eval()
        with torch.inference_mode():
            output = model(images)
        mse = float(((output - targets) ** 2).mean())
        return {"val_mse": mse, "r2": 1.0 - mse / variance,
                "corr_target": correlation(output.mean(1), targets.mean(1)),
                "corr_grey": correlation(output.mean(1), grey)}

    return validate


@keeps_torch_rng
def run_paper_experiment(folders: list[Path], count: int, steps: int, dbd: Path, out_dir: Path,
                         seed: int, command: str, console: Console) -> dict:
    """Train both variants, score them on ``dbd``, write ``paper-replication.json`` + plot."""
    photos = [p for folder in folders for p in list_images(folder)]
    chosen = np.random.default_rng(seed).permutation(len(photos))[:count]
    photos = [photos[i] for i in sorted(chosen)]
    console.print(f"paper experiment: {len(photos)} photos, {steps} iterations per target")
    cases = find_cases(dbd / "img", dbd / "gt")
    results = {"photos": len(photos), "steps": steps, "batch": BATCH, "patch": PATCH,
               "learning_rate": LEARNING_RATE, "seed": seed, "command": command, "runs": {},
               "eq3": mean_scores([s for _, s in evaluate(cases, paper_focus)])}
    for target in ("w", "wi"):
        sampler = SelfSupervisedSamples(photos, target, PATCH)
        torch.manual_seed(seed)
        model = Srcnn(out_channels=1 if target == "w" else 3, middle=1)
        settings = Settings(steps=steps, batch=BATCH, learning_rate=LEARNING_RATE, seed=seed,
                            loss="mse", cosine=False, validate_every=max(1, steps // 30),
                            log_every=100)
        history = train(model, sampler, settings,
                        validate=diagnostics(*fixed_set(sampler, 256, seed)), console=console)
        scores = mean_scores([s for _, s in evaluate(cases, map_function(model, target))])
        results["runs"][target] = {"parameters": parameter_count(model), "loss": history.loss,
                                   "validation": history.validation, "dbd": scores}
        console.print(f"target {target}: dbd "
                      + " ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    write_text_atomic(out_dir / "paper-replication.json", json.dumps(results) + "\n")
    plot(results, out_dir / "paper-replication.png")
    write_text_atomic(out_dir / "paper-replication.md", report(results))
    return results


def convergence(run: dict, fraction: float = 0.95) -> int | None:
    """First validated iteration whose R^2 reaches ``fraction`` of the run's best R^2."""
    best = max(r["r2"] for r in run["validation"])
    if best <= 0:
        return None
    return next(r["step"] for r in run["validation"] if r["r2"] >= fraction * best)


def report(results: dict) -> str:
    """The measured figures of :func:`run_paper_experiment` as a Markdown section."""
    lines = ["# The paper's claim: target W versus target W x I", "",
             f"Measured by `{results['command']}`: plain SRCNN 9-1-5, {results['photos']} "
             f"photos, {results['steps']} iterations of {results['batch']} patches of "
             f"{results['patch']} px, Adam at a constant {results['learning_rate']:g}, "
             f"seed {results['seed']}.", "",
             "| target | training MSE, iters 1-100 | 1301-1400 | last 100 | val R² at 1400 "
             "| best val R² | 95 % of best R² by iter | corr. with grey input "
             "| dbd-real MAE | F05 | Fmax |", "|---" * 11 + "|"]
    for target, run in results["runs"].items():
        loss = np.array(run["loss"])
        at_1400 = min(run["validation"], key=lambda r: abs(r["step"] - 1400))
        window = [f"{loss[a:b].mean():.4f}" if len(loss) >= b else "-"
                  for a, b in ((0, 100), (1300, 1400), (len(loss) - 100, len(loss)))]
        dbd = run["dbd"]
        lines.append(f"| {'W x I' if target == 'wi' else 'W'} | " + " | ".join(window) +
                     f" | {at_1400['r2']:.3f} | {max(r['r2'] for r in run['validation']):.3f} "
                     f"| {convergence(run)} | {run['validation'][-1]['corr_grey']:.2f} "
                     f"| {dbd['mae']:.3f} | {dbd['f05']:.3f} | {dbd['fmax']:.3f} |")
    eq3 = results["eq3"]
    lines += ["", f"For reference, eq. 3 itself on dbd-real: MAE {eq3['mae']:.3f}, "
              f"F05 {eq3['f05']:.3f}, Fmax {eq3['fmax']:.3f}.", "",
              "![training MSE and validation R² of both runs](paper-replication.png)", "",
              "W is eq. 3 at long side 320 px, smoothed by a Gaussian of sigma "
              f"{TARGET_SMOOTH_SIGMA:g} px. The map of a W x I network is recovered per pixel "
              "by least squares over the colour channels, W = sum_c F_c I_c / (sum_c I_c^2 + "
              f"{RECOVERY_EPS:g}), then scaled by its own {SCALE_PERCENTILE:g}th percentile like "
              "eq. 3; the W network's output is clipped to [0, 1]. Both maps are made at long "
              "side 320 px and resized to the photo.", ""]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """Per-iteration training MSE and validation R^2 of both runs, as a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(9, 3.2), dpi=90)
    labels = {"w": "target W", "wi": "target W x I"}
    for target, run in results["runs"].items():
        loss = np.array(run["loss"])
        left.plot(loss, lw=0.4, alpha=0.35)
        window = min(25, len(loss))
        smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
        left.plot(np.arange(window - 1, len(loss)), smooth, lw=1.5,
                  color=left.lines[-1].get_color(), label=labels[target])
        steps = [r["step"] for r in run["validation"]]
        right.plot(steps, [r["r2"] for r in run["validation"]], marker=".",
                   label=labels[target])
    left.set(yscale="log", xlabel="iteration", ylabel="training MSE (per iteration)")
    right.set(xlabel="iteration", ylabel="validation R² (1 - MSE/variance)", ylim=(-0.1, 1))
    right.axvline(1400, color="grey", lw=0.8, ls="--")
    for axes in (left, right):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    with AtomicFile(path) as output:
        figure.savefig(output.file, format="png")
    pyplot.close(figure)
