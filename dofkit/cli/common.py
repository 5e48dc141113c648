"""Shared CLI pieces: stderr console, one-line errors, batch runs with progress, output paths."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn)

from ..errors import DofkitError

#: Everything for people goes to stderr; stdout carries only data.
console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print one ``dofkit: error: ...`` line on stderr and exit with ``code``."""
    console.print(f"[red]dofkit: error:[/red] {escape(message)}", highlight=False, markup=True)
    raise typer.Exit(code)


def notice(message: str) -> None:
    """One-line notice on stderr."""
    console.print(f"dofkit: {message}", highlight=False, markup=False)


def guarded(command: Callable) -> Callable:
    """Turn DofkitError (and a few OS errors) into a one-line message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DofkitError as exc:
            fail(str(exc), 1)
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


def progress_bar(total: int) -> Progress:
    """A rich progress bar on stderr, hidden for a single item."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, disable=total <= 1, transient=True)


def run_batch(items: list, work: Callable[[object], None], label: str = "") -> None:
    """Run ``work`` on every item with a progress bar; report each failure on one line, go on,
    and exit 1 at the end if any failed."""
    failures = 0
    with progress_bar(len(items)) as bar:
        task = bar.add_task(label or "working", total=len(items))
        for item in items:
            try:
                work(item)
            except DofkitError as exc:
                failures += 1
                bar.console.print(f"[red]dofkit: error:[/red] {escape(str(exc))}",
                                  highlight=False)
            bar.advance(task)
    if failures:
        if len(items) > 1:
            notice(f"{failures} of {len(items)} inputs failed")
        raise typer.Exit(1)


def output_paths(inputs: list[str], output: str | None, out_dir: Path | None,
                 suffix: str = ".png") -> Iterator[tuple[str, str]]:
    """Pair every input with its output: ``-o OUT`` for one input, ``DIR/<stem><suffix>`` with
    ``--out-dir``. Exits with a usage error for a bad combination."""
    if (output is None) == (out_dir is None):
        fail("give exactly one of -o/--output (one input) or --out-dir (any number of inputs)")
    if output is not None:
        if len(inputs) != 1:
            fail("-o/--output takes a single input; use --out-dir for several")
        yield inputs[0], output
        return
    assert out_dir is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    stems: set[str] = set()
    for source in inputs:
        stem = "stdin" if source == "-" else Path(source).stem
        if stem in stems:
            fail(f"two inputs share the name '{stem}': their outputs would collide in {out_dir}")
        stems.add(stem)
        yield source, str(out_dir / f"{stem}{suffix}")


def refuse_unused(context: typer.Context, names: tuple[str, ...], reason: str) -> None:
    """Fail with a usage error when any parameter in ``names`` was given on the command line,
    since it would be ignored ``reason`` (e.g. "with --aspect"): options are never silently
    dropped."""
    for name in names:
        source = context.get_parameter_source(name)  # click's ParameterSource enum
        if getattr(source, "name", None) == "COMMANDLINE":
            option = next(p.opts[0] for p in context.command.params if p.name == name)
            fail(f"{option} does nothing {reason}")
