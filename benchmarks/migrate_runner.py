"""Benchmark: 1,000 small generated migrations through the runner, on SQLite and PostgreSQL.

Reports migrations/s and the runner's overhead per migration beyond the SQL itself. The baseline
runs exactly the same statements raw, one transaction per migration (a migration is a
transaction either way), so the difference is what the runner adds: reading and checksumming
files, splitting, the lock, the pending re-check and the tracking row.

Bars: overhead < 5 ms per migration on SQLite, < 10 ms on a local PostgreSQL. Exit 1 when a bar
fails or cannot be measured (no PostgreSQL server binaries: set CODEAI_PG_BINDIR or install them).
Usage: python benchmarks/migrate_runner.py [--count N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codeai_testing.pgserver import PgServer, PgUnavailable  # noqa: E402

from codeai_lang.platform.dbmigrate import Options, Runner, discover, open_backend  # noqa: E402
from codeai_lang.platform.dbmigrate.discovery import Migration  # noqa: E402
from codeai_lang.platform.dbmigrate.target import DatabaseTarget  # noqa: E402
from codeai_lang.platform.dbmigrate.timing import Deadline  # noqa: E402

BARS_MS = {"sqlite": 5.0, "postgres": 10.0}


def generate(directory: Path, count: int) -> None:
    """Small, realistic migrations: a table, an index and a row each."""
    base = datetime(2026, 1, 1)
    for i in range(count):
        stem = directory / f"{(base + timedelta(seconds=i)).strftime('%Y%m%d%H%M%S')}_bench_{i}"
        Path(f"{stem}.up.sql").write_text(
            f"-- benchmark migration {i}\n"
            f"CREATE TABLE bench_{i} (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n"
            f"CREATE INDEX idx_bench_{i}_label ON bench_{i} (label);\n"
            f"INSERT INTO bench_{i} (id, label) VALUES (1, 'row {i}');\n")
        Path(f"{stem}.down.sql").write_text(f"DROP TABLE bench_{i};\n")


def raw_sqlite(path: str, batches: list[list[str]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    started = time.perf_counter()
    for statements in batches:
        conn.execute("BEGIN IMMEDIATE")
        for sql in statements:
            conn.execute(sql)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_postgres(url: str, batches: list[list[str]]) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        for statements in batches:
            conn.execute("BEGIN")
            for sql in statements:
                conn.execute(sql)
            conn.execute("COMMIT")
        return time.perf_counter() - started


def through_runner(target: DatabaseTarget, directory: Path) -> float:
    """Discovery (read + checksum every file) and `up`, as `codeai migrate up --dir` does."""
    started = time.perf_counter()
    migrations = discover(directory)
    backend = open_backend(target)
    runner = Runner(backend, migrations, Options())
    backend.connect(Deadline(None))
    try:
        applied = runner.up()
    finally:
        backend.close()
    elapsed = time.perf_counter() - started
    assert applied == len(migrations), f"applied {applied} of {len(migrations)}"
    return elapsed


def statements_of(migrations: list[Migration], dialect: str) -> list[list[str]]:
    return [[s.text for s in m.statements("up", dialect)] for m in migrations]


def measure(name: str, count: int, repeat: int, raw: Callable[[], float], run: Callable[[], float]) -> bool:
    raws, runs = [], []
    for _ in range(repeat):
        raws.append(raw())
        runs.append(run())
    raw_s, run_s = statistics.median(raws), statistics.median(runs)
    overhead_ms = (run_s - raw_s) / count * 1000
    ok = overhead_ms < BARS_MS[name]
    print(f"{name:9s} raw SQL   {raw_s:7.3f} s  {count / raw_s:8.0f} migrations/s")
    print(f"{name:9s} runner    {run_s:7.3f} s  {count / run_s:8.0f} migrations/s")
    print(f"{name:9s} overhead  {overhead_ms:7.3f} ms per migration (bar < {BARS_MS[name]:g} ms): "
          f"{'PASS' if ok else 'FAIL'}   [median of {repeat}]")
    return ok


def bench_sqlite(directory: Path, work: Path, count: int, repeat: int) -> bool:
    batches = statements_of(discover(directory), "sqlite")
    counter = iter(range(10**6))

    def fresh() -> str:
        return str(work / f"bench-{next(counter)}.db")

    return measure("sqlite", count, repeat, lambda: raw_sqlite(fresh(), batches),
                   lambda: through_runner(DatabaseTarget("sqlite", sqlite_path=fresh()), directory))


def bench_postgres(directory: Path, count: int, repeat: int) -> bool:
    """The PostgreSQL bar; no server is a FAIL (a benchmark that cannot run its bar must not pass)."""
    try:
        server = PgServer(fast=False).start()
    except PgUnavailable as exc:
        print(f"postgres  FAIL: no PostgreSQL server, the bar was not measured: {exc}", file=sys.stderr)
        return False
    try:
        batches = statements_of(discover(directory), "postgres")
        return measure("postgres", count, repeat, lambda: raw_postgres(server.create_database("raw"), batches),
                       lambda: through_runner(server.target(server.create_database("run").rsplit("/", 1)[1]),
                                              directory))
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="codeai-bench-") as tmp:
        work = Path(tmp)
        directory = work / "migrations"
        directory.mkdir()
        generate(directory, args.count)
        print(f"{args.count} generated migrations (CREATE TABLE + CREATE INDEX + INSERT each)")
        results = [bench_sqlite(directory, work, args.count, args.repeat),
                   bench_postgres(directory, args.count, args.repeat)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
