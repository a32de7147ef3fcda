"""Issue 12 items 12–13: PostgreSQL timeouts beyond INT_MAX ms; unreadable or odd $HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_runner import run_codeai
from pg_server import get_server

from codeai_lang.platform.config import ConfigError, load_config
from codeai_lang.platform.dbmigrate.backends import _clamp_ms

# A path component longer than NAME_MAX: stat() fails with ENAMETOOLONG, which pathlib does not
# swallow — the same path as an unreadable $HOME for a non-root user, and reproducible as root.
ODD_HOME = "/tmp/" + "h" * 300


def test_pg_timeout_is_clamped_into_integer_range() -> None:
    assert _clamp_ms(1000 * 3600) == 2**31 - 1
    assert _clamp_ms(0.0001) == 1 and _clamp_ms(30) == 30_000


@pytest.mark.postgres
def test_migrate_up_with_a_1000h_timeout_on_postgres(tmp_path: Path) -> None:
    url = get_server().create_database()
    proc = run_codeai("migrate", "up", "--timeout", "1000h", "--database-url", url,
                      cwd=tmp_path, env={"HOME": str(tmp_path)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "out of range" not in proc.stderr


def test_odd_home_skips_that_layer_with_a_warning(tmp_path: Path) -> None:
    proc = run_codeai("config", "show", cwd=tmp_path, env={"HOME": ODD_HOME}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "warning:" in proc.stderr and ".cai.yaml" in proc.stderr and "skipped" in proc.stderr


def test_home_that_is_a_file_is_skipped(tmp_path: Path) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a directory")
    proc = run_codeai("config", "show", cwd=tmp_path, env={"HOME": str(home)}, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr


def test_explicit_config_that_cannot_be_read_is_exit_2(tmp_path: Path) -> None:
    proc = run_codeai("config", "show", "--config", f"{ODD_HOME}/c.yaml", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "codeai: error:" in proc.stderr


def test_unreadable_home_file_is_skipped_but_named_one_fails(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, because root reads a mode-000 file anyway: the read fails with EACCES."""
    home_file = tmp_path / ".cai.yaml"
    home_file.write_text("database: {port: 1234}\n")
    local = tmp_path / "config.yaml"
    local.write_text("server: {port: 9000}\n")
    real = Path.read_text

    def deny(self: Path, *args: object, **kwargs: object) -> str:
        if self == home_file:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", deny)
    cfg = load_config([home_file, local], env={})
    assert cfg.get("database.port") == 5432 and cfg.get("server.port") == 9000  # other layers kept
    assert cfg.files == [str(local)]
    assert any("Permission denied" in w and "skipped" in w for w in cfg.warnings)
    with pytest.raises(ConfigError, match="Permission denied"):
        load_config(config_file=home_file, env={})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 directory anyway")
def test_mode_000_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0)
    try:
        proc = run_codeai("config", "show", cwd=tmp_path, env={"HOME": str(home)}, timeout=60)
    finally:
        home.chmod(0o700)
    assert proc.returncode == 0 and "skipped" in proc.stderr


def test_sqlite_lock_wait_with_a_1000h_timeout_waits(tmp_path: Path) -> None:
    """SQLite reads a busy_timeout above INT_MAX as 0: `--timeout 1000h` gave up at once."""
    import sqlite3
    import subprocess
    import sys

    db = tmp_path / "app.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    proc = subprocess.Popen([sys.executable, "-m", "codeai_lang.cli", "migrate", "up", "--timeout", "1000h",
                             "--database-url", f"sqlite:{db}"], cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # an event: the runner says it is waiting for the lock
        assert "waiting for the migration lock" in line, line + proc.stderr.read()
        with pytest.raises(subprocess.TimeoutExpired):  # still waiting (it used to fail at once)
            proc.wait(timeout=2)
        holder.execute("ROLLBACK")
        out, err = proc.communicate(timeout=120)
    finally:
        holder.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, line + err
