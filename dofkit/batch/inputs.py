"""Which files a batch reads: files, folders (optionally recursive), globs and list files,
each with the relative path its outputs mirror under ``--out-dir``."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImageError, ParameterError
from ..io import STDIO
from ..io.inputs import read_text_input

#: Suffixes taken from folders and globs (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg")


@dataclass(frozen=True)
class Source:
    """One input: ``path`` as given (or found) and ``relative``, where its outputs go under
    ``--out-dir`` (the path below the folder or glob root it was found in; the file name
    alone for a file named directly)."""

    path: str
    relative: Path


def collect(arguments: list[str], *, recursive: bool = False,
            from_list: str | None = None) -> list[Source]:
    """Expand ``arguments`` (files, folders, quoted globs, ``-`` for stdin) and the lines of
    ``from_list`` (a file of paths, ``-`` for stdin) into sources, in order, duplicates
    dropped. A folder gives its images (and those of its sub-folders when ``recursive``);
    a named file that does not exist stays, to fail on its own; a video is refused with a
    pointer to ``dofkit video``."""
    named = list(arguments)
    if from_list == STDIO and STDIO in named:
        raise ParameterError("stdin ('-') cannot carry both an image and the --from list",
                             "from_list")
    if from_list is not None:
        named += _read_list(from_list)
    found: list[Source] = []
    empty = []  # folders and globs that gave no image
    for argument in named:
        expanded = _expand(argument, recursive)
        found += expanded
        if not expanded:
            empty.append(argument)
    seen: set[str] = set()
    unique = []
    for source in found:
        key = source.path if source.path == STDIO else os.path.abspath(source.path)
        if key not in seen:
            seen.add(key)
            unique.append(source)
    if not unique:
        given = f": {', '.join(map(repr, empty))} gave none" if empty else ""
        raise ParameterError(f"no input images{given} (folders and globs are searched for "
                             f"{', '.join(IMAGE_SUFFIXES)}; -r/--recursive for sub-folders)",
                             "inputs")
    return unique


def _read_list(name: str) -> list[str]:
    text = read_text_input(name, "the list of inputs", file_names=True)
    return [line.strip() for line in text.split("\n") if line.strip()  # not at U+2028 etc.
            and not line.lstrip().startswith("#")]


def _expand(argument: str, recursive: bool) -> list[Source]:
    if argument == STDIO:
        return [Source(STDIO, Path("stdin"))]
    path = Path(argument)
    if path.is_dir():
        return _folder(path, recursive)
    if glob.has_magic(argument) and not path.exists():
        root = _glob_root(argument)
        matches = sorted(glob.glob(argument, recursive=recursive))
        return [Source(match, Path(os.path.relpath(match, root))) for match in matches
                if Path(match).is_file() and Path(match).suffix.lower() in IMAGE_SUFFIXES]
    if path.suffix.lower() in VIDEO_SUFFIXES:
        raise ImageError(f"{argument}: a video; use `dofkit video {argument} OUT`")
    return [Source(argument, Path(path.name))]


def _folder(folder: Path, recursive: bool) -> list[Source]:
    files = folder.rglob("*") if recursive else folder.iterdir()
    images = sorted(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                    and not p.name.startswith("."))
    return [Source(str(p), p.relative_to(folder)) for p in images]


def _glob_root(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."
