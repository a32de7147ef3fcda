"""A project's files analysed together: each file on its own (cacheable), then its names
resolved against the project's merged symbol index (`semantic.ProjectIndex`).

Used by `codeai validate`, `codeai symbols`, `migrate-dsl` (files as they will be after the
run) and the language server (which feeds it the editor's texts).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codeai_lang.analysis import semantic
from codeai_lang.analysis.validator import Result, dedupe, validate
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.files.project import ProjectConfig
from codeai_lang.syntax.registry import Registry, default_registry

if TYPE_CHECKING:
    from codeai_lang.analysis.batch import FileOutcome

# Codes whose presence means a script name was not found: the only script diagnostics that
# names from other files can change (so only such files are checked a second time).
UNRESOLVED_SCRIPT = frozenset({"CAI102", "CAI103"})


@dataclass
class FileAnalysis:
    """One file's own analysis, kept small: its local diagnostics and name table (the AST
    is let go once the file's script checks have seen the other files' names — a project
    of thousands of files would otherwise hold every AST, and the garbage collector would
    walk them all, again and again)."""

    key: str
    text: str
    local: list[Diagnostic] = field(default_factory=list)
    version: str | None = None
    version_source: str | None = None
    decode_error: Diagnostic | None = None
    elapsed_ms: float = 0.0
    result: Result | None = None  # only until `settle` (when script checks may be redone)


class ProjectAnalysis:
    """The files of one project, keyed by any stable string (a path, a URI)."""

    def __init__(self, config: ProjectConfig | None = None, *, registry: Registry | None = None,
                 version: str | None = None) -> None:
        self.config = config or ProjectConfig()
        self.reg = registry or default_registry()
        self.version = version  # --dsl-version: overrides every file's directive
        self.files: dict[str, FileAnalysis] = {}
        self.index = semantic.ProjectIndex(semantic.Externals(
            {semantic.namespace_of(k): list(v) for k, v in self.config.externals.items()}))

    # -- loading -----------------------------------------------------------------------------
    def add(self, key: str, text: str, decode_error: Diagnostic | None = None) -> None:
        """Analyse one file on its own and enter its table (call `settle` after a batch)."""
        if decode_error is not None:
            self.files[key] = FileAnalysis(key, text, decode_error=decode_error)
            self.index.set_file(key, semantic.FileTable())
            return
        started = time.perf_counter()
        result = validate(text, version=self.version, registry=self.reg,
                          default_version=self.config.dsl_version)
        elapsed = (time.perf_counter() - started) * 1000
        doc = result.document
        needs_names = any(d.code in UNRESOLVED_SCRIPT for d in result.local)
        self.files[key] = FileAnalysis(key, text, result.local, doc.version, doc.version_source, None,
                                       elapsed, result if needs_names else None)
        if not needs_names:
            result.table.drop_ast()
        self.index.set_file(key, result.table)

    def add_outcome(self, key: str, text: str, outcome: FileOutcome) -> None:
        """Enter a file's analysis made elsewhere (`batch.analyse_all`, whose script checks
        saw this project's other files); declarations and references are resolved here, so
        they follow the other files as they are now."""
        self.files[key] = FileAnalysis(key, text, outcome.local, outcome.version,
                                       outcome.version_source, None, outcome.elapsed_ms)
        self.index.set_file(key, outcome.table)

    def add_many(self, texts: Mapping[str, str]) -> None:
        for key, text in texts.items():
            self.add(key, text)
        self.settle()

    def remove(self, key: str) -> None:
        self.files.pop(key, None)
        self.index.remove_file(key)

    def settle(self) -> None:
        """Re-check, with the other files' top-level functions and variables in scope, the
        files whose script checks found an unknown name (the only ones those names change)."""
        for key, fa in self.files.items():
            result = fa.result
            if result is None:
                continue
            result.recheck_script(self.index.script_scope(key))
            fa.local, fa.result = result.local, None
            result.table.drop_ast()

    # -- results -----------------------------------------------------------------------------
    def diagnostics(self, key: str) -> list[Diagnostic]:
        """The file's diagnostics in the project: its own checks, then its names resolved
        against every file, with the project's `rules` applied."""
        fa = self.files[key]
        if fa.decode_error is not None:
            return [fa.decode_error]
        diags = fa.local + semantic.resolve_file(self.index, key)
        diags.sort(key=Diagnostic.sort_key)
        return semantic.apply_rules(dedupe(diags), self.config.rules)

