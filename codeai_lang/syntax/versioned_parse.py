"""Parse a whole document under the right DSL version: directives, inference, CAI401–CAI403.

The lexer is version-independent, so a text is lexed once. It is parsed under the declared
version (or, with no directive, the newest). Top-level statements that fail are re-parsed on
their own under other versions: under a newer one to explain CAI403 (construct too new), under
an older one to recognise a form the version removed (reported by the deprecation rules as
CAI302). Inference never re-parses statements that already parsed, because every grammar is
a superset of its successor's statements or its parent's (see docs/decisions.md).

All of this is `ParseSession` (text, tokens, registry): `parse_document` runs one that parses
everything itself; the incremental document (analysis/incremental.py) runs one fed with its
cached units and re-parses, so version selection is written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.deprecations import RULES, Site, find_sites
from codeai_lang.syntax.lexer import Lexed, Token, lex
from codeai_lang.syntax.parser import Unit, parse_tokens
from codeai_lang.syntax.registry import Registry, Version, default_registry

_DIRECTIVE = re.compile(r"#version[ \t]*(\S*)[ \t]*(.*)$")


@dataclass(slots=True)
class Document:
    """A parsed text: its tokens, AST, chosen version and syntax/version diagnostics."""

    text: str
    lexed: Lexed
    program: n.Program
    version: str
    version_source: str  # "directive" | "inferred" | "override" | "project" | "default"
    declared: str | None
    diagnostics: list[Diagnostic]
    # Deprecated forms found (D1–D8), or None until first asked for (see `sites`).
    _sites: list[Site] | None = None
    directive: Token | None = None
    _by_rule: dict[str, list[Site]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def statements(self) -> list[n.Node]:
        return self.program.statements

    @property
    def sites(self) -> list[Site]:
        """Every deprecation site, in source order. Computed on first use: a validation asks
        only for the rules its version reports (`sites_of`), so a 1.x file, where no rule is
        reported, never walks the tree for them; migrate-dsl and quick fixes ask for all."""
        if self._sites is None:
            self._sites = self.sites_of(tuple(RULES))
        return self._sites

    @sites.setter
    def sites(self, value: list[Site]) -> None:
        self._sites = value

    def sites_of(self, rules: tuple[str, ...]) -> list[Site]:
        """The sites of `rules` only, in source order (each rule's search runs once)."""
        if self._sites is not None:
            return [s for s in self._sites if s.rule in rules]
        missing = tuple(r for r in rules if r not in self._by_rule)
        if missing:
            for rule in missing:
                self._by_rule[rule] = []
            for site in find_sites(self.program.statements, self.text, missing):
                self._by_rule[site.rule].append(site)
        out = [s for rule in rules for s in self._by_rule.get(rule, ())]
        out.sort(key=_site_order)
        return out


def _site_order(site: Site) -> tuple[int, str]:
    return site.start, site.rule


def parse_document(text: str, *, version: str | None = None, registry: Registry | None = None,
                   default_version: str | None = None) -> Document:
    """Parse `text`. `version` overrides the directive (like `validate --dsl-version`);
    `default_version` (a project's `dsl_version`) applies only to a file with no directive."""
    return ParseSession(text, registry=registry).document(version=version,
                                                          default_version=default_version)


class ParseSession:
    """One text's tokens and registry, and the choice of the DSL version it is parsed under.

    `document` reads the directive, picks the version (override, directive, project default,
    else inference) and re-parses failing statements under other versions (CAI403, removed
    forms). Whole-file parses (`parsed`) are kept per version for the session. A caller that
    already holds the units — the incremental document, from its cache — passes them to
    `feed`, and may override `reparse` and `sites` to answer from its cache too: the choice
    itself is written only here.
    """

    def __init__(self, text: str, *, registry: Registry | None = None,
                 lexed: Lexed | None = None) -> None:
        self.text = text
        self.reg = registry or default_registry()
        self.lexed = lex(text) if lexed is None else lexed
        self._parsed: dict[str, tuple[list[Unit], list[Diagnostic]]] = {}

    def feed(self, version: str, units: list[Unit]) -> None:
        """The units of the whole token list parsed under `version`, owning every syntax error
        of that parse (used instead of parsing again)."""
        self._parsed[version] = units, [d for u in units for d in u.errors]

    def parse_version(self, *, version: str | None = None,
                      default_version: str | None = None) -> str:
        """The version the whole file is parsed under first (the newest when inferring)."""
        directive, declared = _read_directive(self.lexed, self.reg, [])
        return self._choose(version, directive, declared, default_version)[0]

    def document(self, *, version: str | None = None,
                 default_version: str | None = None) -> Document:
        """The parsed text: `version` overrides the directive; `default_version` applies only
        without a (well-placed) directive."""
        diags = list(self.lexed.diagnostics)
        directive, declared = _read_directive(self.lexed, self.reg, diags)
        chosen, source = self._choose(version, directive, declared, default_version)
        if source == "inferred":
            return self._inferred(directive, diags)
        return self._declared(chosen, source, declared, directive, diags)

    # -- what a caller with a cache answers itself -------------------------------------------
    def parsed(self, version: str) -> tuple[list[Unit], list[Diagnostic]]:
        """The top-level units of the whole token list parsed under `version`, and its syntax
        errors (fed, or parsed once per session)."""
        found = self._parsed.get(version)
        if found is None:
            out = parse_tokens(self.lexed.tokens, self.reg.tables(version), self.text,
                               unclosed_reported=bool(self.lexed.unclosed), resets=self.lexed.resets)
            found = self._parsed[version] = out.units, out.diagnostics
        return found

    def reparse(self, units: list[Unit], idx: int, size: int, version: str) -> list[n.Node] | None:
        """The statements of units[idx:idx + size] parsed on their own under `version`, or
        None if they do not parse cleanly there."""
        tokens = self.lexed.tokens[units[idx].first:units[idx + size - 1].last]
        eof = tokens[-1].end if tokens else len(self.text)
        # A slice cut inside a bracket group is not a clean statement: report its end of input.
        sub = parse_tokens(tokens, self.reg.tables(version), self.text, unclosed_reported=False,
                           eof=eof)
        return None if sub.diagnostics else sub.statements

    def sites(self, units: list[Unit], replaced: dict[int, list[n.Node]],
              version: str) -> list[Site] | None:
        """The deprecation sites that `version` reports or removes in `units`, each replaced
        by its re-parse where `replaced` (by id of the unit) has one, if known; None lets the
        Document find the sites it is asked for."""
        return None

    # -- the choice ----------------------------------------------------------------------------
    def _choose(self, override: str | None, directive: Token | None, declared: str | None,
                default: str | None) -> tuple[str, str]:
        """(version, source): the version parsed under and where it came from."""
        reg = self.reg
        if override is not None:
            return override, "override"
        if declared is not None:
            return declared, "directive"
        if directive is not None:  # an unknown version (CAI401): checked against the newest (§1)
            return reg.latest, "default"
        if default is not None and default in reg.versions:
            return default, "project"
        return reg.ordered[-1].name, "inferred"

    def _document(self, version: str, source: str, declared: str | None,
                  directive: Token | None, diags: list[Diagnostic], units: list[Unit],
                  replaced: dict[int, list[n.Node]]) -> Document:
        program = n.Program(0, len(self.text), _merge(units, replaced))
        return Document(self.text, self.lexed, program, version, source, declared, diags,
                        self.sites(units, replaced, version), directive)

    def _declared(self, version: str, source: str, declared: str | None,
                  directive: Token | None, diags: list[Diagnostic]) -> Document:
        units, errors = self.parsed(version)
        replaced, syntax, older = self._explain_failures(version, units, errors)
        doc = self._document(version, source, declared, directive, diags, units, replaced)
        if older:  # only units an older version parsed can be explained by a removed form
            removed = doc.sites_of(self.reg.removed_rules(version))
            syntax = _drop_errors_explained_by_removals(syntax, older, self.lexed, removed,
                                                        self.reg, version)
        doc.diagnostics = diags + syntax
        return doc

    def _inferred(self, directive: Token | None, diags: list[Diagnostic]) -> Document:
        """Newest version that accepts the file: no syntax errors and no removed forms."""
        reg = self.reg
        newest = reg.ordered[-1]
        units = self.parsed(newest.name)[0]
        failing = [u for u in units if u.errors]
        for cand in reversed(reg.ordered):
            if cand is newest and failing:
                continue  # its units failed in this very parse: re-parsing them alone changes nothing
            replaced = self._reparse_failing(cand, units, failing)
            if replaced is None:
                continue
            doc = self._document(cand.name, "inferred", None, directive, diags, units, replaced)
            if doc.sites_of(reg.removed_rules(cand.name)):
                continue  # a form this candidate removed: an older version accepts the file
            return doc
        # Nothing accepts the file: report it against the newest version.
        return self._declared(newest.name, "inferred", None, directive, diags)

    def _reparse_failing(self, cand: Version, units: list[Unit],
                         failing: list[Unit]) -> dict[int, list[n.Node]] | None:
        """The replacements under `cand` if every failing unit parses cleanly there, else None.

        Units that parsed under the newest grammar are reused as they are: the grammars only
        grow going back from the newest (removed forms) — see docs/decisions.md.
        """
        failing_ids = {id(u) for u in failing}
        replaced: dict[int, list[n.Node]] = {}
        idx = 0
        while idx < len(units):
            unit = units[idx]
            if id(unit) not in failing_ids:
                idx += 1
                continue
            if self.lexed.diagnostics and _has_lexical_error(self.lexed, unit):
                return None
            found = self._parse_group(cand.name, units, idx)
            if found is None:
                return None
            size, statements = found
            replaced[id(unit)] = statements
            replaced.update((id(u), []) for u in units[idx + 1:idx + size])
            idx += size
        return replaced

    def _parse_group(self, version: str, units: list[Unit],
                     idx: int) -> tuple[int, list[n.Node]] | None:
        """(units consumed, statements) of the shortest run of units from `idx` that parses
        cleanly under `version`, or None."""
        for size in range(1, _MAX_GROUP + 1):
            if idx + size > len(units):
                return None
            if size > 1 and not units[idx + size - 1].errors:
                return None  # only units that failed too can be pieces of the same statement
            statements = self.reparse(units, idx, size, version)
            if statements is not None:
                return size, statements
        return None

    def _explain_failures(self, version: str, units: list[Unit], errors: list[Diagnostic],
                          ) -> tuple[dict[int, list[n.Node]], list[Diagnostic], list[Unit]]:
        """Re-parse failing units under newer versions (CAI403) and older ones (removed forms):
        (replacements, syntax errors, the units only an older version parsed)."""
        reg, lexed = self.reg, self.lexed
        syntax = list(errors)
        replaced: dict[int, list[n.Node]] = {}
        older: list[Unit] = []
        idx = 0
        while idx < len(units):
            unit = units[idx]
            idx += 1
            if not unit.errors or _has_lexical_error(lexed, unit):
                continue
            found = self._first_accepting(version, units, idx - 1)
            if found is None:
                continue
            other, size, statements = found
            group = _joined(units[idx - 1:idx - 1 + size])
            replaced[id(unit)] = statements
            replaced.update((id(u), []) for u in units[idx:idx - 1 + size])
            idx += size - 1
            if other.key > reg.versions[version].key:
                syntax = [d for d in syntax if all(d is not e for e in group.errors)]
                syntax.append(_too_new(lexed, reg, version, other, group))
            else:
                older.append(group)
        return replaced, syntax, older

    def _first_accepting(self, version: str, units: list[Unit],
                         idx: int) -> tuple[Version, int, list[n.Node]] | None:
        key = self.reg.versions[version].key
        newer = [v for v in self.reg.ordered if v.key > key]
        older = [v for v in reversed(self.reg.ordered) if v.key < key]
        for other in newer + older:
            found = self._parse_group(other.name, units, idx)
            if found is not None:
                return other, found[0], found[1]
        return None


# -- directives ----------------------------------------------------------------------------


def _read_directive(lexed: Lexed, reg: Registry,
                    diags: list[Diagnostic]) -> tuple[Token | None, str | None]:
    """The first well-placed directive and the version it names (None if absent/unknown)."""
    first_token_start = lexed.tokens[0].start if lexed.tokens else len(lexed.text)
    chosen: Token | None = None
    declared: str | None = None
    for tok in lexed.directives:
        if chosen is not None:
            diags.append(Diagnostic("CAI402", Severity.ERROR,
                                    "repeated '#version' directive: only one is allowed",
                                    tok.start, tok.end))
            continue
        if tok.start > first_token_start:
            diags.append(Diagnostic("CAI402", Severity.ERROR,
                                    "'#version' must come before any statement",
                                    tok.start, tok.end))
            continue
        chosen = tok
        declared = _directive_version(tok, reg, diags)
    return chosen, declared


def _directive_version(tok: Token, reg: Registry, diags: list[Diagnostic]) -> str | None:
    m = _DIRECTIVE.match(tok.text)
    name = m.group(1) if m else ""
    trailing = m.group(2).rstrip() if m else ""  # a CRLF file leaves "\r" at the end
    if trailing and not trailing.startswith("//"):
        diags.append(Diagnostic("CAI001", Severity.ERROR,
                                f"unexpected text after '#version {name}'", tok.start, tok.end))
    if reg.get(name) is None:
        known = ", ".join(reg.names)
        shown = f"'{name}'" if name else "no version"
        diags.append(Diagnostic("CAI401", Severity.ERROR,
                                f"unknown DSL version {shown} in '#version' (known: {known}); "
                                f"checking against {reg.latest}", tok.start, tok.end))
        return None
    return name


# -- helpers of the session -----------------------------------------------------------------


# A statement the newest grammar rejects may have been split by error recovery (e.g.
# `on "e" do` / `workflow "w"` on two lines: the second line looks like a statement), so a
# failing unit is retried together with up to this many following units.
_MAX_GROUP = 4


def _has_lexical_error(lexed: Lexed, unit: Unit) -> bool:
    lo = lexed.tokens[unit.first].start if unit.first < len(lexed.tokens) else len(lexed.text)
    hi = lexed.tokens[unit.last - 1].end if 0 < unit.last <= len(lexed.tokens) else len(lexed.text)
    return any(lo <= d.start < hi or d.code == "CAI003" for d in lexed.diagnostics)


def _merge(units: list[Unit], replaced: dict[int, list[n.Node]]) -> list[n.Node]:
    statements: list[n.Node] = []
    for unit in units:
        if id(unit) in replaced:
            statements.extend(replaced[id(unit)])
        elif unit.node is not None:
            statements.append(unit.node)
    return statements


def _joined(group: list[Unit]) -> Unit:
    """One unit spanning a run of units (a statement that error recovery split)."""
    if len(group) == 1:
        return group[0]
    return Unit(group[0].first, group[-1].last, None, [e for u in group for e in u.errors])


def _too_new(lexed: Lexed, reg: Registry, version: str, newer: Version, unit: Unit) -> Diagnostic:
    first = min(unit.errors, key=lambda d: d.start)
    what, tok = _construct_description(lexed, reg, version, newer, unit, first.start)
    start, end = (tok.start, tok.end) if tok is not None else (first.start, first.end)
    return Diagnostic("CAI403", Severity.ERROR,
                      f"{what} require DSL {newer.name}, but the file declares {version}; "
                      f"change '#version' to {newer.name} or newer", start, end)


def _construct_description(lexed: Lexed, reg: Registry, version: str, newer: Version,
                           unit: Unit, offset: int) -> tuple[str, Token | None]:
    """Name the newer construct — the manifest addition matching a token up to the error —
    and return that token, where the diagnostic points."""
    tokens = lexed.tokens
    adds = [a for v in reg.chain(version, newer.name) for a in v.adds if a.terminal]
    # Nearest first, scanning back from the error: an earlier token may match an addition
    # that the older version accepts in that place (`key:` before a named argument).
    # Distinctive additions (a keyword, a new token) win over contextual ones (`after`, a
    # generic operator): `select count(*)` is a query, not "operators".
    upto = [i for i in range(unit.first, min(unit.last, len(tokens))) if tokens[i].start <= offset]
    distinctive = [a for a in adds if not a.after and a.terminal != "OP"]
    for candidates in (distinctive, adds):
        for idx in reversed(upto):
            tok = tokens[idx]
            prev = tokens[idx - 1] if idx > 0 else None
            for add in candidates:
                if add.terminal in (tok.kind, tok.text.upper()) and (
                    not add.after or (prev is not None and prev.kind == add.after)
                ):
                    return add.description, tok
    return "these constructs", None


def _drop_errors_explained_by_removals(syntax: list[Diagnostic], older: list[Unit],
                                       lexed: Lexed, sites: list[Site], reg: Registry,
                                       version: str) -> list[Diagnostic]:
    """A unit that parses only under an older version because it uses a form this version
    removed is reported by the rules as CAI302 (with the fix), not as a syntax error."""
    removed = [s for s in sites if reg.is_removed(s.rule, version)]
    drop: set[int] = set()
    for unit in older:
        lo = lexed.tokens[unit.first].start
        hi = lexed.tokens[unit.last - 1].end
        if any(lo <= s.start < hi for s in removed):
            drop.update(id(d) for d in unit.errors)
    return [d for d in syntax if id(d) not in drop]
