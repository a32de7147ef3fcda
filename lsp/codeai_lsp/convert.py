"""Edges between the core model and the LSP: offsets ↔ positions, diagnostics.

Positions are counted in the encoding negotiated at `initialize` (utf-8, utf-16 or utf-32:
pygls adopts the client's first preference); every conversion takes it, so that the server's
copy of a document never drifts from the editor's when a line holds non-ASCII text.
"""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types as t

from codeai_lang.diagnostics import codes
from codeai_lang.diagnostics.model import Diagnostic, Related, Severity
from codeai_lang.diagnostics.positions import ENCODINGS, UTF16, LineIndex

_SEVERITY = {Severity.ERROR: t.DiagnosticSeverity.Error, Severity.WARNING: t.DiagnosticSeverity.Warning,
             Severity.INFO: t.DiagnosticSeverity.Information}
SETTING_SEVERITY = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning,
                    "information": t.DiagnosticSeverity.Information, "info": t.DiagnosticSeverity.Information,
                    "hint": t.DiagnosticSeverity.Hint}


def encoding_name(kind: object) -> str:
    """The negotiated `PositionEncodingKind` as one of ENCODINGS (UTF-16, the LSP default,
    for anything else)."""
    value = str(getattr(kind, "value", kind))
    return value if value in ENCODINGS else UTF16


def to_position(index: LineIndex, offset: int, encoding: str = UTF16) -> t.Position:
    line, char = index.lsp(offset, encoding)
    return t.Position(line=line, character=char)


def to_range(index: LineIndex, start: int, end: int, encoding: str = UTF16) -> t.Range:
    return t.Range(start=to_position(index, start, encoding),
                   end=to_position(index, max(start, end), encoding))


def to_offset(index: LineIndex, pos: t.Position, encoding: str = UTF16) -> int:
    return index.offset_from_lsp(pos.line, pos.character, encoding)


def to_lsp_diagnostic(d: Diagnostic, index: LineIndex,
                      deprecation_severity: t.DiagnosticSeverity | None = None,
                      encoding: str = UTF16,
                      locate: Callable[[Related], t.Location | None] | None = None) -> t.Diagnostic:
    """One core diagnostic as the client sees it: same code and severity as the CLI; a
    deprecation (CAI301) may be re-graded by the `codeai.deprecationSeverity` setting. The
    code links its documentation (from the code registry); `data` carries the rule id."""
    severity = _SEVERITY.get(d.severity, t.DiagnosticSeverity.Error)
    if d.code == "CAI301" and deprecation_severity is not None:
        severity = deprecation_severity
    tags = [t.DiagnosticTag.Deprecated] if "deprecated" in d.tags else None
    entry = codes.get(d.code)
    description = t.CodeDescription(href=entry.help_uri) if entry else None
    data = {"rule_id": d.rule_id} if d.rule_id else None
    related = None
    if d.related and locate is not None:  # e.g. a duplicate's first declaration, maybe in another file
        found = [(loc, rel.message) for rel in d.related if (loc := locate(rel)) is not None]
        related = [t.DiagnosticRelatedInformation(location=loc, message=msg) for loc, msg in found] or None
    return t.Diagnostic(range=to_range(index, d.start, d.end, encoding), message=d.message, severity=severity,
                        code=d.code, code_description=description, source="codeai", tags=tags,
                        data=data, related_information=related)
