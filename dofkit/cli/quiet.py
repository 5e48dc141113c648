"""Keep native libraries' chatter (libtiff, libpng, libjpeg, OpenCV) off the user's stderr.

The C libraries write straight to file descriptor 2. The command (the process owner, never
the library) points descriptor 2 at /dev/null and gives Python's ``sys.stderr`` a copy of
the real one, so dofkit's own messages and Python errors still show."""

from __future__ import annotations

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
    try:
        if sys.stderr is not None:  # None: closed by the caller; fd 2 is then /dev/null
            sys.stderr.flush()
        original = os.dup(2)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
    except OSError:
        return
    sys.stderr = os.fdopen(original, "w", buffering=1, encoding="utf-8", errors="replace",
                           closefd=True)
    from .common import console

    console.file = sys.stderr
    warnings.simplefilter("ignore")
    logging.getLogger("PIL").addHandler(logging.NullHandler())  # its decoders log errors too
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
