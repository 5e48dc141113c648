"""Keep native libraries' chatter (libtiff, libpng, libjpeg, OpenCV) off the user's stderr,
and the command's exit code independent of whether its diagnostics could be written.

The C libraries write straight to file descriptor 2. The command (the process owner, never
the library) points descriptor 2 at /dev/null and gives Python's ``sys.stderr`` a copy of
the real one, so dofkit's own messages and Python errors still show. Either way
``sys.stderr`` drops what it cannot write (``2>/dev/full``, a reader gone): a message that
cannot be shown must not turn a done run into a crash or Python's exit code 120."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings


def hold_closed_standard_descriptors() -> None:
    """Open /dev/null on each of descriptors 0-2 that the caller closed (``>&-``), so that no
    file dofkit opens takes that number (native libraries would write their messages into
    it). ``sys.stdin`` and ``sys.stdout`` stay None: reading or writing them is reported as
    closed."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            held = os.open(os.devnull, os.O_RDWR)
            if held != descriptor:
                os.dup2(held, descriptor)
                os.close(held)


def silence_native() -> None:
    """Redirect fd 2 to /dev/null, keeping ``sys.stderr`` on the original stream; also mute
    Python warnings, the image libraries' Python log and OpenCV's log."""
    if sys.stderr is not None:  # None: closed by the caller; fd 2 is then /dev/null
        with contextlib.suppress(OSError):
            sys.stderr.flush()
    try:
        original = os.dup(2)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
    except OSError:  # no descriptor to spare: native messages stay on stderr
        forgiving_stderr()
        return
    forgiving_stderr(original, own=True)
    warnings.simplefilter("ignore")
    logging.getLogger("PIL").addHandler(logging.NullHandler())  # its decoders log errors too
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


def forgiving_stderr(descriptor: int = 2, *, own: bool = False) -> None:
    """Make ``sys.stderr`` (and the console) a line-buffered UTF-8 stream on ``descriptor``
    that drops the bytes it cannot write; ``own``: close the descriptor with the stream."""
    raw = _Forgiving(descriptor, "w", closefd=own)
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors="replace",
                                  line_buffering=True)
    from .common import console

    console.file = sys.stderr


class _Forgiving(io.FileIO):
    """A descriptor for diagnostics: a write that fails (full disk, closed pipe) counts as
    done, so the stream never raises and never keeps bytes for a flush at exit to fail on."""

    def write(self, data) -> int:
        try:
            return super().write(data)
        except OSError:
            return len(data)
