"""What every output format renders: one `FileReport` per checked file, plus the helpers the
CI formats share (stable fingerprints, source lines, paths relative to the project root)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.diagnostics.positions import LineIndex

_BLANKS = re.compile(r"\s+")


@dataclass(slots=True)
class FileReport:
    """One file's results as every output format needs them."""

    path: str
    text: str
    diagnostics: list[Diagnostic]
    dsl_version: str | None
    version_source: str | None
    elapsed_ms: float = 0.0
    project: str | None = None  # the project root (relative to the cwd); None: standalone
    # The text of another file of the project, for related locations (None if unknown).
    text_of: Callable[[str], str | None] | None = None
    index: LineIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = LineIndex(self.text)

    def index_of(self, path: str) -> LineIndex | None:
        """The line index of `path` (this file's, or another file's via `text_of`)."""
        if path == self.path:
            return self.index
        text = self.text_of(path) if self.text_of is not None else None
        return LineIndex(text) if text is not None else None

    @property
    def valid(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    def line_text(self, offset: int) -> str:
        """The source line holding `offset`, without its line ending."""
        line = self.index.position(offset).line
        start = self.index.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start: end if end >= 0 else len(self.text)].rstrip("\r")


def summary(reports: list[FileReport]) -> dict[str, int]:
    errors = sum(1 for r in reports for d in r.diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for r in reports for d in r.diagnostics if d.severity is Severity.WARNING)
    valid = sum(1 for r in reports if r.valid)
    return {"files": len(reports), "valid": valid, "invalid": len(reports) - valid,
            "errors": errors, "warnings": warnings}


def fingerprints(report: FileReport, *, path: str | None = None) -> list[str]:
    """A stable id per diagnostic of `report`, in order: a hash of the code, the normalised
    text of its line and its occurrence among equal (code, line) pairs in the file.

    Line numbers are left out on purpose, so inserting or moving unrelated lines keeps every
    fingerprint (code scanning and GitLab then track the same finding across commits);
    whitespace changes on the line do not count either. Including `path` makes them unique
    across a whole report (GitLab), at the price of changing when the file is renamed.
    """
    seen: dict[tuple[str, str], int] = {}
    out = []
    for d in report.diagnostics:
        line = _BLANKS.sub(" ", report.line_text(d.start)).strip()
        occurrence = seen.get((d.code, line), 0)
        seen[(d.code, line)] = occurrence + 1
        parts = [d.code, line, str(occurrence)]
        if path is not None:
            parts.insert(0, path)
        out.append(hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32])
    return out


def project_path(path: str, root: str | None) -> str | None:
    """`path` relative to `root` with `/` separators, or None when it is outside `root` (or
    stdin). Without a root, a relative path is taken as relative to the project already."""
    if path == "-":
        return None
    if root is None:
        if os.path.isabs(path):
            return None
        rel = os.path.normpath(path)
    else:
        rel = os.path.relpath(os.path.normpath(os.path.join(root, path)), root)
    rel = rel.replace("\\", "/")
    return None if rel == ".." or rel.startswith("../") else rel


def file_uri(path: str) -> str:
    """An absolute `file:` URI for `path` (POSIX or Windows)."""
    if PureWindowsPath(path).is_absolute() and not path.startswith("/"):
        return PureWindowsPath(path).as_uri()
    return PurePosixPath(os.path.abspath(path)).as_uri()


def relative_uri(rel: str) -> str:
    """A percent-encoded relative URI reference for a project-relative path."""
    return quote(rel, safe="/")
