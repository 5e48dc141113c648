"""The training loop: seeded sample stream, Adam with cosine decay, rich progress on stderr,
periodic validation, checkpoints and resume."""

from __future__ import annotations

import functools
import math
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn)
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..errors import ParameterError, ResourceError
from ..io.atomic import AtomicFile
from ..io.formats import reason
from ..signals import leave_signals_to_parent

#: Most sample-making processes (each holds a copy of the photos).
MAX_WORKERS = 32

Sampler = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]

LOSSES = {
    "bce": F.binary_cross_entropy_with_logits,
    "mse": F.mse_loss,
}


class SampleStream(torch.utils.data.IterableDataset):
    """Endless samples of ``sampler``; worker ``k`` of a run resumed at ``start`` draws from
    ``default_rng([seed, purpose, start, k])`` (purpose 0 = training, 1 = validation), so a
    run is reproducible for a given worker count."""

    def __init__(self, sampler: Sampler, seed: int, start: int = 0, purpose: int = 0):
        self.sampler, self.seed, self.start, self.purpose = sampler, seed, start, purpose

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info else 0
        rng = np.random.default_rng([self.seed, self.purpose, self.start, worker])
        while True:
            image, target = self.sampler(rng)
            target = target[None] if target.ndim == 2 else target.transpose(2, 0, 1)
            yield (np.ascontiguousarray(image.transpose(2, 0, 1)),
                   np.ascontiguousarray(target))


def batches(sampler: Sampler, batch: int, seed: int, workers: int = 0, start: int = 0):
    """Iterator over (images (N, 3, P, P) in [0, 1], targets (N, C, P, P)) batches, tensors.
    Worker processes send numpy batches (pickled bytes), not tensors: torch would pass those
    as shared file descriptors, through a listener thread that prints a traceback when the
    run is interrupted."""
    loader = torch.utils.data.DataLoader(SampleStream(sampler, seed, start), batch_size=batch,
                                         num_workers=workers, persistent_workers=workers > 0,
                                         worker_init_fn=_start_worker, collate_fn=_stack)
    return ((torch.from_numpy(images), torch.from_numpy(targets)) for images, targets in loader)


def _stack(samples: list) -> tuple[np.ndarray, np.ndarray]:
    images, targets = zip(*samples)
    return np.stack(images), np.stack(targets)


def _start_worker(worker: int) -> None:
    """Set-up of a sample-making process: signals are the trainer's to handle."""
    leave_signals_to_parent()


def fixed_set(sampler: Sampler, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` samples drawn once with ``seed``, stacked (a fixed validation set)."""
    stream = iter(SampleStream(sampler, seed, purpose=1))
    images, targets = _stack([next(stream) for _ in range(count)])
    return torch.from_numpy(images), torch.from_numpy(targets)


@dataclass
class Settings:
    """Hyper-parameters of one run."""

    steps: int = 3000
    batch: int = 12
    learning_rate: float = 2e-3
    seed: int = 0
    loss: str = "bce"
    cosine: bool = True  # cosine decay of the step size to 0; False keeps it constant
    workers: int = 0
    validate_every: int = 250
    checkpoint_every: int = 250
    log_every: int = 50
    #: Decay of the exponential moving average of the weights that is validated and returned
    #: (it evens out the swings of small, noisy batches); 0 = off, the raw weights.
    ema: float = 0.0

    def __post_init__(self):
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) \
                or not 0 <= self.workers <= MAX_WORKERS:
            raise ParameterError(f"workers must be a whole number from 0 to {MAX_WORKERS}; got "
                                 f"{self.workers!r}", "workers")


@dataclass
class History:
    """Per-iteration training loss and the validation records."""

    loss: list[float] = field(default_factory=list)
    validation: list[dict] = field(default_factory=list)


def keeps_torch_rng(function):
    """Run ``function`` on a fork of torch's global CPU generator: a run seeds it for
    reproducible weights and batches, and the caller's generator is left as it was."""
    @functools.wraps(function)
    def seeded_apart(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            return function(*args, **kwargs)
    return seeded_apart


@keeps_torch_rng
def train(model: torch.nn.Module, sampler: Sampler, settings: Settings, *,
          checkpoint: Path | None = None, resume: bool = False,
          validate: Callable[[torch.nn.Module], dict] | None = None,
          console: Console | None = None) -> History:
    """Train ``model`` in place on batches of ``sampler``; return the history. With
    ``settings.ema`` the moving average of the weights is what ``validate`` sees and what
    ``model`` holds at the end.

    With ``checkpoint`` the model, its average, optimiser, schedule and history are saved there
    every ``checkpoint_every`` steps and at the end; ``resume`` continues from that file.
    """
    torch.manual_seed(settings.seed)
    console = console or Console(stderr=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, settings.steps)
                                                    / settings.steps)) if settings.cosine else 1.0)
    average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(settings.ema)) \
        if settings.ema else None
    history, step = History(), 0
    if resume:
        if checkpoint is None or not checkpoint.is_file():
            raise ResourceError(f"{checkpoint}: no checkpoint to resume from")
        try:
            state = torch.load(checkpoint, weights_only=True)
            model.load_state_dict(state["model"])
            optimiser.load_state_dict(state["optimiser"])
            schedule.load_state_dict(state["schedule"])
            if average is not None:
                average.load_state_dict(state["average"])
            history, step = History(**state["history"]), state["step"]
        except pickle.UnpicklingError:  # torch's message advises an unsafe load: not shown
            raise ResourceError(f"{checkpoint}: not a readable checkpoint (damaged, cut short, "
                                "another format, or holding more than tensors)") from None
        except Exception as exc:  # a foreign, damaged or other model's file
            raise ResourceError(f"{checkpoint}: not a checkpoint of this model "
                                f"({reason(exc)})") from None
        console.print(f"resumed from {checkpoint} at step {step}")
    loss_function = LOSSES[settings.loss]
    stream = batches(sampler, settings.batch, settings.seed, settings.workers, start=step)
    model.train()
    started, first = time.perf_counter(), step
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.4f}  {task.fields[rate]:.2f} it/s"),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("training", total=settings.steps, completed=step, loss=0.0, rate=0.0)
        while step < settings.steps:
            images, targets = next(stream)
            loss = loss_function(model(images), targets)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            if average is not None:
                average.update_parameters(model)
            step += 1
            history.loss.append(loss.item())
            rate = (step - first) / (time.perf_counter() - started)
            bar.update(task, completed=step, loss=float(np.mean(history.loss[-50:])), rate=rate)
            if step % settings.log_every == 0 or step == settings.steps:
                console.print(f"step {step}/{settings.steps} loss "
                              f"{np.mean(history.loss[-settings.log_every:]):.4f} "
                              f"{rate:.2f} it/s", highlight=False)
            if validate and (step % settings.validate_every == 0 or step == settings.steps):
                record = {"step": step, **validate(average.module if average else model)}
                model.train()
                history.validation.append(record)
                console.print("validation " + " ".join(
                    f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in record.items()), highlight=False)
            if checkpoint and (step % settings.checkpoint_every == 0 or step == settings.steps):
                _save_checkpoint(checkpoint, model, average, optimiser, schedule, history, step)
    if average is not None:
        model.load_state_dict(average.module.state_dict())
    return history


def _save_checkpoint(path: Path, model, average, optimiser, schedule, history: History,
                     step: int) -> None:
    extra = {} if average is None else {"average": average.state_dict()}
    with AtomicFile(path) as output:
        torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                    "schedule": schedule.state_dict(), "history": asdict(history),
                    "step": step, **extra}, output.file)
