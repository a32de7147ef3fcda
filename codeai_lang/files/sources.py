"""Finding and reading `.cai` sources: files, directories (recursed) and `-` for stdin.

Reading never raises for bad content: undecodable bytes become a diagnostic so that the
caller reports `file:line:col` and moves on to the next file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codeai_lang.diagnostics.model import Diagnostic, Severity

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "build", "dist", "target"})
STDIN = "-"


class SourceError(Exception):
    """A path that cannot be used (missing, unreadable): a usage/I-O error (exit 2)."""


@dataclass(slots=True)
class Source:
    path: str  # as shown to the user
    text: str
    decode_error: Diagnostic | None = None


def discover(paths: list[str]) -> Iterator[str]:
    """Expand PATHs to `.cai` files: files as given, directories recursed in sorted order,
    hidden and build directories skipped. Raises SourceError for a missing path."""
    for raw in paths:
        if raw == STDIN:
            yield raw
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        elif path.exists():
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
        data = sys.stdin.buffer.read() if path == STDIN else Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from exc
    return decode(path, data)


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
