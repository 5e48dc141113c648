"""The `dofkit` command. Each subcommand lives in its own module and imports heavy libraries
(torch, moderngl) only when it runs, so `dofkit --help` and `--version` stay fast."""

from __future__ import annotations

from typing import Optional

import typer

from .._version import __version__
from .detect_cmd import detect_command
from .eval_cmd import eval_command
from .map_cmd import map_command
from .roi_cmd import roi_command
from .serve_cmd import serve_command
from .stylize_cmd import stylize_command
from .train_cmd import train_command
from .video_cmd import video_command

app = typer.Typer(
    name="dofkit",
    help="Find the in-focus region of photos and put it to work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for _name, _command in (("map", map_command), ("stylize", stylize_command),
                       ("roi", roi_command), ("detect", detect_command),
                       ("video", video_command), ("eval", eval_command),
                       ("train", train_command), ("serve", serve_command)):
    app.command(_name)(_command)


def _version(value: bool) -> None:
    if value:
        print(f"dofkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Optional[bool] = typer.Option(None, "--version", callback=_version,
                                                is_eager=True, help="Print the version.")):
    """dofkit: focus maps (1 = in focus) and the tools that use them."""


def run() -> None:
    """Console-script entry point."""
    app()
