"""Where each input's outputs go: ``-o`` for one input, or ``--out-dir`` mirroring the input
tree with names from a template; every collision refused before anything runs."""

from __future__ import annotations

import os
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ParameterError
from ..io import STDIO, check_suffix
from .inputs import Source

#: Fields a ``--name`` template may use.
TEMPLATE_FIELDS = ("stem", "name", "parent", "style", "index")


@dataclass
class Task:
    """One input's work: ``source``, ``targets`` (role -> path; ``"crop"`` is a pattern with
    ``{index}``) and the focus ``map`` file to use instead of computing one (or None)."""

    source: str
    targets: dict[str, str] = field(default_factory=dict)
    map: str | None = None

    def to_json(self) -> dict:
        return {"source": self.source, "targets": self.targets, "map": self.map}


def check_template(template: str) -> None:
    """Refuse a ``--name`` template with unknown, empty or formatted fields (``{}``,
    ``{stem!r}``, ``{stem:>9}``) or path separators going up, and an empty one."""
    if not template:
        raise ParameterError("name template is empty; e.g. '{stem}.png'", "name")
    try:
        pieces = [piece for piece in string.Formatter().parse(template) if piece[1] is not None]
    except ValueError as exc:
        raise ParameterError(f"name template {template!r}: {exc}", "name") from None
    for _, name, spec, conversion in pieces:
        if not name or spec or conversion:
            raise ParameterError(f"name template {template!r}: a field is a name in braces, "
                                 "such as {stem}, with no format or conversion", "name")
    used = {name for _, name, _, _ in pieces}
    unknown = used - set(TEMPLATE_FIELDS)
    if unknown:
        raise ParameterError(f"name template {template!r}: unknown field {{{sorted(unknown)[0]}}}"
                             f"; use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS[:4])}",
                             "name")
    if ".." in Path(template).parts or Path(template).is_absolute():
        raise ParameterError(f"name template {template!r} must stay inside the output folder",
                             "name")


def fill(template: str, source: Source, *, pattern: bool = False, **extra) -> str:
    """``template`` with ``{stem}``, ``{name}``, ``{parent}`` (and ``extra``) of ``source``.

    With ``pattern`` the result is itself a format pattern (a crop path, filled later with
    ``index``): the braces of the filled-in values are doubled, so that a file named
    ``a{x}.jpg`` gives ``a{{x}}...``, read back as ``a{x}...``."""
    relative = source.relative
    # realpath: links followed as far as they go (Path.resolve raises on a loop of links)
    parent = Path(os.path.realpath(source.path)).parent.name if source.path != STDIO else ""
    values = dict(stem=relative.stem, name=relative.name, parent=parent, **extra)
    if pattern:
        values = {key: escape(str(value)) for key, value in values.items()}
    try:
        return template.format(**values)
    except KeyError as exc:
        raise ParameterError(f"name template {template!r}: {{{exc.args[0]}}} means nothing "
                             "for this command", "name") from None


def place(sources: list[Source], template: str, out_dir: Path, *, pattern: bool = False,
          **extra) -> list[str]:
    """``out_dir/<sub-folders of the input>/<template filled>`` for every source; with
    ``pattern`` a format pattern (see :func:`fill`), the folders' braces doubled too."""
    def folder(source: Source) -> str:
        path = str(out_dir / source.relative.parent)
        return escape(path) if pattern else path

    return [str(Path(folder(source)) / fill(template, source, pattern=pattern, **extra))
            for source in sources]


def escape(text: str) -> str:
    """``text`` with its braces doubled: ``pattern.format(...)`` gives it back unchanged."""
    return text.replace("{", "{{").replace("}", "}}")


