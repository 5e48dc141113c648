"""Reading an input file (or ``-`` for stdin) whole, with a size limit: a path that is not a
regular file (a named pipe, ``/dev/zero``) is refused before it is opened, and stdin is read
in bounded chunks, so that an endless stream is refused rather than read until memory runs
out."""

from __future__ import annotations

import os
import stat
import sys

from ..errors import DofkitError, InputError
from .formats import reason

STDIO = "-"
#: Largest text input (a detections file, a list of inputs), in bytes.
TEXT_MAX_BYTES = 256 << 20
_CHUNK = 1 << 20


def read_input(path: str | os.PathLike, max_bytes: int | None, *, what: str | None = None,
               error: type[InputError] = InputError,
               too_large: tuple[type[InputError], str] | None = None) -> bytes:
    """The content of ``path`` (``-`` = stdin), at most ``max_bytes`` (None: no limit).
    Missing, a folder, not a regular file, empty or unreadable -> ``error`` naming it, as
    ``"NAME: cannot read WHAT (problem)"`` when ``what`` is given, else ``"NAME: problem"``;
    larger -> ``too_large`` = (error class, advice added to the message), by default
    ``error``."""
    name = str(path)

    def failure(problem: str, kind: type[InputError] = error) -> InputError:
        return _failure(kind, name, problem, what)

    kind, advice = too_large or (error, "")
    refused = failure(f"too large (over {max_bytes or 0:,} bytes){advice}", kind)
    if name == STDIO:
        if sys.stdin is None or not hasattr(sys.stdin, "buffer"):
            raise failure("stdin is closed")
        data = _read_stream(sys.stdin.buffer, max_bytes)
    else:
        try:
            status = os.stat(path)  # before open(), which waits for a FIFO's writer
            if stat.S_ISDIR(status.st_mode):
                raise failure("is a directory" + ("" if what else ", not an image"))
            if not stat.S_ISREG(status.st_mode):  # read without end, or never
                raise failure(f"not a regular file ({file_kind(status.st_mode)}); give "
                              "a file, or '-' for standard input")
            if max_bytes is not None and status.st_size > max_bytes:
                raise refused
            with open(path, "rb") as stream:
                data = stream.read()
        except FileNotFoundError:
            raise failure("no such file") from None
        except OSError as exc:
            raise failure(exc.strerror or reason(exc) if what else
                          f"cannot read ({exc.strerror or reason(exc)})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise refused
    if not data:
        raise failure("empty file (0 bytes)")
    return data


def file_kind(mode: int) -> str:
    """What a file that is not regular is, by its ``st_mode``, for a message ("a named
    pipe", "a device", ...)."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
    return next((kind for test, kind in kinds if test(mode)), "a special file")


def refuse_irregular(path: str | os.PathLike, *, what: str | None = None, advice: str = "",
                     error: type[DofkitError] = InputError) -> None:
    """``error`` naming ``path`` when it exists but is not a regular file (a folder, or a FIFO
    or device such as /dev/zero, which would be read without end); missing or regular passes.
    The message reads as :func:`read_input`'s, ``"NAME: cannot read WHAT (not a regular
    file)"`` or ``"NAME: not a regular file"`` + ``advice``."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise _failure(error, str(path), "not a regular file" + advice, what)


def _failure(kind: type[DofkitError], name: str, problem: str, what: str | None) -> DofkitError:
    """``kind("NAME: problem")``, or ``kind("NAME: cannot read WHAT (problem)")``."""
    return kind(f"{name}: {problem}" if what is None else f"{name}: cannot read {what} ({problem})")


def _read_stream(stream, max_bytes: int | None) -> bytes:
    """All of ``stream``, in chunks, stopping one chunk past ``max_bytes`` (so memory never
    holds much more than the limit, and never the limit before the data is there)."""
    chunks, total = [], 0
    while chunk := stream.read(_CHUNK):
        chunks.append(chunk)
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            break
    return b"".join(chunks)


def read_text_input(path: str | os.PathLike, what: str, *, file_names: bool = False) -> str:
    """UTF-8 text of ``path`` (``-`` = stdin), at most :data:`TEXT_MAX_BYTES`; InputError
    ``"NAME: cannot read WHAT (problem)"`` otherwise (``what``, e.g. ``"the list of
    inputs"``). With ``file_names``, bytes that are not UTF-8 are kept as the OS keeps them in
    names (``os.fsdecode``: a file name need not be UTF-8), and a NUL byte, which no name
    holds, is refused (the file is not a list of names). White space only is refused as
    empty."""
    data = read_input(path, TEXT_MAX_BYTES, what=what)
    if file_names and b"\0" in data:
        raise InputError(f"{path}: cannot read {what} (a NUL byte at byte {data.index(0)}: "
                         "not a list of file names)")
    try:
        text = os.fsdecode(data) if file_names else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read {what} (not UTF-8 text: {exc.reason} at byte "
                         f"{exc.start})") from None
    if not text.removeprefix("\ufeff").strip():  # as empty as 0 bytes (a BOM aside)
        raise InputError(f"{path}: cannot read {what} (empty file: white space only)")
    return text
