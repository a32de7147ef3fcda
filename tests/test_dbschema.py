"""Reading a SQLite schema (what `migrate lint` compares before and after each round trip)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlglot

from codeai_lang.platform.dbmigrate import dbschema


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, "
                 "status TEXT NOT NULL CHECK (status IN ('new', 'paid')), total INTEGER CHECK (total > 0))")
    conn.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, name TEXT)")
    return conn


def test_enums_are_read_from_column_checks() -> None:
    schema = dbschema.read_sqlite(_db())
    assert schema.tables["orders"].enums == {"status": ("new", "paid")}
    assert schema.tables["plain"].enums == {}


def test_each_create_text_is_parsed_once_and_tables_without_check_never(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint reads the schema twice per migration; parsing every table each time made a long
    history quadratic (benchmarks/migrate_lint.py)."""
    parsed: list[str] = []
    real = sqlglot.parse_one

    def counting(sql: str, **kwargs: Any) -> Any:
        parsed.append(sql)
        return real(sql, **kwargs)

    monkeypatch.setattr(sqlglot, "parse_one", counting)
    dbschema._sqlite_enums.cache_clear()
    conn = _db()
    first = dbschema.read_sqlite(conn)
    first.tables["orders"].enums["status"] = ("changed",)  # callers get their own dicts
    second = dbschema.read_sqlite(conn)
    assert len(parsed) == 1 and "orders" in parsed[0]
    assert second.tables["orders"].enums == {"status": ("new", "paid")}
    conn.execute("ALTER TABLE orders ADD COLUMN note TEXT")  # a new text: parsed again
    assert dbschema.read_sqlite(conn).tables["orders"].enums == {"status": ("new", "paid")}
    assert len(parsed) == 2