def file_key(path: str | os.PathLike) -> tuple[int, int] | str:
    """What identifies the file at ``path``: (device, inode) of an existing file, so that
    symbolic and hard links to it are the same file (as :func:`os.path.samefile` decides),
    else its absolute path."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):  # missing, unreachable, or a name with a NUL byte
        return os.path.abspath(path)
    return info.st_dev, info.st_ino


def refuse_inputs(outputs: list[tuple[str, str | os.PathLike | None]], inputs: list) -> None:
    """Refuse, before anything runs, an output among ``outputs`` ((parameter, path) pairs;
    None and '-' pass) that is one of the files ``inputs`` of the run (see :func:`file_key`):
    a ParameterError naming the parameter."""
    read = _keyed(inputs)
    for parameter, path in outputs:
        source = None if path is None or str(path) == STDIO else read.get(file_key(path))
        if source is not None:
            raise ParameterError(f"{parameter}: {_naming(path, source)} is an input of this "
                                 "run; name another file", parameter)


def refuse_collisions(tasks: list[Task], inputs: list[str], overwrite: bool = False, *,
                      others: Sequence[tuple[str, str | os.PathLike | None]] = ()) -> None:
    """Refuse, before anything runs, an output in a format dofkit does not write, two outputs
    with one path, and an output that is an input (image, map, detections, weights) of the
    run unless ``overwrite``, crop patterns included. ``others``: (parameter, path) pairs of
    the other files the run writes (the report; None and '-' pass), refused even with
    ``overwrite`` where they are an input or an output (ParameterError naming the parameter).
    Files are told apart by :func:`file_key` (through links)."""
    seen: dict = {}  # file key -> (output path, input, role) writing it
    patterns, to_stdout = [], []
    for task in tasks:
        for role, target in task.targets.items():
            if target == STDIO:
                to_stdout.append(role)
                if len(to_stdout) > 1:
                    raise ParameterError(f"two outputs would go to stdout ('-'): the "
                                         f"{to_stdout[0]} and the {role}; name a file for one")
                continue
            if role == "crop":
                clash = next((source for source, pattern in patterns
                              if os.path.abspath(pattern) == os.path.abspath(target)), None)
                if clash is not None:
                    raise ParameterError(f"{target}: the crops of {clash} and {task.source} "
                                         "would take the same names; use --name with "
                                         "{parent} or another template", "name")
                patterns.append((task.source, target))
                continue
            try:
                check_suffix(Path(target).suffix)
            except ParameterError as exc:
                raise ParameterError(f"{target}: {exc}", "path") from None
            key = file_key(target)
            if key in seen and seen[key][1] == task.source:
                raise ParameterError(f"{target}: the {seen[key][2]} and the {role} of "
                                     f"{task.source} would both be written here")
            if key in seen:
                raise ParameterError(f"{target}: two outputs would be written here "
                                     f"({seen[key][1]} and {task.source}); use --name with "
                                     "{parent} or another template", "name")
            seen[key] = (target, task.source, role)
    refuse_inputs(others, inputs)
    _refuse_outputs(others, seen, patterns)
    read = _keyed(inputs)
    for key, (target, owner, _) in seen.items():
        if key in read and not overwrite:
            raise ParameterError(f"{_naming(target, read[key])}: refusing to overwrite an input "
                                 f"file of this run (an output of {owner}; pass --overwrite)")
        for source, pattern in patterns:
            if _matches(pattern, os.path.abspath(target)):
                raise ParameterError(f"{target}: an output of {owner} is named like a crop of "
                                     f"{source}; choose other names", "name")
    for path in {os.path.abspath(p) for p in inputs if p and p != STDIO}:
        for source, pattern in patterns:
            if _matches(pattern, path) and not overwrite:
                raise ParameterError(f"{path}: refusing to overwrite an input file of this run "
                                     f"(a crop of {source} would take its name; pass "
                                     "--overwrite)")


def _refuse_outputs(others: Sequence, seen: dict, patterns: list) -> None:
    """ParameterError naming the parameter of the first of ``others`` ((parameter, path)
    pairs) that is an output in ``seen`` (file key -> (path, input, role)) or is named like
    a crop in ``patterns`` ((input, pattern) pairs)."""
    for parameter, path in others:
        if path is None or str(path) == STDIO:
            continue
        if (hit := seen.get(file_key(path))) is not None:
            target, owner, role = hit
            raise ParameterError(f"{parameter}: {_naming(path, target)} is an output of this run "
                                 f"(the {role} of {owner}); name another file", parameter)
        for source, pattern in patterns:
            if _matches(pattern, os.path.abspath(path)):
                raise ParameterError(f"{parameter}: {path} is named like a crop of {source}, an "
                                     "output of this run; name another file", parameter)


def _naming(path: str | os.PathLike, other: str) -> str:
    """``path``, and the file ``other`` (an input or output) it is when that is named
    otherwise."""
    same_name = os.path.abspath(path) == os.path.abspath(other)
    return str(path) if same_name else f"{path} (the same file as {other})"


def _keyed(paths: list) -> dict:
    """File key -> path, of the files among ``paths`` (None and '-' left out)."""
    return {file_key(p): str(p) for p in paths if p is not None and str(p) != STDIO}


def _matches(pattern: str, path: str) -> bool:
    """Whether ``path`` is a crop named by ``pattern`` (a format pattern with one
    ``{index}``; doubled braces stand for themselves)."""
    try:
        pieces = list(string.Formatter().parse(os.path.abspath(pattern)))
    except ValueError:
        return False
    fields = [name for _, name, _, _ in pieces if name is not None]
    if fields != ["index"]:
        return False
    at = next(k for k, (_, name, _, _) in enumerate(pieces) if name is not None)
    head = "".join(literal for literal, _, _, _ in pieces[:at + 1])
    tail = "".join(literal for literal, _, _, _ in pieces[at + 1:])
    middle = path[len(head):len(path) - len(tail)]
    return (len(path) > len(head) + len(tail) and path.startswith(head) and path.endswith(tail)
            and middle.isdigit())
