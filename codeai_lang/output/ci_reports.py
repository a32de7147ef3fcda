"""Report files for other CI systems: GitLab Code Quality (`--output gitlab`) and JUnit XML
(`--output junit`).

GitLab: a JSON array of Code Climate issues (`description`, `check_name`, `fingerprint`,
`severity`, `location.path` + `location.lines`), paths relative to the root the caller gives
(the CLI: the working directory, `$CI_PROJECT_DIR` in a GitLab job). Severities follow
eslint's GitLab formatter: error → major, warning → minor, info → info. Fingerprints are the
shared line-hash ones plus the path, so a finding stays "the same" across unrelated edits.

JUnit: one `<testcase>` per file, as the spec asks (eslint's junit formatter does one per
message; one per file reads better in CI test tabs). A file fails when it has an error, or a
warning under `--strict`; its diagnostics are the failure text. Passing files with warnings
list them in `<system-out>`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.output.report import FileReport, fingerprints, project_path

_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
# Characters XML 1.0 cannot carry even escaped (a message may quote a control character).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_gitlab(reports: list[FileReport], *, root: str | None = None, **_: object) -> str:
    issues: list[dict[str, Any]] = []
    for r in reports:
        path = project_path(r.path, root) or r.path
        for d, fp in zip(r.diagnostics, fingerprints(r, path=path), strict=True):
            start, end = r.index.position(d.start), r.index.position(d.end)
            issues.append({
                "type": "issue",
                "check_name": d.code,
                "description": f"{d.code}: {d.message}",
                "categories": ["Bug Risk" if d.severity is Severity.ERROR else "Style"],
                "fingerprint": fp,
                "severity": _GITLAB_SEVERITY[d.severity],
                "location": {"path": path, "lines": {"begin": start.line, "end": end.line}},
            })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _failing(d: Diagnostic, strict: bool) -> bool:
    return d.severity is Severity.ERROR or (strict and d.severity is Severity.WARNING)


def _fails(report: FileReport, strict: bool) -> bool:
    return any(_failing(d, strict) for d in report.diagnostics)


def _line(report: FileReport, d: Diagnostic) -> str:
    pos = report.index.position(d.start)
    return f"{report.path}:{pos.line}:{pos.column}: {d.severity.value}[{d.code}] {d.message}"


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _count(diags: Sequence[Diagnostic], severity: Severity) -> int:
    return sum(d.severity is severity for d in diags)


def render_junit(reports: list[FileReport], *, strict: bool = False, **_: object) -> str:
    failures = sum(_fails(r, strict) for r in reports)
    seconds = f"{sum(r.elapsed_ms for r in reports) / 1000:.3f}"
    counts = {"tests": str(len(reports)), "failures": str(failures), "errors": "0", "skipped": "0",
              "time": seconds}
    suites = ET.Element("testsuites", {"name": "codeai", **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": "codeai validate", **counts})
    for r in reports:
        case = ET.SubElement(suite, "testcase", {"name": _xml_text(r.path), "classname": "codeai.validate",
                                                 "file": _xml_text(r.path), "time": f"{r.elapsed_ms / 1000:.3f}"})
        text = "\n".join(_xml_text(_line(r, d)) for d in r.diagnostics)
        if _fails(r, strict):
            errors, warnings = _count(r.diagnostics, Severity.ERROR), _count(r.diagnostics, Severity.WARNING)
            first = next(d for d in r.diagnostics if _failing(d, strict))
            failure = ET.SubElement(case, "failure", {
                "message": _xml_text(f"{errors} error(s), {warnings} warning(s); first: {first.code} "
                                     f"{first.message}"),
                "type": first.code})
            failure.text = text
        elif text:
            ET.SubElement(case, "system-out").text = text
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
