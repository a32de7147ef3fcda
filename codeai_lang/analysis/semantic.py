"""The one semantic model: who declares which global name, and who refers to it.

Built per file (`FileTable`: declarations, references and name occurrences with their ranges)
and merged per project (`ProjectIndex`). The validator, `codeai symbols`, `migrate-dsl` and the
language server all resolve names here, so a name means the same thing everywhere.

Namespaces: data types (entity/model/collection) share one; every other named declaration
kind (event, workflow, role, …) has its own; endpoints are named `METHOD /path`; top-level
`function` and `var` of the scripting core share "script". A file's table depends only on
its own text, so an edit rebuilds one table; which other files must be re-checked follows
from the names whose declarations changed (`ProjectIndex.dependents`).

Name lookup API (for other checks): `ProjectIndex.lookup(namespace, name)`,
`ProjectIndex.declarations(namespace)`, `namespace_of(kind)`, `resolve_file`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from itertools import compress

from codeai_lang.analysis import schema
from codeai_lang.analysis.reuse import changed_middle
from codeai_lang.diagnostics.model import Applicability, Diagnostic, Edit, Fix, Related, Severity
from codeai_lang.syntax import nodes as n

TYPES = "type"
FIELD = "field"  # the namespace of a Ref to a data type's field (see Ref.entity)
SCRIPT = "script"
ENDPOINT = "endpoint"
NAMED_KINDS = ("auth", "role", "middleware", "event", "integration", "webhook", "workflow", "job")
BUILTIN = {TYPES: frozenset({"Empty"})}  # the response type with no body (projects.md §2)
_SEPARATORS = re.compile(r"[._\-]")
_WHAT = {TYPES: "data type"}
_TOUCHED_KEPT = 64  # `_replace_keys` changes remembered for `touched_since`
ScopeTable = dict[str, list[tuple[str, tuple[str, int]]]]  # name → (file, (kind, arity)), files in order


def namespace_of(kind: str) -> str:
    if kind in ("entity", "model", "collection", TYPES):
        return TYPES
    if kind in ("function", "variable"):
        return SCRIPT
    return kind


@dataclass(slots=True, eq=False)
class Decl:
    """A global declaration: its kind, name, the name's own characters, the declaring node."""

    kind: str  # entity, model, collection, event, …, endpoint, function, variable
    name: str
    start: int
    end: int
    node: n.Node | None  # None once the table is compacted (the AST let go)
    quoted: bool = False
    path: str = ""  # the file (set when the table joins a project)
    detail: str = ""  # e.g. `function total(a, b)`: what hover shows without the AST
    fields: frozenset[str] | None = None  # a data type's fields (None: not a data type)

    @property
    def namespace(self) -> str:
        return namespace_of(self.kind)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass(slots=True)
class Ref:
    """A reference a check requires to resolve: reported as `code`/`message` if it does not."""

    namespace: str
    name: str
    start: int  # the reported range (the node, quotes included)
    end: int
    name_start: int  # the name's own characters (inside quotes)
    name_end: int
    code: str = "CAI202"
    message: str = ""
    also: str = ""  # a second namespace that satisfies it (a record names an event or a type)
    # Set: `name` must be a field of the data type `entity` (a query's `where`/`set`); not
    # reported when `entity` does not resolve (that is its own reference) or has no known fields.
    entity: str = ""

    def shifted(self, delta: int) -> Ref:
        return Ref(self.namespace, self.name, self.start + delta, self.end + delta,
                   self.name_start + delta, self.name_end + delta, self.code, self.message,
                   self.also, self.entity)


@dataclass(slots=True)
class Occurrence:
    """A name in the text and what it denotes: a global key, or a local scripting symbol."""

    start: int
    end: int
    key: tuple[str, str] | None  # (namespace, name) of a global; None for a local symbol
    is_decl: bool
    local: object = None  # the script checker's Symbol for locals (parameters, loop variables, …)
    loose: bool = False  # a mention in a declaration body: resolves by name in any namespace


