"""`-- codeai:no-transaction` migrations: CREATE INDEX CONCURRENTLY on the real PostgreSQL, recorded
only on success, a clear message with `force` guidance when one fails halfway; SQLite keeps them
transactional (exactly once between concurrent runners)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pg_server import Db, db_fixture, invoke, make_db, write_migrations  # noqa: F401

BASE = {
    "20260101000000_items.up.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT, qty INTEGER);\n"
                                   "INSERT INTO items VALUES (1, 'a', 1), (2, 'a', 2), (3, 'b', 3);\n",
    "20260101000000_items.down.sql": "DROP TABLE items;\n",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "empty.yaml"
    path.write_text("# tests pass --database-url\n")
    return path


def run(db: Db, config: Path, *args: str) -> tuple[int, str, str]:
    result = invoke("migrate", *args, "--database-url", db.url, config=config)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.postgres
def test_concurrent_index_runs_outside_a_transaction_and_is_recorded(tmp_path: Path, config: Path) -> None:
    db = make_db("postgres", tmp_path)
    migrations = write_migrations(tmp_path / "m", {
        **BASE,
        "20260102000000_index_qty.up.sql": "-- codeai:no-transaction\n"
                                           "CREATE INDEX CONCURRENTLY IF NOT EXISTS items_qty ON items (qty);\n",
        "20260102000000_index_qty.down.sql": "-- codeai:no-transaction\n"
                                             "DROP INDEX CONCURRENTLY IF EXISTS items_qty;\n",
    })
    code, _, err = run(db, config, "up", "--dir", str(migrations), "--timeout", "60s")
    assert code == 0, err
    assert "applied 20260102000000_index_qty outside a transaction" in err
    assert db.query("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = 'items_qty'") == [(True,)]
    assert [v for v, _, _ in db.tracking()] == [20260101000000, 20260102000000]
    code, _, err = run(db, config, "down", "--dir", str(migrations))
    assert code == 0, err
    assert "items_qty" not in db.indexes() and [v for v, _, _ in db.tracking()] == [20260101000000]


@pytest.mark.postgres
def test_without_the_marker_concurrently_fails_and_rolls_back(tmp_path: Path, config: Path) -> None:
    db = make_db("postgres", tmp_path)
    migrations = write_migrations(tmp_path / "m", {
        **BASE,
        "20260102000000_index_qty.up.sql": "CREATE INDEX CONCURRENTLY items_qty ON items (qty);\n",
        "20260102000000_index_qty.down.sql": "DROP INDEX items_qty;\n",
    })
    code, _, err = run(db, config, "up", "--dir", str(migrations))
    assert code == 1 and "cannot run inside a transaction block" in err
    assert [v for v, _, _ in db.tracking()] == [20260101000000]


@pytest.mark.postgres
def test_failure_halfway_is_not_recorded_and_says_what_to_do(tmp_path: Path, config: Path) -> None:
    db = make_db("postgres", tmp_path)
    migrations = write_migrations(tmp_path / "m", {
        **BASE,
        "20260102000000_indexes.up.sql": "-- codeai:no-transaction\n"
                                         "CREATE INDEX CONCURRENTLY IF NOT EXISTS items_qty ON items (qty);\n"
                                         "CREATE UNIQUE INDEX CONCURRENTLY items_sku ON items (sku);\n",
        "20260102000000_indexes.down.sql": "-- codeai:no-transaction\n"
                                           "DROP INDEX CONCURRENTLY IF EXISTS items_sku;\n"
                                           "DROP INDEX CONCURRENTLY IF EXISTS items_qty;\n",
    })
    code, _, err = run(db, config, "up", "--dir", str(migrations))
    assert code == 1, err
    assert "20260102000000_indexes.up.sql: statement 2 (line 3) failed" in err
    assert "could not create unique index" in err
    assert "statement 1 of it stayed applied" in err and "it was not recorded as applied" in err
    assert "codeai migrate force 20260102000000" in err and "DROP INDEX CONCURRENTLY IF EXISTS" in err
    assert "Traceback" not in err
    assert [v for v, _, _ in db.tracking()] == [20260101000000]
    assert {"items_qty", "items_sku"} <= db.indexes()  # the first index, and the INVALID one left behind
    # The documented repair: drop the invalid index, fix the data, run up again.
    db.query("DROP INDEX CONCURRENTLY items_sku")
    db.query("UPDATE items SET sku = 'c' WHERE id = 2")
    code, _, err = run(db, config, "up", "--dir", str(migrations))
    assert code == 0, err
    assert [v for v, _, _ in db.tracking()] == [20260101000000, 20260102000000]


def test_sqlite_keeps_the_transaction_for_marked_migrations(tmp_path: Path, config: Path) -> None:
    db = make_db("sqlite", tmp_path)
    migrations = write_migrations(tmp_path / "m", {
        **BASE,
        "20260102000000_indexes.up.sql": "-- codeai:no-transaction\n"
                                         "CREATE INDEX IF NOT EXISTS items_qty ON items (qty);\n"
                                         "CREATE UNIQUE INDEX items_sku ON items (sku);\n",
        "20260102000000_indexes.down.sql": "DROP INDEX IF EXISTS items_sku;\nDROP INDEX IF EXISTS items_qty;\n",
    })
    code, _, err = run(db, config, "up", "--dir", str(migrations))
    assert code == 1 and "was rolled back" in err
    assert "items_qty" not in db.indexes()  # all or nothing, as for any migration on SQLite
    assert [v for v, _, _ in db.tracking()] == [20260101000000]


@pytest.mark.postgres
def test_dry_run_says_no_transaction(tmp_path: Path, config: Path) -> None:
    db = make_db("postgres", tmp_path)
    migrations = write_migrations(tmp_path / "m", {
        **BASE,
        "20260102000000_index_qty.up.sql": "-- codeai:no-transaction\nCREATE INDEX CONCURRENTLY i ON items (qty);\n",
        "20260102000000_index_qty.down.sql": "DROP INDEX i;\n",
    })
    code, out, _ = run(db, config, "up", "--dry-run", "--dir", str(migrations))
    assert code == 0 and "-- up (no transaction): " in out
