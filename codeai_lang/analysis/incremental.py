"""Incremental analysis of one document: re-lex and re-parse only the top-level statements an
edit touches, reuse the rest, and give exactly the diagnostics `validator.validate` gives.

Why: a full analysis of a 20,000-line file takes far longer than the 100 ms an editor can wait
after a keystroke, but top-level statements ("units") are independent for the lexer and the
parser. State kept per document: the token list, the units (token range, AST, syntax errors),
the flat node list of each unit (to shift offsets in place when text before it changes) and
cached per-unit work (deprecation sites, parses under other DSL versions).

An edit is handled in a *window* of units: the units whose text (with the gaps around them)
the edit touches, plus one untouched unit on each side. The window's text is re-lexed on its
own and its tokens parsed on their own. The result is accepted only when it provably equals
what a full pass would produce:

- the lexer is in its initial state at both ends of the window (no open bracket, the window
  ends in whitespace after a token boundary, no unterminated comment or exec block). A
  bracket the window's lex closed at a reset line (`lexer.lex`: never closed, so local) is
  accepted when no stray closer follows the window (it would close that bracket in the whole
  text), and a stray closer in the window only when no reset precedes it;
- the parser is at top level at both ends: the window starts at an old unit boundary (with
  the untouched unit kept as the first unit of the window) and its last unit is the old,
  error-free unit after the edit, parsed to the same token range;
- no global state of the parser comes into play (unclosed brackets at end of file, the cap
  on syntax errors), and no recovery looked further than the window: a stray group's closer
  is searched for ahead (`Unit.reach`), so a window whose recovery reached its end is grown,
  and an edit in tokens an earlier unit's recovery read is analysed in full.

Anything else extends the window a few units, then falls back to a full analysis. Semantic
checks (script and declaration checks) are global but cheap and run on the whole AST each
time; the document-level steps (version directive, inference, CAI403, removed forms) are
`versioned_parse.ParseSession`'s, fed with the cached units (`_CachedSession`), so there is
one definition of the language.
"""

from __future__ import annotations

import copy
import weakref
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from itertools import islice
from typing import Any

from codeai_lang.analysis import semantic
from codeai_lang.analysis.check_cache import (
    DeclCache,
    ExpressionCache,
    ScriptCache,
    ShellCache,
    TableDeclCache,
)
from codeai_lang.analysis.validator import (
    Result,
    _without_recovery_echoes,
    cap_syntax_errors,
    dedupe,
    deprecation_diagnostics,
    finish,
    validate,
)
from codeai_lang.diagnostics.model import Diagnostic, Edit, Fix
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.deprecations import Site, find_sites
from codeai_lang.syntax.lexer import Comment, Lexed, Token, lex
from codeai_lang.syntax.parser import MAX_SYNTAX_ERRORS, ParseOutput, Unit, parse_tokens
from codeai_lang.syntax.registry import Registry, default_registry
from codeai_lang.syntax.tokens import shift_tokens
from codeai_lang.syntax.versioned_parse import Document, ParseSession

MAX_WINDOW_GROWTH = 8  # extra units a window may grow by before a full analysis is cheaper
_OPEN = frozenset({"LBRACE", "LPAR", "LSQB"})
_CLOSE = {"RBRACE": "LBRACE", "RPAR": "LPAR", "RSQB": "LSQB"}


class _Fallback(Exception):
    """The edit cannot be handled incrementally with certainty: analyse the whole text."""


@dataclass(slots=True)
class _Alt:
    """A unit parsed on its own under another DSL version (for inference and CAI403)."""

    statements: list[n.Node]
    clean: bool
    nodes: list[n.Node]
    sites: list[Site] | None = None


