"""The `dofkit` command. Each subcommand lives in its own module and imports heavy libraries
(torch, moderngl) only when it runs, so `dofkit --help` and `--version` stay fast."""

from __future__ import annotations

import signal
import sys
from typing import Optional

import typer

from .._version import __version__
from .detect_cmd import detect_command
from .eval_cmd import eval_command
from .help_style import HELP_WIDTH, summary, use_plain_help
from .map_cmd import map_command
from .roi_cmd import roi_command
from .serve_cmd import serve_command
from .stylize_cmd import stylize_command
from .train_cmd import train_command
from .video_cmd import video_command

use_plain_help()
app = typer.Typer(
    name="dofkit",
    help="Find the in-focus region of photos and put it to work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": HELP_WIDTH},
)
for _name, _command in (("map", map_command), ("stylize", stylize_command),
                       ("roi", roi_command), ("detect", detect_command),
                       ("video", video_command), ("eval", eval_command),
                       ("train", train_command), ("serve", serve_command)):
    app.command(_name, short_help=summary(_command))(_command)


def _version(value: bool) -> None:
    if value:
        print(f"dofkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Optional[bool] = typer.Option(None, "--version", callback=_version,
                                                is_eager=True, help="Print the version.")):
    """dofkit: focus maps (1 = in focus) and the tools that use them."""


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point (main thread): usage errors are one line and exit 2, like
    every other dofkit error; native libraries' warnings are kept off stderr unless
    --verbose. Once the command is done, a Ctrl-C, TERM or HUP ends the process at once."""
    from typer.exceptions import TyperException

    from .common import end_now
    from .quiet import forgiving_stderr, hold_closed_standard_descriptors, silence_native

    hold_closed_standard_descriptors()
    arguments = sys.argv[1:] if argv is None else argv
    if {"-v", "--verbose"} & set(arguments):
        forgiving_stderr()
    else:
        silence_native()
    for number in (signal.SIGTERM, signal.SIGHUP):  # like Ctrl-C: stop cleanly, keep the done
        signal.signal(number, signal.default_int_handler)
    try:
        code = app(args=arguments, prog_name="dofkit", standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        code = 130
    except TyperException as exc:  # click's usage errors, as typer vendors them
        if type(exc).__name__ == "NoArgsIsHelpError":  # no arguments: the help alone
            exc.show()
            code = 2
        else:
            code = _one_line(" ".join(getattr(exc, "format_message", exc.__str__)().split()), 2)
    except Exception as exc:  # outside any command (help, parsing): still no traceback
        code = _one_line(f"internal error ({type(exc).__name__}: {exc})", 1)
    code = code if isinstance(code, int) else 0
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # the work is done and said: a Ctrl-C while the process winds down (threads joined,
        # files closed) ends it at once with the command's exit code, instead of a traceback
        # from an exit handler or the signal's own status
        signal.signal(number, lambda *_: end_now(code))
    sys.exit(code)


def _one_line(message: str, code: int) -> int:
    from .common import error_line

    error_line(message)
    return code
