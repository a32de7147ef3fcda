"""`format_text` and its range variant: the formatter as pure functions of text.

A file with syntax (or `#version`) errors is returned unchanged with those errors: its tree
is a guess, and a formatter must never guess. A changed layout is proven to keep the program
before it is returned (`verify.py`: the output re-lexed, its token stream compared with the
input's; only the segments that changed where that is sound); a failed proof is a bug in the layout engine, reported as FormatError, never a
changed program.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.format.align import align
from codeai_lang.format.layout import layout_with_cuts, split_lines
from codeai_lang.format.verify import FormatError, verify_layout, verify_local
from codeai_lang.syntax.versioned_parse import Document, parse_document

__all__ = ["FormatError", "FormatResult", "format_range", "format_text"]


@dataclass(slots=True)
class FormatResult:
    """The formatted text (the input itself when it could not be formatted)."""

    text: str
    changed: bool
    version: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # why it was not formatted

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def format_text(text: str, version: str | None = None, *, verify: bool = True) -> FormatResult:
    """Format a whole document. `version` overrides its `#version` (as `--dsl-version` does)."""
    return _format(text, version, verify)[1]


def _format(text: str, version: str | None, verify: bool = True) -> tuple[Document, FormatResult]:
    # The cyclic garbage collector is paused meanwhile: tokens and trees hold no cycles that
    # outlive the call, and its full passes over a heap growing by hundreds of thousands of
    # objects cost about a third of the run on a 100k-line file.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _format_now(text, version, verify)
    finally:
        if paused:
            gc.enable()


def _format_now(text: str, version: str | None, verify: bool) -> tuple[Document, FormatResult]:
    doc = parse_document(text, version=version)
    errors = [d for d in doc.diagnostics if d.severity is Severity.ERROR]
    if errors:
        return doc, FormatResult(text, False, doc.version, errors)
    out, cut_starts, cut_offsets = layout_with_cuts(doc)
    if out == text:
        return doc, FormatResult(text, False, doc.version)
    # the proof: local (only the segments that changed) where it can be shown, else whole
    if verify and not verify_local(doc, out, cut_starts, cut_offsets):
        verify_layout(doc, out)
    return doc, FormatResult(out, True, doc.version)


def format_range(text: str, first_line: int, last_line: int,
                 version: str | None = None) -> FormatResult:
    """Format only lines `first_line`..`last_line` (0-based, inclusive): every line outside
    the range is kept byte for byte."""
    doc, whole = _format(text, version)
    if not whole.ok or not whole.changed:
        return whole
    old, new = split_lines(text), split_lines(whole.text)
    # Lines pair by their non-blank content, so a re-indented or re-spaced line inside the
    # range changes even when line breaks changed elsewhere (e.g. outside the range).
    out: list[str] = []
    for run in align(old, new):
        if run.paired:
            out.append(new[run.j1] if first_line <= run.i1 <= last_line else old[run.i1])
        elif first_line <= run.i1 and run.i2 - 1 <= last_line:
            out += new[run.j1:run.j2]  # a change of line structure that lies inside the range
        else:
            out += old[run.i1:run.i2]
    result = "".join(out)
    if result != text:
        try:
            verify_layout(doc, result)
        except FormatError:
            return FormatResult(text, False, whole.version)  # a partial change split a construct
    return FormatResult(result, result != text, whole.version)
