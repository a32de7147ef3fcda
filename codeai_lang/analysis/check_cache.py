"""Per-statement caches of the whole-file checks, for the incremental document.

Why: the expression, shell and script checks walk the whole AST, so after an edit they cost
time in proportion to the file (most of an edit's latency on a large file). A top-level
statement that an edit did not touch keeps its node (the incremental parser reuses it), so
its findings can be reused too, provided what they depended on outside the statement is
unchanged (for the script checks: the file-scope names it read and the symbols' state then;
the other checks depend on their statement and the DSL version only).

Per edit, the work is proportional to the statements that changed, not to the file: each
cache keeps the statement list of its last run and its outputs (findings with absolute
offsets, references, occurrences, declarations) concatenated in statement order, with the
count per statement (`_Stream`). The statements of the new run that are the very objects of
the last run's common prefix and suffix (`reuse.common_ends`) keep their outputs: the
prefix's as they are, the suffix's moved by the change in the text's length (every edit lies
between the two: an edit re-parses the statements around it). Only the statements in
between are checked again — new nodes, and unchanged ones between two edits analysed
together. A kept script statement after them is checked again when a name it read may now
be in another state and is.

Every function here gives exactly what the plain check gives on the same statements (same
diagnostics, same order); the property tests and `scripts/fuzz.py incremental` compare them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from codeai_lang.analysis import decl_checks, semantic
from codeai_lang.analysis import expression_checks as ex
from codeai_lang.analysis import script_checks as sc
from codeai_lang.analysis.reuse import common_ends
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


# -- reuse of the unchanged prefix and suffix ------------------------------------------------

T = TypeVar("T")


class _Stream(Generic[T]):
    """A cache's output over the statements of its last run: `items` concatenated in
    statement order, `ends[i]` the number of items of statements 0..i."""

    __slots__ = ("items", "ends")

    def __init__(self) -> None:
        self.items: list[T] = []
        self.ends: list[int] = []

    def splice(self, p: int, q: int, chunks: list[list[T]],
               shift: Callable[[list[T], int], list[T]], delta: int) -> None:
        """Statements p..q-1 of the last run are replaced by one statement per chunk; the
        items of the statements from q on move by `delta` characters."""
        items, ends = self.items, self.ends
        a = ends[p - 1] if p else 0
        b = ends[q - 1] if q else 0
        mid: list[T] = []
        fresh = ends[:p]
        acc = a
        for chunk in chunks:
            if chunk:
                mid += chunk
                acc += len(chunk)
            fresh.append(acc)
        tail = items[b:]
        if tail and delta:
            tail = shift(tail, delta)
        grown = acc - b
        fresh += [e + grown for e in ends[q:]] if grown else ends[q:]
        self.items = items[:a] + mid + tail
        self.ends = fresh

    def between(self, p: int, q: int) -> list[T]:
        """The items of statements p..q-1."""
        ends = self.ends
        return self.items[(ends[p - 1] if p else 0):(ends[q - 1] if q else 0)]

    def replace(self, j: int, chunk: list[T]) -> None:
        """Statement j's items (already in place after `splice`) become `chunk`."""
        ends = self.ends
        a = ends[j - 1] if j else 0
        b = ends[j]
        self.items[a:b] = chunk
        grown = len(chunk) - (b - a)
        if grown:
            ends[j:] = [e + grown for e in ends[j:]]


def _moved(items: list[T], delta: int) -> list[T]:
    move(items, delta)  # type: ignore[arg-type]
    return items


def _moved_refs(refs: list[semantic.Ref], delta: int) -> list[semantic.Ref]:
    _move_refs(refs, delta)
    return refs


def _shifted(diags: list[Diagnostic], delta: int) -> list[Diagnostic]:
    """New diagnostics `delta` characters later (the plain fields: these checks make no fixes)."""
    return [Diagnostic(d.code, d.severity, d.message, d.start + delta, d.end + delta) for d in diags]


def _shifted_found(found: list[tuple[Diagnostic, str | None]],
                   delta: int) -> list[tuple[Diagnostic, str | None]]:
    return [(Diagnostic(d.code, d.severity, d.message, d.start + delta, d.end + delta), name)
            for d, name in found]


class _Reusing:
    """What every cache keeps of its last run: the statements, the text's length then, and
    an entry per statement (None where the check has nothing to keep)."""

    def __init__(self) -> None:
        self.prev: list[n.Node] = []
        self.size: int | None = None
        self.slots: list[object] = []

    def _forget(self) -> None:
        self.prev, self.size, self.slots = [], None, []
        for value in vars(self).values():
            if isinstance(value, _Stream):
                value.items, value.ends = [], []

    @contextmanager
    def _forgetting(self) -> Iterator[None]:
        """Whatever goes wrong in a run, nothing half-updated is reused by the next one."""
        try:
            yield
        except BaseException:
            self._forget()
            raise

    def _ends(self, statements: list[n.Node], size: int | None) -> tuple[int, int, int]:
        """(p, s, delta): the reused prefix and suffix, and how far the suffix moved."""
        if size is None or self.size is None:
            self._forget()
            return 0, 0, 0
        p, s = common_ends(self.prev, statements)
        return p, s, size - self.size

    def _commit(self, statements: list[n.Node], size: int | None, p: int, s: int,
                mid: list[object]) -> None:
        prev = self.prev
        self.slots = self.slots[:p] + mid + self.slots[len(prev) - s:]
        self.prev = list(statements)
        self.size = size


# -- expression checks (expression_checks.check_expressions) ---------------------------------


@dataclass(slots=True)
class _ExprEntry:
    node: n.Node
    found: list[Rel]
    undefined: list[str | None]  # for each finding, the name of a CAI102 (else None)


class ExpressionCache(_Reusing):
    """`check_expressions(statements, version, reg, refs)` statement by statement.

    Each statement is checked alone (`check_expressions([stmt], …)`: no internals of the
    check are used). Its findings and references depend on the statement and the DSL version
    only (names are resolved afterwards, in the table), except the §8.2 scope check (CAI102),
    which sees the file's global script names: it runs without them, and with globals G it
    reports exactly its findings whose name is not in G (globals only make more names
    visible), so a kept finding stays valid when globals change (it is filtered each run).
    Concatenating the statements' findings gives the plain check's findings in another order,
    but the same list after `finish`'s stable sort by (start, end, code): findings that tie
    on that key lie in one statement, where their order is the plain check's. References
    keep the plain order."""

    def __init__(self, reg: Registry) -> None:
        super().__init__()
        self.reg = reg
        self.version: str | None = None
        self.found: _Stream[tuple[Diagnostic, str | None]] = _Stream()
        self.refs: _Stream[semantic.Ref] = _Stream()
        self.rechecked = 0  # statements checked afresh by the last run (tests read it)
        self.fallbacks = 0  # runs that fell back to the plain check (tests read it)

    @property
    def entries(self) -> dict[int, _ExprEntry]:
        """The kept entries by id of their statement (tests read them)."""
        return {id(e.node): e for e in self.slots if isinstance(e, _ExprEntry)}

    def run(self, statements: list[n.Node], version: str, refs: list[semantic.Ref], text: str,
            start: Starts = own_start) -> list[Diagnostic]:
        """The findings; the references are appended to `refs`."""
        try:
            with self._forgetting():
                return self._run(statements, version, refs, text, start)
        except _Unexpected:  # the check changed how it reports CAI102: the plain check
            self.fallbacks += 1
            return ex.check_expressions(statements, version, self.reg, refs)

    def _run(self, statements: list[n.Node], version: str, refs: list[semantic.Ref], text: str,
             start: Starts) -> list[Diagnostic]:
        if version != self.version:
            self.version = version
            self._forget()
        p, s, delta = self._ends(statements, len(text))
        q1 = len(statements) - s
        self.rechecked = 0
        mid: list[object] = []
        found_chunks: list[list[tuple[Diagnostic, str | None]]] = []
        ref_chunks: list[list[semantic.Ref]] = []
        for stmt in statements[p:q1]:
            if not isinstance(stmt, _MAY_HOLD_DECLARATIONS):
                mid.append(None)
                found_chunks.append([])
                ref_chunks.append([])
                continue
            base = start(stmt)
            entry, mine = self._check(stmt, version, text, base - stmt.start)
            self.rechecked += 1
            if base != stmt.start:
                _move_refs(mine, base - stmt.start)
            mid.append(entry)
            found_chunks.append(list(zip(absolute(entry.found, base), entry.undefined, strict=True)))
            ref_chunks.append(mine)
        q0 = len(self.prev) - s
        self.found.splice(p, q0, found_chunks, _shifted_found, delta)
        self.refs.splice(p, q0, ref_chunks, _moved_refs, delta)
        self._commit(statements, len(text), p, s, mid)
        refs += self.refs.items
        found = self.found.items
        if not any(name is not None for _, name in found):
            return [d for d, _ in found]
        globals_ = ex._script_globals(statements)
        return [d for d, name in found if name is None or name not in globals_]

    def _check(self, stmt: n.Node, version: str, text: str,
               lag: int) -> tuple[_ExprEntry, list[semantic.Ref]]:
        """`lag`: how far the statement's own offsets are behind `text`. The references are
        absolute for the statement's own offsets."""
        refs: list[semantic.Ref] = []
        found = ex.check_expressions([stmt], version, self.reg, refs)
        return _ExprEntry(stmt, relative(found, stmt.start),
                          [_undefined_name(d, text, lag) for d in found]), refs


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


class ShellCache(_Reusing):
    """`check_shell(statements)` statement by statement: a pure function of each one."""

    def __init__(self) -> None:
        super().__init__()
        self.diags: _Stream[Diagnostic] = _Stream()

    def run(self, statements: list[n.Node], start: Starts = own_start,
            size: int | None = None) -> list[Diagnostic]:
        """`size`: the text's length (None: no reuse of the last run)."""
        with self._forgetting():
            return self._run(statements, start, size)

    def _run(self, statements: list[n.Node], start: Starts, size: int | None) -> list[Diagnostic]:
        p, s, delta = self._ends(statements, size)
        chunks: list[list[Diagnostic]] = []
        for stmt in statements[p:len(statements) - s]:
            if not isinstance(stmt, _SCRIPT_STATEMENTS):
                chunks.append([])  # (declarations hold no exec block)
            else:
                found = check_shell([stmt])
                chunks.append(_shifted(found, start(stmt) - stmt.start) if found else [])
        self.diags.splice(p, len(self.prev) - s, chunks, _shifted, delta)
        self._commit(statements, size, p, s, [None] * len(chunks))
        return list(self.diags.items)


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


class ScriptCache(_Reusing):
    """`check_script(statements, external, occurrences)` statement by statement. A top-level
    statement's findings depend on the file scope as earlier statements left it (names are
    declared before use); the entry records the names it read there (with the symbols'
    state) and its effects on it (declarations, and a global's value kind changed by an
    assignment). Each run replays the effects of the kept statements in order; a kept
    statement after the re-checked ones is checked again only if a name it read may now be
    in another state (one that a re-checked statement wrote, before or now) and is."""

    def __init__(self) -> None:
        super().__init__()
        self.external_token: object = None
        self.diags: _Stream[Diagnostic] = _Stream()
        self.occurrences: _Stream[Occurrence] = _Stream()
        self.rechecked = 0
        self.fallbacks = 0

    @property
    def entries(self) -> dict[int, _ScriptEntry]:
        return {id(e.node): e for e in self.slots if isinstance(e, _ScriptEntry)}

    def run(self, statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None,
            external_token: object, occurrences: list[Occurrence],
            start: Starts = own_start, size: int | None = None) -> list[Diagnostic]:
        """`size`: the text's length (None: no reuse of the last run)."""
        if external_token != self.external_token:
            self._forget()
            self.external_token = external_token
        try:
            with self._forgetting():
                return self._run(statements, external, occurrences, start, size)
        except (AttributeError, TypeError):  # internals moved: the plain check
            self.fallbacks += 1
            del occurrences[:]
            return sc.check_script(statements, external, occurrences)

    def _run(self, statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None,
             occurrences: list[Occurrence], start: Starts, size: int | None) -> list[Diagnostic]:
        checker = sc._ScriptChecker([])
        outer = sc.builtin_scope()
        if external is not None:
            outer = sc.Scope(outer, lambda name: sc._external_symbol(external, name, None))
        scope = sc.Scope(outer)
        symbols = scope.symbols = _FileSymbols()
        checker.file_scope = scope
        p, s, delta = self._ends(statements, size)
        q0, q1 = len(self.prev) - s, len(statements) - s
        slots = self.slots
        self.rechecked = 0
        checking = [stmt for stmt in statements[p:q1] if type(stmt) in sc._HANDLERS]
        gone = [entry for entry in slots[p:q0] if isinstance(entry, _ScriptEntry)]
        if not checking and not any(entry.writes for entry in gone):
            # (an edit in declarations: no file-scope state is read or changed)
            return self._finish(statements, size, p, s, delta, [None] * (q1 - p), [], [], [], occurrences)
        # The file scope as the prefix leaves it (the state the re-checked statements see).
        for entry in slots[:p]:
            if entry is not None:
                self._apply(entry, symbols)  # type: ignore[arg-type]
        changed: set[str] = set()  # names whose state may differ from the last run's
        for entry in gone:
            changed.update(w[0] for w in entry.writes)
        mid: list[object] = []
        diag_chunks: list[list[Diagnostic]] = []
        occ_chunks: list[list[Occurrence]] = []
        for stmt in statements[p:q1]:
            if type(stmt) not in sc._HANDLERS:
                mid.append(None)
                diag_chunks.append([])
                occ_chunks.append([])
                continue
            entry, diags, occs = self._check(stmt, checker, scope, symbols, start(stmt))
            changed.update(w[0] for w in entry.writes)
            mid.append(entry)
            diag_chunks.append(diags)
            occ_chunks.append(occs)
        fresh = [entry for entry in mid if isinstance(entry, _ScriptEntry)]
        if _effects(gone) == _effects(fresh):
            changed = set()  # the kept suffix sees the file scope in the same states as before
        patches: list[tuple[int, _ScriptEntry, list[Diagnostic], list[Occurrence]]] = []
        for j in range(s if changed else 0):  # (no state changed: the suffix is kept as it is)
            kept = slots[q0 + j]
            if kept is None:
                continue
            assert isinstance(kept, _ScriptEntry)
            if not changed or changed.isdisjoint(kept.reads):
                self._apply(kept, symbols)
            elif not self._replay(kept, symbols):
                stmt = statements[q1 + j]
                entry, diags, occs = self._check(stmt, checker, scope, symbols, start(stmt))
                changed.update(w[0] for w in kept.writes)
                changed.update(w[0] for w in entry.writes)
                patches.append((q1 + j, entry, diags, occs))
        return self._finish(statements, size, p, s, delta, mid, diag_chunks, occ_chunks, patches,
                            occurrences)

    def _finish(self, statements: list[n.Node], size: int | None, p: int, s: int, delta: int,
                mid: list[object], diag_chunks: list[list[Diagnostic]], occ_chunks: list[list[Occurrence]],
                patches: list[tuple[int, _ScriptEntry, list[Diagnostic], list[Occurrence]]],
                occurrences: list[Occurrence]) -> list[Diagnostic]:
        """Keep the run's entries and outputs (`*_chunks` for the middle; empty when it has
        no script statement)."""
        q0 = len(self.prev) - s
        if not diag_chunks:
            diag_chunks, occ_chunks = [[] for _ in mid], [[] for _ in mid]
        self.diags.splice(p, q0, diag_chunks, _shifted, delta)
        self.occurrences.splice(p, q0, occ_chunks, _moved, delta)
        self._commit(statements, size, p, s, mid)
        for j, entry, diags, occs in patches:
            self.slots[j] = entry
            self.diags.replace(j, diags)
            self.occurrences.replace(j, occs)
        occurrences += self.occurrences.items
        return list(self.diags.items)

    @staticmethod
    def _apply(entry: _ScriptEntry, symbols: _FileSymbols) -> None:
        """Apply a kept statement's effects on the file scope."""
        for name, declared, state in entry.writes:
            sym = declared if declared is not None else dict.get(symbols, name)
            assert sym is not None and state is not None
            sym.kind, sym.value, sym.min_args, sym.max_args, sym.is_global = state
            if declared is not None:
                dict.__setitem__(symbols, name, declared)

    @classmethod
    def _replay(cls, entry: _ScriptEntry, symbols: _FileSymbols) -> bool:
        """Apply a kept statement's effects if what it read is unchanged."""
        for name, snap in entry.reads.items():
            if _snap(dict.get(symbols, name)) != snap:
                return False
        cls._apply(entry, symbols)
        return True

    def _check(self, stmt: n.Node, checker: sc._ScriptChecker, scope: sc.Scope,
               symbols: _FileSymbols, base: int) -> tuple[_ScriptEntry, list[Diagnostic], list[Occurrence]]:
        """Check a statement in the file scope as it is; its findings and occurrences at
        `base` (where it starts now)."""
        self.rechecked += 1
        symbols.reads, symbols.declared = {}, []
        checker.diags, checker.occ = [], []
        checker.statement(stmt, scope)
        declared = dict.fromkeys(symbols.declared)
        writes: list[tuple[str, sc.Symbol | None, _Snap]] = [
            (name, sym, _snap(sym)) for name in declared
            if (sym := dict.get(symbols, name)) is not None]
        writes += [(name, None, _snap(sym)) for name, (sym, snap) in symbols.reads.items()
                   if sym is not None and name not in declared and _snap(sym) != snap]
        reads = {name: snap for name, (_, snap) in symbols.reads.items()}
        occs = list(checker.occ or ())
        if base != stmt.start:
            move(occs, base - stmt.start)
        return (_ScriptEntry(stmt, reads, writes),
                _shifted(checker.diags, base - stmt.start), occs)


def _effects(entries: list[_ScriptEntry]) -> list[tuple[str, _Snap]]:
    """What statements did to the file scope, in order: each name written and its state."""
    return [(name, state) for entry in entries for name, _, state in entry.writes]


# -- declaration checks and the table's declarations -----------------------------------------


class DeclCache(_Reusing):
    """`check_declarations_local(statements, version, reg)` statement by statement: the
    local checks of a declaration depend on nothing else (names are resolved afterwards,
    by the semantic model), so its findings are kept while the node and DSL version are."""

    def __init__(self, reg: Registry) -> None:
        super().__init__()
        self.reg = reg
        self.version: str | None = None
        self.diags: _Stream[Diagnostic] = _Stream()
        self.refs: _Stream[semantic.Ref] = _Stream()
        self.fallbacks = 0

    def run(self, statements: list[n.Node], version: str, start: Starts = own_start,
            size: int | None = None) -> tuple[list[Diagnostic], list[semantic.Ref]]:
        """`size`: the text's length (None: no reuse of the last run)."""
        try:
            with self._forgetting():
                return self._run(statements, version, start, size)
        except AttributeError:  # internals moved: the plain check
            self.fallbacks += 1
            return decl_checks.check_declarations_local(statements, version, self.reg)

    def _run(self, statements: list[n.Node], version: str, start: Starts,
             size: int | None) -> tuple[list[Diagnostic], list[semantic.Ref]]:
        if version != self.version:
            self.version = version
            self._forget()
        p, s, delta = self._ends(statements, size)
        checker: decl_checks._DeclChecker | None = None
        diag_chunks: list[list[Diagnostic]] = []
        ref_chunks: list[list[semantic.Ref]] = []
        for decl in statements[p:len(statements) - s]:
            if not isinstance(decl, n.Declaration | n.OnHandler):
                diag_chunks.append([])
                ref_chunks.append([])
                continue
            checker = checker or decl_checks._DeclChecker(version, self.reg)
            checker.diags, checker.refs = [], []
            checker.check(decl)
            base = start(decl)
            diag_chunks.append(_shifted(checker.diags, base - decl.start))
            if base != decl.start:
                _move_refs(checker.refs, base - decl.start)
            ref_chunks.append(checker.refs)
        q0 = len(self.prev) - s
        self.diags.splice(p, q0, diag_chunks, _shifted, delta)
        self.refs.splice(p, q0, ref_chunks, _moved_refs, delta)
        self._commit(statements, size, p, s, [None] * len(diag_chunks))
        return list(self.diags.items), list(self.refs.items)


