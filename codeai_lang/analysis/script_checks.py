"""Semantic checks of the scripting core: scopes, names, calls, loops (CAI101–CAI108).

Scoping (§3): the file is the global scope; every block opens a scope; parameters and the
loop variable live in the body's scope; names are visible only after their declaration, and
functions only after theirs. The walk is iterative over statements and recursive only over
blocks, whose depth the lexer bounds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from codeai_lang.analysis.semantic import SCRIPT, Occurrence
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n

_LITERALS = frozenset({n.StringLit, n.NumberLit, n.BoolLit, n.DurationLit})
_INTERPOLATION = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")

# Built-in functions every program may call: name → (min args, max args or None).
BUILTINS: dict[str, tuple[int, int | None]] = {
    "print": (0, None), "log": (0, None), "env": (1, 2), "len": (1, 1), "now": (0, 0),
}


@dataclass(slots=True)
class Symbol:
    """A name a script scope defines: what it is and, for functions, how many arguments it takes."""

    name: str
    kind: str  # "variable" | "parameter" | "loop variable" | "function" | "builtin"
    node: n.Node | None
    value: str = "unknown"  # "array" | "string" | "number" | "bool" | "function" | "unknown"
    min_args: int = 0
    max_args: int | None = 0
    is_global: bool = False  # top level of a file: visible project-wide as ("script", name)


class Scope:
    def __init__(self, parent: Scope | None = None,
                 fallback: Callable[[str], Symbol | None] | None = None) -> None:
        self.parent = parent
        # A mapping, not a dict, for compiled code: the editor's cache (`check_cache`) puts a
        # dict subclass here that notes reads and writes, which native dict operations bypass.
        self.symbols: MutableMapping[str, Symbol] = {}
        self.fallback = fallback  # names looked up elsewhere on demand (other files' globals)

    def lookup(self, name: str) -> Symbol | None:
        scope: Scope | None = self
        while scope is not None:
            sym = scope.symbols.get(name)
            if sym is None and scope.fallback is not None:
                sym = scope.fallback(name)
                if sym is not None:
                    scope.symbols[name] = sym
            if sym is not None:
                return sym
            scope = scope.parent
        return None


def builtin_scope() -> Scope:
    scope = Scope()
    for name, (lo, hi) in BUILTINS.items():
        scope.symbols[name] = Symbol(name, "builtin", None, "function", lo, hi)
    return scope


Consulted = dict[str, "tuple[str, int] | None"]  # name → what `external` answered (None: nothing)


def check_script(statements: list[n.Node], external: Mapping[str, tuple[str, int]] | None = None,
                 occurrences: list[Occurrence] | None = None,
                 consulted: Consulted | None = None) -> list[Diagnostic]:
    """Diagnostics for the scripting statements of a program (declarations are skipped).

    `external`: top-level functions and variables of the project's other files (name →
    (kind, arity)); they are visible everywhere in this file, while this file's own names
    keep declare-before-use. `occurrences`, if given, receives every name the checker
    resolved (the semantic model's script occurrences). `consulted`, if given, receives every
    name looked up outside the file and the answer: which names are looked up does not depend
    on the answers, so the result is the same under any `external` that answers them alike
    (what lets a project verify a file's cached or speculative analysis without redoing it)."""
    checker = _ScriptChecker(occurrences)
    outer = builtin_scope()
    if external is not None or consulted is not None:  # (not truth values: lazy mappings)
        outer = Scope(outer, lambda name: _external_symbol(external, name, consulted))  # lazily
    checker.file_scope = Scope(outer)
    checker.statements(statements, checker.file_scope)
    return checker.diags


def _external_symbol(external: Mapping[str, tuple[str, int]] | None, name: str,
                     consulted: Consulted | None) -> Symbol | None:
    found = external.get(name) if external is not None else None
    if consulted is not None:
        consulted[name] = found
    if found is None:
        return None
    kind, arity = found
    value = "function" if kind == "function" else "unknown"
    if arity < 0:  # unknown (an external function): any number of arguments
        return Symbol(name, kind, None, value, 0, None, True)
    return Symbol(name, kind, None, value, arity, arity, True)


def _value_kind(expr: n.Node, scope: Scope) -> str:
    if isinstance(expr, n.ArrayLit):
        return "array"
    if isinstance(expr, n.StringLit):
        return "string"
    if isinstance(expr, n.NumberLit):
        return "number"
    if isinstance(expr, n.BoolLit):
        return "bool"
    if isinstance(expr, n.Ident):
        sym = scope.lookup(expr.name)
        return sym.value if sym else "unknown"
    return "unknown"


class _ScriptChecker:
    def __init__(self, occurrences: list[Occurrence] | None = None) -> None:
        self.diags: list[Diagnostic] = []
        self.occ = occurrences
        self.file_scope: Scope | None = None

    def record(self, sym: Symbol | None, start: int, end: int, is_decl: bool) -> None:
        """Note what a name resolved to (only when the caller asked for occurrences)."""
        if self.occ is None or sym is None or sym.kind == "builtin":
            return
        if sym.is_global:
            self.occ.append(Occurrence(start, end, (SCRIPT, sym.name), is_decl))
        else:
            self.occ.append(Occurrence(start, end, None, is_decl, sym))

    def lookup(self, scope: Scope, ident: n.Ident) -> Symbol | None:
        sym = scope.lookup(ident.name)
        self.record(sym, ident.start, ident.end, False)
        return sym

    def error(self, code: str, message: str, node: n.Node) -> None:
        self.diags.append(Diagnostic(code, Severity.ERROR, message, node.start, node.end))

    def statements(self, statements: list[n.Node], scope: Scope) -> None:
        for stmt in statements:
            self.statement(stmt, scope)

    def statement(self, stmt: n.Node, scope: Scope) -> None:
        handler = _HANDLERS.get(type(stmt))
        if handler is not None:
            handler(self, stmt, scope)

    def declare(self, sym: Symbol, ident: n.Ident, scope: Scope) -> None:
        sym.is_global = scope is self.file_scope
        self.record(sym, ident.start, ident.end, True)
        prev = scope.symbols.get(sym.name)
        if prev is not None and prev.kind != "builtin":
            self.error("CAI101", f"duplicate declaration of {sym.kind} '{sym.name}' in this scope "
                       f"(already declared as {prev.kind})", ident)
            return
        scope.symbols[sym.name] = sym

    # -- statements ---------------------------------------------------------------------
    def _VarDecl(self, stmt: n.VarDecl, scope: Scope) -> None:
        self.expr(stmt.value, scope)
        self.declare(Symbol(stmt.name.name, "variable", stmt, _value_kind(stmt.value, scope)),
                     stmt.name, scope)

    def _Assignment(self, stmt: n.Assignment, scope: Scope) -> None:
        self.expr(stmt.value, scope)
        sym = self.lookup(scope, stmt.target)
        if sym is None:
            self.error("CAI102", f"assignment to undeclared variable '{stmt.target.name}' "
                       f"(declare it with 'var {stmt.target.name} = …')", stmt.target)
        elif sym.kind in ("function", "builtin"):
            self.error("CAI108", f"cannot assign to function '{stmt.target.name}'", stmt.target)
        else:
            sym.value = _value_kind(stmt.value, scope)

    def _IfStmt(self, stmt: n.IfStmt, scope: Scope) -> None:
        self.expr(stmt.condition, scope)
        self.statements(stmt.then.statements, Scope(scope))
        if isinstance(stmt.orelse, n.Block):
            self.statements(stmt.orelse.statements, Scope(scope))
        elif stmt.orelse is not None:
            self._IfStmt(stmt.orelse, scope)

    def _ForStmt(self, stmt: n.ForStmt, scope: Scope) -> None:
        self.expr(stmt.iterable, scope)
        kind = _value_kind(stmt.iterable, scope)
        if kind not in ("array", "unknown"):
            self.error("CAI106", f"'for' needs an array, but this is a {kind}", stmt.iterable)
        body = Scope(scope)
        body.symbols[stmt.var.name] = var = Symbol(stmt.var.name, "loop variable", stmt.var)
        self.record(var, stmt.var.start, stmt.var.end, True)
        self.statements(stmt.body.statements, body)

    def _FunctionDecl(self, stmt: n.FunctionDecl, scope: Scope) -> None:
        arity = len(stmt.params)
        self.declare(Symbol(stmt.name.name, "function", stmt, "function", arity, arity),
                     stmt.name, scope)
        body = Scope(scope)
        for param in stmt.params:
            if param.name in body.symbols:
                self.error("CAI107", f"duplicate parameter '{param.name}'", param)
                continue
            body.symbols[param.name] = sym = Symbol(param.name, "parameter", param)
            self.record(sym, param.start, param.end, True)
        self.statements(stmt.body.statements, body)

    def _ExecBlock(self, stmt: n.ExecBlock, scope: Scope) -> None:
        from codeai_lang.analysis.shell_checks import shell_defined_names

        shell_vars = shell_defined_names(stmt.shell) if "$" in stmt.shell else frozenset()
        for m in _INTERPOLATION.finditer(stmt.shell):
            name = m.group(1) or m.group(2)
            sym = scope.lookup(name)
            if sym is None and name in shell_vars:
                continue  # set by the shell text itself
            at = stmt.shell_start + m.start(1 if m.group(1) else 2)
            self.record(sym, at, at + len(name), False)
            if sym is None:
                start = stmt.shell_start + m.start()
                self.diags.append(Diagnostic("CAI102", Severity.ERROR,
                                             f"undefined variable '{name}' in exec interpolation",
                                             start, stmt.shell_start + m.end()))

    def _CallStmt(self, stmt: n.CallStmt, scope: Scope) -> None:
        self.expr(stmt.call, scope)

    # -- expressions --------------------------------------------------------------------
    def expr(self, expr: n.Node, scope: Scope) -> None:
        kind = type(expr)
        if kind in _LITERALS:
            return
        if kind is n.Ident:
            assert isinstance(expr, n.Ident)
            if self.lookup(scope, expr) is None:
                self.error("CAI102", f"undefined variable '{expr.name}'", expr)
        elif isinstance(expr, n.ArrayLit):
            for item in expr.items:
                self.expr(item, scope)
        elif isinstance(expr, n.Call):
            self.call(expr, scope)

    def call(self, call: n.Call, scope: Scope) -> None:
        for arg in call.args:
            self.expr(arg, scope)
        name = call.callee.name
        sym = self.lookup(scope, call.callee)
        if sym is None:
            self.error("CAI103", f"undefined function '{name}' (functions must be declared "
                       "before they are called)", call.callee)
            return
        if sym.value != "function":
            self.error("CAI104", f"'{name}' is a {sym.kind}, not a function", call.callee)
            return
        count = len(call.args)
        if count < sym.min_args or (sym.max_args is not None and count > sym.max_args):
            self.error("CAI105", f"'{name}' takes {_arity_text(sym)}, but {count} "
                       f"{'was' if count == 1 else 'were'} given", call)


_HANDLERS: dict[type, Any] = {
    cls: getattr(_ScriptChecker, "_" + cls.__name__)
    for cls in (n.VarDecl, n.Assignment, n.IfStmt, n.ForStmt, n.FunctionDecl, n.ExecBlock, n.CallStmt)
}


def _arity_text(sym: Symbol) -> str:
    lo, hi = sym.min_args, sym.max_args
    if hi is None:
        return f"at least {lo} argument{'s' if lo != 1 else ''}"
    if lo == hi:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"
