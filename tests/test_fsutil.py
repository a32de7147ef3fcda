"""atomic_write: exact bytes, permissions kept, and nothing half-written on failure."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codeai_lang.files import atomic as fsutil
from codeai_lang.files.atomic import atomic_write


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bytes_are_exact(tmp_path: Path) -> None:
    target = tmp_path / "a.cai"
    atomic_write(target, "x\r\ny\nz")
    assert target.read_bytes() == b"x\r\ny\nz"
    atomic_write(target, "é\r\n".encode())
    assert target.read_bytes() == "é\r\n".encode()


@pytest.mark.parametrize("bits", [0o600, 0o640, 0o755])
def test_permissions_are_kept(tmp_path: Path, bits: int) -> None:
    target = tmp_path / "a.cai"
    target.write_text("old")
    target.chmod(bits)
    atomic_write(target, "new")
    assert mode(target) == bits and target.read_text() == "new"


def test_new_file_follows_umask(tmp_path: Path) -> None:
    target = tmp_path / "new.cai"
    atomic_write(target, "x")
    assert mode(target) == 0o666 & ~fsutil._umask()


def test_mode_from_another_file(tmp_path: Path) -> None:
    source = tmp_path / "in.cai"
    source.write_text("x")
    source.chmod(0o700)
    atomic_write(tmp_path / "out.cai", "y", mode_from=source)
    assert mode(tmp_path / "out.cai") == 0o700


def test_symlink_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.cai"
    real.write_text("old")
    link = tmp_path / "link.cai"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failure_leaves_the_original_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      failing: str) -> None:
    target = tmp_path / "a.cai"
    target.write_bytes(b"old\r\n")

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cai"]


def test_remove_stale_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a[1].cai"
    target.write_text("x")
    (tmp_path / ".a[1].cai.abcd1234.tmp").write_text("half")
    (tmp_path / ".other.cai.abcd1234.tmp").write_text("keep")
    removed = fsutil.remove_stale_temp_files(target)
    assert [p.name for p in removed] == [".a[1].cai.abcd1234.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.cai.abcd1234.tmp", "a[1].cai"]


@pytest.mark.parametrize("point", ["partial", "renaming"])
def test_process_killed_inside_the_write_leaves_the_old_file(tmp_path: Path, point: str) -> None:
    """A process dying inside atomic_write (CODEAI_ATOMIC_FAULT) leaves the old bytes and a temp
    file that only remove_stale_temp_files clears: the hook really fires inside the write."""
    target = tmp_path / "f.cai"
    target.write_bytes(b"old contents\n")
    code = f"from codeai_lang.files.atomic import atomic_write; atomic_write({str(target)!r}, 'new ' * 1000)"
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "CODEAI_ATOMIC_FAULT": f"{point}:f.cai"},
                          capture_output=True, timeout=60)
    assert proc.returncode == 70, proc.stderr
    assert target.read_bytes() == b"old contents\n"
    temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1
    expected = 2000 if point == "partial" else 4000
    assert temps[0].stat().st_size == expected
    assert fsutil.remove_stale_temp_files(target) == temps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.cai"]