@dataclass(slots=True)
class _UnitInfo:
    """A top-level unit and the work cached for it, all in absolute offsets."""

    unit: Unit
    ext: int  # where the next unit starts: recovery may leave tokens after `unit.last`
    nodes: list[n.Node]  # every node of unit.node, to shift offsets in place
    clean_start: bool  # the lexer has no open bracket where this unit starts
    sites: list[Site] | None = None
    alt: dict[str, _Alt] = field(default_factory=dict)
    sites_delta: int = 0  # a shift not yet applied to `sites` (applied when they are needed)
    has_exec: bool = False  # exec blocks among `nodes` (they hold one more offset)
    # Characters by which this unit's tokens, nodes, errors and alternative parses are behind
    # the text: an edit before the unit only adds to it, and the offsets are brought up to
    # date (`settle`) when something reads them, so an edit costs the units it touches, not
    # every later token and node (rust-analyzer keeps offsets relative for the same reason).
    lag: int = 0

    def current_sites(self) -> list[Site] | None:
        """The cached sites, with any pending shift applied."""
        if self.sites is not None and self.sites_delta:
            self.sites = [_shift_site(s, self.sites_delta) for s in self.sites]
        self.sites_delta = 0
        return self.sites

    def settle(self, tokens: list[Token]) -> None:
        """Bring the offsets of this unit's tokens, nodes, errors and alternatives up to date."""
        delta = self.lag
        if not delta:
            return
        self.lag = 0
        shift_tokens(tokens, self.unit.first, self.ext, delta)  # (replaces the immutable ones)
        _shift_nodes(self.nodes, delta)
        if self.has_exec:
            _shift_execs(self.nodes, delta)
        for d in self.unit.errors:
            d.start += delta
            d.end += delta
        for alt in self.alt.values():
            _shift_nodes(alt.nodes, delta)
            _shift_execs(alt.nodes, delta)
            if alt.sites is not None:
                alt.sites = [_shift_site(s, delta) for s in alt.sites]


def _shift_units(infos: list[_UnitInfo], first: int, delta: int, dindex: int) -> None:
    """Move the units from `first` on by `delta` characters and `dindex` tokens (text before
    them changed): token indices now, offsets when they are read (see `_UnitInfo.lag`)."""
    if not dindex:  # (a keystroke inside a token: no index moves)
        for info in islice(infos, first, None):
            info.lag += delta
            if info.sites:
                info.sites_delta += delta
        return
    for i in range(first, len(infos)):
        info = infos[i]
        unit = info.unit
        unit.first += dindex
        unit.last += dindex
        if unit.reach:
            unit.reach += dindex
        info.ext += dindex
        info.lag += delta
        if info.sites:
            info.sites_delta += delta  # most sites are never reported: shift them on demand


def _shift_nodes(nodes: list[n.Node], delta: int) -> None:
    for node in nodes:
        node.start += delta
        node.end += delta


def _shift_execs(nodes: list[n.Node], delta: int) -> None:
    """Exec blocks also hold the offset of their shell text."""
    for node in nodes:
        if type(node) is n.ExecBlock:
            node.shell_start += delta


def _shift_site(site: Site, delta: int) -> Site:
    fix = site.fix
    if fix is not None:
        fix = Fix(fix.description, tuple(Edit(e.start + delta, e.end + delta, e.new_text)
                                         for e in fix.edits))
    return Site(site.rule, site.start + delta, site.end + delta, fix, site.manual)


def _flat_nodes(statements: list[n.Node]) -> list[n.Node]:
    return [node for stmt in statements for node in stmt.walk()]


@dataclass(slots=True)
class EditStats:
    """How the edits so far were handled (for tests and the benchmark)."""

    incremental: int = 0
    full: int = 0
    reparsed_units: int = 0
    internal_errors: int = 0


