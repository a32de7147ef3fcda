"""`codeai migrate …` end to end on SQLite and on a real PostgreSQL server (each test runs on both)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pg_server import Db, db_fixture, invoke, slow_sql, write_migrations  # noqa: F401

INITIAL, USERS = 20260111120000, 20260115093000
# The server's schema (issue 16): config revisions, deployment lifecycle, v2 fields, execution actor.
SERVER = [20261201070000, 20261201070100, 20261201070200, 20261201070300]
ALL = [INITIAL, USERS, *SERVER]
LATEST = ALL[-1]
SCHEMA_TABLES = {"configs", "deployments", "executions", "users", "schema_migrations"}


@pytest.fixture
def empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "empty.yaml"
    path.write_text("# no settings: the tests pass --database-url\n")
    return path


def states(status_text: str) -> dict[int, str]:
    """``{version: state}`` from the text of `migrate status`."""
    return {int(line.split()[0]): line.split()[2] for line in status_text.splitlines()
            if line[:1].isdigit()}


def run(db: Db, config: Path, *args: str) -> tuple[int, str, str]:
    result = invoke("migrate", *args, "--database-url", db.url, config=config)
    return result.exit_code, result.stdout, result.stderr


def test_embedded_schema_up_status_down_reup_reset(db: Db, empty_config: Path) -> None:
    code, out, _ = run(db, empty_config, "status")
    assert code == 0 and out.splitlines()[-1] == "latest none" and out.count("pending") == len(ALL)

    code, _, err = run(db, empty_config, "up")
    assert code == 0, err
    assert db.tables() >= SCHEMA_TABLES
    assert "created_by" in db.columns("deployments")
    assert {"idx_deployments_config_id", "idx_executions_deployment_id",
            "idx_deployments_created_by"} <= db.indexes()
    assert [v for v, _, _ in db.tracking()] == ALL

    code, out, _ = run(db, empty_config, "status")
    assert out.splitlines()[-1] == f"latest {LATEST}" and out.count(" applied ") == len(ALL)

    code, out, _ = run(db, empty_config, "status", "--output", "json")
    doc = json.loads(out)
    assert doc["latest"] == str(LATEST) and doc["pending"] == 0
    assert [(m["version"], m["state"]) for m in doc["migrations"]] == [(str(v), "applied") for v in ALL]

    code, _, err = run(db, empty_config, "down", str(len(ALL) - 1))
    assert code == 0, err
    assert "users" not in db.tables() and "created_by" not in db.columns("deployments")
    assert "config_revisions" not in db.tables() and "state" not in db.columns("deployments")
    code, out, _ = run(db, empty_config, "status")
    assert out.splitlines()[-1] == f"latest {INITIAL}"
    assert states(out) == {INITIAL: "applied", **dict.fromkeys(ALL[1:], "pending")}

    assert run(db, empty_config, "up")[0] == 0
    assert "users" in db.tables() and [v for v, _, _ in db.tracking()] == ALL

    code, _, err = run(db, empty_config, "reset")
    assert code == 0, err
    assert db.tables() == {"schema_migrations"} and db.tracking() == []


def test_foreign_keys_of_the_embedded_schema_are_enforced(db: Db, empty_config: Path) -> None:
    assert run(db, empty_config, "up")[0] == 0
    db.query("INSERT INTO configs (id, name, dsl_version, source, checksum) VALUES ('c1', 'app', '2.0', '', 'x')")
    db.query("INSERT INTO users (id, email, display_name) VALUES ('u1', 'a@b.c', 'A')")
    db.query("INSERT INTO deployments (id, config_id, environment, created_by) VALUES ('d1', 'c1', 'prod', 'u1')")
    with pytest.raises(Exception, match="(?i)foreign key"):
        if db.kind == "sqlite":
            import sqlite3

            with sqlite3.connect(db.target.sqlite_path) as conn:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("INSERT INTO executions (id, deployment_id) VALUES ('e1', 'nope')")
        else:
            db.query("INSERT INTO executions (id, deployment_id) VALUES ('e1', 'nope')")
    # Reverting the user table keeps existing deployments.
    assert run(db, empty_config, "down")[0] == 0
    assert db.query("SELECT id, config_id FROM deployments") == [("d1", "c1")]


def test_up_n_down_n_and_goto(db: Db, empty_config: Path) -> None:
    assert run(db, empty_config, "up", "1")[0] == 0
    assert [v for v, _, _ in db.tracking()] == [INITIAL]
    assert run(db, empty_config, "goto", str(USERS))[0] == 0
    assert [v for v, _, _ in db.tracking()] == [INITIAL, USERS]
    assert run(db, empty_config, "goto", str(INITIAL))[0] == 0
    assert [v for v, _, _ in db.tracking()] == [INITIAL] and "users" not in db.tables()
    assert run(db, empty_config, "down", "5")[0] == 0
    assert db.tracking() == [] and "configs" not in db.tables()
    code, _, err = run(db, empty_config, "goto", "20990101000000")
    assert code == 2 and "unknown version 20990101000000" in err


def test_dry_run_prints_sql_and_changes_nothing(db: Db, empty_config: Path) -> None:
    code, out, _ = run(db, empty_config, "up", "--dry-run")
    assert code == 0
    assert "-- up: codeai_lang/platform/sql/20260111120000_initial_schema.up.sql" in out
    assert "CREATE TABLE users" in out
    assert not (db.tables() & SCHEMA_TABLES)


def test_failure_halfway_rolls_back_that_migration_only(db: Db, empty_config: Path, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "m", {
        "20260101000000_first.up.sql": "CREATE TABLE first_t (id INTEGER PRIMARY KEY);\n",
        "20260101000000_first.down.sql": "DROP TABLE first_t;\n",
        "20260102000000_second.up.sql": "CREATE TABLE second_t (id INTEGER);\n"
                                        "INSERT INTO second_t VALUES (1);\n\n"
                                        "INSERT INTO no_such_table VALUES (1);\n",
        "20260102000000_second.down.sql": "DROP TABLE second_t;\n",
        "20260103000000_third.up.sql": "CREATE TABLE third_t (id INTEGER);\n",
        "20260103000000_third.down.sql": "DROP TABLE third_t;\n",
    })
    code, _, err = run(db, empty_config, "up", "--dir", str(migrations))
    assert code == 1
    assert "20260102000000_second.up.sql: statement 3 (line 4) failed" in err
    assert "INSERT INTO no_such_table VALUES (1)" in err
    assert "no_such_table" in err.split("failed:", 1)[1]
    assert "rolled back" in err and "version 20260101000000" in err
    assert "first_t" in db.tables()
    assert not {"second_t", "third_t"} & db.tables()
    assert [v for v, _, _ in db.tracking()] == [20260101000000]
    code, out, _ = run(db, empty_config, "status", "--dir", str(migrations))
    assert out.splitlines()[-1] == "latest 20260101000000" and out.count("pending") == 2


def test_changed_applied_file_is_detected_and_refused(db: Db, empty_config: Path, tmp_path: Path) -> None:
    files = {"20260101000000_a.up.sql": "CREATE TABLE a (id INTEGER);\n",
             "20260101000000_a.down.sql": "DROP TABLE a;\n"}
    migrations = write_migrations(tmp_path / "m", files)
    assert run(db, empty_config, "up", "--dir", str(migrations))[0] == 0
    write_migrations(migrations, {"20260101000000_a.up.sql": "CREATE TABLE a (id INTEGER, x TEXT);\n",
                                  "20260102000000_b.up.sql": "CREATE TABLE b (id INTEGER);\n",
                                  "20260102000000_b.down.sql": "DROP TABLE b;\n"})
    code, out, _ = run(db, empty_config, "status", "--dir", str(migrations))
    assert states(out) == {20260101000000: "modified", 20260102000000: "pending"}
    assert json.loads(run(db, empty_config, "status", "-o", "json", "--dir", str(migrations))[1])[
        "migrations"][0]["state"] == "modified"
    code, _, err = run(db, empty_config, "up", "--dir", str(migrations))
    assert code == 1 and "20260101000000_a.up.sql" in err and "--allow-modified" in err
    assert "b" not in db.tables()
    code, _, err = run(db, empty_config, "up", "--allow-modified", "--dir", str(migrations))
    assert code == 0 and "b" in db.tables()
    # force re-records the current checksums after a manual fix.
    assert run(db, empty_config, "force", "20260102000000", "--dir", str(migrations))[0] == 0
    assert "modified" not in run(db, empty_config, "status", "--dir", str(migrations))[1]


def test_force_rewrites_tracking_without_running_sql(db: Db, empty_config: Path) -> None:
    assert run(db, empty_config, "force", str(USERS))[0] == 0
    assert [v for v, _, _ in db.tracking()] == [INITIAL, USERS]
    assert "configs" not in db.tables()  # no SQL ran
    assert run(db, empty_config, "force", str(INITIAL))[0] == 0
    assert [v for v, _, _ in db.tracking()] == [INITIAL]
    assert run(db, empty_config, "force", "0")[0] == 0
    assert db.tracking() == []


def test_missing_file_of_applied_migration(db: Db, empty_config: Path, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "m", {"20260101000000_a.up.sql": "CREATE TABLE a (id INTEGER);",
                                                   "20260101000000_a.down.sql": "DROP TABLE a;"})
    assert run(db, empty_config, "up", "--dir", str(migrations))[0] == 0
    for f in migrations.iterdir():
        f.unlink()
    code, out, _ = run(db, empty_config, "status", "--dir", str(migrations))
    assert code == 0 and states(out) == {20260101000000: "missing"} and out.endswith("latest 20260101000000\n")
    code, _, err = run(db, empty_config, "down", "--dir", str(migrations))
    assert code == 1 and "cannot revert 20260101000000" in err


def test_run_timeout_rolls_back(db: Db, empty_config: Path, tmp_path: Path) -> None:
    """--timeout covers connecting as well as the statements, so it is generous (3 s: a slow
    connect under load cannot use it up) and the statement is one that cannot finish within
    it (600 s): only the statement can be what times out, whatever the machine's load."""
    migrations = write_migrations(tmp_path / "m", {
        "20260101000000_slow.up.sql": "CREATE TABLE slow_t (id INTEGER);\n" + slow_sql(600),
        "20260101000000_slow.down.sql": "DROP TABLE slow_t;\n"})
    code, _, err = run(db, empty_config, "up", "--timeout", "3s", "--dir", str(migrations))
    assert code == 1, err
    assert "timed out (--timeout 3 s)" in err and "20260101000000_slow.up.sql: statement 2" in err
    assert "slow_t" not in db.tables() and db.tracking() == []


def test_lock_timeout(db: Db, empty_config: Path) -> None:
    from codeai_lang.platform.dbmigrate.backends import LOCK_KEY

    if db.kind == "sqlite":
        import sqlite3

        holder = sqlite3.connect(db.target.sqlite_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        holder = psycopg.connect(db.url, autocommit=True)  # type: ignore[assignment]
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        code, _, err = run(db, empty_config, "up", "--timeout", "1s")
    finally:
        holder.close()
    assert code == 2, err
    assert "waiting for the migration lock" in err
    assert "lock" in err and "within --timeout 1 s: another runner holds it" in err
    assert "configs" not in db.tables()
    assert run(db, empty_config, "up")[0] == 0
