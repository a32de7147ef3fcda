"""`codeai migrate lint` output: the renderers of `validate`, plus the suppressed findings.

Suppressed findings stay visible: counted in the text summary and the JSON ``summary``, listed per
file in JSON, and kept in SARIF as results with an in-source suppression (what code scanning
expects for `# noqa`-style markers).
"""

from __future__ import annotations

import json
import os

from codeai_lang.diagnostics.model import Severity
from codeai_lang.output.formats import (
    RENDERERS,
    FileReport,
    diagnostic_json,
    render_text,
)
from codeai_lang.platform.dbmigrate.lint import LintResult


def render_lint(result: LintResult, output: str, verbose: bool) -> tuple[str, int, int]:
    """The rendered text, the number of errors and of warnings (suppressed ones not counted)."""
    reports = [FileReport(f.path, f.text, f.diagnostics, None, None) for f in result.files]
    suppressed = [(FileReport(f.path, f.text, f.suppressed, None, None)) for f in result.files]
    errors = sum(d.severity is Severity.ERROR for r in reports for d in r.diagnostics)
    warnings = sum(d.severity is Severity.WARNING for r in reports for d in r.diagnostics)
    if output == "text":
        text = _text(reports, suppressed, verbose)
    elif output == "json":
        text = _json(reports, suppressed)
    elif output == "sarif":
        text = _sarif(reports, suppressed)
    else:
        text = RENDERERS[output](reports)
    return text, errors, warnings


def _text(reports: list[FileReport], suppressed: list[FileReport], verbose: bool) -> str:
    text = render_text(reports, verbose=verbose)
    hidden = [(r, d) for r in suppressed for d in r.diagnostics]
    lines = [f"{len(hidden)} finding{'s' if len(hidden) != 1 else ''} suppressed by codeai:allow"]
    for r, d in hidden:
        pos = r.index.position(d.start)
        lines.append(f"  {r.path}:{pos.line}:{pos.column}: allowed[{d.code}] {d.message}")
    return text + "\n".join(lines) + "\n"


def _json(reports: list[FileReport], suppressed: list[FileReport]) -> str:
    doc = json.loads(RENDERERS["json"](reports))
    doc["summary"]["suppressed"] = sum(len(r.diagnostics) for r in suppressed)
    for entry, hidden in zip(doc["files"], suppressed, strict=True):
        entry["suppressed"] = [diagnostic_json(hidden, d) for d in hidden.diagnostics]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _sarif(reports: list[FileReport], suppressed: list[FileReport]) -> str:
    return RENDERERS["sarif"](reports, root=os.getcwd(), suppressed=suppressed)