class IncrementalDocument:
    """One document's text and analysis, updated edit by edit.

    `version` overrides any directive (like `validate(version=…)`); `default_version` is used
    only when the text has no valid `#version` directive (instead of inferring one).
    Texts shorter than `min_incremental` characters are always analysed in full: it is as
    fast, and keeps small documents on the simplest path.
    """

    def __init__(self, text: str, *, version: str | None = None, default_version: str | None = None,
                 registry: Registry | None = None, min_incremental: int = 8192) -> None:
        self.reg = registry or default_registry()
        self.override = version
        self.default_version = default_version if default_version in self.reg.versions else None
        self.min_incremental = min_incremental
        self.stats = EditStats()
        self.text = text
        self._result: Result | None = None
        self._infos: list[_UnitInfo] | None = None
        self._lagging = False  # some unit's offsets are behind the text (see `_UnitInfo.lag`)
        self._errors = 0  # syntax errors of all units
        self._reaching = 0  # units whose recovery read tokens past their end (`Unit.reach`)
        self._fresh: dict[int, _UnitInfo] = {}  # units parsed since the last analysis, by node id
        self._decl_checks = DeclCache(self.reg)
        self._table_decls = TableDeclCache()
        self._expression_checks = ExpressionCache(self.reg)
        self._script_checks = ScriptCache()
        self._shell_checks = ShellCache()
        self.parse_version = self.reg.latest
        self._external: Mapping[str, tuple[str, int]] | None = None
        self._external_token: object = ()
        self._full()

    # -- public API -------------------------------------------------------------------------
    def apply_edit(self, start: int, end: int, new_text: str) -> None:
        """Replace text[start:end] with `new_text` (character offsets into the current text)."""
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        old = self.text
        self.text = old[:start] + new_text + old[end:]
        self._result = None
        if self._infos is None or len(self.text) < self.min_incremental:
            self._full()
            return
        try:
            self._window_update(old, start, end, len(new_text) - (end - start))
            self.stats.incremental += 1
        except _Fallback:
            self._full()
        except Exception:  # a bug here must never cost correctness: count it, analyse in full
            self.stats.internal_errors += 1
            self._full()

    def set_text(self, text: str) -> None:
        """Replace the whole text (a full analysis)."""
        self.text = text
        self._result = None
        self._full()

    def set_external(self, external: Mapping[str, tuple[str, int]] | None, token: object = None) -> None:
        """The top-level script names of the project's other files (see `validate`);
        `token` changes whenever they may have (compared instead of the names)."""
        if token is None:
            token = tuple(sorted((external or {}).items()))
        if token != self._external_token:
            self._external, self._external_token = external, token
            self._result = None

    @property
    def result(self) -> Result:
        """The analysis of the current text: identical to `validate(text, …)`.

        Its diagnostics and name table are exact at once; the offsets of the tokens and nodes
        that an edit only moved are brought up to date when `result.document` is first read
        (or by `settle()`), so publishing diagnostics after an edit never pays for them."""
        if self._result is None:
            self._result = self._analyze()
        return self._result

    def settle(self) -> None:
        """Bring every token's and node's offsets up to date (an edge: a request that reads
        the tree, such as hover, calls this first; it is free when nothing moved)."""
        if self._lagging and self._infos:
            tokens = self.lexed.tokens
            for info in self._infos:
                if info.lag:
                    info.settle(tokens)
        self._lagging = False

    # -- full analysis ----------------------------------------------------------------------
    def _full(self) -> None:
        """Lex and parse the whole text; if the state is not one edits can build on, keep
        only the validator's result (the next edit is a full analysis again)."""
        self.stats.full += 1
        self._fresh = {}
        text = self.text
        self.lexed = lexed = lex(text)
        self._infos = None
        self.parse_version = self._parse_version(lexed)
        if not _lexically_incremental(lexed):
            self._result = self._validate()
            return
        tables = self.reg.tables(self.parse_version)
        out = parse_tokens(lexed.tokens, tables, text, unclosed_reported=False, resets=lexed.resets)
        if not _units_cover(out, len(lexed.tokens)):
            self._result = self._validate()
            return
        self._infos = _make_infos(lexed.tokens, out.units, 0, len(lexed.tokens), lexed.resets)
        self._errors = sum(len(u.errors) for u in out.units)  # (kept up to date by _splice)
        self._reaching = sum(_reaches(u) for u in out.units)
        self.stats.reparsed_units += len(out.units)

    def _validate(self) -> Result:
        return validate(self.text, version=self.override, default_version=self.default_version,
                        registry=self.reg, external=self._external)

    def _parse_version(self, lexed: Lexed) -> str:
        """The version the units are parsed under: the session's first choice."""
        return ParseSession(self.text, registry=self.reg, lexed=lexed).parse_version(
            version=self.override, default_version=self.default_version)

    # -- incremental update -------------------------------------------------------------------
    def _window_update(self, old: str, start: int, end: int, delta: int) -> None:
        infos = self._infos
        assert infos is not None
        if not infos:
            raise _Fallback
        tokens = self.lexed.tokens
        k, m = _touched(old, tokens, infos, start, end)
        left = _left_anchor(tokens, infos, k - 1)
        if self._reaching and any(i.unit.reach > infos[k].unit.first for i in islice(infos, left)):
            raise _Fallback  # an earlier unit's recovery read the tokens this edit changes
        right = m + 1
        for _ in range(MAX_WINDOW_GROWTH):
            window = self._try_window(old, left, right, start, end, delta)
            if window is not None:
                self._splice(window, left, right, delta)
                if self._infos:  # (the directive check reads the first token's start)
                    self._infos[0].settle(self.lexed.tokens)
                if self._parse_version(self.lexed) != self.parse_version or \
                        self._errors >= MAX_SYNTAX_ERRORS:
                    raise _Fallback
                return
            right += 1
        raise _Fallback

    def _try_window(self, old: str, left: int, right: int, start: int, end: int,
                    delta: int) -> _Window | None:
        """Re-lex and re-parse units left..right (right may be past the end); None if the
        window's edges are not proven stable (the caller grows it)."""
        infos = self._infos
        assert infos is not None
        tokens = self.lexed.tokens
        for i in (left, right, right + 1):
            if i < len(infos):
                infos[i].settle(tokens)
        new = self.text
        ia = infos[left].unit.first if left > 0 else 0
        a = tokens[ia].start if left > 0 else 0
        at_end = right >= len(infos)
        if at_end:
            ib, b_old = len(tokens), len(old)
        else:
            anchor = infos[right]
            if anchor.unit.errors or anchor.unit.node is None or anchor.ext != anchor.unit.last \
                    or tokens[anchor.unit.first].start <= end:
                return None
            ib = anchor.ext
            b_old = tokens[ib].start if ib < len(tokens) else len(old)
            if right + 1 < len(infos) and not infos[right + 1].clean_start:
                return None
            if b_old < len(old) and old[b_old - 1] not in " \t\r\n":
                return None
        b = b_old + delta
        if b < a or b_old < end:
            return None
        sub = lex(new[a:b])
        if not _window_lex_ok(sub, at_end):
            return None
        resets = [r + a for r in sub.resets]
        if resets and not at_end and self.lexed.strays and self.lexed.strays[-1] >= b_old:
            return None  # a closer after the window might close what the window left open
        if sub.strays and self.lexed.resets and self.lexed.resets[0] <= a:
            return None  # a closer in the window might close a bracket reset before it
        wtokens = [Token(t.kind, t.text, t.start + a, t.end + a) for t in sub.tokens]
        if left > 0 and (not wtokens or wtokens[0].kind != tokens[ia].kind
                         or wtokens[0].text != tokens[ia].text):
            return None
        eof = len(new) if at_end else (wtokens[-1].end if wtokens else b)
        out = parse_tokens(wtokens, self.reg.tables(self.parse_version), new,
                           unclosed_reported=False, eof=eof, resets=resets)
        if not _units_cover(out, len(wtokens)):
            return None
        if not at_end and any(u.reach >= len(wtokens) for u in out.units):
            return None  # recovery looked for a closer up to the window's end: the text may hold one
        if not at_end:
            anchor = infos[right]
            last = out.units[-1] if out.units else None
            n_anchor = anchor.unit.last - anchor.unit.first
            if last is None or last.errors or last.node is None or \
                    last.last != len(wtokens) or last.last - last.first != n_anchor:
                return None
            old_anchor = tokens[anchor.unit.first:anchor.unit.last]
            if any(x.kind != y.kind or x.text != y.text
                   for x, y in zip(old_anchor, wtokens[last.first:], strict=True)):
                return None
        return _Window(ia, ib, a, b_old, sub, wtokens, out, resets)

    def _splice(self, w: _Window, left: int, right: int, delta: int) -> None:
        """Replace the window's tokens, units, comments and lexer diagnostics; shift the rest."""
        infos = self._infos
        assert infos is not None
        lexed = self.lexed
        tokens = lexed.tokens
        dindex = len(w.tokens) - (w.ib - w.ia)
        tokens[w.ia:w.ib] = w.tokens  # (in place: one move, not a new list of every token)
        if right + 1 < len(infos) and (delta or dindex):
            _shift_units(infos, right + 1, delta, dindex)
            self._lagging = self._lagging or bool(delta)
        for u in w.out.units:
            u.first += w.ia
            u.last += w.ia
            if u.reach:
                u.reach += w.ia
        fresh = _make_infos(w.tokens, w.out.units, w.ia, w.ia + len(w.tokens), w.resets)
        self._fresh.update((id(i.unit.node), i) for i in fresh if i.unit.node is not None)
        replaced = infos[left:right + 1]
        self._errors += sum(len(u.errors) for u in w.out.units) - \
            sum(len(i.unit.errors) for i in replaced)
        self._reaching += sum(_reaches(u) for u in w.out.units) - sum(_reaches(i.unit) for i in replaced)
        infos[left:right + 1] = fresh
        self.stats.reparsed_units += len(fresh)
        self._splice_lexed(w, delta)

    def _splice_lexed(self, w: _Window, delta: int) -> None:
        lexed, a = self.lexed, w.a
        lexed.text = self.text
        lexed.comments = _splice_spans(lexed.comments, w.a, w.b_old, delta,
                                       [Comment(c.text, c.start + a, c.end + a) for c in w.sub.comments])
        fresh_diags = [Diagnostic(d.code, d.severity, d.message, d.start + a, d.end + a)
                       for d in w.sub.diagnostics]
        lexed.diagnostics = _splice_diags(lexed.diagnostics, w.a, w.b_old, delta, fresh_diags)
        # A reset at the window's start is the left context's (the window is lexed from there).
        lexed.resets = _splice_offsets(lexed.resets, w.a + 1, w.b_old, delta, w.resets)
        lexed.strays = _splice_offsets(lexed.strays, w.a, w.b_old, delta, [x + a for x in w.sub.strays])
        fresh_dirs = [Token(t.kind, t.text, t.start + a, t.end + a) for t in w.sub.directives]
        kept = [t for t in lexed.directives if t.start < w.a]
        later = [t.shifted(delta) for t in lexed.directives if t.start >= w.b_old]
        lexed.directives = kept + fresh_dirs + later

    # -- document-level analysis (the session's version selection, then as validator.validate) -
    def _analyze(self) -> Result:
        if self._infos is None or self._adjacent_failures():
            self.settle()
            return self._validate()
        self._settle_read_units()
        self._forget_last_unit_sites()
        reg = self.reg
        doc = _CachedSession(self).document(version=self.override,
                                            default_version=self.default_version)
        out = list(doc.diagnostics)
        statements = doc.statements
        start = self._start_of()
        size = len(self.text)  # (the caches reuse the outputs of unchanged statements)
        occurrences: list[semantic.Occurrence] = []
        script = self._script_checks.run(statements, self._external, self._external_token,
                                         occurrences, start, size)
        decl_diags, refs = self._decl_checks.run(statements, doc.version, start, size)
        out += _without_recovery_echoes(doc, decl_diags)
        out += self._expression_checks.run(statements, doc.version, refs, self.text, start)  # as validate
        out += self._shell_checks.run(statements, start, size)
        out += deprecation_diagnostics(_reported_sites(doc.sites, doc.version, reg), doc.version, reg)
        decls = self._table_decls.run(statements, start, size)
        table = semantic.build_table(statements, refs, occurrences, decls,
                                     self._table_decls.script_names)
        settle = _settler(self)
        table.statements = _SettlingList(statements, settle)  # (read for mentions)
        return _LiveResult.of(doc, out, script, table, settle)

    def _settle_read_units(self) -> None:
        """Settle the units whose offsets the document-level steps read: those with syntax
        errors (reported, re-parsed under other versions), the first (directive) and last."""
        infos = self._infos
        assert infos is not None
        if not self._lagging or not infos:
            return
        tokens = self.lexed.tokens
        failing = (i for i in infos if i.unit.errors) if self._errors else ()
        for info in (infos[0], infos[-1], *failing):
            info.settle(tokens)

    def _start_of(self) -> Callable[[n.Node], int]:
        """Where a top-level statement starts now (its own `start` may lag behind). The
        caches ask it only about the statements they re-check: mostly those the edits since
        the last analysis parsed (`_fresh`), so the map of every unit is made only if needed."""
        fresh, self._fresh = self._fresh, {}
        every: dict[int, _UnitInfo] | None = None

        def start(stmt: n.Node) -> int:
            nonlocal every
            info = fresh.get(id(stmt))
            if info is None:
                if every is None:
                    every = {id(i.unit.node): i for i in self._infos or () if i.lag}
                info = every.get(id(stmt))
            return stmt.start + (info.lag if info is not None else 0)
        return start

    def _adjacent_failures(self) -> bool:
        """Two neighbouring units with errors may be one statement that recovery split; the
        document layer re-parses such runs together (`document._parse_group`), so analyse in
        full rather than mirror that here."""
        if not self._errors:  # (kept up to date edit by edit: no pass over the units)
            return False
        infos = self._infos or []
        return any(a.unit.errors and b.unit.errors for a, b in zip(infos, infos[1:], strict=False))

    def _forget_last_unit_sites(self) -> None:
        """On a last line without a newline, fixes copy the file's first line ending: that
        unit's sites depend on text far away, so they are recomputed."""
        if not self._infos:
            return
        last = self._infos[-1]
        if "\n" not in self.text[self.lexed.tokens[last.ext - 1].end:]:
            last.sites = None
            last.sites_delta = 0
            for alt in last.alt.values():
                alt.sites = None



