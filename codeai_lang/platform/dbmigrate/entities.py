"""The schema a project's ``entity`` declarations ask for, in the shape introspection reads back.

The declarations are read by the DSL's own parser and validator (a file with errors stops here,
with its diagnostics). Each entity becomes a :class:`~dbschema.Table` whose types and defaults
are spelt exactly as :mod:`dbschema` reads them from the catalog, so "desired" and "current"
compare directly. The mapping is the table of docs/sql-migrations.md; keep the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.platform.dbmigrate.dbschema import (
    Column,
    ForeignKey,
    Index,
    Schema,
    Table,
    normalise_default,
)
from codeai_lang.platform.dbmigrate.errors import MigrateError
from codeai_lang.syntax.nodes import (
    ArrayLit,
    BoolLit,
    Call,
    Declaration,
    Entry,
    Ident,
    Node,
    NumberLit,
    Operator,
    StringLit,
)

# DSL type → (PostgreSQL, SQLite). Parametrised types are handled in _column_type.
TYPES: dict[str, tuple[str, str]] = {
    "uuid": ("UUID", "TEXT"), "string": ("VARCHAR(255)", "TEXT"), "text": ("TEXT", "TEXT"),
    "email": ("VARCHAR(255)", "TEXT"), "url": ("TEXT", "TEXT"),
    "integer": ("INTEGER", "INTEGER"), "int": ("INTEGER", "INTEGER"), "bigint": ("BIGINT", "INTEGER"),
    "float": ("DOUBLE PRECISION", "REAL"), "double": ("DOUBLE PRECISION", "REAL"), "number": ("NUMERIC", "NUMERIC"),
    "decimal": ("NUMERIC", "NUMERIC"), "money": ("NUMERIC(19,4)", "NUMERIC(19,4)"),
    "boolean": ("BOOLEAN", "BOOLEAN"), "bool": ("BOOLEAN", "BOOLEAN"),
    "timestamp": ("TIMESTAMPTZ", "TEXT"), "datetime": ("TIMESTAMPTZ", "TEXT"),
    "date": ("DATE", "DATE"), "time": ("TIME", "TIME"),
    "json": ("JSONB", "TEXT"), "jsonb": ("JSONB", "TEXT"), "list": ("JSONB", "TEXT"), "array": ("JSONB", "TEXT"),
    "object": ("JSONB", "TEXT"), "embedded": ("JSONB", "TEXT"),
    "enum": ("TEXT", "TEXT"), "binary": ("BYTEA", "BLOB"), "bytes": ("BYTEA", "BLOB"),
}
# A random RFC 4122 version-4 UUID in SQLite, which has no uuid function.
SQLITE_UUID = ("lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
               "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
               "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))")
_NOT_FIELDS = {"index", "indexes", "unique_index", "table", "description", "timestamps"}


class EntityError(MigrateError):
    """The entity declarations cannot be turned into a schema (exit 1, with file:line:col)."""


@dataclass
class Field:
    name: str
    type: str
    args: list[Node]
    modifiers: dict[str, list[Node]]
    at: str  # file:line:col for messages


@dataclass
class Entity:
    name: str
    table: str
    fields: list[Field]
    indexes: list[tuple[list[str], bool]]  # columns, unique
    at: str


def table_name(entity: str) -> str:
    """``OrderItem`` → ``order_items``: snake_case, then a plain English plural."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", entity).lower()
    if re.search(r"[^aeiou]y$", snake):
        return snake[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", snake):
        return snake + "es"
    return snake + "s"


def read_entities(sources: list[tuple[str, str]]) -> list[Entity]:
    """Entities of ``(path, text)`` sources; a file with errors raises :class:`EntityError`."""
    from codeai_lang.analysis.validator import validate

    entities: list[Entity] = []
    problems: list[str] = []
    for path, text in sources:
        result = validate(text)
        index = LineIndex(text)
        for d in result.diagnostics:
            if d.is_error:
                pos = index.position(d.start)
                problems.append(f"{path}:{pos.line}:{pos.column}: error[{d.code}] {d.message}")
        for st in result.document.statements:
            if isinstance(st, Declaration) and st.keyword.name == "entity" and st.head:
                entities.append(_entity(st.head[0], st.body.entries, st, path, index))
            elif isinstance(st, Declaration) and st.keyword.name == "database":
                # The deprecated 1.0 form (D1): `database postgres { model X { … } }` is an entity each.
                entities += [_entity(e.value[0], e.body.entries, e, path, index) for e in st.body.entries
                             if e.key_name == "model" and e.value and e.body is not None]
    if problems:
        raise EntityError("the entity declarations have errors (run `codeai validate`):\n  " + "\n  ".join(problems))
    return entities


def _entity(name_node: Node, entries: list[Entry], decl: Node, path: str, index: LineIndex) -> Entity:
    def at(node: Node) -> str:
        pos = index.position(node.start)
        return f"{path}:{pos.line}:{pos.column}"

    name = _text(name_node)
    ent = Entity(name, table_name(name), [], [], at(decl))
    for entry in entries:
        key = entry.key_name
        if key == "table" and entry.value:
            ent.table = _text(entry.value[0])
        elif key in ("index", "unique_index"):
            for arr in (v for v in entry.value if isinstance(v, ArrayLit)):
                ent.indexes.append(([_text(i) for i in arr.items], key == "unique_index"))
        elif key not in _NOT_FIELDS and entry.colon and entry.value:
            ent.fields.append(_field(entry, at(entry)))
    return ent


def _field(entry: Entry, at: str) -> Field:
    groups: list[list[Node]] = [[]]
    for node in entry.value:
        if isinstance(node, Operator) and node.text == ",":
            groups.append([])
        else:
            groups[-1].append(node)
    head = groups[0][0] if groups[0] else None
    ftype, args = (head.callee.name, head.args) if isinstance(head, Call) else (_text(head) if head else "", [])
    modifiers: dict[str, list[Node]] = {}
    for group in groups[1:]:
        for node in group:
            if isinstance(node, Call):
                modifiers[node.callee.name] = node.args
            elif isinstance(node, Ident):
                modifiers[node.name] = []
    return Field(entry.key_name, ftype, args, modifiers, at)


def _text(node: Node | None) -> str:
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, StringLit):
        return node.value
    if isinstance(node, NumberLit):
        return node.text
    return ""


