"""Help screens in click's plain style: ``--jobs INTEGER``, ``--colormap [none|rainbow]``,
flags bare; not typer's ``<bool>`` / ``<list[str]>`` type markers. Paragraphs are re-flowed to
the terminal (up to :data:`HELP_WIDTH` columns) and each option's help wraps beside it, which
reads at 80 columns where rich's six-column panels squeeze it."""

from __future__ import annotations

import inspect

from typer import core

#: Widest help screen, however wide the terminal (longer lines read badly).
HELP_WIDTH = 120

_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "int range": "INTEGER",
          "float range": "NUMBER", "dir": "DIR", "file": "FILE", "path": "PATH"}


def choices(values) -> str:
    """The value name of an option taking one of ``values``: ``[cpu|cuda]``."""
    return f"[{'|'.join(values)}]"


def _value_name(self, ctx) -> str | None:
    if getattr(self, "is_flag", False) or getattr(self, "is_bool_flag", False):
        return None
    if self.metavar is not None:
        return self.metavar
    label = self.display_type(ctx).strip("<>")
    if label == "bool":
        return None
    if "|" in label:
        return choices(label.split("|"))
    return _NAMES.get(label, label.upper())


def summary(command) -> str:
    """The first paragraph of ``command``'s docstring, whole: its line in ``dofkit --help``
    (click would cut it at about 45 characters)."""
    return " ".join(inspect.getdoc(command).split("\n\n")[0].split())


def use_plain_help() -> None:
    """Make typer's help show value names, not type markers (the command owns the process)."""
    core.TyperOption.display_type_rich = _value_name
    core.TyperArgument.display_type_rich = lambda self, ctx: None