class _CachedSession(ParseSession):
    """The version selection of `ParseSession` over the document's cached units: a unit's
    re-parse under another version, and its deprecation sites, come from its cache."""

    def __init__(self, doc: IncrementalDocument) -> None:
        super().__init__(doc.text, registry=doc.reg, lexed=doc.lexed)
        assert doc._infos is not None
        self.infos = doc._infos
        self.units_fed = [i.unit for i in self.infos]
        self.feed(doc.parse_version, self.units_fed)
        self.alts: dict[int, _Alt] = {}  # by id of the statements handed out

    def reparse(self, units: list[Unit], idx: int, size: int, version: str) -> list[n.Node] | None:
        if size != 1 or units is not self.units_fed:
            return super().reparse(units, idx, size, version)
        info = self.infos[idx]
        alt = info.alt.get(version)
        if alt is None:
            statements = super().reparse(units, idx, 1, version)
            alt = _Alt(statements or [], statements is not None, _flat_nodes(statements or []))
            info.alt[version] = alt
        if not alt.clean:
            return None
        self.alts[id(alt.statements)] = alt
        return alt.statements

    def _explain_failures(self, version: str, units: list[Unit], errors: list[Diagnostic],
                          ) -> tuple[dict[int, list[n.Node]], list[Diagnostic], list[Unit]]:
        if not errors and units is self.units_fed:  # (the units own every error: none failed)
            return {}, [], []
        return super()._explain_failures(version, units, errors)

    def sites(self, units: list[Unit], replaced: dict[int, list[n.Node]],
              version: str) -> list[Site] | None:
        """The sites `version` reports or removes (the only ones any caller reads), in source
        order, from each unit's (or re-parse's) cache."""
        rules = frozenset(self.reg.reported_rules(version))
        if not rules:  # (a 1.x file: nothing is reported, whatever the units hold)
            return []
        sites: list[Site] = []
        for info in self.infos:
            unit = info.unit
            statements = replaced.get(id(unit))
            if statements is not None:
                sites.extend(self._alt_sites(statements))
            elif unit.node is not None and rules:  # (a 1.x file: its units are never walked)
                sites.extend(self._unit_sites(info, rules))
        sites = [s for s in sites if s.rule in rules]
        sites.sort(key=lambda s: (s.start, s.rule))
        return sites

    def _alt_sites(self, statements: list[n.Node]) -> list[Site]:
        alt = self.alts.get(id(statements))
        if alt is None:  # (a run of units re-parsed together: not cached)
            return find_sites(statements, self.text)
        if alt.sites is None:
            alt.sites = find_sites(alt.statements, self.text)
        return alt.sites

    def _unit_sites(self, info: _UnitInfo, rules: frozenset[str]) -> list[Site]:
        assert info.unit.node is not None
        if info.sites is None:
            info.settle(self.lexed.tokens)  # the rules read the text at the nodes' offsets
            info.sites, info.sites_delta = find_sites([info.unit.node], self.text), 0
        if not any(s.rule in rules for s in info.sites):
            return []  # nothing here is reported: leave any shift pending
        return info.current_sites() or []


