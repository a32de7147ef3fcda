"""`--output github-summary`: a Markdown job summary for `$GITHUB_STEP_SUMMARY`.

Counts per code and per file, the first diagnostics with links to the lines, and — because
GitHub shows only the first 10 annotations of each level per step — how many diagnostics of
each level did not get an annotation. The action (`action.yml`) appends it to the summary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from codeai_lang.diagnostics import codes
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.output.report import FileReport, project_path, relative_uri, summary

ANNOTATION_LIMIT = 10  # per level and step (GitHub Actions documentation)
FIRST_ROWS = 20
FILE_ROWS = 50
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: no row breaks, no raw HTML, no column breaks."""
    return (" ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|"))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _link(path: str, line: int, blob_url: str | None) -> str:
    label = _cell(f"{path}:{line}")
    return f"[{label}]({blob_url}/{relative_uri(path)}#L{line})" if blob_url else label


def render_github_summary(reports: list[FileReport], *, root: str | None = None,
                          blob_url: str | None = None, **_: Any) -> str:
    """`blob_url` (e.g. https://github.com/o/r/blob/SHA) turns locations into links; the caller
    builds it from the GITHUB_* variables."""
    s = summary(reports)
    located = [(project_path(r.path, root) or r.path, r, d) for r in reports for d in r.diagnostics]
    out = ["## codeai validate", "", _headline(s), ""]
    if located:
        out += _by_code(located) + [""] + _by_file(reports, root) + [""] + _first(located, blob_url)
        out += _overflow(located)
    return "\n".join(out).rstrip() + "\n"


def _headline(s: dict[str, int]) -> str:
    files = _plural(s["files"], "file")
    if not s["errors"] and not s["warnings"]:
        return f":white_check_mark: {files} checked, no problems."
    mark = ":x:" if s["errors"] else ":warning:"
    return (f"{mark} {files} checked: {s['invalid']} invalid; "
            f"{_plural(s['errors'], 'error')}, {_plural(s['warnings'], 'warning')}.")


def _by_code(located: list[tuple[str, FileReport, Diagnostic]]) -> list[str]:
    counts = Counter(d.code for _, _, d in located)
    rows = ["| code | rule | count |", "|---|---|---:|"]
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        entry = codes.get(code)
        name = f"[{code}]({entry.help_uri})" if entry else code
        rows.append(f"| {name} | {_cell(codes.title(code))} | {n} |")
    return rows


def _by_file(reports: list[FileReport], root: str | None) -> list[str]:
    rows = ["| file | errors | warnings |", "|---|---:|---:|"]
    flagged = sorted((r for r in reports if r.diagnostics), key=lambda r: -len(r.diagnostics))
    for r in flagged[:FILE_ROWS]:
        errors = sum(d.severity is Severity.ERROR for d in r.diagnostics)
        warnings = sum(d.severity is Severity.WARNING for d in r.diagnostics)
        rows.append(f"| {_cell(project_path(r.path, root) or r.path)} | {errors} | {warnings} |")
    if len(flagged) > FILE_ROWS:  # a step summary is at most 1 MiB: keep it bounded
        rows.append(f"| … and {_plural(len(flagged) - FILE_ROWS, 'more file')} | | |")
    return rows


def _first(located: list[tuple[str, FileReport, Diagnostic]], blob_url: str | None) -> list[str]:
    rows = [f"<details open><summary>First {min(FIRST_ROWS, len(located))} of "
            f"{_plural(len(located), 'diagnostic')}</summary>", "",
            "| location | level | code | message |", "|---|---|---|---|"]
    for path, report, d in located[:FIRST_ROWS]:
        line = report.index.position(d.start).line
        rows.append(f"| {_link(path, line, blob_url)} | {d.severity.value} | {d.code} | {_cell(d.message)} |")
    return [*rows, "", "</details>", ""]


def hidden_annotations(diagnostics: list[Diagnostic]) -> dict[str, int]:
    """Per annotation level, how many diagnostics GitHub will not show as annotations."""
    counts = Counter(_LEVEL[d.severity] for d in diagnostics)
    return {level: n - ANNOTATION_LIMIT for level, n in counts.items() if n > ANNOTATION_LIMIT}


def _overflow(located: list[tuple[str, FileReport, Diagnostic]]) -> list[str]:
    hidden = hidden_annotations([d for _, _, d in located])
    if not hidden:
        return []
    parts = ", ".join(f"{n} more {level}{'' if n == 1 else 's'}" for level, n in sorted(hidden.items()))
    return [f"> [!NOTE]\n> GitHub shows only the first {ANNOTATION_LIMIT} annotations of each level "
            f"in a step: {parts} are not annotated. They are all in the SARIF report "
            f"(code scanning) and in `codeai validate` output."]
