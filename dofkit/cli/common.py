"""Shared CLI pieces: the stderr console, one-line errors and notices, and option checks."""

from __future__ import annotations

import functools
import os
import sys
from typing import Callable

import typer
from rich.console import Console

from ..errors import DofkitError, ParameterError

#: Everything for people goes to stderr; stdout carries only data.
console = Console(stderr=True, soft_wrap=True, highlight=False)

#: Library parameter -> the option that sets it, for messages (a library names its own).
OPTION_NAMES = {"strength": "--smooth", "smooth": "--smooth", "every": "--every", "max_rois": "--max",
                "min_area": "--min-area", "view": "--map-view", "inputs": "IN",
                "name": "--name", "start": "--start",
                "duration": "--duration", "rate": "--fps", "threshold": "--threshold",
                "gate": "--gate", "pad": "--pad", "merge": "--merge", "depth": "--depth",
                "fraction": "--fraction", "aspect": "--aspect", "method": "--method",
                "device": "--device", "backend": "--backend", "style": "--style",
                "weights": "--weights", "max_pixels": "--max-pixels",
                "coherence": "--coherence", "init": "--init", "address": "--ray-address",
                "threads": "--threads", "report": "--report", "checkpoint": "--checkpoint",
                "export": "--export", "jobs": "--jobs"}


def printable(text: str) -> str:
    """``text`` with control characters (newlines, terminal escapes) shown as escapes."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def option_message(exc: DofkitError) -> str:
    """The message of ``exc``, naming the CLI option where the library named its parameter."""
    message = str(exc)
    parameter = getattr(exc, "parameter", None)
    option = OPTION_NAMES.get(parameter or "")
    if option and message.startswith(parameter):
        message = option + message[len(parameter):]
    return message


def error_line(message: str) -> None:
    """``dofkit: error: ...`` on one line of stderr."""
    console.print(f"[red]dofkit: error:[/red] {escape(printable(message))}")


def exit_at_once(message: str) -> None:
    """Say ``message`` and end the process with 130 now (:func:`end_now`)."""
    error_line(message)
    end_now(130)


def end_now(code: int) -> None:
    """End the process with ``code`` now, the output streams flushed, without the
    interpreter's wind-down (threads still working are not waited for; a Ray driver
    interrupted while it was starting can crash in it: SIGSEGV or SIGABRT, exit 139 or
    134). For the CLI only, which owns the process."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or its reader gone
            pass
    os._exit(code)


def fail(message: str, code: int = 2) -> None:
    """Print one error line and exit with ``code`` (2: usage, 1: failure)."""
    error_line(message)
    raise typer.Exit(code)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal: image bytes are then refused (as gzip does), and no live
    progress bar is drawn among data written there."""
    return sys.stdout is not None and sys.stdout.isatty()


def notice(message: str) -> None:
    """One-line notice on stderr."""
    console.print(f"dofkit: {printable(message)}", markup=False)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def guarded(command: Callable) -> Callable:
    """Run a command so that no traceback reaches the user: a dofkit error is one line, exit 2
    for a refused option (a usage error, like click's own) and 1 for anything else (an input,
    an output, a resource); an unexpected error is an 'internal error' line."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:  # the reader of stdout has gone: end quietly, like cat
            sys.stderr.close()
            raise typer.Exit(1) from None
        except DofkitError as exc:
            fail(option_message(exc), 2 if isinstance(exc, ParameterError) else 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            from ..io.formats import reason

            fail(f"internal error ({type(exc).__name__}: {reason(exc)}); please report it "
                 "with the command that caused it", 1)

    return wrapper


def refuse_unused(context: typer.Context, names: tuple[str, ...], reason: str) -> None:
    """Fail with a usage error when any parameter in ``names`` was given on the command line,
    since it would be ignored ``reason`` (e.g. "with --aspect"): options are never silently
    dropped."""
    for name in names:
        source = context.get_parameter_source(name)  # click's ParameterSource enum
        if getattr(source, "name", None) == "COMMANDLINE":
            option = next(p.opts[0] for p in context.command.params if p.name == name)
            fail(f"{option} does nothing {reason}")