def _reported_sites(sites: list[Site], version: str, reg: Registry) -> list[Site]:
    """The sites `deprecation_diagnostics` reports on in `version` (it ignores the others);
    deciding per rule rather than per site keeps a file full of 1.0 forms cheap."""
    status = {r: reg.is_removed(r, version) or reg.is_deprecated(r, version)
              for r in reg.deprecations}
    return [s for s in sites if status.get(s.rule, True)]


@dataclass(slots=True)
class _Window:
    ia: int  # first old token index replaced
    ib: int  # first old token index kept after the window
    a: int  # window start (character offset, same in old and new text)
    b_old: int  # window end in the old text
    sub: Lexed  # the window's own lex (offsets relative to a)
    tokens: list[Token]  # the window's tokens, absolute
    out: ParseOutput  # the window's parse (token indices relative to the window)
    resets: list[int]  # the window's `Lexed.resets`, absolute


# -- helpers ----------------------------------------------------------------------------------


def _lexically_incremental(lexed: Lexed) -> bool:
    """Open brackets at end of file, an unclosed exec block or absurd nesting change how the
    whole rest of the file is lexed and parsed: such texts are analysed in full. (A bracket
    the lexer closed at a reset line, `Lexed.resets`, is local.)"""
    if lexed.unclosed:
        return False
    return not any((d.code == "CAI003" and d.message.endswith("of exec block: expected a matching '}'"))
                   or (d.code == "CAI001" and d.message.startswith("brackets nested"))
                   for d in lexed.diagnostics)


