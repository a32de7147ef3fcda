"""Benchmark: `migrate lint` on a few hundred generated migrations, against the raw SQL it runs.

Lint parses every statement (pglast or sqlglot + SQLite's compiler) and, for CAI509, runs each
migration's up, down and up again on an in-memory SQLite with a schema read before and after.
The baseline runs exactly those up/down/up statements raw on an in-memory SQLite, so the
difference is what lint adds: parsing, the rules, introspection and the comparison.

Bar: under 20 ms per migration on SQLite (a project's whole history lints in seconds in CI).
Usage: python benchmarks/migrate_lint.py [--count N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codeai_lang.platform.dbmigrate.discovery import Migration, checksum  # noqa: E402
from codeai_lang.platform.dbmigrate.lint import lint  # noqa: E402
from codeai_lang.platform.dbmigrate.scratch import SqliteScratch  # noqa: E402

BAR_MS = 20.0


def migrations(count: int) -> list[Migration]:
    """Each creates a table (with an enum-checked column) and an index, then adds a column to the
    previous table."""
    out = []
    for i in range(count):
        up = (f"CREATE TABLE IF NOT EXISTS t{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER, "
              "status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')));\n"
              f"CREATE INDEX IF NOT EXISTS t{i}_name ON t{i} (name);\n")
        down = f"DROP INDEX IF EXISTS t{i}_name;\nDROP TABLE IF EXISTS t{i};\n"
        if i:
            up += f"ALTER TABLE t{i - 1} ADD COLUMN extra TEXT;\n"
            down = f"ALTER TABLE t{i - 1} DROP COLUMN extra;\n" + down
        out.append(Migration(20260101000000 + i, f"m{i}", f"m{i}.up.sql", f"m{i}.down.sql", up, down,
                             checksum(up.encode())))
    return out


def raw(migs: list[Migration]) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for m in migs:
        for direction in ("up", "down", "up"):
            for st in m.statements(direction, "sqlite"):
                conn.execute(st.text)
    conn.close()


def linted(migs: list[Migration]) -> None:
    result = lint(migs, "sqlite", SqliteScratch)
    assert not any(d.is_error for f in result.files for d in f.diagnostics), "the generated set should lint clean"


def best(fn: object, migs: list[Migration], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(migs)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times) if repeat > 1 else statistics.mean(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    migs = migrations(args.count)
    base = best(raw, migs, args.repeat)
    full = best(linted, migs, args.repeat)
    per_raw, per_lint = base * 1000 / args.count, full * 1000 / args.count
    print(f"{args.count} migrations, best of {args.repeat}")
    print(f"  raw up/down/up SQL (baseline): {base * 1000:8.1f} ms  ({per_raw:.2f} ms per migration)")
    print(f"  migrate lint --dialect sqlite: {full * 1000:8.1f} ms  ({per_lint:.2f} ms per migration)")
    print(f"  lint adds {per_lint - per_raw:.2f} ms per migration (bar: {BAR_MS:.0f} ms per migration in all)")
    return 0 if per_lint < BAR_MS else 1


if __name__ == "__main__":
    sys.exit(main())