# -- entities → schema ------------------------------------------------------------------------


def desired_schema(entities: list[Entity], dialect: str) -> Schema:
    by_name = {e.name: e for e in entities}
    schema = Schema()
    for ent in entities:
        if ent.table in schema.tables:
            raise EntityError(f"{ent.at}: entity {ent.name} maps to table {ent.table}, like another entity; "
                              "give one a `table: \"…\"` property")
        schema.tables[ent.table] = _table(ent, by_name, dialect)
    return schema


def _table(ent: Entity, by_name: dict[str, Entity], dialect: str) -> Table:
    table = Table(ent.table)
    for f in ent.fields:
        col, fk = _column(ent, f, by_name, dialect)
        table.columns[col.name] = col
        if f.type == "enum":
            table.enums[col.name] = tuple(_text(a) for a in f.args)
        if fk is not None:
            table.foreign_keys.add(fk)
        if "unique" in f.modifiers and "primary" not in f.modifiers:
            name = f"ux_{ent.table}_{f.name}"
            table.indexes[name] = Index(name, (f.name,), True)
        if ("index" in f.modifiers or "indexed" in f.modifiers) and "unique" not in f.modifiers:
            name = f"idx_{ent.table}_{f.name}"
            table.indexes[name] = Index(name, (f.name,), False)
    for columns, unique in ent.indexes:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise EntityError(f"{ent.at}: index of {ent.name} names unknown field(s): {', '.join(missing)}")
        name = f"{'ux' if unique else 'idx'}_{ent.table}_{'_'.join(columns)}"
        table.indexes[name] = Index(name, tuple(columns), unique)
    return table


