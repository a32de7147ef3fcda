"""Output formats for validation results: text, JSON, SARIF 2.1.0, GitHub workflow commands.

All are thin views of `FileReport`s (one diagnostic model); positions are converted here,
at the edge: 1-based lines and code-point columns, byte offsets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from codeai_lang import __version__
from codeai_lang.diagnostics import codes
from codeai_lang.diagnostics.model import Diagnostic, Fix, Related, Severity
from codeai_lang.diagnostics.positions import LineIndex

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(slots=True)
class FileReport:
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


def summary(reports: list[FileReport]) -> dict[str, int]:
    errors = sum(1 for r in reports for d in r.diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for r in reports for d in r.diagnostics if d.severity is Severity.WARNING)
    valid = sum(1 for r in reports if r.valid)
    return {"files": len(reports), "valid": valid, "invalid": len(reports) - valid,
            "errors": errors, "warnings": warnings}


# -- text -------------------------------------------------------------------------------------


def render_text(reports: list[FileReport], *, verbose: bool = False) -> str:
    lines: list[str] = []
    for report in reports:
        if verbose:
            lines.append(f"{report.path}: DSL {report.dsl_version} ({report.version_source}), "
                         f"{report.elapsed_ms:.1f} ms")
        for d in report.diagnostics:
            pos = report.index.position(d.start)
            lines.append(f"{report.path}:{pos.line}:{pos.column}: "
                         f"{d.severity.value}[{d.code}] {d.message}")
            for rel in d.related:
                index = report.index_of(rel.path)
                where = rel.path
                if index is not None:
                    p = index.position(rel.start)
                    where += f":{p.line}:{p.column}"
                lines.append(f"    {where}: note: {rel.message}")
            if verbose:
                lines.extend(_snippet(report, d))
    s = summary(reports)
    lines.append(f"{s['files']} file{'s' if s['files'] != 1 else ''} checked: "
                 f"{s['valid']} valid, {s['invalid']} invalid, "
                 f"{s['errors']} error{'s' if s['errors'] != 1 else ''}, "
                 f"{s['warnings']} warning{'s' if s['warnings'] != 1 else ''}")
    return "\n".join(lines) + "\n"


def _snippet(report: FileReport, d: Diagnostic) -> list[str]:
    start, end = report.index.position(d.start), report.index.position(max(d.end, d.start))
    ls = report.index.line_starts[start.line - 1]
    le = report.text.find("\n", ls)
    source = report.text[ls: le if le >= 0 else len(report.text)].rstrip("\r")
    width = (end.column - start.column) if end.line == start.line else len(source) - start.column + 1
    gutter = f"{start.line:>5} | "
    out = [gutter + source.expandtabs(1),
           " " * (len(gutter) - 2) + "| " + " " * (start.column - 1) + "^" * max(1, width)]
    if d.fix is not None:
        out.append(" " * (len(gutter) - 2) + f"= fix: {d.fix.description}")
    return out


# -- JSON -------------------------------------------------------------------------------------


def _position(index: LineIndex, offset: int) -> dict[str, int]:
    p = index.position(offset)
    return {"line": p.line, "column": p.column, "offset": p.offset}


def _fix_json(index: LineIndex, fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {"description": fix.description, "applicability": fix.applicability.value,
            "edits": [{"range": {"start": _position(index, e.start), "end": _position(index, e.end)},
                       "new_text": e.new_text} for e in fix.edits]}


def diagnostic_json(report: FileReport, d: Diagnostic) -> dict[str, Any]:
    out = {"code": d.code, "severity": d.severity.value, "message": d.message,
           "range": {"start": _position(report.index, d.start),
                     "end": _position(report.index, d.end)},
           "fix": _fix_json(report.index, d.fix),
           "related": [_related_json(report, rel) for rel in d.related]}
    if d.rule_id is not None:
        out["rule_id"] = d.rule_id
    return out


def _related_json(report: FileReport, rel: Related) -> dict[str, Any]:
    index = report.index_of(rel.path) or LineIndex("")
    return {"path": rel.path, "message": rel.message,
            "range": {"start": _position(index, rel.start), "end": _position(index, rel.end)}}


def render_json(reports: list[FileReport], *, dsl_versions: Sequence[str] = ()) -> str:
    doc = {"tool": "codeai", "tool_version": __version__, "summary": summary(reports),
           "files": [{"path": r.path, "project": r.project, "valid": r.valid, "dsl_version": r.dsl_version,
                      "version_source": r.version_source,
                      "diagnostics": [diagnostic_json(r, d) for d in r.diagnostics]}
                     for r in reports]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- SARIF 2.1.0 --------------------------------------------------------------------------------

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _sarif_rule(code: codes.Code) -> dict[str, Any]:
    """A reportingDescriptor from the code registry; code scanning shows its default level
    and links its help."""
    return {"id": code.code, "name": code.name,
            "shortDescription": {"text": code.title},
            "helpUri": code.help_uri,
            "help": {"text": f"{code.code}: {code.title}. See {code.help_uri}."},
            "defaultConfiguration": {"level": _SARIF_LEVEL[code.severity]}}


def render_sarif(reports: list[FileReport], *, dsl_versions: Sequence[str] = ()) -> str:
    """``dsl_versions`` comes from the caller: renderers print what they are given, never the registry."""
    registered = list(codes.all_codes())
    rules = [_sarif_rule(code) for code in registered]
    ids = [c.code for c in registered]
    results = [_sarif_result(r, d, ids) for r in reports for d in r.diagnostics]
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "codeai", "version": __version__,
                                "semanticVersion": __version__,
                                "informationUri": "https://github.com/codeai-lang/codeai-lang",
                                "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {"dsl_versions": list(dsl_versions)},
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def _sarif_result(report: FileReport, d: Diagnostic, codes: list[str]) -> dict[str, Any]:
    start, end = report.index.position(d.start), report.index.position(d.end)
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": codes.index(d.code) if d.code in codes else -1,
        "level": _SARIF_LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(report.path)},
            "region": {"startLine": start.line, "startColumn": start.column,
                       "endLine": end.line, "endColumn": end.column,
                       "byteOffset": start.offset, "byteLength": max(0, end.offset - start.offset)},
        }}],
    }
    if d.fix is not None:
        result["fixes"] = [{"description": {"text": d.fix.description},
                            "artifactChanges": [{"artifactLocation": {"uri": _uri(report.path)},
                                                 "replacements": [_sarif_replacement(report, e)
                                                                  for e in d.fix.edits]}]}]
    return result


def _sarif_replacement(report: FileReport, edit: Any) -> dict[str, Any]:
    start = report.index.position(edit.start)
    end = report.index.position(edit.end)
    return {"deletedRegion": {"byteOffset": start.offset, "byteLength": end.offset - start.offset},
            "insertedContent": {"text": edit.new_text}}


def _uri(path: str) -> str:
    """A URI reference for `path`: relative paths stay relative (code scanning resolves them
    against the checkout), absolute ones become file: URIs; both are percent-encoded."""
    if path == "-":
        return "stdin"
    if PureWindowsPath(path).is_absolute() and not path.startswith("/"):
        return PureWindowsPath(path).as_uri()
    if path.startswith("/"):
        return PurePosixPath(path).as_uri()
    return quote(path.replace("\\", "/").removeprefix("./"), safe="/")


# -- GitHub workflow commands -----------------------------------------------------------------

_GH_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _gh_escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: list[FileReport], *, dsl_versions: Sequence[str] = ()) -> str:
    lines = []
    for r in reports:
        for d in r.diagnostics:
            start, end = r.index.position(d.start), r.index.position(d.end)
            props = (f"file={_gh_escape_prop(r.path)},line={start.line},col={start.column},"
                     f"endLine={end.line},endColumn={end.column},title={d.code}")
            lines.append(f"::{_GH_LEVEL[d.severity]} {props}::{_gh_escape_data(d.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


RENDERERS = {"json": render_json, "sarif": render_sarif, "github": render_github}
