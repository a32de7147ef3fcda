"""`format_text` and its range variant: the formatter as pure functions of text.

A file with syntax (or `#version`) errors is returned unchanged with those errors: its tree
is a guess, and a formatter must never guess. After laying a file out, the output is lexed
again and its significant tokens and comments compared with the input's: the layout
engine only ever moves whitespace, and this check makes a bug there an error instead of a
changed program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.format.align import align
from codeai_lang.format.layout import layout, split_lines
from codeai_lang.syntax.lexer import Lexed, lex
from codeai_lang.syntax.versioned_parse import parse_document


class FormatError(Exception):
    """The layout engine produced text whose tokens differ from the input's (a bug)."""


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
    doc = parse_document(text, version=version)
    errors = [d for d in doc.diagnostics if d.severity is Severity.ERROR]
    if errors:
        return FormatResult(text, False, doc.version, errors)
    out = layout(doc)
    if verify and out != text:
        check_same_tokens(doc.lexed, lex(out))
    return FormatResult(out, out != text, doc.version)


def format_range(text: str, first_line: int, last_line: int,
                 version: str | None = None) -> FormatResult:
    """Format only lines `first_line`..`last_line` (0-based, inclusive): every line outside
    the range is kept byte for byte."""
    whole = format_text(text, version)
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
            check_same_tokens(lex(text), lex(result))
        except FormatError:
            return FormatResult(text, False, whole.version)  # a partial change split a construct
    return FormatResult(result, result != text, whole.version)


def check_same_tokens(before: Lexed, after: Lexed) -> None:
    """Raise FormatError unless both texts have the same tokens and comments."""
    a = [(t.kind, t.text) for t in before.tokens if t.kind != "NL"]
    b = [(t.kind, t.text) for t in after.tokens if t.kind != "NL"]
    if a != b:
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        raise FormatError(f"internal error: formatting would change token {at} "
                          f"({a[at:at + 1]} → {b[at:at + 1]}); file left unchanged")
    ca = [c.text.rstrip(" \t") for c in before.comments]
    cb = [c.text.rstrip(" \t") for c in after.comments]
    if ca != cb:
        raise FormatError("internal error: formatting would change a comment; file left unchanged")
