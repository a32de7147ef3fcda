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

from collections.abc import Mapping
from dataclasses import dataclass

from codeai_lang.analysis import expression_checks as ex
from codeai_lang.analysis import script_checks as sc
from codeai_lang.analysis.semantic import Occurrence
from codeai_lang.analysis.shell_checks import check_shell
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.registry import Registry

# A diagnostic relative to its statement: (code, severity, message, start, end).
Rel = tuple[str, Severity, str, int, int]


def relative(diags: list[Diagnostic], base: int) -> list[Rel]:
    return [(d.code, d.severity, d.message, d.start - base, d.end - base) for d in diags]


def absolute(rels: list[Rel], base: int) -> list[Diagnostic]:
    return [Diagnostic(c, sev, msg, base + s, base + e) for c, sev, msg, s, e in rels]


# -- expression checks (expression_checks.check_expressions) ---------------------------------


class _AskedIndex:
    """A type index that remembers each question and its answer."""

    __slots__ = ("asked", "index")

    def __init__(self, index: ex.TypeIndex) -> None:
        self.index = index
        self.asked: list[tuple[str, str, object]] = []

    def is_entity(self, name: str) -> bool:
        answer = self.index.is_entity(name)
        self.asked.append(("is_entity", name, answer))
        return answer

    def is_event(self, name: str) -> bool:
        answer = self.index.is_event(name)
        self.asked.append(("is_event", name, answer))
        return answer

    def fields(self, entity: str) -> frozenset[str] | None:
        answer = self.index.fields(entity)
        self.asked.append(("fields", entity, answer))
        return answer


def _same_answers(asked: list[tuple[str, str, object]], index: ex.TypeIndex) -> bool:
    return all(getattr(index, how)(name) == answer for how, name, answer in asked)


class _NamedScopes(ex._BodyScopes):
    """The §8.2 body-scope check run without the file's global names, noting the name of
    each diagnostic: with globals G the findings are exactly those whose name is not in G
    (globals only make more names visible), so the entry stays valid when globals change."""

    def __init__(self) -> None:
        super().__init__(frozenset())
        self.names: list[str] = []

    def uses(self, expr: n.Node, scopes: list[set[str]]) -> None:
        before = len(self.diags)
        super().uses(expr, scopes)
        names = [name for name, _ in ex._name_roots(expr) if not any(name in s for s in scopes)]
        if len(names) != len(self.diags) - before:
            raise RuntimeError("expression_checks changed shape")  # the caller falls back
        self.names += names


@dataclass(slots=True)
class _ExprEntry:
    node: n.Node  # kept alive, so that its id is not reused while the entry exists
    asked: list[tuple[str, str, object]]
    values: list[Rel]  # record and query findings
    gates: list[list[Rel]]  # CAI403 per missing gate (missing_gates' order)
    scoped: list[tuple[str, Rel]]  # CAI102 with the undefined name


class ExpressionCache:
    """`check_expressions(statements, version, reg)` statement by statement."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.version: str | None = None
        self.entries: dict[int, _ExprEntry] = {}
        self.indexes: dict[int, tuple[n.Node, ex.LocalIndex]] = {}
        self.rechecked = 0  # statements checked afresh by the last run (tests read it)

    def run(self, statements: list[n.Node], version: str,
            index: ex.TypeIndex | None = None) -> list[Diagnostic]:
        try:
            return self._run(statements, version, index)
        except (AttributeError, RuntimeError, TypeError):  # internals moved: the plain check
            self.entries = {}
            return ex.check_expressions(statements, version, self.reg, index)

    def _run(self, statements: list[n.Node], version: str,
             index: ex.TypeIndex | None) -> list[Diagnostic]:
        if version != self.version:
            self.version, self.entries = version, {}
        gates = ex.missing_gates(version, self.reg)
        types = index if index is not None else self._local_index(statements)
        globals_ = ex._script_globals(statements)
        fresh: dict[int, _ExprEntry] = {}
        self.rechecked = 0
        for stmt in statements:
            entry = self.entries.get(id(stmt))
            if entry is None or entry.node is not stmt or not _same_answers(entry.asked, types):
                entry = self._check(stmt, types, gates)
                self.rechecked += 1
            fresh[id(stmt)] = entry
        self.entries = fresh
        return self._collect(statements, fresh, len(gates), globals_)

    def _local_index(self, statements: list[n.Node]) -> ex.LocalIndex:
        """`local_index(statements)` from each statement's own part (later ones win, as there)."""
        merged = ex.LocalIndex()
        parts: dict[int, tuple[n.Node, ex.LocalIndex]] = {}
        for stmt in statements:
            part = self.indexes.get(id(stmt))
            if part is None or part[0] is not stmt:
                part = (stmt, ex.local_index([stmt]))
            parts[id(stmt)] = part
            if part[1].entities:
                merged.entities.update(part[1].entities)
            if part[1].events:
                merged.events |= part[1].events
        self.indexes = parts
        return merged

    def _check(self, stmt: n.Node, types: ex.TypeIndex,
               gates: list[tuple[ex.Finder, str]]) -> _ExprEntry:
        decls = [s for s in n.iter_statements([stmt]) if isinstance(s, n.Declaration)]
        asked = _AskedIndex(types)
        checker = ex._Checker(asked)
        for decl in decls:
            for node in ex._value_nodes(decl.body):
                checker.node(node)
        base = stmt.start
        per_gate = [[("CAI403", Severity.ERROR, message, node.start - base, node.end - base)
                     for node in finder(decls)] for finder, message in gates]
        scopes = _NamedScopes()
        for decl in decls:
            scopes.declaration(decl)
        scoped = list(zip(scopes.names, relative(scopes.diags, base), strict=True))
        return _ExprEntry(stmt, asked.asked, relative(checker.diags, base), per_gate, scoped)

    def _collect(self, statements: list[n.Node], entries: dict[int, _ExprEntry], ngates: int,
                 globals_: frozenset[str]) -> list[Diagnostic]:
        """The findings in check_expressions' order: values, each gate, then scopes."""
        out: list[Diagnostic] = []
        for stmt in statements:
            if entries[id(stmt)].values:
                out += absolute(entries[id(stmt)].values, stmt.start)
        for g in range(ngates):
            for stmt in statements:
                if entries[id(stmt)].gates[g]:
                    out += absolute(entries[id(stmt)].gates[g], stmt.start)
        for stmt in statements:
            scoped = entries[id(stmt)].scoped
            if scoped:
                out += absolute([rel for name, rel in scoped if name not in globals_], stmt.start)
        return out


# -- shell checks (shell_checks.check_shell) -------------------------------------------------


class ShellCache:
    """`check_shell(statements)` statement by statement: a pure function of each one."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[n.Node, list[Rel]]] = {}

    def run(self, statements: list[n.Node]) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        fresh: dict[int, tuple[n.Node, list[Rel]]] = {}
        for stmt in statements:
            if not isinstance(stmt, _SCRIPT_STATEMENTS):
                continue  # (declarations hold no exec block)
            entry = self.entries.get(id(stmt))
            if entry is None or entry[0] is not stmt:
                entry = (stmt, relative(check_shell([stmt]), stmt.start))
            fresh[id(stmt)] = entry
            out += absolute(entry[1], stmt.start)
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
    occurrences: list[Occurrence]  # relative to the statement's start


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

    def run(self, statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None,
            external_token: object, occurrences: list[Occurrence]) -> list[Diagnostic]:
        if external_token != self.external_token:
            self.entries, self.external_token = {}, external_token
        try:
            return self._run(statements, external, occurrences)
        except (AttributeError, TypeError):  # internals moved: the plain check
            self.entries = {}
            del occurrences[:]
            return sc.check_script(statements, external, occurrences)

    def _run(self, statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None,
             occurrences: list[Occurrence]) -> list[Diagnostic]:
        checker = sc._ScriptChecker([])
        outer = sc.builtin_scope()
        if external is not None:
            outer = sc.Scope(outer, lambda name: sc._external_symbol(external, name))
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
            base = stmt.start
            diags += absolute(entry.diags, base)
            occurrences += [Occurrence(o.start + base, o.end + base, o.key, o.is_decl, o.local)
                            for o in entry.occurrences]
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
        occ = [Occurrence(o.start - base, o.end - base, o.key, o.is_decl, o.local)
               for o in checker.occ or ()]
        reads = {name: snap for name, (_, snap) in symbols.reads.items()}
        return _ScriptEntry(stmt, reads, writes, relative(checker.diags, base), occ)
