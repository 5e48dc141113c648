"""The one way dofkit writes a file: all or nothing, and no litter.

Bytes go to an unnamed temporary file in the target's folder (Linux ``O_TMPFILE``), which is
given a short hidden name and renamed over the target only when complete. A process killed
with ``kill -9`` therefore leaves nothing behind; where the file system has no ``O_TMPFILE``
a named ``.dofkit-HOST-PID-XXXX.part`` file is used, and such files of dead processes on this
host are removed the next time dofkit writes into that folder.

A symbolic link is written through: the file it points to is replaced and the link stays. A
target that is not a file, a character device or a pipe (``/dev/null``, a FIFO), or one of
the process's open descriptors (``/dev/stdout``, ``/dev/fd/N``), cannot be replaced: the bytes
are kept in an unnamed temporary file and written into it on commit (into the descriptor
itself, so ``>> log`` appends). A block device is refused.

>>> with AtomicFile("out.bin") as output:        # doctest: +SKIP
...     output.file.write(b"data")               # committed (renamed) on leaving the block
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import OutputError

_PREFIX = ".dofkit-"
_SUFFIX = ".part"
#: What ``os.link`` fails with where a file system has no hard links.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS}
_swept: set[str] = set()


def os_reason(exc: OSError) -> str:
    """The short reason of an OS error (its strerror), without the file name repeated."""
    return exc.strerror or type(exc).__name__


def make_folder(folder: Path, what: Path) -> None:
    """Create ``folder`` (and parents) for output ``what``; OSError -> OutputError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{what}: cannot make folder {folder} (a file is in the way)") from None
    except OSError as exc:
        raise OutputError(f"{what}: cannot make folder {folder} ({os_reason(exc)})") from None


