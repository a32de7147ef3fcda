"""Validate a text: syntax and version diagnostics, semantic checks, deprecations.

`validate` is a pure function of the text (and an optional version override); reading files
and printing belong to the CLI and the language server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from codeai_lang.analysis import semantic
from codeai_lang.analysis.decl_checks import check_declarations_local
from codeai_lang.analysis.expression_checks import check_expressions
from codeai_lang.analysis.script_checks import Consulted, check_script
from codeai_lang.analysis.shell_checks import check_shell
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax.deprecations import Site
from codeai_lang.syntax.parser import MAX_SYNTAX_ERRORS
from codeai_lang.syntax.registry import Registry, default_registry
from codeai_lang.syntax.versioned_parse import Document, parse_document


@dataclass(slots=True)
class Result:
    """A file's analysis. `diagnostics` are those of the file on its own (standalone);
    `local` leaves out name resolution (duplicates, unresolved references), which a project
    redoes against all its files from `table`."""

    document: Document
    diagnostics: list[Diagnostic]
    local: list[Diagnostic] = field(default_factory=list)
    table: semantic.FileTable = field(default_factory=semantic.FileTable)
    script: list[Diagnostic] = field(default_factory=list)  # the script checks' part of `local`
    # The names the script checks looked up outside the file, and the answers they got.
    consulted: Consulted = field(default_factory=dict)

    def recheck_script(self, external: Mapping[str, tuple[str, int]] | None) -> None:
        """Redo only the script checks with the project's other files' top-level names in
        scope (`local` and the table's script occurrences are replaced; the rest stays)."""
        occurrences: list[semantic.Occurrence] = []
        self.consulted = {}
        fresh = check_script(self.document.statements, external, occurrences, self.consulted)
        old = {id(d) for d in self.script}
        self.local = dedupe(sorted([d for d in self.local if id(d) not in old] + fresh,
                                    key=Diagnostic.sort_key))
        self.script = fresh
        self.table.set_script_occurrences(occurrences)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0


def validate(text: str, *, version: str | None = None, registry: Registry | None = None,
             external: Mapping[str, tuple[str, int]] | None = None,
             default_version: str | None = None) -> Result:
    """Analyse one text. `external`: top-level script names of the project's other files;
    `default_version`: the project's `dsl_version`, for a file without `#version`."""
    reg = registry or default_registry()
    doc = parse_document(text, version=version, registry=reg, default_version=default_version)
    diags = list(doc.diagnostics)
    occurrences: list[semantic.Occurrence] = []
    consulted: Consulted = {}
    script = check_script(doc.statements, external, occurrences, consulted)
    decl_diags, refs = check_declarations_local(doc.statements, doc.version, reg)
    diags += _without_recovery_echoes(doc, decl_diags)
    diags += check_expressions(doc.statements, doc.version, reg, refs)
    diags += check_shell(doc.statements)
    diags += deprecation_diagnostics(doc.sites_of(reg.reported_rules(doc.version)), doc.version, reg)
    result = finish(doc, diags, script, semantic.build_table(doc.statements, refs, occurrences))
    result.consulted = consulted
    return result


def finish(doc: Document, local: list[Diagnostic], script: list[Diagnostic],
           table: semantic.FileTable) -> Result:
    """The result of a file with its local diagnostics (`script`: those of the script
    checks) and table: names resolved within the file alone give the standalone ones."""
    local = cap_syntax_errors(dedupe(sorted(local + script, key=Diagnostic.sort_key)))  # e.g. a site found twice
    index = semantic.ProjectIndex()
    index.set_file("", table)
    names = semantic.resolve_file(index, "", script_duplicates=False)
    return Result(doc, dedupe(sorted(local + names, key=Diagnostic.sort_key)), local, table, script)


def deprecation_diagnostics(sites: list[Site], version: str, reg: Registry) -> list[Diagnostic]:
    """CAI301 (warning) where the form is deprecated, CAI302 (error) where it is removed."""
    out: list[Diagnostic] = []
    for site in sites:
        dep = reg.deprecations[site.rule]
        manual = f" ({site.manual})" if site.manual else ""
        if reg.is_removed(site.rule, version):
            message = (f"{site.rule}: {dep.form}: removed in DSL {dep.removed_in}; "
                       f"use {dep.replacement}{manual}")
            out.append(Diagnostic("CAI302", Severity.ERROR, message, site.start, site.end,
                                  site.fix, ("deprecated",), site.rule))
        elif reg.is_deprecated(site.rule, version):
            message = (f"{site.rule}: {dep.form}: deprecated since DSL {dep.since}, removed "
                       f"in {dep.removed_in}; use {dep.replacement}{manual}")
            out.append(Diagnostic("CAI301", Severity.WARNING, message, site.start, site.end,
                                  site.fix, ("deprecated",), site.rule))
    return out


SYNTAX_CODES = frozenset({"CAI001", "CAI002", "CAI003", "CAI004"})


def cap_syntax_errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    """At most MAX_SYNTAX_ERRORS syntax errors per file, the first ones by position (`diags` is
    sorted). The parser stops at its 100th; this also bounds the lexer's own (a file of junk
    characters), so a garbage file cannot flood the output."""
    count = 0
    out = []
    for d in diags:
        if d.code in SYNTAX_CODES:
            count += 1
            if count > MAX_SYNTAX_ERRORS:
                continue
        out.append(d)
    return out


def _without_recovery_echoes(doc: Document, checks: list[Diagnostic]) -> list[Diagnostic]:
    """Drop a check's CAI001 (a `,` with no field modifier after it) when the parser reported a
    syntax error later on the same line: recovery dropped what followed the comma
    (`default , (0)` loses `(0)`), so it is the same mistake, reported once (§7)."""
    syntax = [d.start for d in doc.diagnostics if d.code == "CAI001"]
    if not syntax:
        return checks
    text = doc.text

    def echo(d: Diagnostic) -> bool:
        return d.code == "CAI001" and any(
            d.end <= s and "\n" not in text[d.end:s] for s in syntax)
    return [d for d in checks if not echo(d)]


def dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    for d in diags:
        key = (d.code, d.start, d.end, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
