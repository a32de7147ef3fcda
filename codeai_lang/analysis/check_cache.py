"""Per-statement caches of the whole-file checks, for the incremental document.

Why: the expression, shell and script checks walk the whole AST, so after an edit they cost
time in proportion to the file (most of an edit's latency on a large file). A top-level
statement that an edit did not touch keeps its node (the incremental parser reuses it), so
its findings can be reused too, provided what they depended on outside the statement is
unchanged. Each cache therefore keeps, per statement node:

- its findings with offsets *relative to the statement's start* (an edit earlier in the file
  moves the statement, not its findings; absolute offsets are made when results are built);
- what the findings depended on outside the statement: the questions asked of the file's
  type index and their answers (expression checks), the file-scope names read and the
  symbols' state then (script checks). A cached entry is reused only when every answer is
  the same again, so an edit re-checks the statement it touched plus those that use a name
  whose meaning changed.

Every function here gives exactly what the plain check gives on the same statements (same
diagnostics, same order); the property tests and `scripts/fuzz.py incremental` compare them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from codeai_lang.analysis import decl_checks, semantic
from codeai_lang.analysis import expression_checks as ex
from codeai_lang.analysis import script_checks as sc
from codeai_lang.analysis.semantic import Occurrence
from codeai_lang.analysis.shell_checks import check_shell
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.registry import Registry

# A diagnostic relative to its statement: (code, severity, message, start, end).
Rel = tuple[str, Severity, str, int, int]
# Where a top-level statement starts now. The incremental document brings the offsets of a
# moved statement's nodes up to date only when they are read (`_UnitInfo.lag`), so a node's
# own `start` may lag behind; findings are computed relative to it (consistent either way)
# and made absolute with this.
Starts = Callable[[n.Node], int]


def own_start(stmt: n.Node) -> int:
    return stmt.start


def relative(diags: list[Diagnostic], base: int) -> list[Rel]:
    return [(d.code, d.severity, d.message, d.start - base, d.end - base) for d in diags]


def absolute(rels: list[Rel], base: int) -> list[Diagnostic]:
    return [Diagnostic(c, sev, msg, base + s, base + e) for c, sev, msg, s, e in rels]


class _Span(Protocol):
    start: int
    end: int


def move(items: Sequence[_Span], delta: int) -> None:
    """Shift cached name records (occurrences, references, declarations) that moved with
    their statement: in place, as the statement's nodes are (no new objects per edit)."""
    for item in items:
        item.start += delta
        item.end += delta


# -- expression checks (expression_checks.check_expressions) ---------------------------------


@dataclass(slots=True)
class _ExprEntry:
    node: n.Node  # kept alive, so that its id is not reused while the entry exists
    found: list[Rel]
    undefined: list[str | None]  # for each finding, the name of a CAI102 (else None)
    refs: list[semantic.Ref]  # the names its records and queries use; absolute for `base`
    base: int