@dataclass
class FileTable:
    """Everything name-related about one file, independent of every other file.

    `occurrences` (for navigation) is merged on first use: declarations win, then what the
    script checker resolved, then required references and mentions — validation alone never
    pays for walking declaration bodies for mentions."""

    decls: list[Decl] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    script_names: dict[str, tuple[str, int]] = field(default_factory=dict)  # top level: kind, arity
    statements: list[n.Node] | None = field(default=None, repr=False)  # for mentions, until compacted

    _occ: list[Occurrence] | None = field(default=None, repr=False)
    _script_occ: list[Occurrence] = field(default_factory=list, repr=False)
    _weak: list[Occurrence] | None = field(default=None, repr=False)
    _by_name: dict[str, list[Occurrence]] | None = field(default=None, repr=False)
    _used: set[str] | None = field(default=None, repr=False)

    @property
    def occurrences(self) -> list[Occurrence]:
        """Every name occurrence of the file, sorted by start."""
        if self._occ is None:
            occs: dict[int, Occurrence] = {o.start: o for o in self._script_occ}
            occs.update((d.start, Occurrence(d.start, d.end, d.key, True)) for d in self.decls)
            for o in self._weak_occurrences():
                occs.setdefault(o.start, o)
            self._occ = sorted(occs.values(), key=lambda o: o.start)
        return self._occ

    def _weak_occurrences(self) -> list[Occurrence]:
        if self._weak is None:
            weak: dict[int, Occurrence] = {}
            for r in self.refs:
                if not r.entity:  # a field is not a global name
                    weak.setdefault(r.name_start, Occurrence(r.name_start, r.name_end, (r.namespace, r.name), False))
            for name, start, end, is_string in mentions(self.statements or []):
                weak.setdefault(start, Occurrence(start, end, ("", name), False, loose=True, local=is_string))
            self._weak = list(weak.values())
        return self._weak

    def set_script_occurrences(self, script: list[Occurrence]) -> None:
        self._script_occ = script
        self._occ = self._by_name = self._used = None

    def keys(self) -> frozenset[tuple[str, str]]:
        return frozenset(d.key for d in self.decls)

    def drop_ast(self) -> FileTable:
        """Let go of the AST without building occurrences (a table used only to resolve
        names, as in `codeai validate`)."""
        for d in self.decls:
            d.node = None
        self._occ, self._script_occ, self._weak, self.statements = [], [], [], None
        self._by_name = self._used = None
        return self

    def compact(self) -> FileTable:
        """Let go of the AST (for a file kept only for its names, e.g. one not open in an
        editor): declarations keep their spans and detail; local scripting names go."""
        kept = [o for o in self.occurrences if o.key is not None]
        for d in self.decls:
            d.node = None
        self._occ, self._script_occ, self._weak, self.statements = kept, [], [], None
        self._by_name = self._used = None
        return self

    def occurrences_named(self, name: str) -> list[Occurrence]:
        """Occurrences of global names spelled `name` (built once per table)."""
        if self._by_name is None:
            table: dict[str, list[Occurrence]] = {}
            for o in self.occurrences:
                if o.key is not None:
                    table.setdefault(o.key[1], []).append(o)
            self._by_name = table
        return self._by_name.get(name, [])

    def names_used(self) -> set[str]:
        """Every global name the file writes (references and mentions), computed once."""
        if self._used is None:
            self.occurrences_named("")
            assert self._by_name is not None
            self._used = {r.entity or r.name for r in self.refs} | set(self._by_name)
        return self._used

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under `offset` (a cursor right after a name counts)."""
        from bisect import bisect_right
        occs = self.occurrences
        i = bisect_right(occs, offset, key=lambda o: o.start) - 1
        for j in (i, i - 1):
            if 0 <= j < len(occs) and occs[j].start <= offset <= occs[j].end:
                return occs[j]
        return None


# -- building a file's table -------------------------------------------------------------------


def name_span(node: n.Node) -> tuple[int, int]:
    """The name's own characters (without quotes for a string)."""
    if isinstance(node, n.StringLit) and len(node.raw) >= 2 and node.raw.endswith('"'):
        return node.start + 1, node.end - 1
    return node.start, node.end


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


