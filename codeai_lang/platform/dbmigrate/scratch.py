"""Throwaway databases for checks that must run SQL for real (lint CAI509, ``migrate generate``).

SQLite: a fresh in-memory database. PostgreSQL: a uniquely named schema in the configured
database, first on the ``search_path`` and dropped with everything in it on close, so a check
never touches the application's tables.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import time
from abc import ABC, abstractmethod
from typing import Any

from codeai_lang.platform.dbmigrate.dbschema import Schema, read_postgres, read_sqlite
from codeai_lang.platform.dbmigrate.discovery import Migration
from codeai_lang.platform.dbmigrate.errors import ConnectError, MigrateError
from codeai_lang.platform.dbmigrate.sqltext import Statement
from codeai_lang.platform.dbmigrate.target import DatabaseTarget
from codeai_lang.platform.dbmigrate.timing import Deadline


class ScratchFailed(MigrateError):
    """A statement failed on the scratch database (the migration cannot run as written)."""

    def __init__(self, path: str, statement: Statement, reason: str) -> None:
        super().__init__(f"{path}: statement {statement.index} (line {statement.line}) failed: {reason}")
        self.path, self.statement, self.reason = path, statement, reason


class Scratch(ABC):
    dialect: str

    @abstractmethod
    def execute(self, sql: str) -> None: ...

    @abstractmethod
    def schema(self) -> Schema: ...

    @abstractmethod
    def close(self) -> None: ...

    def run(self, migration: Migration, direction: str) -> None:
        """Run one side of a migration, statement by statement (autocommit: CONCURRENTLY works)."""
        path = migration.up_file if direction == "up" else migration.down_file
        for st in migration.statements(direction, self.dialect):
            try:
                self.execute(st.text)
            except Exception as exc:  # the driver's error, whatever its class
                raise ScratchFailed(path, st, str(exc).strip().splitlines()[0]) from exc

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A statement on a scratch database (empty tables) that runs longer than this is a runaway
# (e.g. an unbounded recursive query): it fails the check instead of hanging lint.
STATEMENT_SECONDS = 60.0


class SqliteScratch(Scratch):
    dialect = "sqlite"

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")

    def execute(self, sql: str) -> None:
        give_up = time.monotonic() + STATEMENT_SECONDS
        self.conn.set_progress_handler(lambda: int(time.monotonic() > give_up), 10_000)
        try:
            self.conn.execute(sql)
        finally:
            self.conn.set_progress_handler(None, 0)

    def schema(self) -> Schema:
        return read_sqlite(self.conn)

    def close(self) -> None:
        self.conn.close()


class PostgresScratch(Scratch):
    dialect = "postgres"

    def __init__(self, target: DatabaseTarget, timeout: float = 30.0) -> None:
        import psycopg

        from codeai_lang.platform.dbmigrate.backends import PostgresBackend

        backend = PostgresBackend(target)
        backend.connect(Deadline(timeout))
        self.conn: Any = backend.conn
        self.name = f"codeai_scratch_{secrets.token_hex(6)}"
        try:
            self.conn.execute(f"CREATE SCHEMA {self.name}")
            self.conn.execute(f"SET search_path TO {self.name}")
            self.conn.execute(f"SET statement_timeout = '{int(STATEMENT_SECONDS)}s'")
        except psycopg.Error as exc:
            self.conn.close()
            raise ConnectError(f"cannot create a scratch schema in {target.describe()} (the user needs "
                               f"CREATE on the database): {str(exc).strip()}") from exc

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def schema(self) -> Schema:
        return read_postgres(self.conn)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a lost connection: nothing more we can do
            self.conn.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        self.conn.close()


def open_scratch(dialect: str, target: DatabaseTarget | None) -> Scratch:
    """An in-memory SQLite, or a temporary schema in the configured PostgreSQL database."""
    if dialect == "sqlite":
        return SqliteScratch()
    if target is None or target.driver != "postgres":
        raise MigrateError("a PostgreSQL scratch schema needs a configured PostgreSQL database")
    return PostgresScratch(target)
