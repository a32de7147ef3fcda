"""The declarative diff: from a current to a desired :class:`~dbschema.Schema`, as up/down SQL.

Each change is a pair of up and down statements, so the down file is the exact inverse, in
reverse order. Destructive changes (drops, narrowing type changes) are marked; renames are never
guessed (a renamed field is a drop plus an add). Changes a dialect cannot make in place are
either rebuilt (SQLite tables nothing references) or listed as unsupported, with the reason.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass, field

from codeai_lang.platform.dbmigrate.dbschema import Column, ForeignKey, Index, Schema, Table

_LITERAL = re.compile(r"^(-?\d+(\.\d+)?|'([^']|'')*'|TRUE|FALSE|CURRENT_TIMESTAMP)$", re.I)
_WIDER = {("INTEGER", "BIGINT"), ("VARCHAR", "TEXT"), ("REAL", "DOUBLE PRECISION"), ("INTEGER", "NUMERIC"),
          ("BIGINT", "NUMERIC"), ("TIMESTAMP", "TIMESTAMPTZ")}


@dataclass
class Plan:
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)  # already in the order to run
    changes: list[str] = field(default_factory=list)  # for people, one per change
    destructive: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    rebuild: list[str] = field(default_factory=list)  # SQLite: changes only a table rebuild can make
    no_transaction: bool = False  # PostgreSQL: index-only changes, built CONCURRENTLY

    def add(self, change: str, up: list[str], down: list[str], destructive: bool = False) -> None:
        self.changes.append(change)
        if destructive:
            self.destructive.append(change)
        self.up.extend(up)
        self.down[:0] = down  # the inverse runs in reverse order

    def merge(self, other: Plan) -> None:
        self.changes += other.changes
        self.destructive += other.destructive
        self.unsupported += other.unsupported
        self.up += other.up
        self.down[:0] = other.down

    @property
    def empty(self) -> bool:
        return not self.changes and not self.unsupported


def plan(current: Schema, desired: Schema, dialect: str) -> Plan:
    out = _plan(current, desired, _Sql(dialect))
    if dialect == "postgres" and out.changes and all(c.startswith(("create index", "drop index"))
                                                     for c in out.changes):
        # Only index changes on existing tables: build them CONCURRENTLY, outside a transaction
        # (CAI503's recipe), which PostgreSQL allows only for a migration of nothing else.
        out = _plan(current, desired, _Sql(dialect, concurrent=True))
        out.no_transaction = True
    return out


def _plan(current: Schema, desired: Schema, sql: _Sql) -> Plan:
    out = Plan()
    gone = [current.tables[n] for n in _ordered(current, set(current.tables) - set(desired.tables))]
    for table in reversed(gone):  # dependants first
        out.add(f"drop table {table.name}", [sql.drop_table(table)], sql.create_table(table), destructive=True)
    for name in _ordered(desired, set(desired.tables) - set(current.tables)):
        table = desired.tables[name]
        out.add(f"create table {name}", sql.create_table(table), [sql.drop_table(table)])
    for name in sorted(set(desired.tables) & set(current.tables)):
        trial = Plan()
        _table_changes(current.tables[name], desired.tables[name], sql, trial)
        if not trial.rebuild:
            out.merge(trial)
            continue
        blocker = _rebuild_blocker(current, name)
        if blocker:
            out.unsupported.append(f"{'; '.join(trial.rebuild)}: {blocker}")
        else:
            _rebuild(current.tables[name], desired.tables[name], sql, trial, out)
    return out


def _ordered(schema: Schema, names: set[str]) -> list[str]:
    """Referenced tables before the tables that reference them (self-references ignored)."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name not in names or name in path:
            return
        for fk in sorted(schema.tables[name].foreign_keys, key=repr):
            visit(fk.ref_table, (*path, name))
        done.append(name)

    for name in sorted(names):
        visit(name, ())
    return done


