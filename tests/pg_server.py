"""PostgreSQL and SQLite fixtures for the migration tests (imported by the test modules).

One PostgreSQL server per process (so one per xdist worker), started on first use and stopped at
exit; every test gets a fresh database in it. Without server binaries the PostgreSQL variants are
skipped locally (listed in the run's summary) and fail under CI=true (``require_component``).
"""

from __future__ import annotations

import atexit
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from codeai_testing.components import require_component
from codeai_testing.pgserver import PgServer, PgUnavailable

from codeai_lang.platform.dbmigrate.target import DatabaseTarget

_server: PgServer | None = None
_unavailable: str | None = None


def get_server() -> PgServer:
    """The process-wide server; without one, skip locally or fail under CI (``require_component``)."""
    global _server, _unavailable
    if _unavailable is not None:
        require_component("postgresql", _unavailable)
    if _server is None:
        try:
            _server = PgServer().start()
        except PgUnavailable as exc:
            _unavailable = str(exc)
        if _server is None:  # outside the except: no chained traceback in the CI failure
            require_component("postgresql", _unavailable or "the server would not start")
        assert _server is not None
        atexit.register(_server.stop)
    return _server


@dataclass
class Db:
    """One empty database of either kind, with the few queries the tests need."""

    kind: str
    url: str
    target: DatabaseTarget

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.target.sqlite_path) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def tables(self) -> set[str]:
        if self.kind == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return {r[0] for r in self.query(sql)}

    def columns(self, table: str) -> list[str]:
        if self.kind == "sqlite":
            return [r[1] for r in self.query(f"PRAGMA table_info({table})")]
        return [r[0] for r in self.query("SELECT column_name FROM information_schema.columns WHERE "
                                         f"table_name = '{table}' ORDER BY ordinal_position")]

    def indexes(self) -> set[str]:
        if self.kind == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' " \
                  "AND indexname NOT LIKE '%_key'"
        return {r[0] for r in self.query(sql)}

    def tracking(self) -> list[tuple[int, str, str]]:
        if "schema_migrations" not in self.tables():
            return []
        return [(int(r[0]), r[1], r[2]) for r in
                self.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")]

    def snapshot(self) -> dict[str, Any]:
        """Schema and tracking contents, for comparing two databases."""
        tables = sorted(self.tables())
        return {"tables": {t: self.columns(t) for t in tables}, "indexes": sorted(self.indexes()),
                "tracking": self.tracking()}


def make_db(kind: str, directory: Path) -> Db:
    if kind == "sqlite":
        path = str(directory / f"test-{len(list(directory.glob('*.db')))}.db")
        return Db("sqlite", f"sqlite:{path}", DatabaseTarget("sqlite", sqlite_path=path))
    url = get_server().create_database()
    return Db("postgres", url, DatabaseTarget("postgres", conninfo=url))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(name="db", params=BACKENDS)
def db_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    """A fresh, empty database: SQLite and, in a second run of the test, PostgreSQL."""
    yield make_db(request.param, tmp_path)


@pytest.fixture(name="db_factory")
def db_factory_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Make more databases of the same kind as ``db`` (for reference runs)."""
    def factory(kind: str) -> Db:
        return make_db(kind, tmp_path)
    return factory


def unused_port() -> int:
    from codeai_testing.pgserver import free_port

    return free_port()


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    """Write ``{file name: SQL}`` into ``directory`` (created) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


def slow_sql(seconds: float) -> str:
    """A statement that takes about ``seconds`` on either dialect (dialect sections pick one)."""
    rows = int(seconds * 6_000_000)
    return ("-- codeai:dialect postgres\n"
            f"SELECT pg_sleep({seconds});\n"
            "-- codeai:dialect sqlite\n"
            f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) "
            "SELECT count(*) FROM c;\n"
            "-- codeai:dialect all\n")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def isolated_env() -> dict[str, str | None]:
    """Unset every configuration variable so the developer's environment cannot leak in."""
    from codeai_lang.platform.config import KEYS

    return {var: None for key in KEYS.values() for var in key.env}


def invoke(*args: str, config: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run the `codeai` CLI in-process (fast), reading only ``config`` as the config file."""
    from typer.testing import CliRunner

    import codeai_lang.cli.migrate_cmds  # noqa: F401  (registers the commands)
    from codeai_lang.cli import app

    extra = ["--config", str(config)] if config is not None else []
    full_env = {**isolated_env(), **(env or {})}
    result = CliRunner().invoke(app, [*args, *extra], env=full_env, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)
