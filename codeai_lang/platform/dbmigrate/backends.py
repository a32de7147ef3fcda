"""SQLite and PostgreSQL behind one small interface: tracking table, locking, transactions.

The dialects differ in how they lock and bound time, so each backend owns those details:

* SQLite: the write lock is taken per migration with ``BEGIN IMMEDIATE``; every statement
  (connect-time reads, the tracking-table check, status reads, commits) waits through a busy
  timeout bounded by the deadline, and a progress handler interrupts a statement once the
  deadline has passed.
* PostgreSQL: a session-level advisory lock is held for the whole run, released by the server
  if the runner dies; ``lock_timeout``/``statement_timeout`` bound waits and statements.

Both then re-check, inside the migration's transaction, that the migration is still pending,
so even a runner that bypassed the lock could not apply it twice.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from codeai_lang.platform.dbmigrate.discovery import Migration
from codeai_lang.platform.dbmigrate.errors import ConnectError, LockTimeout
from codeai_lang.platform.dbmigrate.target import DatabaseTarget
from codeai_lang.platform.dbmigrate.timing import Deadline

TABLE = "schema_migrations"
LOCK_KEY = int.from_bytes(b"codeai.m", "big")  # fits a signed bigint
_COLUMNS = "version, name, checksum, applied_at, duration_ms"


@dataclass(frozen=True)
class AppliedRow:
    version: int
    name: str
    checksum: str
    applied_at: str
    duration_ms: float


class Backend(ABC):
    dialect: str
    # Whether ``-- codeai:no-transaction`` migrations run outside a transaction here. SQLite has
    # nothing that needs it (no CONCURRENTLY) and no whole-run lock, so there they keep the
    # transaction and with it the exactly-once guarantee between concurrent runners.
    runs_outside_transactions = False

    def __init__(self, target: DatabaseTarget) -> None:
        self.target = target

    @abstractmethod
    def connect(self, deadline: Deadline, readonly: bool = False) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def tracking_exists(self) -> bool: ...

    @abstractmethod
    def ensure_tracking(self, deadline: Deadline, on_wait: Callable[[], None]) -> None: ...

    @abstractmethod
    def lock(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        """Take the whole-run lock (a no-op where the per-migration transaction locks)."""

    @abstractmethod
    def unlock(self) -> None: ...

    @abstractmethod
    def begin(self, deadline: Deadline, on_wait: Callable[[], None]) -> None: ...

    @abstractmethod
    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @property
    @abstractmethod
    def placeholder(self) -> str: ...

    def bound_statement(self, deadline: Deadline) -> None:
        """Outside a transaction: let the next statement run no longer than the deadline allows."""
        return None

    def unbound_statement(self) -> None:
        return None

    def applied(self) -> dict[int, AppliedRow]:
        if not self.tracking_exists():
            return {}
        rows = self.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY version")
        return {int(r[0]): AppliedRow(int(r[0]), r[1], r[2], _iso(r[3]), float(r[4])) for r in rows}

    def is_applied(self, version: int) -> bool:
        return bool(self.execute(f"SELECT 1 FROM {TABLE} WHERE version = {self.placeholder}", (version,)))

    def record(self, migration: Migration, duration_ms: float) -> None:
        marks = ", ".join([self.placeholder] * 5)
        self.execute(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({marks})",
                     (migration.version, migration.name, migration.checksum, self._now(), duration_ms))

    def unrecord(self, version: int) -> None:
        self.execute(f"DELETE FROM {TABLE} WHERE version = {self.placeholder}", (version,))

    def _now(self) -> Any:
        return datetime.now(UTC)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class SqliteBackend(Backend):
    dialect = "sqlite"

    def __init__(self, target: DatabaseTarget) -> None:
        super().__init__(target)
        self.conn: sqlite3.Connection | None = None
        self.deadline = Deadline(None)

    @property
    def placeholder(self) -> str:
        return "?"

    def connect(self, deadline: Deadline, readonly: bool = False) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise ConnectError(f"SQLite 3.35 or newer is needed (this Python has {sqlite3.sqlite_version})")
        path = self.target.sqlite_path
        if readonly and not os.path.exists(path):
            return  # nothing applied yet; do not create the file just to look at it
        self.deadline = deadline
        try:
            # Every statement, reads included, waits through the busy timeout: in rollback-journal
            # mode a reader gets SQLITE_BUSY while another runner commits, and a commit waits for
            # readers. A zero timeout here was the "database is locked" of two concurrent runners.
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=_busy_seconds(deadline))
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise ConnectError(f"cannot open {self.target.describe()}: {exc}") from exc

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def tracking_exists(self) -> bool:
        if self.conn is None:
            return False
        with self._reading():
            return bool(self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)))

    def applied(self) -> dict[int, AppliedRow]:
        with self._reading():
            return super().applied()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A read outside a transaction: waits while another runner commits, up to the deadline."""
        self._bound_waits()
        try:
            yield
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            raise LockTimeout(f"could not read {self.target.describe()} within {self.deadline.describe()}: "
                              "another process holds an exclusive lock on it") from exc

    def ensure_tracking(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        if self.tracking_exists():
            return
        self.begin(deadline, on_wait)
        self.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "checksum TEXT NOT NULL, applied_at TEXT NOT NULL, duration_ms REAL NOT NULL DEFAULT 0)")
        self.commit()

    def lock(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        return None

    def unlock(self) -> None:
        return None

    def begin(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        """``BEGIN IMMEDIATE``: take the write lock now, waiting for it until the deadline."""
        conn = self._conn()
        self.deadline = deadline
        conn.execute("PRAGMA busy_timeout = 0")  # first a try without waiting, to tell people we wait
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            on_wait()
            self._wait_for_lock(deadline)
        self._bound_waits()  # the commit (and a cache spill) may wait for readers: bounded as well
        if deadline.at is not None:
            conn.set_progress_handler(lambda: int(deadline.expired()), 10_000)

    def _wait_for_lock(self, deadline: Deadline) -> None:
        # SQLite may give up before its busy timeout (it skips the handler when waiting could
        # deadlock), so retry until the deadline rather than trusting one attempt.
        conn = self._conn()
        while True:
            self._bound_waits()
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if deadline.expired():
                    raise LockTimeout(f"could not get the write lock on {self.target.describe()} within "
                                      f"{deadline.describe()}: another runner holds it") from exc
                time.sleep(0.01)

    def _bound_waits(self) -> None:
        """Let the next statements wait for locks, but not past the command's deadline."""
        if self.conn is not None:
            self.conn.execute(f"PRAGMA busy_timeout = {_clamp_ms(_busy_seconds(self.deadline))}")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._conn().execute(sql, params).fetchall()

    def commit(self) -> None:
        self._conn().execute("COMMIT")
        self._conn().set_progress_handler(None, 0)

    def rollback(self) -> None:
        conn = self._conn()
        conn.set_progress_handler(None, 0)
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    def _now(self) -> Any:
        return datetime.now(UTC).isoformat()

    def _conn(self) -> sqlite3.Connection:
        if self.conn is None:  # readonly open of a missing file, then asked to write
            raise ConnectError(f"{self.target.describe()} does not exist")
        return self.conn


def _busy_seconds(deadline: Deadline) -> float:
    """How long one lock wait may last: what is left of the deadline (at least 1 ms), at most
    SQLite's INT_MAX milliseconds (~24.8 days; a larger busy timeout would read as 0)."""
    limit = (2**31 - 1) / 1000
    remaining = deadline.remaining()
    return limit if remaining is None else min(limit, max(0.001, remaining))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class PostgresBackend(Backend):
    dialect = "postgres"
    runs_outside_transactions = True

    def __init__(self, target: DatabaseTarget) -> None:
        super().__init__(target)
        self.conn: Any = None
        self.locked = False

    @property
    def placeholder(self) -> str:
        return "%s"

    def connect(self, deadline: Deadline, readonly: bool = False) -> None:
        import psycopg

        remaining = deadline.remaining()
        timeout = 10 if remaining is None else max(1, min(10, int(remaining)))
        try:
            self.conn = psycopg.connect(self.target.conninfo, autocommit=True, connect_timeout=timeout,
                                        application_name="codeai migrate", **self.target.params)
        except psycopg.Error as exc:
            raise ConnectError(f"cannot connect to {self.target.describe()}: {str(exc).strip()}") from exc
        with contextlib.suppress(psycopg.Error):  # PostgreSQL 14+: notice a client killed mid-statement
            self.conn.execute("SET client_connection_check_interval = '1s'")

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()

    def tracking_exists(self) -> bool:
        return bool(self.execute(f"SELECT 1 WHERE to_regclass('{TABLE}') IS NOT NULL"))

    def ensure_tracking(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        # Called under the advisory lock, so two runners never race on CREATE TABLE.
        self.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                     "checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL, "
                     "duration_ms DOUBLE PRECISION NOT NULL DEFAULT 0)")

    def lock(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        import psycopg

        if self.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))[0][0]:
            self.locked = True
            return
        on_wait()
        remaining = deadline.remaining()
        wait_ms = 0 if remaining is None else _clamp_ms(remaining)
        self.execute("SELECT set_config('lock_timeout', %s, false)", (f"{wait_ms}ms",))
        try:
            self.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        except psycopg.errors.LockNotAvailable as exc:
            raise LockTimeout(f"could not get the migration lock on {self.target.describe()} within "
                              f"{deadline.describe()}: another runner holds it") from exc
        finally:
            self.execute("SELECT set_config('lock_timeout', '0', false)")
        self.locked = True

    def unlock(self) -> None:
        if self.locked and not self.conn.closed:
            with contextlib.suppress(Exception):  # a lost connection has released the lock already
                self.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        self.locked = False

    def begin(self, deadline: Deadline, on_wait: Callable[[], None]) -> None:
        self.conn.execute("BEGIN")
        remaining = deadline.remaining()
        if remaining is not None:
            wait = f"{_clamp_ms(remaining)}ms"
            self.execute("SELECT set_config('statement_timeout', %s, true)", (wait,))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql, params or None)
        return cur.fetchall() if cur.description is not None else []

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def bound_statement(self, deadline: Deadline) -> None:
        remaining = deadline.remaining()
        if remaining is not None:
            self.execute("SELECT set_config('statement_timeout', %s, false)", (f"{_clamp_ms(remaining)}ms",))

    def unbound_statement(self) -> None:
        if self.conn is not None and not self.conn.closed:
            with contextlib.suppress(Exception):
                self.execute("SELECT set_config('statement_timeout', '0', false)")

    def rollback(self) -> None:
        from psycopg.pq import TransactionStatus

        if self.conn is None or self.conn.closed or self.conn.info.transaction_status == TransactionStatus.IDLE:
            return
        with contextlib.suppress(Exception):  # if the connection is gone, the server rolled back
            self.conn.execute("ROLLBACK")


def _clamp_ms(seconds: float) -> int:
    """Milliseconds for PostgreSQL's lock_timeout/statement_timeout and SQLite's busy_timeout:
    both take at most INT_MAX (about 24.8 days; SQLite silently reads a larger value as 0, no
    wait at all), so a longer --timeout (1000h) is clamped rather than refused."""
    return max(1, min(int(seconds * 1000), 2**31 - 1))


def open_backend(target: DatabaseTarget) -> Backend:
    return SqliteBackend(target) if target.driver == "sqlite" else PostgresBackend(target)

