"""Database access for the server: one small interface over SQLite and PostgreSQL.

The server is synchronous at this layer on purpose: handlers run these calls in Starlette's
thread pool, sqlite3 and psycopg are both blocking drivers, and a PostgreSQL connection pool
(psycopg_pool) is what N replicas share safely. SQL is written once with ``?`` placeholders.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from codeai_lang.platform.dbmigrate.backends import TABLE as TRACKING_TABLE
from codeai_lang.platform.dbmigrate.target import DatabaseTarget


class StoreError(Exception):
    """The database could not be reached or answered with an error."""


class Tx(Protocol):
    dialect: str

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    def rowcount(self) -> int: ...


class Store(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def tx(self, write: bool = False) -> Iterator[Tx]:
        """``write``: one transaction (SQLite takes the write lock up front, so no upgrade
        deadlocks). Reads may run each statement on its own (PostgreSQL: autocommit)."""

    @abstractmethod
    def ping(self, timeout: float) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def applied_versions(self) -> set[int]:
        with self.tx() as tx:
            if self.dialect == "sqlite":
                exists = tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                    (TRACKING_TABLE,))
            else:
                exists = tx.execute(f"SELECT 1 WHERE to_regclass('{TRACKING_TABLE}') IS NOT NULL")
            if not exists:
                return set()
            return {int(r[0]) for r in tx.execute(f"SELECT version FROM {TRACKING_TABLE}")}


class _SqliteTx:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._rowcount = 0

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql.replace(" FOR UPDATE", ""), params)
        self._rowcount = cur.rowcount
        return cur.fetchall()

    def rowcount(self) -> int:
        return self._rowcount


class SqliteStore(Store):
    """One connection per thread (sqlite3 connections are not shared across threads); WAL so
    readers never wait for the writer; writers queue on the busy timeout."""

    dialect = "sqlite"

    def __init__(self, path: str, busy_timeout_ms: int = 15_000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = threading.Lock()
        self._lock_fd: int | None = None
        if path and path != ":memory:" and not path.startswith("file:"):
            with contextlib.suppress(OSError):  # an unwritable directory: SQLite's own locking still holds
                self._lock_fd = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def tx(self, write: bool = False) -> Iterator[Tx]:
        if not write:
            with self._tx(False) as tx:
                yield tx
            return
        # Writers queue on a lock — a thread lock, then an flock shared by the server's worker
        # processes — instead of SQLite's busy handler, whose growing sleeps (up to 100 ms a
        # try) gave writers a long latency tail under load. The kernel wakes the next waiter.
        with self._writer, self._file_lock(), self._tx(True) as tx:
            yield tx

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Tx]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"SQLite database {self.path} is busy: {exc}") from exc
        try:
            yield _SqliteTx(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                raise StoreError(f"SQLite database {self.path} is busy: {exc}") from exc
            raise

    def ping(self, timeout: float) -> None:
        try:
            self._conn().execute("SELECT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


class _PgTx:
    dialect = "postgres"

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._rowcount = 0

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql.replace("?", "%s"), params or None)
        self._rowcount = cur.rowcount
        return cur.fetchall() if cur.description is not None else []

    def rowcount(self) -> int:
        return self._rowcount


class PostgresStore(Store):
    """A psycopg_pool connection pool; every replica has its own, the database is shared."""

    dialect = "postgres"

    def __init__(self, target: DatabaseTarget, pool_size: int = 10) -> None:
        from psycopg_pool import ConnectionPool

        # autocommit: a read is one round trip (no BEGIN/COMMIT); writes open a transaction.
        kwargs = {"application_name": "codeai server", "connect_timeout": 5, "autocommit": True, **target.params}
        self.pool = ConnectionPool(target.conninfo, kwargs=kwargs, min_size=min(2, pool_size),
                                   max_size=max(1, pool_size), timeout=10, open=False,
                                   configure=_configure_pg, name="codeai-server")
        self.pool.open(wait=False)

    @contextmanager
    def tx(self, write: bool = False) -> Iterator[Tx]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection() as conn:
                if write:
                    with conn.transaction():
                        yield _PgTx(conn)
                else:
                    yield _PgTx(conn)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreError(f"PostgreSQL unavailable: {str(exc).strip()}") from exc

    def ping(self, timeout: float) -> None:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection(timeout=timeout) as conn, conn.transaction():
                conn.execute("SELECT set_config('statement_timeout', %s, true)", (f"{int(timeout * 1000)}ms",))
                conn.execute("SELECT 1")
        except (PoolTimeout, psycopg.Error) as exc:
            raise StoreError(str(exc).strip()) from exc

    def close(self) -> None:
        self.pool.close(timeout=5)


def _configure_pg(conn: Any) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def open_store(target: DatabaseTarget, pool_size: int = 10) -> Store:
    if target.driver == "sqlite":
        return SqliteStore(target.sqlite_path)
    return PostgresStore(target, pool_size)