class AtomicFile:
    """A file being written for ``target``; ``file`` is its binary stream (readable and
    seekable, as video muxers need).

    :meth:`commit` gives it its name (``target`` or another one), :meth:`commit_new` the first
    free one of several (e.g. ``.partial`` names); :meth:`discard` drops it. As a context
    manager it commits on success and discards on an exception. OS errors (missing or
    read-only folder, full disk, name too long) become :class:`OutputError` naming
    ``target``. The folder is created when missing.
    """

    def __init__(self, target: str | os.PathLike):
        self.target = Path(target)
        self._named: Path | None = None
        self._stream = _stream_of(self.target)
        if self._stream is not None:
            self._folder = None
            self.file = tempfile.TemporaryFile()
            return
        try:
            self._folder = _through_links(self.target).parent
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write ({os_reason(exc)})") from None
        make_folder(self._folder, self.target)
        _sweep(self._folder)
        try:
            descriptor = self._open()
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write ({os_reason(exc)})") from None
        self.file = os.fdopen(descriptor, "w+b")

    def _open(self) -> int:
        try:
            return os.open(self._folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                raise
        self._named = self._folder / _temporary_name()
        return os.open(self._named, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o666)

    def write(self, data: bytes) -> None:
        """Append ``data``; an OS error (a full disk) is an OutputError naming the target."""
        try:
            self.file.write(data)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write ({os_reason(exc)})") from None

    def commit(self, name: str | os.PathLike | None = None) -> Path:
        """Flush, sync and rename the file to ``name`` (default: the target), replacing the
        file there; returns it. A stream target (see the module docstring) gets the bytes
        whatever ``name`` is."""
        if self._stream is not None:
            return self._copy_into_stream()
        final = self.target if name is None else Path(name)
        try:
            os.replace(self._sealed(), _through_links(final))
        except OSError as exc:
            self._fail(final, exc)
        self._named = None
        return final

    def commit_new(self, names: Iterable[str | os.PathLike]) -> Path:
        """Flush, sync and give the file the first of ``names`` that nothing has; returns it.
        Each name is taken with a hard link, which fails on an existing one (a file, a link,
        a name another process took a moment ago): nothing is ever replaced. A stream target
        gets the bytes, as with :meth:`commit`."""
        if self._stream is not None:
            return self._copy_into_stream()
        final = self.target
        try:
            sealed = self._sealed()
            for final in map(Path, names):
                if self._take(sealed, final):
                    return final
        except OSError as exc:
            self._fail(final, exc)
        self.discard()
        raise OutputError(f"{self.target}: no free name to keep it under")

    def _take(self, sealed: Path, final: Path) -> bool:
        """Give the ``sealed`` file the name ``final`` if nothing has it; True when it did.
        Where hard links are not supported (FAT, some network and FUSE file systems) the
        name is checked, then the file renamed: another process could take the name in
        between, the one race left there."""
        try:
            os.link(sealed, final)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            if os.path.lexists(final):
                return False
            os.rename(sealed, final)
            self._named = None
            return True
        self.discard()  # drops the temporary name; the file stays under ``final``
        return True

    def _sealed(self) -> Path:
        """Flush, sync and close the file; its temporary name (given now if it has none)."""
        self.file.flush()
        os.fsync(self.file.fileno())
        if self._named is None:
            self._named = self._folder / _temporary_name()
            _link_unnamed(self.file.fileno(), self._named)
        self.file.close()
        return self._named

    def _fail(self, name: Path, exc: OSError) -> None:
        """Discard the file and raise the OutputError of ``exc`` naming ``name``."""
        self.discard()
        raise OutputError(f"{name}: cannot write ({os_reason(exc)})") from None

    def _copy_into_stream(self) -> Path:
        """Commit of a stream target: write the bytes into it (an open descriptor of this
        process, else the device or pipe opened for writing)."""
        try:
            self.file.seek(0)
            if isinstance(self._stream, int):
                with os.fdopen(os.dup(self._stream), "wb") as stream:
                    shutil.copyfileobj(self.file, stream)
            else:
                with open(self._stream, "wb") as stream:
                    shutil.copyfileobj(self.file, stream)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write ({os_reason(exc)})") from None
        finally:
            self.discard()
        return self.target

    def discard(self) -> None:
        """Close and forget the file (nothing is left on disk)."""
        try:
            self.file.close()
        except OSError:
            pass
        if self._named is not None:
            self._named.unlink(missing_ok=True)
            self._named = None

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` all or nothing (see :class:`AtomicFile`)."""
    with AtomicFile(target) as output:
        output.write(data)
    return Path(target)


def write_text_atomic(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` all or nothing."""
    return write_bytes_atomic(target, text.encode("utf-8"))


def _link_unnamed(descriptor: int, name: Path) -> None:
    """Give the O_TMPFILE file ``descriptor`` the name ``name`` (linkat, following the
    /proc/self/fd link; a directory fd makes os.link use linkat)."""
    folder = os.open(name.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(f"/proc/self/fd/{descriptor}", name.name, dst_dir_fd=folder)
    finally:
        os.close(folder)


def _through_links(path: Path) -> Path:
    """``path`` with symbolic links followed (to the file a link names, existing or not);
    OSError ELOOP for links that lead round in a loop (they name no file)."""
    if not os.path.islink(path):
        return path
    real = Path(os.path.realpath(path))
    if os.path.islink(real):  # realpath stops inside a loop
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    return real


_DESCRIPTOR = re.compile(r"/(?:dev/fd|proc/self/fd|proc/\d+/fd)/(\d+)$")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _stream_of(path: Path) -> int | Path | None:
    """What a target that a rename must not replace is written into: an open descriptor of
    this process (``/dev/stdout``, ``/dev/fd/N``), or the path of a character device, pipe or
    socket; None for a file (existing or not). A block device is an OutputError."""
    name = os.path.abspath(path)
    for _ in range(40):  # along a chain of links (``out.png`` -> ``/dev/stdout`` -> ...)
        if name in _STANDARD:
            return _STANDARD[name]
        match = _DESCRIPTOR.match(name)
        if match and (name.startswith("/dev/") or name.split("/")[2] in ("self",
                                                                          str(os.getpid()))):
            return int(match.group(1))
        if not os.path.islink(name):
            break
        name = os.path.join(os.path.dirname(name), os.readlink(name))
        name = os.path.abspath(name)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISBLK(mode):
        raise OutputError(f"{path}: is a block device; refusing to write onto it")
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else Path(path)


def _temporary_name() -> str:
    return f"{_PREFIX}{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}"


def _sweep(folder: Path) -> None:
    """Once per folder and process: remove temporaries left by dead dofkit processes of
    this host (only where O_TMPFILE was unavailable, or killed between link and rename)."""
    key = str(folder.resolve())
    if key in _swept:
        return
    _swept.add(key)
    host = socket.gethostname()[:32]
    try:
        names = [entry.name for entry in os.scandir(folder)
                 if entry.name.startswith(_PREFIX) and entry.name.endswith(_SUFFIX)]
    except OSError:
        return
    for name in names:
        owner, _, rest = name[len(_PREFIX):].rpartition("-")[0].rpartition("-")
        if owner == host and rest.isdigit() and not _alive(int(rest)):
            (folder / name).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
