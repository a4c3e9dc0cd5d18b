"""Read input files (inventories, router configs) without surprises.

A path given by a user may name, or link to, something that is not a file:
`/dev/zero` never ends, `/dev/urandom` never ends either, a FIFO blocks the
reader until someone writes to it, a folder cannot be read at all. Only
regular files are read here, never more than a stated number of bytes (the
size reported by `stat` is not trusted: it is 0 for devices and may change
while the file is read), and opening never waits (O_NONBLOCK).
"""

from __future__ import annotations

import os
import stat

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC
_CHUNK = 1024 * 1024


class UnreadableFile(Exception):
    """The file cannot be used. `reason` is one of missing, folder, special,
    too_large, permission, other; `problem` says what is wrong in words."""

    def __init__(self, reason: str, problem: str):
        self.reason, self.problem = reason, problem
        super().__init__(problem)


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_mode(status: os.stat_result, limit: int) -> None:
    if stat.S_ISDIR(status.st_mode):
        raise UnreadableFile("folder", "is a folder, not a file")
    if not stat.S_ISREG(status.st_mode):
        raise UnreadableFile("special", f"is {_kind(status.st_mode)}, not a regular file")
    if status.st_size > limit:
        raise UnreadableFile(
            "too_large", f"is {format_size(status.st_size)}, more than the limit of {format_size(limit)}"
        )


def _os_error(exc: OSError) -> UnreadableFile:
    if isinstance(exc, FileNotFoundError):
        return UnreadableFile("missing", "no such file")
    if isinstance(exc, PermissionError):
        return UnreadableFile("permission", "permission denied")
    if isinstance(exc, IsADirectoryError):
        return UnreadableFile("folder", "is a folder, not a file")
    return UnreadableFile("other", f"cannot be read: {exc.strerror or exc}")


def _open_regular(path: str | os.PathLike[str], limit: int) -> int:
    # stat first: opening a device or a FIFO is itself an action (a tape
    # rewinds, a FIFO's writer is released), so those are refused unopened.
    _check_mode(os.stat(path), limit)
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        # The path may have been swapped for something else since the stat.
        _check_mode(os.fstat(descriptor), limit)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them.
    Raises UnreadableFile for anything else."""
    try:
        descriptor = _open_regular(path, limit)
    except OSError as exc:
        raise _os_error(exc) from None
    try:
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnreadableFile("too_large", f"is more than the limit of {format_size(limit)}")
        return b"".join(chunks)
    except OSError as exc:
        raise _os_error(exc) from None
    finally:
        os.close(descriptor)


def check_readable_file(path: str | os.PathLike[str], limit: int) -> None:
    """Raise UnreadableFile unless `path` is a regular file of at most `limit`
    bytes that this user can open; reads nothing."""
    try:
        os.close(_open_regular(path, limit))
    except OSError as exc:
        raise _os_error(exc) from None