def _table_changes(cur: Table, want: Table, sql: _Sql, out: Plan) -> None:
    t = cur.name
    dropped_cols = [c for c in cur.columns if c not in want.columns]
    for name, idx in sorted(cur.indexes.items()):
        if want.indexes.get(name) != idx:
            out.add(f"drop index {name}", [sql.drop_index(idx)], [sql.create_index(t, idx)])
    for col in dropped_cols:
        column = cur.columns[col]
        fks = [fk for fk in cur.foreign_keys if col in fk.columns]
        if sql.pg or not column.primary_key:
            out.add(f"drop column {t}.{col}", [sql.drop_column(t, col)],
                    [sql.add_column(t, column, fks[0] if fks else None, cur.enums.get(col))], destructive=True)
        if not sql.pg and (column.primary_key or (not column.nullable and column.default is None)):
            out.rebuild.append(f"drop column {t}.{col}")  # ALTER TABLE could not re-add it in the down file
    for col, column in want.columns.items():
        if col not in cur.columns:
            _added_column(t, column, want, sql, out)
        elif cur.columns[col] != column:
            _changed_column(t, cur.columns[col], column, sql, out)
    _foreign_key_changes(cur, want, sql, out)
    _enum_changes(cur, want, sql, out)
    for name, idx in sorted(want.indexes.items()):
        if cur.indexes.get(name) != idx:
            out.add(f"create index {name}", [sql.create_index(t, idx)], [sql.drop_index(idx)])


REBUILD_PREFIX = "_codeai_rebuild_"


def _rebuild_blocker(schema: Schema, name: str) -> str:
    """Why ``name`` cannot be rebuilt safely on SQLite ("" if it can)."""
    children = sorted(t.name for t in schema.tables.values() if t.name != name
                      and any(fk.ref_table == name for fk in t.foreign_keys))
    if children:
        return (f"{name}: SQLite can only change it by rebuilding the table, and {', '.join(children)} "
                f"reference{'s' if len(children) == 1 else ''} it (dropping the old table would cascade): "
                "write that migration by hand, with foreign keys off")
    if schema.others:
        return (f"{name}: SQLite can only change it by rebuilding the table, and the database has views or "
                "triggers a rebuild could break: write that migration by hand")
    if not schema.tables[name].sql:
        return f"{name}: its definition could not be read back for the down migration"
    return ""


def _rebuild(cur: Table, want: Table, sql: _Sql, trial: Plan, out: Plan) -> None:
    """SQLite's generalized ALTER TABLE: rename away, create the new table, copy, drop the old.

    Only for tables no other table references (checked by the caller). The down migration does
    the same back to the old table's exact CREATE TABLE and CREATE INDEX text."""
    t, old = cur.name, REBUILD_PREFIX + cur.name
    common = [sql.q(c) for c in want.columns if c in cur.columns]
    copy = ", ".join(common)
    allow = "-- codeai:allow {} (table rebuild: SQLite cannot change a column in place; rows are copied)\n"
    create, *indexes = sql.create_table(want)
    up = [allow.format("CAI504") + f"ALTER TABLE {sql.q(t)} RENAME TO {sql.q(old)}", create,
          f"INSERT INTO {sql.q(t)} ({copy}) SELECT {copy} FROM {sql.q(old)}",
          allow.format("CAI501") + f"DROP TABLE {sql.q(old)}", *indexes]
    down = [allow.format("CAI504") + f"ALTER TABLE {sql.q(t)} RENAME TO {sql.q(old)}", cur.sql,
            f"INSERT INTO {sql.q(t)} ({copy}) SELECT {copy} FROM {sql.q(old)}",
            f"DROP TABLE {sql.q(old)}", *(cur.index_sql[i] for i in sorted(cur.index_sql))]
    what = "; ".join(trial.changes + trial.rebuild)
    out.add(f"rebuild table {t} (SQLite): {what}", up, down, destructive=bool(trial.destructive))
    out.unsupported += trial.unsupported


def _added_column(t: str, column: Column, want: Table, sql: _Sql, out: Plan) -> None:
    fk = next((fk for fk in want.foreign_keys if column.name in fk.columns), None)
    if not column.nullable and column.default is None:
        out.unsupported.append(f"{t}.{column.name} is required and has no default: rows already in {t} have no "
                               "value for it. Give the field a default(…), or add it optional, backfill, then "
                               "make it required in a later generate")
        return
    if not sql.pg and (column.primary_key or (column.default is not None and not sql.constant(column.default))
                       or (fk is not None and column.default is not None)):
        out.rebuild.append(f"add column {t}.{column.name}")  # beyond what SQLite's ADD COLUMN accepts
        return
    if sql.pg and fk is not None:  # the CAI506 recipe: the column, then its key NOT VALID, then VALIDATE
        up = [sql.add_column(t, column, None, want.enums.get(column.name)), *sql.add_fk(t, fk)]
    else:
        up = [sql.add_column(t, column, fk, want.enums.get(column.name))]
    out.add(f"add column {t}.{column.name}", up, [sql.drop_column(t, column.name)])