def _reaches(unit: Unit) -> bool:
    """Did recovery in this unit read tokens past its end (`Unit.reach`)?"""
    return unit.reach > unit.last


def _units_cover(out: ParseOutput, ntok: int) -> bool:
    """Units are ordered, non-empty, start at the first token and own every syntax error
    (so each can be reused alone). Tokens recovery skipped after a unit go with it."""
    if ntok and (not out.units or out.units[0].first != 0):
        return False
    pos = 0
    for u in out.units:
        if u.first < pos or u.last <= u.first or u.last > ntok:
            return False
        pos = u.last
    return sum(len(u.errors) for u in out.units) == len(out.diagnostics)


def _make_infos(tokens: list[Token], units: list[Unit], base: int, end: int,
                resets: list[int]) -> list[_UnitInfo]:
    """Unit records for `units` (absolute token indices) over `tokens` (starting at `base`);
    `resets` as `Lexed.resets` (absolute offsets)."""
    if not units:
        return []
    flags = _clean_starts(tokens, units, base, resets)
    exts = [u.first for u in units[1:]] + [end]
    infos = [_UnitInfo(u, ext, _flat_nodes([u.node] if u.node else []), flag)
             for u, ext, flag in zip(units, exts, flags, strict=True)]
    for info in infos:
        info.has_exec = any(type(node) is n.ExecBlock for node in info.nodes)
    return infos


