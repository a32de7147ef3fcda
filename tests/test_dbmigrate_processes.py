"""Real processes: concurrent runners, kill -9 mid-migration, unreachable servers, bad files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pg_server import (  # noqa: F401
    Db,
    db_factory_fixture,
    db_fixture,
    isolated_env,
    slow_sql,
    unused_port,
    write_migrations,
)

ROOT = Path(__file__).resolve().parent.parent


def spawn(db: Db, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`python -m codeai_lang.cli migrate …` with a clean config (empty HOME, cwd, no CODEAI_*)."""
    env = {k: v for k, v in os.environ.items() if k not in isolated_env()}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    config = tmp_path / "empty.yaml"
    config.touch()
    return subprocess.Popen([sys.executable, "-m", "codeai_lang.cli", "migrate", *args, "--database-url", db.url,
                             "--config", str(config)], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def many_migrations(directory: Path, count: int) -> Path:
    """Non-idempotent migrations: applying any of them twice would fail (CREATE TABLE again)."""
    files = {}
    for i in range(count):
        version = f"202601010000{i:02d}"
        files[f"{version}_table_{i}.up.sql"] = (f"CREATE TABLE t{i} (id INTEGER);\n" + slow_sql(0.1)
                                                + f"INSERT INTO t{i} VALUES ({i});\n")
        files[f"{version}_table_{i}.down.sql"] = f"DROP TABLE t{i};\n"
    return write_migrations(directory, files)


def test_two_runners_at_once_apply_each_migration_exactly_once(db: Db, tmp_path: Path) -> None:
    migrations = many_migrations(tmp_path / "m", 12)
    barrier = threading.Barrier(2)
    procs: list[subprocess.Popen[str]] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        proc = spawn(db, tmp_path, "up", "--timeout", "60s", "--dir", str(migrations))
        with lock:
            procs.append(proc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    applied_lines = sum(err.count("\napplied 2026") + err.startswith("applied 2026") for _, _, err in results)
    assert applied_lines == 12, results
    assert any("waiting for the migration lock" in err for _, _, err in results), "the runs did not overlap"
    assert [v for v, _, _ in db.tracking()] == [int(f"202601010000{i:02d}") for i in range(12)]
    assert db.query("SELECT count(*) FROM t11") == [(1,)]


def wait_until_statement_runs(db: Db, marker: str, timeout: float = 60) -> None:
    """Return once the slow statement is executing, not after a guessed delay.

    PostgreSQL: pg_stat_activity shows a backend running it. SQLite has no view of another
    process's statement; the runner logs 'statement N/M' just before executing it and commits
    only after the last one, so killing right after that line is inside the transaction
    whatever the timing (no wait is the safe choice there)."""
    if db.kind != "postgres":
        return
    deadline = time.monotonic() + timeout
    sql = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
           "AND datname = current_database() "
           f"AND query LIKE '%{marker}%'")
    while time.monotonic() < deadline:
        if db.query(sql)[0][0]:
            return
        time.sleep(0.01)
    pytest.fail(f"no backend ever ran the statement containing {marker!r}")


def up_until_slow_statement(db: Db, tmp_path: Path, migrations: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `up --verbose` and return once it runs the third statement of the second migration
    (the slow one): the process and the stderr lines read so far."""
    proc = spawn(db, tmp_path, "up", "--verbose", "--dir", str(migrations))
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "20260102000000_two.up.sql: statement 3/4" in line:
            break
    else:
        pytest.fail("runner never reached the slow statement:\n" + "".join(seen))
    wait_until_statement_runs(db, "pg_sleep")
    return proc, seen


def test_kill_9_mid_migration_then_status_and_up(db: Db, db_factory: Callable[[str], Db], tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "m", {
        "20260101000000_one.up.sql": "CREATE TABLE one_t (id INTEGER);\nINSERT INTO one_t VALUES (1);\n",
        "20260101000000_one.down.sql": "DROP TABLE one_t;\n",
        "20260102000000_two.up.sql": "CREATE TABLE two_t (id INTEGER);\nINSERT INTO two_t VALUES (2);\n"
                                     + slow_sql(2) + "INSERT INTO two_t VALUES (3);\n",
        "20260102000000_two.down.sql": "DROP TABLE two_t;\n",
        "20260103000000_three.up.sql": "CREATE TABLE three_t (id INTEGER);\n",
        "20260103000000_three.down.sql": "DROP TABLE three_t;\n",
    })
    proc, _ = up_until_slow_statement(db, tmp_path, migrations)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close() if proc.stdout else None
    proc.stderr.close() if proc.stderr else None

    code, out, err = finish(spawn(db, tmp_path, "status", "--dir", str(migrations)))
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines()[:3]] == ["applied", "pending", "pending"]
    assert out.splitlines()[-1] == "latest 20260101000000"

    code, _, err = finish(spawn(db, tmp_path, "up", "--timeout", "60s", "--dir", str(migrations)))
    assert code == 0, err
    reference = db_factory(db.kind)
    assert finish(spawn(reference, tmp_path, "up", "--dir", str(migrations)))[0] == 0
    assert db.snapshot() == reference.snapshot()
    assert db.query("SELECT id FROM two_t ORDER BY id") == [(2,), (3,)]
    versions = [v for v, _, _ in db.tracking()]
    assert versions == sorted(set(versions)) == [20260101000000, 20260102000000, 20260103000000]


def test_unreachable_postgres_server_exits_2(tmp_path: Path) -> None:
    port = unused_port()
    unreachable = Db("postgres", f"postgresql://postgres@127.0.0.1:{port}/codeai", None)  # type: ignore[arg-type]
    code, out, err = finish(spawn(unreachable, tmp_path, "up", "--timeout", "5s"))
    assert code == 2
    assert f"cannot connect to PostgreSQL postgresql://postgres@127.0.0.1:{port}/codeai" in err
    assert "Traceback" not in err and out == ""


def test_unopenable_sqlite_file_exits_2(tmp_path: Path) -> None:
    missing_dir = Db("sqlite", f"sqlite:{tmp_path}/no/such/dir/x.db", None)  # type: ignore[arg-type]
    code, _, err = finish(spawn(missing_dir, tmp_path, "up"))
    assert code == 2 and "cannot open SQLite database" in err


@pytest.mark.parametrize(("files", "message"), [
    ({"2026_bad.up.sql": "SELECT 1;", "2026_bad.down.sql": "SELECT 1;"},
     "2026_bad.up.sql: malformed migration file name (expected YYYYMMDDHHMMSS_snake_name.up.sql"),
    ({"20260101000000_CamelCase.up.sql": "SELECT 1;"}, "20260101000000_CamelCase.up.sql: malformed"),
    ({"20260101000000_only_up.up.sql": "SELECT 1;"},
     "20260101000000_only_up.up.sql: missing down file (expected"),
    ({"20261301000000_bad_month.up.sql": "", "20261301000000_bad_month.down.sql": ""},
     "'20261301000000' is not a valid YYYYMMDDHHMMSS timestamp"),
])
def test_invalid_migration_sets_exit_1_before_touching_the_database(
        tmp_path: Path, files: dict[str, str], message: str) -> None:
    migrations = write_migrations(tmp_path / "m", files)
    target = Db("sqlite", f"sqlite:{tmp_path}/x.db", None)  # type: ignore[arg-type]
    code, _, err = finish(spawn(target, tmp_path, "up", "--dir", str(migrations)))
    assert code == 1 and message in err, err
    assert not (tmp_path / "x.db").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    target = Db("sqlite", f"sqlite:{tmp_path}/x.db", None)  # type: ignore[arg-type]
    assert finish(spawn(target, tmp_path, "up", "--dir", str(tmp_path / "nope")))[0] == 2
    code, _, err = finish(spawn(target, tmp_path, "up", "--timeout", "soon"))
    assert code == 2 and "invalid duration 'soon'" in err


def test_ctrl_c_during_up_leaves_the_database_as_before_that_migration(db: Db, db_factory: Callable[[str], Db],
                                                                        tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) while a migration's slow statement runs: that migration is rolled back
    (its table and tracking row are gone), the earlier one is kept, exit 1 with a message.

    PostgreSQL cancels the statement (psycopg sends a cancel request), so a 120 s statement ends
    at once. KNOWN GAP: SQLite without --timeout has no progress handler, so Python sees the
    signal only when the statement returns; its statement is therefore short (about 3 s)."""
    slow = ("-- codeai:dialect postgres\nSELECT pg_sleep(120);\n-- codeai:dialect sqlite\n"
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 18000000) "
            "SELECT count(*) FROM c;\n-- codeai:dialect all\n")
    migrations = write_migrations(tmp_path / "m", {
        "20260101000000_one.up.sql": "CREATE TABLE one_t (id INTEGER);\n",
        "20260101000000_one.down.sql": "DROP TABLE one_t;\n",
        "20260102000000_two.up.sql": "CREATE TABLE two_t (id INTEGER);\nINSERT INTO two_t VALUES (2);\n"
                                     + slow + "INSERT INTO two_t VALUES (3);\n",
        "20260102000000_two.down.sql": "DROP TABLE two_t;\n",
    })
    proc, seen = up_until_slow_statement(db, tmp_path, migrations)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc)
    assert code == 1, "".join(seen) + err
    assert "interrupted" in err and "rolled back" in err and "Traceback" not in err
    if db.kind == "postgres":
        assert time.monotonic() - started < 60  # the 120 s statement was cancelled, not waited for
    assert "two_t" not in db.tables()
    assert [v for v, _, _ in db.tracking()] == [20260101000000]
    reference = db_factory(db.kind)
    assert finish(spawn(reference, tmp_path, "up", "1", "--dir", str(migrations)))[0] == 0
    assert db.snapshot() == reference.snapshot()


def test_unreachable_server_with_a_password_is_reported_without_it(tmp_path: Path) -> None:
    port = unused_port()
    url = f"postgresql://app:s3cret-pw@127.0.0.1:{port}/codeai"
    code, out, err = finish(spawn(Db("postgres", url, None), tmp_path, "up", "--timeout", "5s"))  # type: ignore[arg-type]
    assert code == 2
    assert "cannot connect to PostgreSQL" in err and f"127.0.0.1:{port}/codeai" in err and "app" in err
    assert "s3cret-pw" not in err + out and "Traceback" not in err