def _changed_column(t: str, cur: Column, want: Column, sql: _Sql, out: Plan) -> None:
    what = f"{t}.{cur.name}"
    if not sql.pg:
        out.rebuild.append(f"change {_what_changed(cur, want)} of {what}")
        return
    if cur.primary_key != want.primary_key or "IDENTITY" in (cur.default, want.default) and cur.default != want.default:
        out.unsupported.append(f"{what}: changing a primary key or an identity column is not generated")
        return
    q = sql.q
    if cur.type != want.type:
        narrowing = not _widens(cur.type, want.type)
        out.add(f"change type of {what}: {cur.type} → {want.type}" + (" (narrowing)" if narrowing else ""),
                [f"ALTER TABLE {q(t)} ALTER COLUMN {q(cur.name)} TYPE {want.type} USING {q(cur.name)}::{want.type}"],
                [f"ALTER TABLE {q(t)} ALTER COLUMN {q(cur.name)} TYPE {cur.type} USING {q(cur.name)}::{cur.type}"],
                destructive=narrowing)
    if cur.default != want.default:
        out.add(f"default of {what}: {cur.default} → {want.default}",
                [sql.set_default(t, cur.name, want.default)], [sql.set_default(t, cur.name, cur.default)])
    if cur.nullable and not want.nullable:
        check = q(f"{t}_{cur.name}_not_null")
        out.add(f"{what} becomes NOT NULL", [
            f"ALTER TABLE {q(t)} ADD CONSTRAINT {check} CHECK ({q(cur.name)} IS NOT NULL) NOT VALID",
            f"ALTER TABLE {q(t)} VALIDATE CONSTRAINT {check}",
            f"ALTER TABLE {q(t)} ALTER COLUMN {q(cur.name)} SET NOT NULL",
            f"ALTER TABLE {q(t)} DROP CONSTRAINT {check}"],
            [f"ALTER TABLE {q(t)} ALTER COLUMN {q(cur.name)} DROP NOT NULL"])
    elif want.nullable and not cur.nullable:
        out.add(f"{what} becomes nullable", [f"ALTER TABLE {q(t)} ALTER COLUMN {q(cur.name)} DROP NOT NULL"],
                [f"ALTER TABLE {q(t)} ALTER COLUMN {q(cur.name)} SET NOT NULL"])


def _foreign_key_changes(cur: Table, want: Table, sql: _Sql, out: Plan) -> None:
    """Foreign keys of columns both sides have (new and dropped columns carry their own)."""
    both = set(cur.columns) & set(want.columns)
    old = {fk for fk in cur.foreign_keys if set(fk.columns) <= both}
    new = {fk for fk in want.foreign_keys if set(fk.columns) <= both}
    for fk in sorted(old - new, key=repr):
        if not sql.pg:
            out.rebuild.append(f"drop foreign key {cur.name}({', '.join(fk.columns)}) → {fk.ref_table}")
            continue
        out.add(f"drop foreign key {cur.name}({', '.join(fk.columns)}) → {fk.ref_table}",
                [sql.drop_fk(cur.name, fk)], sql.add_fk(cur.name, fk))
    for fk in sorted(new - old, key=repr):
        if not sql.pg:
            out.rebuild.append(f"add foreign key {cur.name}({', '.join(fk.columns)}) → {fk.ref_table}")
            continue
        out.add(f"add foreign key {cur.name}({', '.join(fk.columns)}) → {fk.ref_table}",
                sql.add_fk(cur.name, fk), [sql.drop_fk(cur.name, fk)])