def _clean_starts(tokens: list[Token], units: list[Unit], base: int,
                  resets: list[int]) -> list[bool]:
    """For each unit, whether the lexer's bracket stack is empty where it starts (the window
    is lexed from an empty stack). Mirrors the lexer: exec braces (around a SHELL token) are
    not on the stack, a closer pops to its matching opener, and a reset empties the stack."""
    flags: list[bool] = []
    stack: list[str] = []
    ui = 0
    prev = ""
    ntok = len(tokens)
    pending = set(resets)
    for idx, tok in enumerate(tokens):
        if pending and tok.start in pending:
            stack.clear()
        while ui < len(units) and units[ui].first - base == idx:
            flags.append(not stack)
            ui += 1
        kind = tok.kind
        if kind in _OPEN and not (kind == "LBRACE" and idx + 1 < ntok and tokens[idx + 1].kind == "SHELL"):
            stack.append(kind)
        elif kind in _CLOSE and not (kind == "RBRACE" and prev == "SHELL"):
            want = _CLOSE[kind]
            for i in range(len(stack) - 1, -1, -1):
                if stack[i] == want:
                    del stack[i:]
                    break
        prev = kind
    flags.extend(not stack for _ in range(len(units) - len(flags)))
    return flags


def _window_lex_ok(sub: Lexed, at_end: bool) -> bool:
    """The window's own lex equals the full lex of that region (see the module docstring)."""
    if not _lexically_incremental(sub):
        return False
    if at_end:
        return True
    n_text = len(sub.text)
    if any(d.code == "CAI004" for d in sub.diagnostics):
        return False
    last_tok = sub.tokens[-1].end if sub.tokens else 0
    last_com = sub.comments[-1].end if sub.comments else 0
    last_dir = sub.directives[-1].end if sub.directives else 0
    return max(last_tok, last_com, last_dir) < n_text and (n_text == 0 or sub.text[-1] in " \t\r\n")


def _touched(text: str, tokens: list[Token], infos: list[_UnitInfo], start: int,
             end: int) -> tuple[int, int]:
    """Indices of the first and last unit whose text, with the gaps and lines around it,
    intersects [start, end] (deprecation fixes look at whole lines and line endings)."""
    starts = _UnitStarts(tokens, infos)
    i0 = max(0, bisect_right(starts, start) - 1)
    k = i0
    while k > 0 and _span(text, tokens, infos, k - 1)[1] >= start:
        k -= 1
    m = i0
    while m + 1 < len(infos) and _span(text, tokens, infos, m + 1)[0] <= end:
        m += 1
    return k, m


class _UnitStarts:
    """A lazy sequence of unit start offsets, for bisect without building a list."""

    def __init__(self, tokens: list[Token], infos: list[_UnitInfo]) -> None:
        self.tokens, self.infos = tokens, infos

    def __len__(self) -> int:
        return len(self.infos)

    def __getitem__(self, i: int) -> int:
        info = self.infos[i]
        return self.tokens[info.unit.first].start + info.lag


def _span(text: str, tokens: list[Token], infos: list[_UnitInfo], i: int) -> tuple[int, int]:
    for j in (i - 1, i, i + 1):  # the unit and the neighbouring tokens it reads
        if 0 <= j < len(infos):
            infos[j].settle(tokens)
    info = infos[i]
    unit = info.unit
    first, last = tokens[unit.first].start, tokens[info.ext - 1].end
    lo = min(tokens[unit.first - 1].end if unit.first > 0 else 0, text.rfind("\n", 0, first) + 1)
    nl = text.find("\n", last)
    hi = max(tokens[info.ext].start if info.ext < len(tokens) else len(text),
             len(text) if nl < 0 else nl + 1)
    return lo, hi