def _column(ent: Entity, f: Field, by_name: dict[str, Entity], dialect: str) -> tuple[Column, ForeignKey | None]:
    mods = f.modifiers
    primary = "primary" in mods or "primary_key" in mods
    fk = None
    if f.type == "ref":
        target = by_name.get(_text(f.args[0]) if f.args else "")
        if target is None:
            raise EntityError(f"{f.at}: {ent.name}.{f.name} refers to {_text(f.args[0]) if f.args else '?'}, "
                              "which is not an entity of the project")
        pk = next((g for g in target.fields if "primary" in g.modifiers or "primary_key" in g.modifiers), None)
        if pk is None:
            raise EntityError(f"{f.at}: {ent.name}.{f.name} refers to {target.name}, which has no primary field")
        ctype = _column_type(pk, dialect, as_reference=True)
        fk = ForeignKey((f.name,), target.table, (pk.name,), _on_delete(ent, f))
    else:
        ctype = _column_type(f, dialect)
    required = "required" in mods or "not_null" in mods
    nullable = not (primary or required) or "soft_delete" in mods
    default = _default(f, dialect, primary)
    return Column(f.name, ctype, nullable and not primary, default, primary), fk


ON_DELETE = {"cascade": "CASCADE", "set_null": "SET NULL", "restrict": "RESTRICT", "no_action": "NO ACTION",
             "set_default": "SET DEFAULT"}


def _on_delete(ent: Entity, f: Field) -> str:
    """``on_delete(cascade)`` on a ``ref`` field → the foreign key's ON DELETE action."""
    args = f.modifiers.get("on_delete")
    if not args:
        return "NO ACTION"
    action = _text(args[0]).lower()
    if action not in ON_DELETE:
        raise EntityError(f"{f.at}: on_delete({action}) of {ent.name}.{f.name}: expected one of "
                          f"{', '.join(ON_DELETE)}")
    return ON_DELETE[action]


def _column_type(f: Field, dialect: str, as_reference: bool = False) -> str:
    pg = dialect == "postgres"
    if f.type not in TYPES:
        raise EntityError(f"{f.at}: field type {f.type!r} has no SQL mapping (see docs/sql-migrations.md)")
    if f.type == "decimal" and len(f.args) == 2:
        return f"NUMERIC({_text(f.args[0])},{_text(f.args[1])})"
    if f.type == "string" and len(f.args) == 1 and pg:
        return f"VARCHAR({_text(f.args[0])})"
    if as_reference and f.type in ("integer", "int", "bigint") and pg:
        return TYPES[f.type][0]
    return TYPES[f.type][0 if pg else 1]


def _default(f: Field, dialect: str, primary: bool) -> str | None:
    pg = dialect == "postgres"
    if "default" in f.modifiers and f.modifiers["default"]:
        return normalise_default(_sql_value(f.modifiers["default"][0], f))
    if "auto" not in f.modifiers:
        return None
    if f.type == "uuid":
        return "gen_random_uuid()" if pg else SQLITE_UUID
    if f.type in ("integer", "int", "bigint"):
        return "IDENTITY" if pg else None  # SQLite: INTEGER PRIMARY KEY is the rowid, numbered already
    if f.type in ("timestamp", "datetime", "date", "time"):
        return "CURRENT_TIMESTAMP"
    return None


def _sql_value(node: Node, f: Field) -> str:
    if isinstance(node, Call) and node.callee.name == "now":
        return "CURRENT_TIMESTAMP"
    if isinstance(node, NumberLit):
        return node.text
    if isinstance(node, BoolLit):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, Ident) and node.name in ("true", "false"):
        return node.name.upper()
    if isinstance(node, Ident | StringLit):
        return "'" + _text(node).replace("'", "''") + "'"
    raise EntityError(f"{f.at}: default of {f.name} is not a literal the generator can write")