def _enum_changes(cur: Table, want: Table, sql: _Sql, out: Plan) -> None:
    """An ``enum(…)`` field's values live in a CHECK: replace it (PostgreSQL) or rebuild (SQLite)."""
    for col in sorted(set(cur.columns) & set(want.columns)):
        old, new = cur.enums.get(col), want.enums.get(col)
        if old == new:
            continue
        removed = sorted(set(old or ()) - set(new or ())) if new else []
        change = f"values of {cur.name}.{col}: {', '.join(old or ('any',))} → {', '.join(new or ('any',))}"
        if not sql.pg:
            out.rebuild.append(change + (" (narrowing)" if removed else ""))
            if removed:
                out.destructive.append(change + " (narrowing)")
            continue
        name = cur.enum_checks.get(col) or f"{cur.name}_{col}_check"
        up = ([sql.drop_check(cur.name, name)] if old else []) + (sql.add_check(cur.name, name, col, new) if new else [])
        down = ([sql.drop_check(cur.name, name)] if new else []) + (sql.add_check(cur.name, name, col, old) if old else [])
        out.add(change + (" (narrowing)" if removed else ""), up, down, destructive=bool(removed))


def _what_changed(cur: Column, want: Column) -> str:
    parts = [name for name, a, b in (("the type", cur.type, want.type), ("nullability", cur.nullable, want.nullable),
                                     ("the default", cur.default, want.default),
                                     ("the primary key", cur.primary_key, want.primary_key)) if a != b]
    return " and ".join(parts) or "the column"


def _widens(old: str, new: str) -> bool:
    """A type change that keeps every value (``INTEGER`` → ``BIGINT``, ``VARCHAR(50)`` → ``VARCHAR(80)``)."""
    base_old, args_old = _split_type(old)
    base_new, args_new = _split_type(new)
    if base_old == base_new:
        if not args_new:
            return True
        return bool(args_old) and all(n >= o for o, n in zip(args_old, args_new, strict=False)) and (
            len(args_old) < 2 or args_new[0] - args_new[1] >= args_old[0] - args_old[1])
    return (base_old, base_new) in _WIDER


def _split_type(spelled: str) -> tuple[str, list[int]]:
    base, _, rest = spelled.partition("(")
    return base.strip().upper(), [int(n) for n in re.findall(r"\d+", rest)]


@functools.lru_cache(maxsize=1024)
def needs_quotes(name: str) -> bool:
    """Quote a name that is not plain lower-case, is a PostgreSQL keyword that cannot name a column
    (pglast's keyword table), or that SQLite itself refuses as a bare column name (`index`, `set`…)."""
    import pglast.keywords as kw

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return True
    if name in kw.RESERVED_KEYWORDS | kw.TYPE_FUNC_NAME_KEYWORDS | kw.COL_NAME_KEYWORDS:
        return True
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE TABLE probe ({name} INTEGER)")
        conn.execute(f"CREATE TABLE {name} (x INTEGER)")
    except sqlite3.Error:
        return True
    finally:
        conn.close()
    return False