def _move_refs(refs: list[semantic.Ref], delta: int) -> None:
    for ref in refs:
        ref.start += delta
        ref.end += delta
        ref.name_start += delta
        ref.name_end += delta


class TableDeclCache(_Reusing):
    """`semantic.file_declarations(statements)` statement by statement (a pure function of
    each top-level statement), its `Decl`s moved in place with the statement."""

    def __init__(self) -> None:
        super().__init__()
        self.decls: _Stream[semantic.Decl] = _Stream()
        # `semantic.script_names_of` the last run's declarations (made again only when a
        # function or variable declaration came or went)
        self.script_names: dict[str, tuple[str, int]] | None = None

    def _forget(self) -> None:
        super()._forget()
        self.script_names = None

    def run(self, statements: list[n.Node], start: Starts = own_start,
            size: int | None = None) -> list[semantic.Decl]:
        """`size`: the text's length (None: no reuse of the last run)."""
        with self._forgetting():
            return self._run(statements, start, size)

    def _run(self, statements: list[n.Node], start: Starts, size: int | None) -> list[semantic.Decl]:
        items = self.decls.items
        if items and items[0].node is None:  # a compacted table let go of the nodes: made again
            self._forget()
        p, s, delta = self._ends(statements, size)
        chunks: list[list[semantic.Decl]] = []
        for stmt in statements[p:len(statements) - s]:
            if not isinstance(stmt, _DECLARING):
                chunks.append([])
                continue
            decls = semantic.file_declarations([stmt])
            base = start(stmt)
            if base != stmt.start:
                move(decls, base - stmt.start)
            chunks.append(decls)
        q0 = len(self.prev) - s
        gone = self.decls.between(p, q0)
        self.decls.splice(p, q0, chunks, _moved, delta)
        self._commit(statements, size, p, s, [None] * len(chunks))
        if self.script_names is None or any(d.namespace == semantic.SCRIPT for d in gone) or \
                any(d.namespace == semantic.SCRIPT for chunk in chunks for d in chunk):
            self.script_names = semantic.script_names_of(self.decls.items)
        return list(self.decls.items)


_DECLARING = (n.Declaration, n.FunctionDecl, n.VarDecl)
