"""Writing files so that a crash never leaves a half-written one.

`atomic_write` writes a temporary file in the target's directory (same file system, so the
rename is atomic), flushes and fsyncs it, gives it the original's permission bits, renames it
over the target and fsyncs the directory so the rename itself survives a power cut. Readers
see either the old bytes or the new ones, never a mix; on any failure the target is as it was
and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from pathlib import Path

_UMASK: int | None = None
_TMP_SUFFIX = ".tmp"


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *,
                 mode_from: str | os.PathLike[str] | None = None) -> None:
    """Replace `path` with `data` atomically. Text is encoded as UTF-8 with no newline
    translation (CRLF stays CRLF). Permission bits come from `mode_from` if given, else from the
    existing file, else the process umask applies. A symlink is followed: its target is
    replaced and the link kept."""
    target = Path(os.path.realpath(path))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    mode = _mode_of(Path(mode_from) if mode_from is not None else target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(target.parent)


def _mode_of(path: Path) -> int:
    """Permission bits to give the new file: the existing file's, or 0o666 minus the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask (read once: os.umask can only be read by setting it)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Make a rename in `directory` durable. Platforms without directory fds are skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(path: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files an interrupted `atomic_write(path, …)` left behind (a killed
    process cannot clean up). Only call it when no write to `path` is in progress."""
    target = Path(os.path.realpath(path))
    removed = []
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*{_TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed
