"""Rule documentation rendered from the code registry: `docs/diagnostics.md`, `codeai explain`
and `codeai rules`. One renderer, so the terminal and the docs never disagree.

The deprecation table (D1…) comes from the DSL version manifest; the caller passes it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from codeai_lang.diagnostics.codes import CATEGORIES, Code, all_codes


@dataclass(frozen=True, slots=True)
class DeprecationRow:
    """One deprecation rule (rule_id of CAI301/CAI302 diagnostics)."""

    id: str
    form: str
    replacement: str
    since: str
    removed_in: str


_INTRO = """\
# Diagnostics

<!-- Generated from codeai_lang/diagnostics/codes.py by `make docs`; edit the registry, not
this file (tests/test_codes.py fails when they differ). -->

Every diagnostic `codeai validate` (and the language server) reports has a code, a severity,
a message and a range; some carry a fix (text edits you can apply with your editor's quick
fix or `codeai migrate-dsl`). A fix is *safe* (keeps the meaning: preferred in editors,
applied by `migrate-dsl`), *unsafe* (offered, never applied automatically) or *display*
(a suggestion shown to people only). The SARIF output links each rule here (`#cai102` …);
`codeai rules` lists the codes and `codeai explain CAI102` prints one section in the terminal.

Severities: an error makes the file invalid (exit code 1); warnings alone exit 0 unless
`--strict`.
"""


def deprecation_rows(deprecations: Mapping[str, Any]) -> list[DeprecationRow]:
    """Rows from the version manifest's deprecations (`Registry.deprecations`)."""
    rows = [DeprecationRow(d.id, d.form, d.replacement, d.since or "", d.removed_in or "")
            for d in deprecations.values()]
    return sorted(rows, key=lambda r: (len(r.id), r.id))  # D2 before D10


def summary_table(codes: Iterable[Code]) -> list[str]:
    lines = ["| code | name | severity | fix | since | meaning |", "|---|---|---|---|---|---|"]
    for c in codes:
        lines.append(f"| [{c.code}](#{c.anchor}) | `{c.name}` | {c.severity.value} | {c.fix.value} "
                     f"| {c.since} | {c.title} |")
    return lines


def code_section(code: Code, deprecations: list[DeprecationRow], level: int = 3) -> str:
    """The Markdown section of one code (heading, facts line, documentation)."""
    dsl = f" · DSL {code.dsl_since} and newer" if code.dsl_since else ""
    facts = (f"**{code.title}** · `{code.name}` · default severity {code.severity.value} · "
             f"fix {code.fix.value} · since {code.since}{dsl}")
    parts = [f"{'#' * level} {code.code}", "", facts, "", code.doc.rstrip()]
    if "deprecated" in code.tags and deprecations:
        parts += ["", "Deprecation rules (the diagnostic's `rule_id`):", "",
                  "| rule | deprecated | since | removed | replacement |", "|---|---|---|---|---|"]
        parts += [f"| {d.id} | {d.form} | {d.since} | {d.removed_in} | {d.replacement} |"
                  for d in deprecations]
    return "\n".join(parts) + "\n"


def render_markdown(deprecations: list[DeprecationRow]) -> str:
    """The whole of docs/diagnostics.md."""
    codes = list(all_codes())
    out = [_INTRO, "\n".join(summary_table(codes)), ""]
    for category, heading in CATEGORIES.items():
        members = [c for c in codes if c.category == category]
        if members:
            out.append(f"## {heading}\n")
            out += [code_section(c, deprecations) for c in members]
    others = [c for c in codes if c.category not in CATEGORIES]
    if others:
        out.append("## Other\n")
        out += [code_section(c, deprecations) for c in others]
    return "\n".join(out).rstrip() + "\n"


def rule_json(code: Code) -> dict[str, Any]:
    """One code as `codeai rules --output json` prints it (ruff's `rule --output-format json`)."""
    return {"code": code.code, "name": code.name, "title": code.title,
            "severity": code.severity.value, "category": code.category, "since": code.since,
            "dsl_since": code.dsl_since or None,
            "fix": code.fix.value, "tags": list(code.tags), "retired": code.retired,
            "help_uri": code.help_uri, "documentation": code.doc}
