"""SQLite: concurrent runners and readers wait for each other's locks instead of failing.

Regression for "database is locked" (issue 11): the connection was opened with a zero busy
timeout, so a status read or the tracking-table check that met another runner's commit failed
at once. These tests fail without the busy timeout on every connection path.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pg_server import isolated_env, write_migrations

ROOT = Path(__file__).resolve().parent.parent


def inserting_migrations(directory: Path, count: int, rows: int) -> Path:
    """Non-idempotent migrations (CREATE TABLE twice fails) with enough rows to make commits overlap."""
    files = {}
    for i in range(count):
        version = f"202601010000{i:02d}"
        inserts = "".join(f"INSERT INTO t{i} VALUES ({j});\n" for j in range(rows))
        files[f"{version}_table_{i}.up.sql"] = f"CREATE TABLE t{i} (id INTEGER);\n{inserts}"
        files[f"{version}_table_{i}.down.sql"] = f"DROP TABLE t{i};\n"
    return write_migrations(directory, files)


def command(tmp_path: Path, db: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in isolated_env()}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    config = tmp_path / "empty.yaml"
    config.touch()
    return ([sys.executable, "-m", "codeai_lang.cli", "migrate", *args, "--database-url", f"sqlite:{db}",
             "--config", str(config)], env)


def run_pair(tmp_path: Path, db: Path, migrations: Path) -> list[tuple[int, str]]:
    """Start two `migrate up` at the same moment; return (exit code, stderr) of each."""
    cmd, env = command(tmp_path, db, "up", "--timeout", "60s", "--dir", str(migrations))
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, text=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(2)]
    results = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("a runner hung past 90 s")
        results.append((proc.returncode, err))
    return results


def applied_count(stderr: str) -> int:
    return sum(line.startswith("applied 2026") for line in stderr.splitlines())


def cpu_burners(count: int, seconds: float) -> list[subprocess.Popen[bytes]]:
    """Busy loops that end by themselves (and are killed by the caller) so nothing outlives the test."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]


@pytest.mark.slow
def test_twenty_concurrent_pairs_under_cpu_load_each_apply_every_migration_once(tmp_path: Path) -> None:
    migrations = inserting_migrations(tmp_path / "m", 6, 40)
    burners = cpu_burners(os.cpu_count() or 2, 70)
    failures = []
    try:
        for trial in range(20):
            db = tmp_path / f"trial{trial}.db"
            results = run_pair(tmp_path, db, migrations)
            codes = [code for code, _ in results]
            applied = sum(applied_count(err) for _, err in results)
            with sqlite3.connect(db) as conn:
                versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
                rows = conn.execute("SELECT count(*) FROM t5").fetchone()[0]
            if codes != [0, 0] or applied != 6 or len(versions) != 6 or rows != 40:
                failures.append((trial, codes, applied, len(versions), rows, [e[-300:] for _, e in results]))
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert failures == [], failures


def test_status_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    """A reader meeting an exclusive lock (a commit in progress) waits; it used to fail at once."""
    db = tmp_path / "x.db"
    migrations = inserting_migrations(tmp_path / "m", 1, 1)
    cmd, env = command(tmp_path, db, "up", "--dir", str(migrations))
    assert subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=60).returncode == 0
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        cmd, env = command(tmp_path, db, "status", "--timeout", "30s", "--dir", str(migrations))
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    finally:
        release.join()
        holder.close()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "latest 20260101000000"


@pytest.mark.parametrize("verb", ["up", "status"])
def test_a_lock_held_past_the_timeout_exits_2_in_time(tmp_path: Path, verb: str) -> None:
    db = tmp_path / "x.db"
    migrations = inserting_migrations(tmp_path / "m", 1, 1)
    sqlite3.connect(db).execute("CREATE TABLE keep (x INTEGER)").connection.commit()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        cmd, env = command(tmp_path, db, verb, "--timeout", "1s", "--dir", str(migrations))
        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    assert proc.returncode == 2, proc.stderr
    assert "within --timeout 1 s" in proc.stderr and "Traceback" not in proc.stderr
    assert elapsed < 15  # bounded by --timeout (plus interpreter start-up on a loaded machine)
