"""The rewrite engine: migrate a text from its DSL version to a newer one, format-preserving.

Used by `codeai migrate-dsl` (files, in batch) and by the language server ("Migrate file to
DSL X.Y" source action). Everything here is a pure function of the text; reading and writing
files belongs to the CLI (`codeai_lang.files.atomic.atomic_write`).

API
---
- `migrate_text(text, target=None) -> MigrationResult`: the migrated text, the version it came
  from, the rules applied, the sites a human must fix, and `edits`: the changes as edits
  against the ORIGINAL text (apply them with `diagnostics.apply_edits` to get `result.text`).
  `target=None` means the newest version. Raises `UnknownVersion` for a target the registry
  does not know; every other problem is reported in `result.error`, never raised.
- `migration_fix(text, target=None) -> Fix | None`: the whole migration as one `Fix` (for the
  LSP's source action: turn `fix.edits` into a WorkspaceEdit). None when nothing changes or
  the migration fails.
- `rules_for(version) -> list[RewriteRule]`: the rules of one version step (manifest data).
- Single quick fixes (one diagnostic) need no engine: each CAI301/CAI302 diagnostic carries
  its rule's `Fix` (`rules.py` is the one implementation of each rule).

How a migration runs
--------------------
1. Parse the text; its version is the `#version` directive, else the inferred one.
2. Already at the target (declares it, or declares nothing and is inferred as it) and no form
   the target removed: unchanged, nothing validated (the fast path `--check` relies on).
3. Step through `registry.chain(source, target)`. For each step with rewrite rules, parse the
   current text under the step's parent version, collect the fixes of the step's rules, check
   they do not overlap (an overlap is a bug in a rule: reported as an error, never merged),
   apply them. Sites without a fix are collected as "needs a human".
4. Insert or update `#version` to the target: the version number in an existing directive is
   replaced (its spacing and trailing comment stay); otherwise `#version X.Y` and the file's
   own line ending are inserted as the very first line (after a BOM, before any header
   comment), so the result is stable and a second run finds the directive in place.
5. Validate the result under the target. Any error: the migration fails, `result.text` is
   the original, and `manual` lists the rules that need a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from codeai_lang.analysis.validator import Result, validate
from codeai_lang.diagnostics.model import (
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    OverlappingEdits,
    apply_edits,
    check_no_overlap,
)
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.syntax.deprecations import Site, may_have_sites, newline_of
from codeai_lang.syntax.lexer import Lexed, lex
from codeai_lang.syntax.registry import Registry, Version, default_registry
from codeai_lang.syntax.versioned_parse import Document, parse_document

_DIRECTIVE_VERSION = re.compile(r"#version([ \t]*)(\S*)")


class UnknownVersion(ValueError):
    """The requested target version is not in the registry (a usage error)."""


class Manual(NamedTuple):
    """A site a human must fix: the rule, the 1-based line in the original text, why."""

    rule: str
    line: int
    message: str


class Problem(NamedTuple):
    """An error in the rejected migrated text, placed on its line in the ORIGINAL text."""

    code: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class RewriteRule:
    """One rule of a version step: finds its sites in a parsed document and returns edits.

    The detection and the fix are `rules.RULES[id]` (shared with the validator's quick fixes);
    this object ties them to the manifest step that applies them.
    """

    id: str
    description: str

    def edits(self, doc: Document) -> tuple[list[tuple[str, Edit]], list[Site]]:
        """(rule id, edit) pairs against `doc.text`, and the sites a human must fix: those
        without a fix, and those whose fix is not safe (as `ruff --fix` applies safe fixes only)."""
        edits: list[tuple[str, Edit]] = []
        manual: list[Site] = []
        for site in doc.sites:
            if site.rule != self.id:
                continue
            if site.fix is None:
                manual.append(site)
            elif site.fix.applicability is not Applicability.SAFE:
                why = f"{site.fix.applicability.value} fix not applied automatically: {site.fix.description}"
                manual.append(replace(site, manual=site.manual or why))
            else:
                edits.extend((self.id, e) for e in site.fix.edits)
        return edits, manual


@dataclass(slots=True)
class MigrationResult:
    """What `migrate_text` did. `text` is the migrated text (the original if it failed)."""

    text: str
    source_version: str
    target: str
    changed: bool
    rules_applied: list[str] = field(default_factory=list)
    manual: list[Manual] = field(default_factory=list)
    error: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # errors in `attempted`
    edits: list[Edit] = field(default_factory=list)  # against the original text
    version_source: str = "directive"  # or "inferred"
    attempted: str = ""  # the rejected migrated text when the migration failed
    problems: list[Problem] = field(default_factory=list)  # `diagnostics` on original lines
    in_project: bool = False  # names left to the caller's project-wide check

    @property
    def ok(self) -> bool:
        return self.error is None


def rules_for(version: Version, registry: Registry | None = None) -> list[RewriteRule]:
    """The rewrite rules that lead to `version` from its parent, as the manifest lists them."""
    reg = registry or default_registry()
    out = []
    for rule_id in version.rewrites:
        dep = reg.deprecations.get(rule_id)
        desc = f"{dep.form} → {dep.replacement}" if dep else rule_id
        out.append(RewriteRule(rule_id, desc))
    return out


def migration_fix(text: str, target: str | None = None, registry: Registry | None = None) -> Fix | None:
    """The whole-file migration as one Fix (LSP source action), or None if nothing to do."""
    result = migrate_text(text, target, registry=registry)
    if not result.ok or not result.changed:
        return None
    return Fix(f"Migrate file to DSL {result.target}", tuple(result.edits))


def migrate_text(text: str, target: str | None = None, *, registry: Registry | None = None,
                 in_project: bool = False) -> MigrationResult:
    """Migrate `text` to `target` (default: newest). See the module docstring for the steps.

    `in_project`: the file is one of a project's, so the names it uses may be declared in
    other files; the migrated text is then verified without name resolution, which the
    caller does against the whole project (`migrate-dsl` does, before writing anything)."""
    reg = registry or default_registry()
    target = target or reg.latest
    if reg.get(target) is None:
        raise UnknownVersion(f"unknown DSL version '{target}' (known: {', '.join(reg.names)})")
    if _declares_target_without_sites(text, target):
        return MigrationResult(text, target, target, False)
    doc = _source_document(text, reg)
    base = MigrationResult(text, doc.version, target, False, version_source=doc.version_source)
    if reg.versions[doc.version].key > reg.versions[target].key:
        return _newer_than_target(text, doc, base, reg)
    # Forms the target removed, and forms the target deprecates with a rewrite leading to it
    # (a 2.1 file still using D7 is given the 2.1 form).
    needs = [s for s in doc.sites
             if reg.is_removed(s.rule, target) or s.rule in reg.versions[target].rewrites]
    if not needs and _at_target(doc, target):
        return base
    steps = reg.chain(doc.version, target) or ([reg.versions[target]] if needs else [])
    base.in_project = in_project
    return _run_steps(text, doc, steps, base, reg)


def _declares_target_without_sites(text: str, target: str) -> bool:
    """The fast path, on tokens only: one well-placed `#version <target>` and no word any
    rule needs. Same answer as the full path (declared target, no site), ~3× cheaper."""
    if "#version" not in text or target not in text:
        return False
    lexed = lex(text)
    if lexed.diagnostics or len(lexed.directives) != 1:
        return False
    tok = lexed.directives[0]
    if lexed.tokens and tok.start > lexed.tokens[0].start:
        return False
    m = _DIRECTIVE_VERSION.match(tok.text)
    return m is not None and m.group(2) == target and not may_have_sites(lexed.tokens)


def _source_document(text: str, reg: Registry) -> Document:
    """The text parsed under its version. An undeclared text inferred with syntax errors is
    tried under older versions too: the newest grammar's error recovery can hide that an
    older version accepts it (e.g. `on "e" do` with its action on the next line)."""
    doc = parse_document(text, registry=reg)
    if doc.declared is not None or doc.lexed.directives or not _has_errors(doc):
        return doc
    for older in reversed(reg.ordered):
        if older.key < reg.versions[doc.version].key:
            candidate = parse_document(text, version=older.name, registry=reg)
            if not _has_errors(candidate):
                candidate.version_source = "inferred"
                return candidate
    return doc


def _has_errors(doc: Document) -> bool:
    return any(d.is_error for d in doc.diagnostics)


def _at_target(doc: Document, target: str) -> bool:
    """Declares the target, or declares nothing (no directive at all) and is inferred as it."""
    if doc.declared is not None:
        return doc.declared == target
    return not doc.lexed.directives and doc.version == target


def _newer_than_target(text: str, doc: Document, base: MigrationResult, reg: Registry) -> MigrationResult:
    """Downgrades are not rewrites: fine only for an undeclared file the target accepts."""
    undeclared = doc.declared is None and not doc.lexed.directives
    if undeclared and validate(text, version=base.target, registry=reg).valid:
        return base
    base.error = (f"the file is DSL {doc.version} ({doc.version_source}), newer than the target "
                  f"{base.target}; migrate-dsl does not downgrade")
    return base


def _run_steps(text: str, doc: Document, steps: list[Version], base: MigrationResult,
               reg: Registry) -> MigrationResult:
    log = _EditLog()
    cur = text
    applied: set[str] = set()
    manual: list[tuple[str, int, str]] = []
    for step in steps:
        rules = rules_for(step, reg)
        if not rules:
            continue
        step_doc = _step_document(cur, text, doc, step, reg)
        pairs: list[tuple[str, Edit]] = []
        for rule in rules:
            edits, sites = rule.edits(step_doc)
            pairs += edits
            manual += [(s.rule, log.to_original(s.start), s.manual) for s in sites]
        try:
            cur = log.apply(cur, [e for _, e in pairs])
        except OverlappingEdits as exc:
            return _failed(base, _overlap_message(exc, pairs, text, log))
        applied.update(rule for rule, _ in pairs)
    directive = _directive_edits(doc.lexed, base.target)
    if any(r[0] < max((e.end for e in directive), default=0) for r in log.regions):
        directive = _directive_edits(lex(cur), base.target)  # a rule edited before it: find it again
    cur = log.apply(cur, directive)
    return _finish(text, cur, log, base, sorted(applied), manual, reg)


def _step_document(cur: str, text: str, doc: Document, step: Version, reg: Registry) -> Document:
    """The current text parsed under the step's parent version. The source document is reused
    when the text is unchanged, parsed cleanly, and only additive versions (no removals) lie
    between its version and the parent: a MINOR version accepts its parent's files as they are."""
    parent = step.parent or doc.version
    reusable = (cur is text and not _has_errors(doc)
                and (doc.version == step.name  # already at the step: its own rewrites only
                     or reg.versions[doc.version].key <= reg.versions[parent].key
                     and not any(v.removes for v in reg.chain(doc.version, parent))))
    return doc if reusable else parse_document(cur, version=parent, registry=reg)


def _finish(text: str, cur: str, log: _EditLog, base: MigrationResult, applied: list[str],
            manual: list[tuple[str, int, str]], reg: Registry) -> MigrationResult:
    """Validate the migrated text under the target; accept it or report why not."""
    result = validate(cur, registry=reg)
    errors = [d for d in _checked(result, base) if d.is_error]
    if result.document.version != base.target and not errors:
        errors = list(result.document.diagnostics)
    index = LineIndex(text)
    base.manual = _manual_items(manual, errors, log, index)
    if errors or manual:
        base.attempted, base.diagnostics = cur, errors
        base.problems = [Problem(d.code, index.line_of(log.to_original(d.start)) + 1, d.message)
                         for d in errors]
        return _failed(base, _failure_message(text, base, len(errors), reg))
    base.text, base.changed, base.rules_applied = cur, cur != text, applied
    base.edits = log.edits(cur)
    return base


def _manual_items(manual: list[tuple[str, int, str]], errors: list[Diagnostic], log: _EditLog,
                  index: LineIndex) -> list[Manual]:
    """Sites without a fix, plus removed forms still found after migration (CAI302)."""
    items = [Manual(rule, index.line_of(offset) + 1, msg) for rule, offset, msg in manual]
    seen = {(m.rule, m.line) for m in items}
    for d in errors:
        if d.code == "CAI302" and d.rule_id is not None:
            item = Manual(d.rule_id, index.line_of(log.to_original(d.start)) + 1, d.message)
            if (item.rule, item.line) not in seen:
                seen.add((item.rule, item.line))
                items.append(item)
    return sorted(items, key=lambda m: (m.line, m.rule))


def _failure_message(text: str, base: MigrationResult, errors: int, reg: Registry) -> str:
    """Say who must act: a human for rules without a fix, or the author of an invalid source."""
    needs = sorted({m.rule for m in base.manual})
    if needs:
        return f"needs a human: {', '.join(needs)} ({errors} error(s) under DSL {base.target})"
    before = sum(1 for d in _checked(validate(text, version=base.source_version, registry=reg), base)
                 if d.is_error)
    if before:
        return (f"the file already has {before} error(s) under DSL {base.source_version}; "
                f"fix them first ({errors} error(s) under DSL {base.target} after migration)")
    return f"{errors} error(s) under DSL {base.target} after migration"


# Script checks of one file cannot see the functions and variables of the project's others.
_PROJECT_NAME_CODES = frozenset({"CAI102", "CAI103"})


def _checked(result: Result, base: MigrationResult) -> list[Diagnostic]:
    """The diagnostics that decide a migration: all of them for a standalone file; for a
    project's file, those that do not depend on the other files (checked by the caller)."""
    if not base.in_project:
        return result.diagnostics
    return [d for d in result.local if d.code not in _PROJECT_NAME_CODES]


def _failed(base: MigrationResult, error: str) -> MigrationResult:
    base.error, base.changed, base.rules_applied, base.edits = error, False, [], []
    return base


def _overlap_message(exc: OverlappingEdits, pairs: list[tuple[str, Edit]], text: str,
                     log: _EditLog) -> str:
    rules = sorted({rule for rule, e in pairs if e in (exc.a, exc.b)})
    line = LineIndex(text).line_of(log.to_original(exc.b.start)) + 1
    return (f"internal error: rules {' and '.join(rules)} produced overlapping edits at line "
            f"{line}; this is a bug in codeai, nothing was changed")


def _directive_edits(lexed: Lexed, target: str) -> list[Edit]:
    """Replace the version in the first directive, or insert one as the first line."""
    text = lexed.text
    if lexed.directives:
        tok = lexed.directives[0]
        m = _DIRECTIVE_VERSION.match(tok.text)
        assert m is not None  # the lexer only makes DIRECTIVE tokens of this shape
        if m.group(2) == target:
            return []
        new = target if m.group(1) or m.group(2) else f" {target}"
        return [Edit(tok.start + m.start(2), tok.start + m.end(2), new)]
    start = 1 if text.startswith("\ufeff") else 0
    nl = newline_of(text)
    # The directive is followed by one blank line (the formatter's layout) unless one is there.
    blank = nl if text[start:].strip() and not text[start:].lstrip(" \t").startswith(("\n", "\r\n")) else ""
    return [Edit(start, start, f"#version {target}{nl}{blank}")]


class _EditLog:
    """Edits applied so far, as regions of the original text and where they are now.

    Each region is [orig_start, orig_end, cur_start, cur_end]: original text[orig_start:
    orig_end] became current text[cur_start:cur_end]. Later steps' edits (in current
    coordinates) merge with the regions they touch, so the final edits stay expressed against
    the original text — what the LSP and the "no byte changed outside edits" test need.
    """

    def __init__(self) -> None:
        self.regions: list[list[int]] = []

    def apply(self, text: str, edits: list[Edit]) -> str:
        ordered = sorted(edits, key=lambda e: (e.start, e.end))
        check_no_overlap(ordered)
        if not ordered:
            return text
        new_text = apply_edits(text, ordered)
        self.regions = self._merge(ordered)
        return new_text

    def _merge(self, ordered: list[Edit]) -> list[list[int]]:
        items: list[tuple[int, int, int, list[int] | Edit]] = [
            (r[2], r[3], 0, r) for r in self.regions] + [(e.start, e.end, 1, e) for e in ordered]
        items.sort(key=lambda t: (t[0], t[1], t[2]))
        groups: list[list[tuple[int, int, int, list[int] | Edit]]] = []
        for item in items:
            if groups and item[0] <= max(g[1] for g in groups[-1]):
                groups[-1].append(item)
            else:
                groups.append([item])
        out: list[list[int]] = []
        shift = 0
        for group in groups:
            cs, ce = min(g[0] for g in group), max(g[1] for g in group)
            os_, oe = self._orig(cs, group, True), self._orig(ce, group, False)
            grow = sum(len(g[3].new_text) - (g[1] - g[0]) for g in group if isinstance(g[3], Edit))
            out.append([os_, oe, cs + shift, ce + shift + grow])
            shift += grow
        return out

    def _orig(self, x: int, group: list[tuple[int, int, int, list[int] | Edit]], start: bool) -> int:
        for g in group:
            if isinstance(g[3], list) and (g[0] if start else g[1]) == x:
                return g[3][0] if start else g[3][1]
        return self.to_original(x)

    def to_original(self, x: int) -> int:
        """The original offset of current offset `x` (a region's start if `x` is inside one)."""
        delta = 0
        for os_, oe, cs, ce in self.regions:
            if x < cs:
                break
            if x < ce or (x == ce and cs == ce):
                return os_
            delta += (ce - cs) - (oe - os_)
        return x - delta

    def edits(self, final: str) -> list[Edit]:
        return [Edit(os_, oe, final[cs:ce]) for os_, oe, cs, ce in self.regions]