def _path_text(node: n.Node) -> str:
    if isinstance(node, n.PathLit):
        return node.text
    if isinstance(node, n.StringLit):
        return node.value
    return n.name_text(node)


def field_names(body: n.Body) -> frozenset[str]:
    """The fields a data type's body declares (`name: type, …` entries)."""
    return frozenset(e.key_name for e in body.entries
                     if e.colon and e.key_name not in schema.NON_FIELD_KEYS)


def _fields_of(kind: str, node: n.Node) -> frozenset[str] | None:
    if namespace_of(kind) != TYPES:
        return None
    body = node.body if isinstance(node, n.Declaration | n.Entry) else None
    return field_names(body) if isinstance(body, n.Body) else None


def file_declarations(statements: list[n.Node]) -> list[Decl]:
    """The global declarations of a file, in file order."""
    out: list[Decl] = []
    for stmt in statements:
        if isinstance(stmt, n.Declaration):
            for kind, name_node, node in declared_names(stmt):
                name = n.name_text(name_node)
                if name:
                    start, end = name_span(name_node)
                    out.append(Decl(kind, name, start, end, node, isinstance(name_node, n.StringLit),
                                    fields=_fields_of(kind, node)))
            if stmt.kind == "endpoint" and len(stmt.head) >= 2:
                path = stmt.head[1]
                out.append(Decl("endpoint", f"{n.name_text(stmt.head[0])} {_path_text(path)}",
                                path.start, path.end, stmt))
        elif isinstance(stmt, n.FunctionDecl):
            params = ", ".join(p.name for p in stmt.params)
            out.append(Decl("function", stmt.name.name, stmt.name.start, stmt.name.end, stmt,
                            detail=f"{stmt.name.name}({params})"))
        elif isinstance(stmt, n.VarDecl):
            out.append(Decl("variable", stmt.name.name, stmt.name.start, stmt.name.end, stmt))
    return out


def mentions(statements: list[n.Node]) -> Iterator[tuple[str, int, int, bool]]:
    """Names written in declaration bodies (not entry keys or declared names): what
    navigation follows to a declaration of that name. (name, start, end, is_string)."""
    for stmt in statements:
        if not isinstance(stmt, n.Declaration | n.OnHandler):
            continue
        skip: set[int] = set()
        if isinstance(stmt, n.Declaration):
            skip.add(id(stmt.keyword))
            skip.update(id(name_node) for _, name_node, _ in declared_names(stmt))
        names = (n.Ident, n.DottedName, n.StringLit)
        for node in stmt.walk():  # pre-order: an entry comes before its key
            kind = type(node)
            if kind is n.Entry:
                skip.add(id(node.key))  # type: ignore[attr-defined]
            elif kind in names and id(node) not in skip:
                name = n.name_text(node)
                if name:
                    start, end = name_span(node)
                    yield name, start, end, isinstance(node, n.StringLit)


def build_table(statements: list[n.Node], refs: list[Ref], script_occurrences: list[Occurrence],
                decls: list[Decl] | None = None,
                script_names: dict[str, tuple[str, int]] | None = None) -> FileTable:
    """A file's table from its statements, the references its checks required and the
    occurrences the script checker resolved (`script_names`: those of `decls`, if known)."""
    table = FileTable(decls=file_declarations(statements) if decls is None else decls, refs=refs,
                      statements=statements)
    table.set_script_occurrences(script_occurrences)
    table.script_names = dict(script_names) if script_names is not None else script_names_of(table.decls)
    return table


