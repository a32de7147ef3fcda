"""Issue 12 item 3: `migrate-dsl` keeps owner, group and mode; read-only files are refused per file."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
from pathlib import Path

import pytest
from cli_runner import run_codeai

from codeai_lang.files.atomic import atomic_write

MIGRATIONS = Path(__file__).resolve().parents[2] / "corpus" / "migrations"
BEFORE = MIGRATIONS / "mixed" / "all_rules.before.cai"
AFTER = MIGRATIONS / "mixed" / "all_rules.after.cai"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


def _nobody() -> tuple[int, int]:
    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid


@needs_root
def test_root_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    uid, gid = _nobody()
    target = tmp_path / "app.cai"
    shutil.copyfile(BEFORE, target)
    os.chown(target, uid, gid)
    target.chmod(0o640)
    proc = run_codeai("migrate-dsl", "--to", "2.0", str(target), timeout=120)
    assert proc.returncode == 0, proc.stderr
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, 0o640)
    assert target.read_bytes() == AFTER.read_bytes()


@needs_root
def test_atomic_write_keeps_owner_and_setgid_bit(tmp_path: Path) -> None:
    uid, gid = _nobody()
    target = tmp_path / "x.cai"
    target.write_text("old")
    os.chown(target, uid, gid)
    target.chmod(0o2660)
    atomic_write(target, "new")
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, 0o2660)


def test_read_only_file_is_refused_and_others_still_migrate(tmp_path: Path) -> None:
    locked, free = tmp_path / "locked.cai", tmp_path / "free.cai"
    shutil.copyfile(BEFORE, locked)
    shutil.copyfile(BEFORE, free)
    locked.chmod(0o444)
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", "-j", "1", str(tmp_path), timeout=120)
    assert proc.returncode == 2, proc.stderr
    files = {Path(f["path"]).name: f for f in json.loads(proc.stdout)["files"]}
    assert "not writable" in files["locked.cai"]["error"] and not files["locked.cai"]["written"]
    assert files["free.cai"]["written"] and files["free.cai"]["error"] is None
    assert locked.read_bytes() == BEFORE.read_bytes() and stat.S_IMODE(locked.stat().st_mode) == 0o444
    assert free.read_bytes() == AFTER.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["free.cai", "locked.cai"]


def test_check_mode_does_not_refuse_read_only_files(tmp_path: Path) -> None:
    locked = tmp_path / "locked.cai"
    shutil.copyfile(BEFORE, locked)
    locked.chmod(0o444)
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--check", str(locked), timeout=120)
    assert proc.returncode == 1, proc.stderr  # would change; nothing written, nothing refused
