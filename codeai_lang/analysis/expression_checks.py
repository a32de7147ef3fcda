"""Checks of the DSL 2.1 expression and query language (spec §8.4) and of its version gates.

- CAI202: a record literal's name (`OrderShipped { … }`) must be a declared event or entity;
  the entity after `from`, `update` and `delete` must be declared; the fields in `set f = …`
  and the bare names in `where …` must be fields of that entity (with a did-you-mean).
- CAI102: a name read by `var`/`if`/`for` inside a step or `do` body that §8.2 does not
  make visible there.
- CAI403: 2.1 forms that an older grammar still parses, as phrases or generic entries
  (`var`/`if`/`for` inside bodies, colon clauses in auth/role/middleware/webhook, a query as
  a property value), used under a version whose manifest entry lacks the feature.

The CAI202 names are not resolved here: they become `semantic.Ref`s of the file's table, so
the validator resolves them against the file alone and a project against all its files (an
entity declared in another file is found; its fields come from its `Decl`). `LocalIndex`
(one file's entities and events) serves the language server's completion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from codeai_lang.analysis import schema
from codeai_lang.analysis.decl_checks import entry_key
from codeai_lang.analysis.semantic import FIELD, TYPES, Ref, field_names
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.registry import Registry

# Clause-style declaration kinds whose colon forms are new in 2.1 (integration's properties
# are 1.1 business forms already).
_COLON_CLAUSE_KINDS = frozenset({"auth", "role", "middleware", "webhook"})
_QUERY_WORDS = frozenset({"select", "update", "delete"})
# Bare words in a `where` that are values, not fields.
_WHERE_VALUES = frozenset({"null"})


@dataclass(slots=True)
class LocalIndex:
    """Entities (with their fields) and events declared in one file."""

    entities: dict[str, frozenset[str]] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)

    def is_entity(self, name: str) -> bool:
        return name in self.entities

    def is_event(self, name: str) -> bool:
        return name in self.events

    def fields(self, entity: str) -> frozenset[str] | None:
        return self.entities.get(entity)


def local_index(statements: list[n.Node]) -> LocalIndex:
    """The declared entities/collections/models and events of `statements`."""
    index = LocalIndex()
    for stmt in n.iter_statements(statements):
        if not isinstance(stmt, n.Declaration) or not stmt.head:
            continue
        name = n.name_text(stmt.head[0])
        if stmt.kind in schema.TYPE_DECLARING_KINDS:
            index.entities[name] = _field_names(stmt.body)
        elif stmt.kind == "event":
            index.events.add(name)
        elif stmt.kind == "database":
            for entry in stmt.body.entries:
                if entry_key(entry) in ("model", "collection") and entry.value and entry.body:
                    index.entities[n.name_text(entry.value[0])] = _field_names(entry.body)
    return index


def _field_names(body: n.Body) -> frozenset[str]:
    return field_names(body)


def check_expressions(statements: list[n.Node], version: str, registry: Registry,
                      refs: list[Ref]) -> list[Diagnostic]:
    """The diagnostics of §8.4 that need nothing outside the file; the names records and
    queries use go to `refs` (the file's table), resolved against the file or its project."""
    checker = _Checker(refs)
    decls = [s for s in n.iter_statements(statements) if isinstance(s, n.Declaration)]
    entries = _all_entries(decls)  # one walk of the bodies serves every check below
    for entry in entries:
        for value in entry.value:
            if type(value) in _EXPRESSION_ROOTS:  # leaves (most values) hold nothing to check
                for node in _expression_nodes(value):
                    checker.node(node)
    checker.version_gates(decls, entries, version, registry)
    scopes = _BodyScopes(_script_globals(statements))
    for decl in decls:
        scopes.declaration(decl)
    return checker.diags + scopes.diags


class _Checker:
    def __init__(self, refs: list[Ref]) -> None:
        self.refs = refs
        self.diags: list[Diagnostic] = []

    def report(self, code: str, message: str, node: n.Node) -> None:
        self.diags.append(Diagnostic(code, Severity.ERROR, message, node.start, node.end))

    def refer(self, ident: n.Ident, namespace: str, message: str, also: str = "", entity: str = "") -> None:
        self.refs.append(Ref(namespace, ident.name, ident.start, ident.end, ident.start, ident.end,
                             "CAI202", message, also, entity))

    def node(self, node: n.Node) -> None:
        if isinstance(node, n.Record):
            name = node.name.name
            self.refer(node.name, "event", f"record of undeclared event or entity '{name}'", also=TYPES)
        elif isinstance(node, n.SelectQuery) and node.source is not None:
            self.query(node.source, [], node.where)
        elif isinstance(node, n.UpdateQuery):
            self.query(node.entity, node.sets, node.where)
        elif isinstance(node, n.DeleteQuery):
            self.query(node.entity, [], node.where)

    def query(self, entity: n.Ident, sets: list[n.SetClause], where: n.Node | None) -> None:
        name = entity.name
        self.refer(entity, TYPES, f"query on undeclared entity '{name}'")
        for clause in sets:
            self.refer(clause.field, FIELD, "", entity=name)
        if where is not None:
            for ident in _bare_names(where):
                if ident.name not in _WHERE_VALUES:
                    self.refer(ident, FIELD, "", entity=name)

    # -- CAI403: 2.1 forms an older grammar parses generically ------------------------------
    def version_gates(self, decls: list[n.Declaration], entries: list[n.Entry], version: str,
                      reg: Registry) -> None:
        gates = (("body_statements", _body_statements), ("colon_clauses", _colon_clauses),
                 ("queries", _phrase_queries))
        for feature, finder in gates:
            if reg.has_feature(version, feature):
                continue
            what = next((a.description for v in reg.ordered for a in v.adds
                         if a.feature == feature), feature)
            for node in finder(decls, entries):
                self.report("CAI403", f"{what} require DSL {reg.since(feature)}, but the file "
                            f"declares {version}; change '#version' to {reg.since(feature)} "
                            "or newer", node)


def _bare_names(expr: n.Node) -> Iterator[n.Ident]:
    """Identifiers used as column names in a condition: not callees, not dotted paths."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Ident):
            yield node
        elif isinstance(node, n.Call):
            stack.extend(node.args)
        elif isinstance(node, n.NamedArg):
            stack.append(node.value)
        elif isinstance(node, n.Index):
            stack += [node.obj, node.index]
        elif not isinstance(node, n.Member | n.DottedName | n.Record | n.ObjectLit):
            stack.extend(node.children())


def _all_entries(decls: list[n.Declaration]) -> list[n.Entry]:
    """Every entry of the declarations' bodies, nested ones included, in source order (what
    a generic `walk()` of each body finds, without visiting the values' expression nodes:
    entries live only in bodies and in an `if` entry's `else`)."""
    out: list[n.Entry] = []
    for decl in decls:
        stack: list[n.Entry] = list(reversed(decl.body.entries))
        while stack:
            entry = stack.pop()
            out.append(entry)
            if isinstance(entry, n.IfEntry):
                orelse = entry.orelse
                if isinstance(orelse, n.IfEntry):
                    stack.append(orelse)
                elif isinstance(orelse, n.Body):
                    stack.extend(reversed(orelse.entries))
            if entry.body is not None:
                stack.extend(reversed(entry.body.entries))
    return out


def _body_statements(decls: list[n.Declaration], entries: list[n.Entry]) -> Iterator[n.Node]:
    """`var x = …`, `for x in … { }`, `if … { }` parsed by an older grammar as entries."""
    for entry in entries:
        if _looks_like_statement(entry):
            yield entry.key


def _looks_like_statement(entry: n.Entry) -> bool:
    values = entry.value
    if entry.body is None and len(values) < 3:  # most entries (fields): no key name needed
        return False
    key = entry_key(entry)
    if key == "var":
        return len(values) >= 3 and isinstance(values[1], n.Operator) and values[1].text == "="
    if key == "for":
        return entry.body is not None and any(isinstance(v, n.Ident) and v.name == "in"
                                              for v in values)
    return key == "if" and entry.body is not None and bool(values)


def _colon_clauses(decls: list[n.Declaration], entries: list[n.Entry]) -> Iterator[n.Node]:
    for decl in decls:
        if decl.kind in _COLON_CLAUSE_KINDS:
            first = next((e for e in decl.body.entries if e.colon), None)
            if first is not None:
                yield first.key


def _phrase_queries(decls: list[n.Declaration], entries: list[n.Entry]) -> Iterator[n.Node]:
    """`q: select x from T` read as a phrase of bare words by an older grammar."""
    for entry in entries:
        values = entry.value
        if entry.colon and len(values) >= 2 and isinstance(values[0], n.Ident) \
                and values[0].name in _QUERY_WORDS and isinstance(values[1], n.Ident):
            yield values[0]


# -- §8.2 scoping of var/if/for inside step and `do` bodies (CAI102) ------------------------

# Names visible in every step/`do` body without a `var` (§8.2); `null` is a value.
_BODY_NAMES = frozenset({"trigger", "input", "config", "env", "null"})
_ENDPOINT_NAMES = frozenset({"params", "body", "query"})


def _script_globals(statements: list[n.Node]) -> frozenset[str]:
    """Top-level variables and functions of the scripting core (the file's global scope)."""
    return frozenset(stmt.name.name for stmt in statements
                     if isinstance(stmt, n.VarDecl | n.FunctionDecl))


class _BodyScopes:
    """Checks the names the scripting statements of a body use (`var x = …`, `if …`,
    `for x in …`) against §8.2's visible names, the body's earlier `var`s and loop variables,
    and the `as:` names of the earlier steps of the same `steps` block. Property values are
    phrases and runtime-action calls: they are not checked."""

    def __init__(self, globals_: frozenset[str]) -> None:
        self.globals = globals_
        self.diags: list[Diagnostic] = []
        # The names visible in the whole declaration, never copied: a file's globals can be
        # thousands of names, and copying them per declaration made this check quadratic.
        self.outer: tuple[frozenset[str], ...] = ()

    def declaration(self, decl: n.Declaration) -> None:
        kind = decl.kind
        if kind in ("workflow", "job"):
            self.outer = (_BODY_NAMES, self.globals)
            for entry in decl.body.entries:
                if entry_key(entry) == "steps" and entry.body is not None:
                    self.steps(entry.body, set())
        elif kind == "endpoint":
            self.outer = (_BODY_NAMES, _ENDPOINT_NAMES, self.globals)
            for entry in decl.body.entries:
                if entry_key(entry) == "do" and entry.body is not None:
                    self.body(entry.body, [set()])

    def steps(self, steps: n.Body, visible: set[str]) -> None:
        """`visible`: the `as:` names of the earlier steps."""
        for step in steps.entries:
            if step.body is None:
                continue
            if entry_key(step) == "parallel":
                self.steps(step.body, visible)
                continue
            self.body(step.body, [visible, set()])  # the step's own `var`s go in the new set
            visible |= _as_names(step.body)  # visible in the later steps

    def body(self, body: n.Body, scopes: list[set[str]]) -> None:
        for entry in body.entries:
            if isinstance(entry, n.LocalVar):
                self.uses(entry.init, scopes)
                scopes[-1].add(entry.name.name)
            elif isinstance(entry, n.ForEntry):
                self.uses(entry.iterable, scopes)
                if entry.body is not None:
                    self.body(entry.body, [*scopes, {entry.var.name}])
            elif isinstance(entry, n.IfEntry):
                self.if_entry(entry, scopes)
            elif entry.body is not None and not entry.colon:
                self.body(entry.body, [*scopes, set()])

    def if_entry(self, entry: n.IfEntry, scopes: list[set[str]]) -> None:
        self.uses(entry.condition, scopes)
        if entry.body is not None:
            self.body(entry.body, [*scopes, set()])
        if isinstance(entry.orelse, n.IfEntry):
            self.if_entry(entry.orelse, scopes)
        elif isinstance(entry.orelse, n.Body):
            self.body(entry.orelse, [*scopes, set()])

    def uses(self, expr: n.Node, scopes: list[set[str]]) -> None:
        for name, node in _name_roots(expr):
            if not any(name in scope for scope in scopes) and not any(name in s for s in self.outer):
                self.diags.append(Diagnostic(
                    "CAI102", Severity.ERROR,
                    f"undefined variable '{name}' (visible here: trigger, input, config, env, "
                    "the `as:` names of earlier steps, and the body's own `var`s)",
                    node.start, node.start + len(name)))


def _as_names(body: n.Body) -> set[str]:
    return {n.name_text(e.value[0]) for e in body.entries
            if entry_key(e) == "as" and e.colon and len(e.value) == 1
            and isinstance(e.value[0], n.Ident)}


def _name_roots(expr: n.Node) -> Iterator[tuple[str, n.Node]]:
    """The variables an expression reads: bare names and the first part of dotted names and
    member chains. Callees, named-argument names, record names and object keys are not."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Ident):
            yield node.name, node
        elif isinstance(node, n.DottedName):
            yield node.parts[0], node
        elif isinstance(node, n.Call):
            stack.extend(node.args)
        elif isinstance(node, n.MethodCall):
            stack += [node.obj, *node.args]
        elif isinstance(node, n.Member):
            stack.append(node.obj)
        elif isinstance(node, n.NamedArg | n.ObjField):
            stack.append(node.value)
        elif isinstance(node, n.Record):
            stack.append(node.obj)
        elif not isinstance(node, n.QUERY_TYPES):
            stack.extend(node.children())


# Where records and queries can hide inside a value: each expression node's sub-expressions.
# (A hand-written walk: `Node.walk()` is generic and several times slower on large files.)
_SUB_EXPRESSIONS: dict[type, tuple[str, ...]] = {
    n.Call: ("args",), n.MethodCall: ("obj", "args"), n.BinaryOp: ("left", "right"),
    n.UnaryOp: ("operand",), n.Ternary: ("condition", "then", "orelse"), n.Member: ("obj",),
    n.Index: ("obj", "index"), n.Paren: ("expr",), n.NamedArg: ("value",),
    n.ObjField: ("value",), n.ObjectLit: ("items",), n.Record: ("obj",), n.ArrayLit: ("items",),
}


# Values that are, or may hold, what `_Checker.node` checks (records and queries).
_EXPRESSION_ROOTS = frozenset({*_SUB_EXPRESSIONS, *n.QUERY_TYPES})


def _expression_nodes(value: n.Node) -> Iterator[n.Node]:
    """`value` and its sub-expressions (not looking inside queries)."""
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        for attr in _SUB_EXPRESSIONS.get(type(node), ()):
            sub = getattr(node, attr)
            if isinstance(sub, list):
                stack.extend(sub)
            else:
                stack.append(sub)