def script_names_of(decls: list[Decl]) -> dict[str, tuple[str, int]]:
    """The top-level functions and variables of a file's declarations: name → (kind, arity),
    the first declaration of a name counting (arity -1: a variable)."""
    names: dict[str, tuple[str, int]] = {}
    for d in decls:
        if d.namespace == SCRIPT:
            arity = len(d.node.params) if isinstance(d.node, n.FunctionDecl) else -1
            names.setdefault(d.name, (d.kind, arity))
    return names


# -- the project -------------------------------------------------------------------------------


@dataclass
class Externals:
    """Names provided outside the project (codeai.yaml `externals`): globs per namespace."""

    globs: dict[str, list[str]] = field(default_factory=dict)

    def provides(self, namespace: str, name: str) -> bool:
        return any(fnmatchcase(name, g) for g in self.globs.get(namespace, ()))


class ProjectIndex:
    """The merged tables of a project's files. Files are ordered by path: the first
    declaration of a name (in path order, then file order) is *the* declaration."""

    def __init__(self, externals: Externals | None = None) -> None:
        self.tables: dict[str, FileTable] = {}
        self.externals = externals or Externals()
        self._decls: dict[tuple[str, str], list[Decl]] | None = None
        self._by_name: dict[str, list[Decl]] | None = None
        self._script: ScopeTable | None = None
        self._names: dict[str, list[str]] = {}  # namespace → sorted names (for suggestions)
        self._suggested: dict[tuple[str, str], list[str]] = {}
        self.generation = 0  # bumped whenever the set of declarations changes
        self._lowered: tuple[int, list[tuple[str, Decl]]] | None = None
        self.script_generation = 0  # bumped whenever a file's top-level script names change
        self.fields_stamp = 0  # bumped whenever a data type's declared fields may have changed
        self._resolved: dict[str, _Resolved] = {}  # per file: see `resolve_file`
        self._touched: list[tuple[int, frozenset[str]]] = []  # (generation, names) of `_replace_keys`

    # -- updating ----------------------------------------------------------------------------
    def set_file(self, path: str, table: FileTable) -> tuple[list[Decl], list[Decl]]:
        """Enter `path`'s table; the declarations that went and came (for a new file: none
        and all of its own)."""
        old = self.tables.get(path)
        self.tables[path] = table
        if old is None:
            for d in table.decls:
                d.path = path
            self.script_generation += bool(table.script_names)
            self._changed()
            return [], table.decls
        # A file's new table keeps the records of its unchanged declarations (the same
        # objects, already this file's): only the changed middle is looked at.
        p, q_old, q_new = changed_middle(old.decls, table.decls)
        gone, fresh = old.decls[p:q_old], table.decls[p:q_new]
        for d in fresh:
            d.path = path
        if old.script_names != table.script_names:  # (only the script scope derives from them)
            self.script_generation += 1
            self._script = None
        if not gone and not fresh:
            return gone, fresh
        if [d.key for d in gone] == [d.key for d in fresh]:  # same names: swap the new records in
            if self._decls is not None:
                for a, b in zip(gone, fresh, strict=True):
                    same = self._decls[a.key]
                    same[same.index(a)] = b
            if any(a.fields != b.fields for a, b in zip(gone, fresh, strict=True)):
                self.fields_stamp += 1
            self._by_name = self._lowered = None
        elif self._decls is None:
            self._changed()
        else:
            self._replace_keys(path, gone, fresh)
        return gone, fresh

    def _replace_keys(self, path: str, gone: list[Decl], fresh: list[Decl]) -> None:
        """Declarations of `path` went and came: rebuild the merged lists of their names only
        (files in path order, each file's declarations in file order)."""
        assert self._decls is not None
        dropped = {id(d) for d in gone}
        for key in {d.key for d in gone} | {d.key for d in fresh}:
            current = self._decls.get(key, [])
            mine = [d for d in current if d.path == path and id(d) not in dropped]
            mine += [d for d in fresh if d.key == key]
            mine.sort(key=lambda d: d.start)
            merged = [d for d in current if d.path < path] + mine + [d for d in current if d.path > path]
            if merged:
                self._decls[key] = merged
            else:
                self._decls.pop(key, None)
        self._by_name = self._script = self._lowered = None
        self._names, self._suggested = {}, {}
        self.generation += 1
        self._touched.append((self.generation, frozenset(d.name for d in (*gone, *fresh))))
        del self._touched[:-_TOUCHED_KEPT]

    def touched_since(self, generation: int) -> frozenset[str] | None:
        """The names whose declarations came or went since `generation` (None: unknown, or
        declarations changed wholesale)."""
        if generation == self.generation:
            return frozenset()
        if not self._touched or self._touched[0][0] > generation + 1:
            return None
        return frozenset().union(*(names for stamp, names in self._touched if stamp > generation))

    def _changed(self) -> None:
        """Declarations changed: drop what is derived from them."""
        self._decls = self._by_name = self._script = None
        self._names, self._suggested = {}, {}
        self.generation += 1
        self._touched = []  # (wholesale: nothing to tell `touched_since`)

    def remove_file(self, path: str) -> None:
        self._resolved.pop(path, None)
        old = self.tables.pop(path, None)
        if old is not None:
            self.script_generation += bool(old.script_names)
            self._changed()

    def script_scope(self, path: str) -> ScriptScope:
        """The top-level functions and variables the project's other files declare, as a
        lazy mapping (a file looks up only the names it uses)."""
        if self._script is None:
            self._script = scope_table((p, t.script_names) for p, t in self.tables.items())
        return ScriptScope(self._script, path, self.externals)

    def script_token(self) -> int:
        """Changes whenever any file's top-level script names may have (cheap to compare)."""
        return self.script_generation

    def names_in(self, namespace: str) -> list[str]:
        if namespace not in self._names:
            self._names[namespace] = sorted({nm for (ns, nm) in self.decls if ns == namespace}
                                            | set(BUILTIN.get(namespace, ())))
        return self._names[namespace]

    def dependents(self, path: str, old: frozenset[tuple[str, str]],
                   new: frozenset[tuple[str, str]], retyped: frozenset[str] = frozenset()) -> set[str]:
        """Files whose name diagnostics may change when `path`'s declarations go from `old`
        to `new` (and the data types `retyped` changed their fields): those that use a name
        that appeared, disappeared or was retyped, and those declaring a name `path` declares
        (duplicates point at each other)."""
        changed = old ^ new
        names = {name for _, name in changed} | retyped
        out: set[str] = set()
        if names:  # (each table's names are computed once; an edit costs one set test per file)
            # `path` itself is skipped: its table is new after every edit, and walking it again
            # would cost a pass over the edited file each keystroke; it is re-checked anyway.
            out.update(other for other, table in self.tables.items()
                       if other != path and not names.isdisjoint(table.names_used()))
        decls = self.decls  # the declarers of `path`'s names, old and new, from the merged index
        out.update(d.path for key in old | new for d in decls.get(key, ()))
        out.discard(path)
        return out

    # -- lookup ------------------------------------------------------------------------------
    @property
    def decls(self) -> dict[tuple[str, str], list[Decl]]:
        if self._decls is None:
            table: dict[tuple[str, str], list[Decl]] = {}
            for path in sorted(self.tables):
                for d in self.tables[path].decls:
                    table.setdefault(d.key, []).append(d)
            self._decls = table
        return self._decls

    def lookup(self, namespace: str, name: str) -> Decl | None:
        """The declaration of `name` in `namespace` (the first, if declared twice)."""
        found = self.decls.get((namespace, name))
        return found[0] if found else None

    def resolves(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self.decls or name in BUILTIN.get(namespace, ()) or \
            self.externals.provides(namespace, name)

    def declarations(self, namespace: str | None = None) -> list[Decl]:
        """Every declaration (of one namespace), in path then file order."""
        return [d for path in sorted(self.tables) for d in self.tables[path].decls
                if namespace is None or d.namespace == namespace]

    def by_name(self, name: str) -> list[Decl]:
        """Declarations of `name` in any namespace but the scripting one (for loose mentions)."""
        if self._by_name is None:
            table: dict[str, list[Decl]] = {}
            for (ns, nm), decls in self.decls.items():
                if ns != SCRIPT:
                    table.setdefault(nm, []).extend(decls[:1])
            self._by_name = table
        return self._by_name.get(name, [])

    def target(self, occ: Occurrence) -> Decl | None:
        """The declaration an occurrence denotes (None for a local symbol or an unknown name)."""
        if occ.key is None:
            return None
        if occ.loose:
            found = [d for d in self.by_name(occ.key[1])
                     if not (occ.local is True and d.namespace == TYPES)]  # "User" is not the entity
            return found[0] if found else None
        return self.lookup(*occ.key)

    def references(self, decl: Decl) -> Iterator[tuple[str, Occurrence]]:
        """Every occurrence in the project that denotes `decl` (declarations included)."""
        for path in sorted(self.tables):
            for occ in self.tables[path].occurrences_named(decl.name):
                if occ.is_decl and occ.key == decl.key:
                    yield path, occ  # every declaration of the name, duplicates included
                elif (occ.key == decl.key or occ.loose) and self.target(occ) is decl:
                    yield path, occ

    def symbol_search(self, query: str, limit: int = 100) -> list[Decl]:
        """Declarations whose name fuzzily matches `query` (its characters in order), best
        first: a substring early in the name, then the fewest gaps."""
        q = query.lower()
        if self._lowered is None or self._lowered[0] != self.generation:
            self._lowered = (self.generation, [(d.name.lower(), d) for d in self.declarations()])
        scored = []
        for lowered, d in self._lowered[1]:
            score = _fuzzy(q, lowered)
            if score is not None:
                scored.append((score, d.name, d))
        scored.sort(key=lambda s: (s[0], s[1]))
        return [d for _, _, d in scored[:limit]]


def _fuzzy(query: str, name: str) -> int | None:
    """Lower is better; None if the characters of `query` do not appear in order in `name`."""
    if not query:
        return 0
    if query in name:
        return name.index(query)
    pos, gaps = 0, 0
    for ch in query:
        found = name.find(ch, pos)
        if found < 0:
            return None
        gaps += found - pos
        pos = found + 1
    return 100 + gaps


# -- diagnostics of names ------------------------------------------------------------------------


def resolve_file(index: ProjectIndex, path: str, *, script_duplicates: bool = True) -> list[Diagnostic]:
    """CAI101 (duplicates, with a related location) and CAI202 (unresolved, with a
    did-you-mean and a fix) for one file of the project.

    Which records have a finding is kept per file (`_Resolved`) and reused while the data
    types' fields (`fields_stamp`) are unchanged and the index can tell which names came or
    went since (`touched_since`): then only the records the file's new table does not share
    with the last one, and those using such a name, are looked up (an edit changes a few).
    The findings themselves are made afresh (their ranges move)."""
    table = index.tables[path]
    kept = index._resolved.get(path)
    state = (index.fields_stamp, script_duplicates)
    touched = index.touched_since(kept.generation) if kept is not None and kept.state == state else None
    if kept is None or touched is None:
        kept, touched = _Resolved(index.generation, state, [], [], [], []), frozenset()
    p, q_old, q_new = changed_middle(kept.decls, table.decls)
    decl_flags = kept.decl_flags[:p] + [_is_duplicate(index, d, path, script_duplicates)
                                        for d in table.decls[p:q_new]] + kept.decl_flags[q_old:]
    p, q_old, q_new = changed_middle(kept.refs, table.refs)
    ref_flags = kept.ref_flags[:p] + [_is_unresolved(index, r) for r in table.refs[p:q_new]] + \
        kept.ref_flags[q_old:]
    if touched:  # names came or went: the kept records that use them are looked up again
        for i, d in enumerate(table.decls):
            if d.name in touched:
                decl_flags[i] = _is_duplicate(index, d, path, script_duplicates)
        for i, r in enumerate(table.refs):
            if r.name in touched or r.entity in touched:
                ref_flags[i] = _is_unresolved(index, r)
    index._resolved[path] = _Resolved(index.generation, state, list(table.decls), decl_flags,
                                      list(table.refs), ref_flags)
    out: list[Diagnostic] = []
    for d in compress(table.decls, decl_flags):
        first = index.lookup(*d.key)
        assert first is not None
        out.append(_duplicate(d, first))
    for r in compress(table.refs, ref_flags):
        if r.entity:
            entity = _lacking(index, r)
            assert entity is not None
            out.append(_missing_field(r, entity))
        else:
            out.append(_unresolved(index, r))
    return out


@dataclass(slots=True)
class _Resolved:
    """A file's records at its last `resolve_file`, and which had a finding then."""

    generation: int  # the index's then
    state: tuple[int, bool]
    decls: list[Decl]
    decl_flags: list[bool]
    refs: list[Ref]
    ref_flags: list[bool]


def _is_duplicate(index: ProjectIndex, d: Decl, path: str, script_duplicates: bool) -> bool:
    first = index.lookup(*d.key)
    if first is None or first is d:
        return False
    # the script checker reports same-file duplicates, with its scoping
    return not (d.namespace == SCRIPT and (first.path == path or not script_duplicates))


def _is_unresolved(index: ProjectIndex, r: Ref) -> bool:
    if r.entity:
        return _lacking(index, r) is not None
    return not (index.resolves(r.namespace, r.name) or (r.also and index.resolves(r.also, r.name)))


def _lacking(index: ProjectIndex, r: Ref) -> Decl | None:
    """The data type `r.entity` when it is declared with fields and `r.name` is not one."""
    decl = index.lookup(TYPES, r.entity)
    if decl is None or decl.fields is None or r.name in decl.fields:
        return None
    return decl


def _missing_field(r: Ref, entity: Decl) -> Diagnostic:
    """CAI202: `r.name` is not a field of the data type `entity` (with a did-you-mean)."""
    assert entity.fields is not None
    close = difflib.get_close_matches(r.name, sorted(entity.fields), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return Diagnostic(r.code, Severity.ERROR, f"'{r.name}' is not a field of entity '{r.entity}'{hint}",
                      r.start, r.end)


def _duplicate(d: Decl, first: Decl) -> Diagnostic:
    if d.namespace == ENDPOINT:
        message = f"duplicate endpoint {d.name}"
    else:
        what = d.kind if d.namespace == SCRIPT else _WHAT.get(d.namespace, d.namespace)
        message = f"duplicate declaration of {what} '{d.name}'"
    start, end = (d.start - 1, d.end + 1) if d.quoted else (d.start, d.end)
    where = "first declared here" if first.path == d.path else f"first declared in {_shown(first.path)}"
    related = (Related(first.path, first.start, first.end, f"'{first.name}' is {where}"),)
    return Diagnostic("CAI101", Severity.ERROR, message, start, end, related=related)


def _shown(path: str) -> str:
    """A file as a message names it: the path, or a URI's file name."""
    if "://" in path:
        from urllib.parse import unquote
        return unquote(path.rsplit("/", 1)[-1])
    return path


def suggestions(index: ProjectIndex, namespace: str, name: str) -> list[str]:
    """Declared names of the namespace close to `name`: the same name with `.`/`_`/`-`
    swapped first, then near spellings (difflib's ratio)."""
    cached = index._suggested.get((namespace, name))
    if cached is not None:
        return cached
    names = index.names_in(namespace)
    norm = _SEPARATORS.sub("_", name).lower()
    found = [nm for nm in names if _SEPARATORS.sub("_", nm).lower() == norm]
    if not found:
        near = [nm for nm in names if abs(len(nm) - len(name)) <= max(2, len(name) // 3)]
        found = difflib.get_close_matches(name, near, n=3, cutoff=0.75)
    index._suggested[(namespace, name)] = found
    return found


def _unresolved(index: ProjectIndex, r: Ref) -> Diagnostic:
    close = suggestions(index, r.namespace, r.name)
    if r.also:
        close = sorted(set(close) | set(suggestions(index, r.also, r.name)))
    message = r.message
    fix = None
    if close:
        message += "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        if len(close) == 1:
            # a guess at what was meant: offered, never applied without a person (unsafe)
            fix = Fix(f"replace with '{close[0]}'", (Edit(r.name_start, r.name_end, close[0]),),
                      Applicability.UNSAFE)
    severity = Severity.ERROR
    return Diagnostic(r.code, severity, message, r.start, r.end, fix)


class ScriptScope(Mapping[str, tuple[str, int]]):
    """Name → (kind, arity) of the script globals declared outside one file."""

    def __init__(self, table: ScopeTable, path: str,
                 externals: Externals | None = None) -> None:
        self._table, self._path, self._externals = table, path, externals

    def __getitem__(self, name: str) -> tuple[str, int]:
        for other, sig in self._table.get(name, ()):
            if other != self._path:
                return sig
        if self._externals is not None and self._externals.provides(SCRIPT, name):
            return ("function", -1)  # `externals: functions:` — any number of arguments
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._table if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


# Top-level `function f(a, b)` and `var v` at the start of a line: how files are written.
_TOP_SCRIPT_NAME = re.compile(
    r"^(?:function[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(([^)]*)\)|var[ \t]+([A-Za-z_][A-Za-z0-9_]*))", re.M)


def guess_script_names(text: str) -> dict[str, tuple[str, int]]:
    """A file's top-level script names as `FileTable.script_names` would have them, read
    with a regular expression instead of a parse. Only a guess (a declaration written
    indented, or text inside a string, fools it): use it where the answer is verified."""
    out: dict[str, tuple[str, int]] = {}
    for m in _TOP_SCRIPT_NAME.finditer(text):
        if m.group(1):
            params = [p for p in m.group(2).split(",") if p.strip()]
            out.setdefault(m.group(1), ("function", len(params)))
        else:
            out.setdefault(m.group(3), ("variable", -1))
    return out


def scope_table(names: Iterable[tuple[str, Mapping[str, tuple[str, int]]]]) -> ScopeTable:
    """The script names of a project's files ((file, names) pairs) merged as
    `ProjectIndex.script_scope` merges them: files in sorted order."""
    table: ScopeTable = {}
    for path, file_names in sorted(names, key=lambda pair: pair[0]):
        for name, sig in file_names.items():
            table.setdefault(name, []).append((path, sig))
    return table


def script_scope_names(index: ProjectIndex, path: str) -> dict[str, tuple[str, int]]:
    """Top-level functions and variables that other files of the project declare."""
    out: dict[str, tuple[str, int]] = {}
    for other in sorted(index.tables):
        if other != path:
            for name, sig in index.tables[other].script_names.items():
                out.setdefault(name, sig)
    return out


def apply_rules(diags: Iterable[Diagnostic], rules: Mapping[str, str]) -> list[Diagnostic]:
    """Per-code severity from codeai.yaml `rules` (`off` drops the diagnostic)."""
    if not rules:
        return list(diags)
    out = []
    for d in diags:
        level = rules.get(d.code)
        if level == "off":
            continue
        if level is not None:
            d = replace(d, severity=Severity(level))
        out.append(d)
    return out
