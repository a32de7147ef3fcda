"""Finding and reading `.cai` sources: files, directories (recursed) and `-` for stdin.

Reading never raises for bad content: undecodable bytes become a diagnostic so that the
caller reports `file:line:col` and moves on to the next file. Only regular files are read:
a FIFO named `x.cai` would block `open()` forever, so the type is checked on a non-blocking
descriptor before any read (use `-` to read a pipe).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codeai_lang.diagnostics.model import Diagnostic, Severity

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "build", "dist", "target"})
STDIN = "-"


class SourceError(Exception):
    """A path that cannot be used (missing, unreadable): a usage/I-O error (exit 2)."""


class NotRegularFile(OSError):
    """A FIFO, socket or device where a source file was expected."""


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"))


@dataclass(slots=True)
class Source:
    """A source file as read: its text, and the decoding problem if its bytes were not UTF-8."""

    path: str  # as shown to the user
    text: str
    decode_error: Diagnostic | None = None


def discover(paths: list[str], *, keep_missing: bool = False) -> Iterator[str]:
    """Expand PATHs to `.cai` files: files as given, directories recursed in sorted order,
    hidden and build directories skipped. Raises SourceError for a missing path, unless
    `keep_missing`: then it is yielded, for the caller to report with the other files."""
    for raw in paths:
        if raw == STDIN:
            yield raw
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        elif path.exists() or path.is_symlink() or keep_missing:
            yield raw
        else:
            raise SourceError(f"{raw}: no such file or directory")


def _walk(root: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            if name.endswith(".cai") and not name.startswith("."):
                yield os.path.join(dirpath, name)


def read_source(path: str) -> Source:
    """Read and decode one source; raises SourceError only for I/O failures."""
    try:
        data = sys.stdin.buffer.read() if path == STDIN else read_regular_file(path)
    except OSError as exc:
        reason = str(exc.strerror or exc)
        raise SourceError(f"{path}: {reason[:1].lower()}{reason[1:]}") from exc
    return decode(path, data)


def read_regular_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file; OSError (NotRegularFile for FIFOs, sockets, devices) otherwise.

    Opened with O_NONBLOCK, so opening a FIFO returns at once instead of waiting for a writer;
    the type is then checked on the descriptor itself (no race with a rename in between).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket (or a FIFO on some systems) cannot be opened
            _check_regular(os.stat(path).st_mode, path)
        raise
    with os.fdopen(fd, "rb") as fh:
        _check_regular(os.fstat(fd).st_mode, path)
        return fh.read()


def _check_regular(mode: int, path: str | os.PathLike[str]) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise NotRegularFile(errno.EINVAL, f"{kind}, not a regular file; skipped", str(path))


def decode(path: str, data: bytes) -> Source:
    try:
        return Source(path, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        text = data.decode("utf-8", errors="replace")
        offset = len(good)
        diag = Diagnostic("CAI001", Severity.ERROR,
                          f"file is not valid UTF-8: invalid byte 0x{data[exc.start]:02x}",
                          offset, offset + 1)
        return Source(path, text, diag)
