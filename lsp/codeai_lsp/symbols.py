"""Names in a program: where each is declared and used, for hover, definition, references and
rename. Scripting names follow the validator's scoping (a block opens a scope, names are
visible after their declaration); declaration names (entities, events, roles, …) are global
and may be referenced from anywhere, by name or, for events and roles, by a string.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from codeai_lang.analysis import schema
from codeai_lang.analysis.script_checks import BUILTINS
from codeai_lang.syntax import nodes as n

_INTERPOLATION = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
NAMED_KINDS = ("auth", "role", "middleware", "event", "integration", "webhook", "workflow", "job")


@dataclass(eq=False)
class Symbol:
    name: str
    kind: str  # variable, parameter, loop variable, function, entity, model, collection, event, …
    start: int  # the declaring name
    end: int
    node: n.Node | None = None  # the whole declaration
    refs: list[tuple[int, int]] = field(default_factory=list)
    quoted: bool = False  # the declaring name is a string literal


@dataclass(slots=True)
class Occurrence:
    start: int  # the name itself (inside quotes for string references)
    end: int
    symbol: Symbol
    is_decl: bool


class Index:
    """Every declaration and reference in a program, searchable by offset."""

    def __init__(self, statements: list[n.Node]) -> None:
        self.symbols: list[Symbol] = []
        self.occurrences: list[Occurrence] = []
        self.globals: dict[str, Symbol] = {}
        self._script(statements, {}, [])
        self._declarations(statements)
        self.occurrences.sort(key=lambda o: o.start)
        self._starts = [o.start for o in self.occurrences]

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under `offset` (a cursor right after a name counts)."""
        i = bisect_right(self._starts, offset) - 1
        for j in (i, i - 1):
            if 0 <= j < len(self.occurrences):
                occ = self.occurrences[j]
                if occ.start <= offset <= occ.end:
                    return occ
        return None

    def occurrences_of(self, sym: Symbol) -> list[Occurrence]:
        return [o for o in self.occurrences if o.symbol is sym]

    # -- scripting -----------------------------------------------------------------------------
    def _declare(self, scope: dict[str, Symbol], ident: n.Ident, kind: str, node: n.Node) -> None:
        sym = Symbol(ident.name, kind, ident.start, ident.end, node)
        if ident.name not in scope:
            scope[ident.name] = sym
        self.symbols.append(sym)
        self.occurrences.append(Occurrence(ident.start, ident.end, sym, True))

    def _use(self, chain: list[dict[str, Symbol]], name: str, start: int, end: int) -> None:
        for scope in reversed(chain):
            sym = scope.get(name)
            if sym is not None:
                sym.refs.append((start, end))
                self.occurrences.append(Occurrence(start, end, sym, False))
                return

    def _script(self, statements: list[n.Node], scope: dict[str, Symbol],
                outer: list[dict[str, Symbol]]) -> None:
        chain = [*outer, scope]
        for stmt in statements:
            if isinstance(stmt, n.VarDecl):
                self._expr(stmt.value, chain)
                self._declare(scope, stmt.name, "variable", stmt)
            elif isinstance(stmt, n.Assignment):
                self._expr(stmt.value, chain)
                self._use(chain, stmt.target.name, stmt.target.start, stmt.target.end)
            elif isinstance(stmt, n.IfStmt):
                self._if(stmt, chain)
            elif isinstance(stmt, n.ForStmt):
                self._expr(stmt.iterable, chain)
                body: dict[str, Symbol] = {}
                self._declare(body, stmt.var, "loop variable", stmt)
                self._script(stmt.body.statements, body, chain)
            elif isinstance(stmt, n.FunctionDecl):
                self._declare(scope, stmt.name, "function", stmt)
                params: dict[str, Symbol] = {}
                for p in stmt.params:
                    self._declare(params, p, "parameter", p)
                self._script(stmt.body.statements, params, chain)
            elif isinstance(stmt, n.CallStmt):
                self._expr(stmt.call, chain)
            elif isinstance(stmt, n.ExecBlock):
                for m in _INTERPOLATION.finditer(stmt.shell):
                    name = m.group(1) or m.group(2)
                    s = stmt.shell_start + m.start(1 if m.group(1) else 2)
                    self._use(chain, name, s, s + len(name))

    def _if(self, stmt: n.IfStmt, chain: list[dict[str, Symbol]]) -> None:
        self._expr(stmt.condition, chain)
        self._script(stmt.then.statements, {}, chain)
        if isinstance(stmt.orelse, n.Block):
            self._script(stmt.orelse.statements, {}, chain)
        elif stmt.orelse is not None:
            self._if(stmt.orelse, chain)

    def _expr(self, expr: n.Node, chain: list[dict[str, Symbol]]) -> None:
        if isinstance(expr, n.Ident):
            self._use(chain, expr.name, expr.start, expr.end)
        elif isinstance(expr, n.ArrayLit):
            for item in expr.items:
                self._expr(item, chain)
        elif isinstance(expr, n.Call):
            for arg in expr.args:
                self._expr(arg, chain)
            self._use(chain, expr.callee.name, expr.callee.start, expr.callee.end)

    # -- declarations --------------------------------------------------------------------------
    def _declarations(self, statements: list[n.Node]) -> None:
        decls = [s for s in n.iter_statements(statements) if isinstance(s, n.Declaration | n.OnHandler)]
        defining: set[int] = set()
        for decl in decls:
            if isinstance(decl, n.Declaration):
                for kind, name_node, node in declared_names(decl):
                    defining.add(id(name_node))
                    self._global(kind, name_node, node)
        for decl in decls:
            self._references(decl, defining)

    def _global(self, kind: str, name_node: n.Node, node: n.Node) -> None:
        name = node_name(name_node)
        if not name:
            return
        quoted = isinstance(name_node, n.StringLit)
        start, end = name_span(name_node)
        sym = Symbol(name, kind, start, end, node, quoted=quoted)
        self.globals.setdefault(name, sym)
        self.symbols.append(sym)
        self.occurrences.append(Occurrence(start, end, sym, True))

    def _references(self, decl: n.Node, defining: set[int]) -> None:
        keys = {id(e.key) for e in decl.walk() if isinstance(e, n.Entry)}
        if isinstance(decl, n.Declaration):
            keys.add(id(decl.keyword))
        for node in decl.walk():
            if id(node) in defining or id(node) in keys:
                continue
            if isinstance(node, n.Ident | n.DottedName | n.StringLit):
                sym = self.globals.get(node_name(node))
                if sym is None or (isinstance(node, n.StringLit) and sym.kind in ("entity", "model",
                                                                                  "collection")):
                    continue
                start, end = name_span(node)
                sym.refs.append((start, end))
                self.occurrences.append(Occurrence(start, end, sym, False))


def declared_names(decl: n.Declaration) -> list[tuple[str, n.Node, n.Node]]:
    """(kind, name node, declaring node) of the global names a declaration introduces."""
    out: list[tuple[str, n.Node, n.Node]] = []
    if decl.head and (decl.kind in schema.TYPE_DECLARING_KINDS or decl.kind in NAMED_KINDS):
        out.append((decl.kind, decl.head[0], decl))
    if decl.kind == "database":
        for entry in decl.body.entries:
            if entry.key_name in ("model", "collection") and entry.value and entry.body:
                out.append((entry.key_name, entry.value[0], entry))
    return out


node_name = n.name_text


def name_span(node: n.Node) -> tuple[int, int]:
    """The name's own characters (without quotes for a string)."""
    if isinstance(node, n.StringLit) and len(node.raw) >= 2 and node.raw.endswith('"'):
        return node.start + 1, node.end - 1
    return node.start, node.end


def builtin_names() -> list[str]:
    return sorted(BUILTINS)
