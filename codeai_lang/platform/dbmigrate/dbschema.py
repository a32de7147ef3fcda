"""A database schema read back by introspection, in one shape for SQLite and PostgreSQL.

Two users: the round-trip check of ``migrate lint`` (CAI509: is the schema after up+down the
schema before?) and ``migrate generate`` (what do the existing migrations produce?). Both need
the *real* schema, so it is read from the database's catalog, never re-derived from SQL text.
Types and defaults are normalised just enough that the same column reads the same after a
round trip (e.g. PostgreSQL's ``'x'::text`` default is ``'x'``).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

TRACKING = "schema_migrations"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # upper-case, as the catalog spells it (``VARCHAR(255)``, ``TIMESTAMPTZ``, ``TEXT``)
    nullable: bool
    default: str | None
    primary_key: bool = False


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass
class Table:
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    foreign_keys: set[ForeignKey] = field(default_factory=set)
    indexes: dict[str, Index] = field(default_factory=dict)
    checks: set[str] = field(default_factory=set)  # normalised CHECK expressions (PostgreSQL)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column → values of its IN-list CHECK
    enum_checks: dict[str, str] = field(default_factory=dict)  # PostgreSQL: column → that CHECK's name
    sql: str = ""  # SQLite: the CREATE TABLE text, verbatim (a rebuild's down migration restores it)
    index_sql: dict[str, str] = field(default_factory=dict)  # SQLite: CREATE INDEX texts of its indexes


@dataclass
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)  # views, triggers, types: "kind name" → definition

    def differences(self, other: Schema) -> list[str]:
        """What ``other`` has that ``self`` does not and vice versa, for people (empty: equal)."""
        out: list[str] = []
        for name in sorted(set(self.tables) | set(other.tables)):
            a, b = self.tables.get(name), other.tables.get(name)
            if a is None:
                out.append(f"table {name} is left over")
            elif b is None:
                out.append(f"table {name} is missing")
            else:
                out.extend(_table_differences(a, b))
        for key in sorted(set(self.others) | set(other.others)):
            if self.others.get(key) != other.others.get(key):
                state = "left over" if key not in self.others else "missing" if key not in other.others else "changed"
                out.append(f"{key} is {state}")
        return out


def _table_differences(a: Table, b: Table) -> list[str]:
    out: list[str] = []
    for col in sorted(set(a.columns) | set(b.columns)):
        ca, cb = a.columns.get(col), b.columns.get(col)
        if ca is None:
            out.append(f"column {a.name}.{col} is left over")
        elif cb is None:
            out.append(f"column {a.name}.{col} is missing")
        elif ca != cb:
            out.append(f"column {a.name}.{col} changed: {_describe(ca)} became {_describe(cb)}")
    for idx in sorted(set(a.indexes) | set(b.indexes)):
        if a.indexes.get(idx) != b.indexes.get(idx):
            state = "left over" if idx not in a.indexes else "missing" if idx not in b.indexes else "changed"
            out.append(f"index {idx} on {a.name} is {state}")
    for fk in sorted(a.foreign_keys ^ b.foreign_keys, key=repr):
        state = "missing" if fk in a.foreign_keys else "left over"
        out.append(f"foreign key {a.name}({', '.join(fk.columns)}) → {fk.ref_table} is {state}")
    for check in sorted(a.checks ^ b.checks):
        out.append(f"check {check} on {a.name} is {'missing' if check in a.checks else 'left over'}")
    return out


def _describe(c: Column) -> str:
    text = f"{c.type}{'' if c.nullable else ' NOT NULL'}"
    return text + (f" DEFAULT {c.default}" if c.default is not None else "")


# -- SQLite ------------------------------------------------------------------------------------


def read_sqlite(conn: sqlite3.Connection) -> Schema:
    """Four queries over the pragma table functions, whatever the number of tables."""
    schema = Schema()
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                        "ORDER BY type = 'table' DESC, type, name").fetchall()
    for kind, name, table, sql in rows:
        if kind == "table" and name != TRACKING:
            schema.tables[name] = Table(name, sql=str(sql))
        elif kind == "index" and sql and table in schema.tables:
            schema.tables[table].index_sql[name] = str(sql)
        elif kind in ("view", "trigger"):
            schema.others[f"{kind} {name}"] = " ".join(str(sql).split())
    _sqlite_columns(conn, schema)
    _sqlite_foreign_keys(conn, schema)
    _sqlite_indexes(conn, schema)
    for table in schema.tables.values():
        table.enums = sqlite_enums(table.sql)
    return schema


def sqlite_enums(create_sql: str) -> dict[str, tuple[str, ...]]:
    """``col → values`` of column checks ``CHECK (col IN ('a', 'b'))`` in a CREATE TABLE (sqlglot's tree).

    The schema is read before and after every migration `migrate lint` round-trips, each time
    with every table's CREATE: a table is parsed once per text, and one without CHECK not at
    all (parsing each table on each read made linting a history quadratic in its length)."""
    if "check" not in create_sql.lower():
        return {}
    return dict(_sqlite_enums(create_sql))


@lru_cache(maxsize=4096)
def _sqlite_enums(create_sql: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(create_sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return ()
    out: dict[str, tuple[str, ...]] = {}
    if tree is None:
        return ()
    for col in tree.find_all(exp.ColumnDef):
        for constraint in col.args.get("constraints") or ():
            check = constraint.args.get("kind")
            if isinstance(check, exp.CheckColumnConstraint) and isinstance(check.this, exp.In):
                values = check.this.expressions
                if check.this.this.name == col.name and all(isinstance(v, exp.Literal) and v.is_string
                                                             for v in values):
                    out[col.name] = tuple(v.this for v in values)
    return tuple(out.items())


def pg_enum(definition: str) -> tuple[str, tuple[str, ...]] | None:
    """``(column, values)`` of ``CHECK ((col = ANY (ARRAY['a'::text, …])))`` (pglast's tree), else None."""
    import pglast

    expr_text = definition.strip()
    if not expr_text.upper().startswith("CHECK"):
        return None
    try:
        select: Any = pglast.parse_sql("SELECT " + expr_text[5:].strip())[0].stmt
        expr = select.targetList[0].val
    except Exception:  # not an expression we know how to read: not an enum
        return None
    if type(expr).__name__ != "A_Expr":
        return None
    left, right = _uncast(expr.lexpr), _uncast(expr.rexpr)
    if type(left).__name__ != "ColumnRef":
        return None
    items = getattr(right, "elements", None) or (right if isinstance(right, tuple) else ())
    values: list[str] = []
    for item in items:
        const = item.arg if type(item).__name__ == "TypeCast" else item
        sval = getattr(getattr(const, "val", None), "sval", None)
        if sval is None:
            return None
        values.append(sval)
    column = str(getattr(left.fields[-1], "sval", ""))
    return (column, tuple(values)) if values and column else None


def _uncast(node: Any) -> Any:
    while type(node).__name__ == "TypeCast":
        node = node.arg
    return node


_TABLES = "FROM sqlite_master m, {} p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"


def _sqlite_columns(conn: sqlite3.Connection, schema: Schema) -> None:
    query = "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk " + _TABLES.format(
        "pragma_table_info(m.name)") + " ORDER BY m.name, p.cid"
    for table, col, ctype, notnull, default, pk in conn.execute(query):
        if table in schema.tables:
            schema.tables[table].columns[col] = Column(col, str(ctype).upper(), not notnull and not pk,
                                                       normalise_default(default), bool(pk))


def _sqlite_foreign_keys(conn: sqlite3.Connection, schema: Schema) -> None:
    query = ("SELECT m.name, p.id, p.seq, p.\"table\", p.\"from\", p.\"to\", p.on_delete "
             + _TABLES.format("pragma_foreign_key_list(m.name)") + " ORDER BY m.name, p.id, p.seq")
    parts: dict[tuple[str, int], list[Any]] = {}
    for table, fk_id, *rest in conn.execute(query):
        parts.setdefault((table, fk_id), []).append(rest)
    for (table, _), rows in parts.items():
        if table in schema.tables:
            schema.tables[table].foreign_keys.add(ForeignKey(
                tuple(r[2] for r in rows), rows[0][1], tuple(r[3] or "" for r in rows), str(rows[0][4]).upper()))


def _sqlite_indexes(conn: sqlite3.Connection, schema: Schema) -> None:
    query = ("SELECT m.name, p.name, p.\"unique\", p.origin, i.name " + _TABLES.format(
        "pragma_index_list(m.name)").replace(" WHERE", ", pragma_index_info(p.name) i WHERE")
        + " ORDER BY m.name, p.name, i.seqno")
    indexes: dict[tuple[str, str], tuple[bool, str, list[str]]] = {}
    for table, idx, unique, origin, col in conn.execute(query):
        indexes.setdefault((table, idx), (bool(unique), origin, []))[2].append(str(col))
    for (table_name, idx), (unique, origin, cols) in sorted(indexes.items()):
        table = schema.tables.get(table_name)
        if table is None:
            continue
        if origin == "c":  # PRIMARY KEY / UNIQUE constraints belong to the columns, not to CREATE INDEX
            table.indexes[idx] = Index(idx, tuple(cols), unique)
        elif origin == "u":
            table.checks.add(f"UNIQUE ({', '.join(cols)})")


_CAST = re.compile(r"^\((.*)\)$|^(.*?)::[a-z_ ]+(?:\[\])?(?:\(\d+(?:,\d+)?\))?$", re.S)


def normalise_default(value: Any) -> str | None:
    """One spelling per default: ``'x'::text`` → ``'x'``, ``now()`` → ``CURRENT_TIMESTAMP``."""
    if value is None:
        return None
    text = str(value).strip()
    while True:
        match = _CAST.match(text)
        if not match:
            break
        text = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
    lowered = text.lower()
    if lowered in ("now()", "current_timestamp", "transaction_timestamp()"):
        return "CURRENT_TIMESTAMP"
    if lowered in ("true", "false"):
        return lowered.upper()
    if lowered == "null":
        return None
    return text


# -- PostgreSQL --------------------------------------------------------------------------------

_PG_COLUMNS = """
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""
_PG_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.conkey::int[],
       f.relname, k.confkey::int[], k.confdeltype
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class f ON f.oid = k.confrelid
WHERE n.nspname = current_schema()
"""
_PG_INDEXES = """
SELECT t.relname, i.relname, x.indisunique, x.indkey::int[], pg_get_indexdef(x.indexrelid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema()
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
"""
_PG_OTHERS = """
SELECT 'view ' || viewname, definition FROM pg_views WHERE schemaname = current_schema()
UNION ALL
SELECT 'type ' || t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema() GROUP BY t.typname
UNION ALL
SELECT 'trigger ' || tg.tgname, pg_get_triggerdef(tg.oid) FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT tg.tgisinternal
"""
_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_PG_TYPES = {"character varying": "VARCHAR", "timestamp with time zone": "TIMESTAMPTZ",
             "timestamp without time zone": "TIMESTAMP", "double precision": "DOUBLE PRECISION",
             "time without time zone": "TIME", "character": "CHAR"}


def pg_type(spelled: str) -> str:
    base, _, rest = spelled.partition("(")
    name = _PG_TYPES.get(base.strip(), base.strip()).upper()
    return name + ("(" + rest.replace(" ", "") if rest else "")


def read_postgres(conn: Any) -> Schema:
    """``conn`` is a psycopg connection whose ``search_path`` starts with the schema to read."""
    schema = Schema()
    attnames: dict[tuple[str, int], str] = {}
    for rel, num, col, ctype, notnull, default, identity in conn.execute(_PG_COLUMNS).fetchall():
        attnames[(rel, num)] = col
        if rel == TRACKING:
            continue
        table = schema.tables.setdefault(rel, Table(rel))
        shown = "IDENTITY" if identity else normalise_default(default)
        table.columns[col] = Column(col, pg_type(ctype), not notnull, shown)
    _pg_constraints(conn, schema, attnames)
    for rel, name, unique, _keys, definition in conn.execute(_PG_INDEXES).fetchall():
        if rel in schema.tables:
            cols = definition.rsplit("(", 1)[-1].rstrip(")").replace('"', "")
            schema.tables[rel].indexes[name] = Index(name, tuple(c.strip() for c in cols.split(",")), bool(unique))
    for key, definition in conn.execute(_PG_OTHERS).fetchall():
        schema.others[key] = " ".join(str(definition).split())
    return schema


def _pg_constraints(conn: Any, schema: Schema, names: dict[tuple[str, int], str]) -> None:
    rows = conn.execute(_PG_CONSTRAINTS).fetchall()
    for rel, name, kind, definition, keys, ref_rel, ref_keys, on_delete in rows:
        table = schema.tables.get(rel)
        if table is None:
            continue
        cols = tuple(names.get((rel, k), "?") for k in keys or ())
        if kind == "p":
            for col in cols:
                table.columns[col] = _with_pk(table.columns[col])
        elif kind == "f":
            ref_cols = tuple(names.get((ref_rel, k), "?") for k in ref_keys or ())
            table.foreign_keys.add(ForeignKey(cols, ref_rel, ref_cols, _FK_ACTIONS.get(on_delete, "NO ACTION")))
        elif kind == "u":
            table.checks.add(f"UNIQUE ({', '.join(cols)})")
        elif kind == "c":
            table.checks.add(" ".join(definition.split()))
            enum = pg_enum(definition)
            if enum is not None and cols == (enum[0],):
                table.enums[enum[0]] = enum[1]
                table.enum_checks[enum[0]] = name


def _with_pk(col: Column) -> Column:
    return Column(col.name, col.type, False, col.default, True)