class ExpressionCache:
    """`check_expressions(statements, version, reg, refs)` statement by statement.

    Each statement is checked alone (`check_expressions([stmt], …)`: no internals of the
    check are used). Its findings and references depend on the statement and the DSL version
    only (names are resolved afterwards, in the table), except the §8.2 scope check (CAI102),
    which sees the file's global script names: it runs without them, and with globals G it
    reports exactly its findings whose name is not in G (globals only make more names
    visible), so an entry stays valid when globals change. Concatenating the statements'
    findings gives the plain check's findings in another order, but the same list after
    `finish`'s stable sort by (start, end, code): findings that tie on that key lie in one
    statement, where their order is the plain check's. References keep the plain order."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.version: str | None = None
        self.entries: dict[int, _ExprEntry] = {}
        self.rechecked = 0  # statements checked afresh by the last run (tests read it)
        self.fallbacks = 0  # runs that fell back to the plain check (tests read it)

    def run(self, statements: list[n.Node], version: str, refs: list[semantic.Ref], text: str,
            start: Starts = own_start) -> list[Diagnostic]:
        """The findings; the references are appended to `refs`."""
        try:
            return self._run(statements, version, refs, text, start)
        except _Unexpected:  # the check changed how it reports CAI102: the plain check
            self.entries, self.fallbacks = {}, self.fallbacks + 1
            return ex.check_expressions(statements, version, self.reg, refs)

    def _run(self, statements: list[n.Node], version: str, refs: list[semantic.Ref], text: str,
             start: Starts) -> list[Diagnostic]:
        if version != self.version:
            self.version, self.entries = version, {}
        globals_: frozenset[str] | None = None
        fresh: dict[int, _ExprEntry] = {}
        out: list[Diagnostic] = []
        mine: list[semantic.Ref] = []  # (only appended once every statement went well)
        self.rechecked = 0
        for stmt in statements:
            if not isinstance(stmt, _MAY_HOLD_DECLARATIONS):
                continue
            entry = self.entries.get(id(stmt))
            base = start(stmt)
            if entry is None or entry.node is not stmt:
                entry = self._check(stmt, version, text, base - stmt.start)
                self.rechecked += 1
            fresh[id(stmt)] = entry
            if entry.refs:
                if entry.base != base:
                    _move_refs(entry.refs, base - entry.base)
                    entry.base = base
                mine += entry.refs
            if entry.found:
                if globals_ is None:
                    globals_ = ex._script_globals(statements)
                out += absolute([rel for rel, name in zip(entry.found, entry.undefined, strict=True)
                                 if name is None or name not in globals_], base)
        self.entries = fresh
        refs += mine
        return out

    def _check(self, stmt: n.Node, version: str, text: str, lag: int) -> _ExprEntry:
        """`lag`: how far the statement's own offsets are behind `text`."""
        refs: list[semantic.Ref] = []
        found = ex.check_expressions([stmt], version, self.reg, refs)
        return _ExprEntry(stmt, relative(found, stmt.start),
                          [_undefined_name(d, text, lag) for d in found], refs, stmt.start)


class _Unexpected(Exception):
    pass


# What `n.iter_statements` finds declarations in (recovery can leave one inside a block).
_MAY_HOLD_DECLARATIONS = (n.Declaration, n.IfStmt, n.ForStmt, n.FunctionDecl)


def _undefined_name(d: Diagnostic, text: str, lag: int) -> str | None:
    """The name a CAI102 of the scope check is about (its range is the name)."""
    if d.code != "CAI102":
        return None
    name = text[d.start + lag:d.end + lag]
    if f"'{name}'" not in d.message:
        raise _Unexpected
    return name


# -- shell checks (shell_checks.check_shell) -------------------------------------------------


class ShellCache:
    """`check_shell(statements)` statement by statement: a pure function of each one."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[n.Node, list[Rel]]] = {}

    def run(self, statements: list[n.Node], start: Starts = own_start) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        fresh: dict[int, tuple[n.Node, list[Rel]]] = {}
        for stmt in statements:
            if not isinstance(stmt, _SCRIPT_STATEMENTS):
                continue  # (declarations hold no exec block)
            entry = self.entries.get(id(stmt))
            if entry is None or entry[0] is not stmt:
                entry = (stmt, relative(check_shell([stmt]), stmt.start))
            fresh[id(stmt)] = entry
            if entry[1]:
                out += absolute(entry[1], start(stmt))
        self.entries = fresh
        return out


_SCRIPT_STATEMENTS = tuple(sc._HANDLERS)


# -- script checks (script_checks.check_script) ----------------------------------------------

_Snap = tuple[str, str, int, int | None, bool] | None  # a file-scope symbol's state, or absent


def _snap(sym: sc.Symbol | None) -> _Snap:
    return None if sym is None else (sym.kind, sym.value, sym.min_args, sym.max_args, sym.is_global)


class _FileSymbols(dict[str, sc.Symbol]):
    """The file scope's symbols, noting what the current statement reads and declares."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: dict[str, tuple[sc.Symbol | None, _Snap]] = {}
        self.declared: list[str] = []

    def get(self, name: str, default: sc.Symbol | None = None) -> sc.Symbol | None:  # type: ignore[override]
        sym = dict.get(self, name, default)
        if name not in self.reads:
            self.reads[name] = (sym, _snap(sym))
        return sym

    def __setitem__(self, name: str, sym: sc.Symbol) -> None:
        self.declared.append(name)
        super().__setitem__(name, sym)


