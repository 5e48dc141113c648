"""The `dofkit` command. Each subcommand lives in its own module and imports heavy libraries
(torch, moderngl) only when it runs, so `dofkit --help` and `--version` stay fast."""

from __future__ import annotations

import importlib
from typing import Optional

import typer

from .._version import __version__
from .eval_cmd import eval_command
from .map_cmd import map_command

app = typer.Typer(
    name="dofkit",
    help="Find the in-focus region of photos and put it to work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("map")(map_command)
app.command("eval")(eval_command)

# TEMPORARY during parallel development: consumer commands register when their module exists.
for _name in ("stylize", "roi", "detect", "video", "train"):
    try:
        _module = importlib.import_module(f"dofkit.cli.{_name}_cmd")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"dofkit.cli.{_name}_cmd":
            raise
        continue
    app.command(_name)(getattr(_module, f"{_name}_command"))


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
