"""Writing files so that a crash never leaves a half-written one.

`atomic_write` writes a temporary file in the target's directory (same file system, so the
rename is atomic), flushes and fsyncs it, gives it the original's owner, group and permission
bits, renames it over the target and fsyncs the directory so the rename itself survives a power
cut. Readers see either the old bytes or the new ones, never a mix; on any failure the target is
as it was and the temporary file is removed. A file nobody may write is refused, not replaced
(a rename would succeed where a write would not, e.g. as root).

Temporary files are named ``.NAME.codeai-PID-RANDOM.tmp``: a later run recognises the ones a
killed process left (:func:`remove_stale_temp_files`) by the PID no longer running.

Tests only: `CODEAI_ATOMIC_FAULT=<point>:<text>` kills the process (`os._exit`, no cleanup, as
kill -9 would) inside a write whose target path contains <text>: at `partial` (temp file created,
half the data written) or `renaming` (temp file complete, just before the rename). It proves the
"old or new, no temp file left" promise of callers such as migrate-dsl (see `_fault`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

_UMASK: int | None = None
_TMP_SUFFIX = ".tmp"
_TMP_TAG = "codeai-"
# Temp files of older versions had no PID (mkstemp's 8 random characters), and PIDs get reused;
# past this age no write can still be in progress.
_STALE_SECONDS = 3600
_OURS = re.compile(r"^\.(?P<name>.+)\.(?:codeai-(?P<pid>\d+)-[A-Za-z0-9_]+|[A-Za-z0-9_]{8})\.tmp$")
_FAULT_ENV = "CODEAI_ATOMIC_FAULT"


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *,
                 mode_from: str | os.PathLike[str] | None = None) -> None:
    """Replace `path` with `data` atomically. Text is encoded as UTF-8 with no newline
    translation (CRLF stays CRLF). Permission bits come from `mode_from` if given, else from the
    existing file, else the process umask applies. A symlink is followed: its target is
    replaced and the link kept."""
    target = Path(os.path.realpath(path))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    existing = _stat_or_none(target)
    if existing is not None:
        check_writable(target, existing)
    mode = _mode_of(Path(mode_from) if mode_from is not None else target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{_TMP_TAG}{os.getpid()}-", suffix=_TMP_SUFFIX,
                               dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if _FAULT_ENV in os.environ:
                fh.write(payload[:len(payload) // 2])
                fh.flush()
                _fault("partial", target)
            fh.write(payload[fh.tell():])
            fh.flush()
            os.fsync(fh.fileno())
        if existing is not None:
            _keep_owner(tmp, target, existing)
        os.chmod(tmp, mode)  # after chown, which clears set-id bits
        if _FAULT_ENV in os.environ:
            _fault("renaming", target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(target.parent)


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def check_writable(path: Path, st: os.stat_result | None = None) -> None:
    """Refuse to replace a file its permissions protect: no write bit at all, or none for us.

    Root passes `os.access` for any file, so the mode bits are checked as well: a 0444 file is
    read-only on purpose, whoever runs the tool.
    """
    st = st if st is not None else path.stat()
    if not stat.S_IMODE(st.st_mode) & 0o222 or not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "file is not writable (permissions kept it read-only); "
                              "left untouched", str(path))


def _keep_owner(tmp: str, target: Path, st: os.stat_result) -> None:
    """Give the new file the old one's owner and group (a rename would make them ours)."""
    if (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid()) and os.stat(tmp).st_gid == st.st_gid:
        return
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except PermissionError as exc:
        raise PermissionError(errno.EPERM, f"cannot keep its owner and group ({st.st_uid}:{st.st_gid}) "
                              "when replacing it; left untouched", str(target)) from exc


def _fault(point: str, target: Path) -> None:
    """Test-only fault injection (module docstring): die here if the spec names this point."""
    want, _, needle = os.environ.get(_FAULT_ENV, "").partition(":")
    if want == point and needle and needle in str(target):
        os._exit(70)


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
        if _OURS.match(tmp.name):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def remove_stale_temp_files_in(directories: Iterable[str | os.PathLike[str]], suffix: str = "") -> list[Path]:
    """Remove our temp files (for targets ending in `suffix`) whose writer is gone: its PID is
    not running, or (older naming, no PID) it is more than an hour old. Safe while other runs
    write in the same directories: a live writer's files are left alone."""
    removed = []
    for directory in directories:
        with contextlib.suppress(OSError), os.scandir(directory) as entries:
            for entry in entries:
                match = _OURS.match(entry.name)
                if match and match["name"].endswith(suffix) and _is_stale(entry, match["pid"]):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
    return removed


def _is_stale(entry: os.DirEntry[str], pid: str | None) -> bool:
    """Its writer is gone, or (PID unknown or reused) no write can last this long."""
    if pid is not None and not _pid_alive(int(pid)):
        return True
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > _STALE_SECONDS
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
