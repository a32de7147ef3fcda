"""What a SQL statement does to the schema, read from a real parser's tree (never from regexes).

Two front ends produce the same small :class:`Fact` records — pglast (the PostgreSQL parser)
for PostgreSQL, sqlglot for SQLite (whose own parser has no tree API) — so the lint rules in
:mod:`lint` are written once, over facts, for both dialects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from codeai_lang.platform.dbmigrate.sqltext import Statement


@dataclass(frozen=True)
class Fact:
    kind: str  # create_table, drop_table, drop_index, drop_other, create_index, add_column, drop_column,
    #            rename_column, rename_table, alter_type, set_not_null, add_constraint, validate_constraint
    table: str
    start: int  # character offset in the file
    end: int
    column: str = ""
    name: str = ""  # index / constraint / other object name
    guarded: bool = False  # IF [NOT] EXISTS given
    can_guard: bool = True  # the dialect accepts IF [NOT] EXISTS here
    not_null: bool = False
    has_default: bool = False
    references: bool = False
    concurrent: bool = False
    constraint: str = ""  # foreign | check
    not_valid: bool = False
    not_null_check: str = ""  # the column of a CHECK (col IS NOT NULL)


class PgSyntaxError(Exception):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.message, self.index = message, index


def pg_facts(st: Statement) -> list[Fact]:
    """Facts of one PostgreSQL statement; raises :class:`PgSyntaxError` with the error's offset."""
    import pglast
    from pglast.parser import ParseError

    try:
        raws = pglast.parse_sql(st.text)
    except ParseError as exc:
        index = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        raise PgSyntaxError(str(exc.args[0]), max(0, index)) from exc
    out: list[Fact] = []
    for raw in raws:
        out.extend(_PgReader(st).read(raw.stmt))
    return out


class _PgReader:
    def __init__(self, st: Statement) -> None:
        self.st = st
        self.end = st.offset + len(st.text)

    def at(self, *nodes: Any) -> int:
        """File offset of the first node with a known location (else the statement's start)."""
        for node in nodes:
            loc = getattr(node, "location", None)
            if isinstance(loc, int) and loc >= 0:
                return self.st.offset + loc
        return self.st.offset

    def read(self, node: Any) -> list[Fact]:
        method = getattr(self, f"_{type(node).__name__}", None)
        return method(node) if method else []

    def _CreateStmt(self, node: Any) -> list[Fact]:
        return [Fact("create_table", node.relation.relname, self.at(node.relation), self.end,
                     guarded=bool(node.if_not_exists))]

    def _DropStmt(self, node: Any) -> list[Fact]:
        from pglast.enums import ObjectType

        kind = {ObjectType.OBJECT_TABLE: "drop_table", ObjectType.OBJECT_INDEX: "drop_index"}.get(
            node.removeType, "drop_other")
        names = [_last_name(obj) for obj in node.objects or ()]
        return [Fact(kind, name if kind == "drop_table" else "", self.st.offset, self.end, name=name,
                     guarded=bool(node.missing_ok), concurrent=bool(node.concurrent)) for name in names]

    def _IndexStmt(self, node: Any) -> list[Fact]:
        return [Fact("create_index", node.relation.relname, self.st.offset, self.end, name=node.idxname or "",
                     guarded=bool(node.if_not_exists), concurrent=bool(node.concurrent))]

    def _RenameStmt(self, node: Any) -> list[Fact]:
        from pglast.enums import ObjectType

        table = node.relation.relname if node.relation is not None else ""
        if node.renameType == ObjectType.OBJECT_COLUMN:
            return [Fact("rename_column", table, self.st.offset, self.end, column=node.subname or "")]
        if node.renameType == ObjectType.OBJECT_TABLE:
            return [Fact("rename_table", table, self.st.offset, self.end, name=node.newname or "")]
        return []

    def _AlterTableStmt(self, node: Any) -> list[Fact]:
        table = node.relation.relname
        return [fact for cmd in node.cmds or () if (fact := self._command(table, cmd)) is not None]

    def _command(self, table: str, cmd: Any) -> Fact | None:
        from pglast.enums import AlterTableType as A

        if cmd.subtype == A.AT_AddColumn:
            return self._add_column(table, cmd)
        if cmd.subtype == A.AT_DropColumn:
            return Fact("drop_column", table, self.st.offset, self.end, column=cmd.name, guarded=bool(cmd.missing_ok))
        if cmd.subtype == A.AT_AlterColumnType:
            return Fact("alter_type", table, self.at(cmd.def_), self.end, column=cmd.name)
        if cmd.subtype == A.AT_SetNotNull:
            return Fact("set_not_null", table, self.st.offset, self.end, column=cmd.name)
        if cmd.subtype == A.AT_AddConstraint:
            return self._add_constraint(table, cmd.def_)
        if cmd.subtype == A.AT_ValidateConstraint:
            return Fact("validate_constraint", table, self.st.offset, self.end, name=cmd.name)
        return None

    def _add_column(self, table: str, cmd: Any) -> Fact:
        from pglast.enums import ConstrType as C

        col = cmd.def_
        kinds = {k.contype for k in col.constraints or ()}
        return Fact("add_column", table, self.at(col), self.end, column=col.colname, guarded=bool(cmd.missing_ok),
                    not_null=bool(kinds & {C.CONSTR_NOTNULL, C.CONSTR_PRIMARY}),
                    has_default=bool(kinds & {C.CONSTR_DEFAULT, C.CONSTR_IDENTITY, C.CONSTR_GENERATED}),
                    references=C.CONSTR_FOREIGN in kinds)

    def _add_constraint(self, table: str, con: Any) -> Fact | None:
        from pglast.enums import ConstrType as C

        kind = {C.CONSTR_FOREIGN: "foreign", C.CONSTR_CHECK: "check"}.get(con.contype)
        if kind is None:
            return None
        return Fact("add_constraint", table, self.at(con), self.end, name=con.conname or "", constraint=kind,
                    not_valid=bool(con.skip_validation), not_null_check=_not_null_column(con.raw_expr))


def _last_name(obj: Any) -> str:
    parts = obj if isinstance(obj, tuple | list) else getattr(obj, "names", None) or (obj,)
    last = parts[-1]
    return str(getattr(last, "sval", last))


def _not_null_column(expr: Any) -> str:
    """``col`` for a check that is exactly ``col IS NOT NULL`` (the strong_migrations recipe)."""
    from pglast.enums import NullTestType

    if type(expr).__name__ != "NullTest" or expr.nulltesttype != NullTestType.IS_NOT_NULL:
        return ""
    if type(expr.arg).__name__ != "ColumnRef":
        return ""
    return str(getattr(expr.arg.fields[-1], "sval", ""))


# -- SQLite, through sqlglot --------------------------------------------------------------------

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is not for users


def sqlite_facts(st: Statement) -> list[Fact]:
    """Facts of one SQLite statement; a statement sqlglot cannot read gives none (SQLite decides)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(st.text, read="sqlite")
    except Exception:  # sqlglot's own errors and its occasional internal ones: SQLite has accepted it
        return []
    start, end = st.offset, st.offset + len(st.text)
    if isinstance(tree, exp.Create):
        return _sqlite_create(tree, start, end)
    if isinstance(tree, exp.Drop):
        kind = {"TABLE": "drop_table", "INDEX": "drop_index"}.get(str(tree.args.get("kind")).upper(), "drop_other")
        return [Fact(kind, t.name if kind == "drop_table" else "", start, end, name=t.name,
                     guarded=bool(tree.args.get("exists"))) for t in _dropped(tree)]
    if isinstance(tree, exp.Alter):
        return [f for action in tree.args.get("actions") or ()
                if (f := _sqlite_action(tree.this.name, action, start, end)) is not None]
    return []


def _dropped(drop: Any) -> list[Any]:
    """The objects a sqlglot ``Drop`` names (the argument's key moved between sqlglot versions)."""
    found = drop.args.get("tables") or drop.args.get("expressions") or [drop.this]
    return [t for t in found if t is not None]


def _sqlite_create(tree: Any, start: int, end: int) -> list[Fact]:
    from sqlglot import exp

    kind = str(tree.args.get("kind")).upper()
    guarded = bool(tree.args.get("exists"))
    if kind == "TABLE":
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return [Fact("create_table", target.name, start, end, guarded=guarded)]
    if kind == "INDEX":
        index = tree.this
        table = index.args.get("table")
        return [Fact("create_index", table.name if table is not None else "", start, end, name=index.name,
                     guarded=guarded)]
    return []


def _sqlite_action(table: str, action: Any, start: int, end: int) -> Fact | None:
    from sqlglot import exp

    if isinstance(action, exp.ColumnDef):
        kinds = [c.args.get("kind") for c in action.args.get("constraints") or ()]
        not_null = any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null") for k in kinds)
        return Fact("add_column", table, start, end, column=action.name, can_guard=False,
                    not_null=not_null or any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds),
                    has_default=any(isinstance(k, exp.DefaultColumnConstraint) for k in kinds),
                    references=any(isinstance(k, exp.Reference) for k in kinds))
    if isinstance(action, exp.Drop):
        dropped = _dropped(action)
        column = dropped[0].name if dropped else ""
        return Fact("drop_column", table, start, end, column=column, can_guard=False)
    if isinstance(action, exp.RenameColumn):
        return Fact("rename_column", table, start, end, column=action.this.name)
    if isinstance(action, exp.AlterRename):
        return Fact("rename_table", table, start, end, name=action.this.name)
    return None
