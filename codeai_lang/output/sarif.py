"""SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, any SARIF viewer).

- Locations are relative to the project root (`uriBaseId: "%SRCROOT%"`, resolved by
  `originalUriBaseIds`), so a report made in one checkout matches another.
- `partialFingerprints` come from `report.fingerprints` (code + normalised line text +
  occurrence, no line number), so moving unrelated lines does not make results "new".
- Rules carry the registry's full metadata (descriptions, Markdown help, help URI, default
  level, tags), as ruff's and eslint's SARIF writers do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from codeai_lang import __version__
from codeai_lang.diagnostics import codes
from codeai_lang.diagnostics.model import Diagnostic, Edit, Related, Severity
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.output.report import FileReport, file_uri, fingerprints, project_path, relative_uri

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "codeai/lineHash/v1"
INFORMATION_URI = "https://github.com/codeai-lang/codeai-lang"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub code scanning reads `problem.severity` (error / warning / recommendation).
_PROBLEM_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation"}


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def sarif_rule(code: codes.Code) -> dict[str, Any]:
    """A reportingDescriptor with everything the registry knows about `code`."""
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.title},
        "fullDescription": {"text": _first_paragraph(code.doc)},
        "help": {"text": code.doc, "markdown": f"{code.doc}\n\n[Documentation]({code.help_uri})"},
        "helpUri": code.help_uri,
        "defaultConfiguration": {"level": _LEVEL[code.severity]},
        "properties": {"tags": [code.category, *code.tags], "precision": "very-high",
                       "problem.severity": _PROBLEM_SEVERITY[code.severity],
                       "since": code.since, "fix": code.fix.value,
                       **({"dsl_since": code.dsl_since} if code.dsl_since else {})},
    }


class _Artifacts:
    """Locations of paths: relative to %SRCROOT% when inside the root, else absolute URIs;
    texts of other files for related locations (read once, on demand)."""

    def __init__(self, reports: Sequence[FileReport], root: str | None) -> None:
        self.root = root
        self.indexes: dict[str, LineIndex | None] = {r.path: r.index for r in reports}

    def location(self, path: str) -> dict[str, Any]:
        if path == "-":
            return {"uri": "stdin"}
        rel = project_path(path, self.root)
        if rel is None:
            return {"uri": file_uri(path if self.root is None else os.path.join(self.root, path))}
        return {"uri": relative_uri(rel), "uriBaseId": SRCROOT}

    def index(self, path: str) -> LineIndex | None:
        if path not in self.indexes:
            try:
                with open(path, encoding="utf-8", newline="") as fh:
                    self.indexes[path] = LineIndex(fh.read())
            except (OSError, UnicodeDecodeError):
                self.indexes[path] = None  # the location is still given, without a region
        return self.indexes[path]


def _region(index: LineIndex, start: int, end: int) -> dict[str, Any]:
    a, b = index.position(start), index.position(max(start, end))
    return {"startLine": a.line, "startColumn": a.column, "endLine": b.line, "endColumn": b.column,
            "byteOffset": a.offset, "byteLength": max(0, b.offset - a.offset)}


def render_sarif(reports: list[FileReport], *, dsl_versions: Sequence[str] = (),
                 root: str | None = None, suppressed: Sequence[FileReport] = (), **_: object) -> str:
    """`root` is the project root the caller chose (the CLI: the working directory); paths
    inside it become relative. ``dsl_versions`` also comes from the caller. `suppressed` holds
    findings silenced by an in-source marker: they are kept as results with an `inSource`
    suppression, which is how code scanning shows dismissed-in-code alerts."""
    registered = list(codes.all_codes())
    ids = {c.code: i for i, c in enumerate(registered)}
    artifacts = _Artifacts([*reports, *suppressed], root)
    results = [result for r in reports for result in _results(r, artifacts, ids)]
    for r in suppressed:
        for result in _results(r, artifacts, ids):
            result["suppressions"] = [{"kind": "inSource"}]
            results.append(result)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "codeai", "version": __version__, "semanticVersion": __version__,
                            "informationUri": INFORMATION_URI,
                            "rules": [sarif_rule(c) for c in registered]}},
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"dsl_versions": list(dsl_versions)},
    }
    if root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": file_uri(root).rstrip("/") + "/"}}
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _results(report: FileReport, artifacts: _Artifacts, ids: dict[str, int]) -> list[dict[str, Any]]:
    prints = fingerprints(report)
    return [_result(report, d, fp, artifacts, ids) for d, fp in zip(report.diagnostics, prints, strict=True)]


def _result(report: FileReport, d: Diagnostic, fingerprint: str, artifacts: _Artifacts,
            ids: dict[str, int]) -> dict[str, Any]:
    where = artifacts.location(report.path)
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": ids.get(d.code, -1),
        "level": _LEVEL[d.severity],
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {"artifactLocation": where,
                                            "region": _region(report.index, d.start, d.end)}}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if d.rule_id is not None:
        result["properties"] = {"rule_id": d.rule_id}
    if d.related:
        result["relatedLocations"] = [_related(report, rel, i, artifacts)
                                      for i, rel in enumerate(d.related, 1)]
    if d.fix is not None and d.fix.edits:
        result["fixes"] = [{"description": {"text": d.fix.description},
                            "artifactChanges": [{"artifactLocation": where,
                                                 "replacements": [_replacement(report.index, e)
                                                                  for e in d.fix.edits]}],
                            "properties": {"applicability": d.fix.applicability.value}}]
    return result


def _related(report: FileReport, rel: Related, number: int, artifacts: _Artifacts) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifacts.location(rel.path)}
    index = report.index if rel.path == report.path else artifacts.index(rel.path)
    if index is not None:
        physical["region"] = _region(index, rel.start, rel.end)
    return {"id": number, "physicalLocation": physical, "message": {"text": rel.message}}


def _replacement(index: LineIndex, edit: Edit) -> dict[str, Any]:
    start, end = index.position(edit.start), index.position(edit.end)
    return {"deletedRegion": {"byteOffset": start.offset, "byteLength": end.offset - start.offset},
            "insertedContent": {"text": edit.new_text}}