class _Sql:
    """The dialect's spelling of each statement."""

    def __init__(self, dialect: str, concurrent: bool = False) -> None:
        self.pg = dialect == "postgres"
        self.concurrently = "CONCURRENTLY " if concurrent else ""

    @staticmethod
    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"' if needs_quotes(name) else name

    @staticmethod
    def constant(default: str) -> bool:
        return bool(_LITERAL.match(default)) and default.upper() != "CURRENT_TIMESTAMP"

    def default_sql(self, default: str) -> str:
        return default if _LITERAL.match(default) or self.pg else f"({default})"

    def column(self, col: Column, fk: ForeignKey | None, enum: tuple[str, ...] | None, inline_pk: bool) -> str:
        parts = [self.q(col.name), col.type]
        if col.primary_key and inline_pk:
            parts.append("PRIMARY KEY")
        if col.default == "IDENTITY":
            parts.append("GENERATED BY DEFAULT AS IDENTITY")
        if not col.nullable and not col.primary_key:
            parts.append("NOT NULL")
        if col.default is not None and col.default != "IDENTITY":
            parts.append(f"DEFAULT {self.default_sql(col.default)}")
        if enum:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in enum)
            parts.append(f"CHECK ({self.q(col.name)} IN ({values}))")
        if fk is not None:
            parts.append(f"REFERENCES {self.q(fk.ref_table)} ({', '.join(map(self.q, fk.ref_columns))})")
            if fk.on_delete != "NO ACTION":
                parts.append(f"ON DELETE {fk.on_delete}")
        return " ".join(parts)

    def create_table(self, table: Table) -> list[str]:
        fk_of = {fk.columns[0]: fk for fk in table.foreign_keys if len(fk.columns) == 1}
        pks = [c.name for c in table.columns.values() if c.primary_key]
        lines = [self.column(c, fk_of.get(c.name), table.enums.get(c.name), len(pks) == 1)
                 for c in table.columns.values()]
        if len(pks) > 1:
            lines.append(f"PRIMARY KEY ({', '.join(map(self.q, pks))})")
        body = ",\n    ".join(lines)
        stmts = [f"CREATE TABLE IF NOT EXISTS {self.q(table.name)} (\n    {body}\n)"]
        return stmts + [self.create_index(table.name, idx) for _, idx in sorted(table.indexes.items())]

    def drop_table(self, table: Table) -> str:
        return f"DROP TABLE IF EXISTS {self.q(table.name)}"

    def create_index(self, table: str, idx: Index) -> str:
        unique = "UNIQUE " if idx.unique else ""
        return (f"CREATE {unique}INDEX {self.concurrently}IF NOT EXISTS {self.q(idx.name)} ON {self.q(table)} "
                f"({', '.join(map(self.q, idx.columns))})")

    def drop_index(self, idx: Index) -> str:
        return f"DROP INDEX {self.concurrently}IF EXISTS {self.q(idx.name)}"

    def add_column(self, table: str, col: Column, fk: ForeignKey | None, enum: tuple[str, ...] | None) -> str:
        guard = "IF NOT EXISTS " if self.pg else ""
        return f"ALTER TABLE {self.q(table)} ADD COLUMN {guard}{self.column(col, fk, enum, True)}"

    def drop_column(self, table: str, col: str) -> str:
        guard = "IF EXISTS " if self.pg else ""
        return f"ALTER TABLE {self.q(table)} DROP COLUMN {guard}{self.q(col)}"

    def set_default(self, table: str, col: str, default: str | None) -> str:
        action = "DROP DEFAULT" if default is None else f"SET DEFAULT {self.default_sql(default)}"
        return f"ALTER TABLE {self.q(table)} ALTER COLUMN {self.q(col)} {action}"

    def fk_name(self, table: str, fk: ForeignKey) -> str:
        return self.q(f"{table}_{'_'.join(fk.columns)}_fkey")  # PostgreSQL's own name for an inline REFERENCES

    def add_fk(self, table: str, fk: ForeignKey) -> list[str]:
        name = self.fk_name(table, fk)
        action = f" ON DELETE {fk.on_delete}" if fk.on_delete != "NO ACTION" else ""
        return [f"ALTER TABLE {self.q(table)} ADD CONSTRAINT {name} FOREIGN KEY ({', '.join(map(self.q, fk.columns))}) "
                f"REFERENCES {self.q(fk.ref_table)} ({', '.join(map(self.q, fk.ref_columns))}){action} NOT VALID",
                f"ALTER TABLE {self.q(table)} VALIDATE CONSTRAINT {name}"]

    def add_check(self, table: str, name: str, col: str, values: tuple[str, ...]) -> list[str]:
        """The CAI506 recipe: NOT VALID (instant), then VALIDATE (a lock that lets writes through)."""
        listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        return [f"ALTER TABLE {self.q(table)} ADD CONSTRAINT {self.q(name)} CHECK ({self.q(col)} IN ({listed})) "
                "NOT VALID", f"ALTER TABLE {self.q(table)} VALIDATE CONSTRAINT {self.q(name)}"]

    def drop_check(self, table: str, name: str) -> str:
        return f"ALTER TABLE {self.q(table)} DROP CONSTRAINT IF EXISTS {self.q(name)}"

    def drop_fk(self, table: str, fk: ForeignKey) -> str:
        return f"ALTER TABLE {self.q(table)} DROP CONSTRAINT IF EXISTS {self.fk_name(table, fk)}"


def render(header: list[str], statements: list[str]) -> str:
    """One migration file: a comment header, then one statement per paragraph."""
    lines = [f"-- {line}" if line else "--" for line in header]
    return "\n".join(lines) + "\n\n" + "".join(f"{st};\n\n" for st in statements).rstrip("\n") + "\n"