def _left_anchor(tokens: list[Token], infos: list[_UnitInfo], i: int) -> int:
    """The untouched unit a window starts with: at least two tokens (the parser peeks one
    token ahead) and no open bracket before it; 0 means the window starts at the file start."""
    while i > 0 and (infos[i].unit.last - infos[i].unit.first < 2 or not infos[i].clean_start):
        i -= 1
    return max(i, 0)


def _splice_spans(items: list[Comment], a: int, b_old: int, delta: int,
                  fresh: list[Comment]) -> list[Comment]:
    kept = [c for c in items if c.start < a]
    later = [Comment(c.text, c.start + delta, c.end + delta) if delta else c
             for c in items if c.start >= b_old]
    return kept + fresh + later


def _splice_offsets(items: list[int], a: int, b_old: int, delta: int, fresh: list[int]) -> list[int]:
    """Offsets before `a` kept, `fresh` (the window's), those from `b_old` on shifted."""
    return [x for x in items if x < a] + fresh + [x + delta for x in items if x >= b_old]


def _splice_diags(items: list[Diagnostic], a: int, b_old: int, delta: int,
                  fresh: list[Diagnostic]) -> list[Diagnostic]:
    kept = [d for d in items if d.start < a]
    later = [d for d in items if d.start >= b_old]
    for d in later:
        d.start += delta
        d.end += delta
    return kept + fresh + later


def _settler(doc: IncrementalDocument) -> Callable[[], None]:
    """`doc.settle` without a strong reference: the document holds its result, and a cycle
    would outlive a closed document once the server has frozen it out of the collector."""
    ref = weakref.ref(doc)

    def settle() -> None:
        alive = ref()
        if alive is not None:
            alive.settle()
    return settle


class _SettlingList(list[n.Node]):
    """The statements, settled (`IncrementalDocument.settle`) before any is read."""

    def __init__(self, items: list[n.Node], settle: Callable[[], None]) -> None:
        super().__init__(items)
        self._settle = settle

    def __iter__(self) -> Iterator[n.Node]:
        self._settle()
        return super().__iter__()

    def __reversed__(self) -> Iterator[n.Node]:
        self._settle()
        return super().__reversed__()

    def __getitem__(self, i: Any) -> Any:
        self._settle()
        return super().__getitem__(i)


_DOCUMENT = Result.__dict__["document"]  # the dataclass's slots
_DIAGNOSTICS = Result.__dict__["diagnostics"]


class _LiveResult(Result):
    """A `Result` whose document settles the incremental document's offsets when read, and
    whose standalone `diagnostics` (names resolved within the file alone) are made when
    first read: the language server reads `local` and resolves names in the project."""

    __slots__ = ("_settle", "_standalone")
    _settle: Callable[[], None]
    _standalone: tuple[list[Diagnostic], semantic.FileTable] | None

    @classmethod
    def of(cls, doc: Document, out: list[Diagnostic], script: list[Diagnostic],
           table: semantic.FileTable, settle: Callable[[], None]) -> _LiveResult:
        live = cls.__new__(cls)
        local = cap_syntax_errors(dedupe(sorted(out + script, key=Diagnostic.sort_key)))  # as finish
        given = {"document": doc, "local": local, "table": table, "script": script}
        for f in fields(Result):
            if f.name in given:
                value: object = given[f.name]
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                value = None if f.default is MISSING else f.default
            Result.__dict__[f.name].__set__(live, value)
        live._settle, live._standalone = settle, (out, table)
        return live

    @property
    def document(self) -> Document:
        self._settle()
        return _DOCUMENT.__get__(self)

    @document.setter
    def document(self, value: Document) -> None:
        _DOCUMENT.__set__(self, value)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        if self._standalone is not None:
            out, table = self._standalone
            self._standalone = None
            # `finish` resolves names in an index of its own, which sets each declaration's
            # path: resolve copies, the table may already be in a project's index.
            alone = semantic.FileTable([copy.copy(d) for d in table.decls], table.refs,
                                       dict(table.script_names))
            doc = _DOCUMENT.__get__(self)
            _DIAGNOSTICS.__set__(self, finish(doc, out, self.script, alone).diagnostics)
        return _DIAGNOSTICS.__get__(self)

    @diagnostics.setter
    def diagnostics(self, value: list[Diagnostic]) -> None:
        self._standalone = None
        _DIAGNOSTICS.__set__(self, value)
