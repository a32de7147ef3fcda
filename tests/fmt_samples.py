"""Small texts the `codeai fmt` CLI tests share: one to format, its formatted form, one broken."""

from __future__ import annotations

from pathlib import Path

MESSY = "#version 1.0\nvar   a=[1 ,2]\nfunction f(x){\nlog(x)\n}\n"
CLEAN = "#version 1.0\n\nvar a = [1, 2]\nfunction f(x) {\n    log(x)\n}\n"
BROKEN = "#version 1.0\nvar a = (\n"


def write(path: Path, text: str) -> Path:
    """Write `text` as UTF-8 bytes (no newline translation), making parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path