@dataclass(slots=True)
class _ScriptEntry:
    node: n.Node
    reads: dict[str, _Snap]  # file-scope names read, and their state before the statement
    # file-scope names it declared (with the symbol) or changed (None: the symbol in scope),
    # and their final state
    writes: list[tuple[str, sc.Symbol | None, _Snap]]
    diags: list[Rel]
    occurrences: list[Occurrence]  # absolute for `base`, moved in place with the statement
    base: int


class ScriptCache:
    """`check_script(statements, external, occurrences)` statement by statement. A top-level
    statement's findings depend on the file scope as earlier statements left it; the entry
    records the names it read there (with the symbols' state) and its effects on it
    (declarations, and a global's value kind changed by an assignment), and is replayed while
    the names it read are in the same state."""

    def __init__(self) -> None:
        self.entries: dict[int, _ScriptEntry] = {}
        self.external_token: object = None
        self.rechecked = 0
        self.fallbacks = 0

    def run(self, statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None,
            external_token: object, occurrences: list[Occurrence],
            start: Starts = own_start) -> list[Diagnostic]:
        if external_token != self.external_token:
            self.entries, self.external_token = {}, external_token
        try:
            return self._run(statements, external, occurrences, start)
        except (AttributeError, TypeError):  # internals moved: the plain check
            self.entries, self.fallbacks = {}, self.fallbacks + 1
            del occurrences[:]
            return sc.check_script(statements, external, occurrences)

    def _run(self, statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None,
             occurrences: list[Occurrence], start: Starts) -> list[Diagnostic]:
        checker = sc._ScriptChecker([])
        outer = sc.builtin_scope()
        if external is not None:
            outer = sc.Scope(outer, lambda name: sc._external_symbol(external, name, None))
        scope = sc.Scope(outer)
        symbols = scope.symbols = _FileSymbols()
        checker.file_scope = scope
        diags: list[Diagnostic] = []
        fresh: dict[int, _ScriptEntry] = {}
        self.rechecked = 0
        for stmt in statements:
            if type(stmt) not in sc._HANDLERS:
                continue
            entry = self.entries.get(id(stmt))
            if entry is None or entry.node is not stmt or not self._replay(entry, symbols):
                entry = self._check(stmt, checker, scope, symbols)
                self.rechecked += 1
            fresh[id(stmt)] = entry
            base = start(stmt)
            if entry.diags:
                diags += absolute(entry.diags, base)
            if base != entry.base:
                move(entry.occurrences, base - entry.base)
                entry.base = base
            occurrences += entry.occurrences
        self.entries = fresh
        return diags

    @staticmethod
    def _replay(entry: _ScriptEntry, symbols: _FileSymbols) -> bool:
        """Apply a cached statement's effects if what it read is unchanged."""
        for name, snap in entry.reads.items():
            if _snap(dict.get(symbols, name)) != snap:
                return False
        for name, declared, state in entry.writes:
            sym = declared if declared is not None else dict.get(symbols, name)
            assert sym is not None and state is not None
            sym.kind, sym.value, sym.min_args, sym.max_args, sym.is_global = state
            if declared is not None:
                dict.__setitem__(symbols, name, declared)
        return True

    @staticmethod
    def _check(stmt: n.Node, checker: sc._ScriptChecker, scope: sc.Scope,
               symbols: _FileSymbols) -> _ScriptEntry:
        symbols.reads, symbols.declared = {}, []
        checker.diags, checker.occ = [], []
        checker.statement(stmt, scope)
        declared = dict.fromkeys(symbols.declared)
        writes: list[tuple[str, sc.Symbol | None, _Snap]] = [
            (name, sym, _snap(sym)) for name in declared
            if (sym := dict.get(symbols, name)) is not None]
        writes += [(name, None, _snap(sym)) for name, (sym, snap) in symbols.reads.items()
                   if sym is not None and name not in declared and _snap(sym) != snap]
        base = stmt.start
        reads = {name: snap for name, (_, snap) in symbols.reads.items()}
        return _ScriptEntry(stmt, reads, writes, relative(checker.diags, base),
                            list(checker.occ or ()), base)


