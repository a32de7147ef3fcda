"""Output formats for validation results: text, JSON and GitHub workflow commands here;
SARIF 2.1.0 (`sarif.py`), GitLab Code Quality and JUnit XML (`ci_reports.py`) and the GitHub
job summary (`github_summary.py`) beside it. `RENDERERS` maps `--output` names to them.

All are thin views of `FileReport`s (one diagnostic model); positions are converted here,
at the edge: 1-based lines and code-point columns, byte offsets.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from codeai_lang import __version__
from codeai_lang.diagnostics.model import Applicability, Diagnostic, Fix, Related, Severity
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.output.report import FileReport, project_path, summary

__all__ = ["RENDERERS", "FileReport", "diagnostic_json", "render_github", "render_json",
           "render_text", "summary"]

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
        kind = "" if d.fix.applicability is Applicability.SAFE else f" ({d.fix.applicability.value})"
        out.append(" " * (len(gutter) - 2) + f"= fix{kind}: {d.fix.description}")
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


def render_json(reports: list[FileReport], *, dsl_versions: Sequence[str] = (), **_: object) -> str:
    doc = {"tool": "codeai", "tool_version": __version__, "summary": summary(reports),
           "files": [{"path": r.path, "project": r.project, "valid": r.valid, "dsl_version": r.dsl_version,
                      "version_source": r.version_source,
                      "diagnostics": [diagnostic_json(r, d) for d in r.diagnostics]}
                     for r in reports]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- GitHub workflow commands -----------------------------------------------------------------

_GH_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _gh_escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: list[FileReport], *, dsl_versions: Sequence[str] = (),
                  root: str | None = None, **_: object) -> str:
    """Annotations need paths relative to the repository root (the working directory)."""
    lines = []
    for r in reports:
        path = project_path(r.path, root) or r.path
        for d in r.diagnostics:
            start, end = r.index.position(d.start), r.index.position(d.end)
            props = (f"file={_gh_escape_prop(path)},line={start.line},col={start.column},"
                     f"endLine={end.line},endColumn={end.column},title={d.code}")
            lines.append(f"::{_GH_LEVEL[d.severity]} {props}::{_gh_escape_data(d.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


class Renderer(Protocol):
    """Every --output renderer takes the reports and keyword options it may ignore:
    dsl_versions (Sequence[str]), root (the project root, str | None), strict (bool),
    blob_url (str | None)."""

    def __call__(self, reports: list[FileReport], **options: Any) -> str: ...


# The CI formats live in their own modules, imported on first use: `codeai validate` with
# the default text output does not pay for them at start-up.
_LAZY = {"sarif": ("codeai_lang.output.sarif", "render_sarif"),
         "gitlab": ("codeai_lang.output.ci_reports", "render_gitlab"),
         "junit": ("codeai_lang.output.ci_reports", "render_junit"),
         "github-summary": ("codeai_lang.output.github_summary", "render_github_summary")}


class _Renderers(Mapping[str, Renderer]):
    def __init__(self, eager: dict[str, Renderer]) -> None:
        self._eager = eager

    def __getitem__(self, name: str) -> Renderer:
        if name in self._eager:
            return self._eager[name]
        module, attr = _LAZY[name]
        renderer: Renderer = getattr(importlib.import_module(module), attr)
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter([*self._eager, *_LAZY])

    def __len__(self) -> int:
        return len(self._eager) + len(_LAZY)


RENDERERS: Mapping[str, Renderer] = _Renderers({"json": render_json, "github": render_github})


def __getattr__(name: str) -> Any:
    """`render_sarif` and `SARIF_SCHEMA` stay importable from here (they moved to sarif.py)."""
    if name in ("render_sarif", "SARIF_SCHEMA"):
        return getattr(importlib.import_module("codeai_lang.output.sarif"), name)
    raise AttributeError(name)
