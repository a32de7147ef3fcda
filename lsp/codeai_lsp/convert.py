"""Edges between the core model and the LSP: offsets ↔ UTF-16 positions, diagnostics."""

from __future__ import annotations

from lsprotocol import types as t

from codeai_lang.diagnostics import codes
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.diagnostics.positions import LineIndex

_SEVERITY = {Severity.ERROR: t.DiagnosticSeverity.Error, Severity.WARNING: t.DiagnosticSeverity.Warning,
             Severity.INFO: t.DiagnosticSeverity.Information}
SETTING_SEVERITY = {"error": t.DiagnosticSeverity.Error, "warning": t.DiagnosticSeverity.Warning,
                    "information": t.DiagnosticSeverity.Information, "info": t.DiagnosticSeverity.Information,
                    "hint": t.DiagnosticSeverity.Hint}


def to_position(index: LineIndex, offset: int) -> t.Position:
    line, char = index.utf16(offset)
    return t.Position(line=line, character=char)


def to_range(index: LineIndex, start: int, end: int) -> t.Range:
    return t.Range(start=to_position(index, start), end=to_position(index, max(start, end)))


def to_offset(index: LineIndex, pos: t.Position) -> int:
    return index.offset_from_utf16(pos.line, pos.character)


def to_lsp_diagnostic(d: Diagnostic, index: LineIndex,
                      deprecation_severity: t.DiagnosticSeverity | None = None) -> t.Diagnostic:
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
    return t.Diagnostic(range=to_range(index, d.start, d.end), message=d.message, severity=severity,
                        code=d.code, code_description=description, source="codeai", tags=tags,
                        data=data)