# -- declaration checks and the table's declarations -----------------------------------------


@dataclass(slots=True)
class _DeclEntry:
    node: n.Node
    diags: list[Rel]
    refs: list[semantic.Ref]  # absolute for `base`
    base: int


class DeclCache:
    """`check_declarations_local(statements, version, reg)` statement by statement: the
    local checks of a declaration depend on nothing else (names are resolved afterwards,
    by the semantic model), so an entry is reused while the node and DSL version are."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.version: str | None = None
        self.entries: dict[int, _DeclEntry] = {}
        self.fallbacks = 0

    def run(self, statements: list[n.Node], version: str,
            start: Starts = own_start) -> tuple[list[Diagnostic], list[semantic.Ref]]:
        try:
            return self._run(statements, version, start)
        except AttributeError:  # internals moved: the plain check
            self.entries, self.fallbacks = {}, self.fallbacks + 1
            return decl_checks.check_declarations_local(statements, version, self.reg)

    def _run(self, statements: list[n.Node], version: str,
             start: Starts) -> tuple[list[Diagnostic], list[semantic.Ref]]:
        if version != self.version:
            self.version, self.entries = version, {}
        checker: decl_checks._DeclChecker | None = None
        out: list[Diagnostic] = []
        refs: list[semantic.Ref] = []
        fresh: dict[int, _DeclEntry] = {}
        for decl in statements:
            if not isinstance(decl, n.Declaration | n.OnHandler):
                continue
            entry = self.entries.get(id(decl))
            if entry is None or entry.node is not decl:
                checker = checker or decl_checks._DeclChecker(version, self.reg)
                checker.diags, checker.refs = [], []
                checker.check(decl)
                entry = _DeclEntry(decl, relative(checker.diags, decl.start), checker.refs, decl.start)
            fresh[id(decl)] = entry
            base = start(decl)
            if entry.diags:
                out += absolute(entry.diags, base)
            if entry.base != base:
                _move_refs(entry.refs, base - entry.base)
                entry.base = base
            refs += entry.refs
        self.entries = fresh
        return out, refs


def _move_refs(refs: list[semantic.Ref], delta: int) -> None:
    for ref in refs:
        ref.start += delta
        ref.end += delta
        ref.name_start += delta
        ref.name_end += delta


class TableDeclCache:
    """`semantic.file_declarations(statements)` statement by statement (a pure function of
    each top-level statement), its `Decl`s moved in place with the statement."""

    def __init__(self) -> None:
        self.entries: dict[int, _TableEntry] = {}

    def run(self, statements: list[n.Node], start: Starts = own_start) -> list[semantic.Decl]:
        out: list[semantic.Decl] = []
        fresh: dict[int, _TableEntry] = {}
        for stmt in statements:
            if not isinstance(stmt, _DECLARING):
                continue
            entry = self.entries.get(id(stmt))
            # (a compacted table lets go of the nodes: such records are made again)
            if entry is None or entry.node is not stmt or (entry.decls and entry.decls[0].node is None):
                entry = _TableEntry(stmt, semantic.file_declarations([stmt]), stmt.start)
            base = start(stmt)
            if entry.base != base:
                move(entry.decls, base - entry.base)
                entry.base = base
            fresh[id(stmt)] = entry
            out += entry.decls
        self.entries = fresh
        return out


@dataclass(slots=True)
class _TableEntry:
    node: n.Node
    decls: list[semantic.Decl]  # absolute for `base`
    base: int


_DECLARING = (n.Declaration, n.FunctionDecl, n.VarDecl)
