"""Issue 12 item 9: Ctrl-C during `migrate-dsl` over thousands of files.

The run is a real subprocess in its own session; SIGINT goes to the whole process group, as a
terminal's Ctrl-C does, once the first file has visibly changed (an event, not a fixed sleep).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

MIGRATIONS = Path(__file__).resolve().parents[2] / "corpus" / "migrations"
BEFORE = (MIGRATIONS / "mixed" / "all_rules.before.cai").read_bytes()
AFTER = (MIGRATIONS / "mixed" / "all_rules.after.cai").read_bytes()
FILES = 2000
LIMIT = 120  # seconds: generous; only a hang reaches it


def _tree(root: Path) -> list[Path]:
    root.mkdir()
    paths = [root / f"f{i:05d}.cai" for i in range(FILES)]
    first = paths[0]
    first.write_bytes(BEFORE)
    for path in paths[1:]:
        shutil.copyfile(first, path)
    return paths


def _interrupt_after_first_change(args: list[str], first: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen([sys.executable, "-m", "codeai_lang.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + LIMIT
        while first.read_bytes() == BEFORE:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no file was migrated in time"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=LIMIT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["2", "1"])
def test_ctrl_c_stops_early_reports_and_leaves_every_file_whole(tmp_path: Path, jobs: str) -> None:
    paths = _tree(tmp_path / "tree")
    stale = [tmp_path / "tree" / ".f00003.cai.codeai-999999999-abcd.tmp",  # a dead PID
             tmp_path / "tree" / ".f00004.cai.abcdefgh.tmp"]  # old naming, two hours old
    for path in stale:
        path.write_bytes(b"")
    old = time.time() - 7200
    os.utime(stale[1], (old, old))
    live = tmp_path / "tree" / f".f00005.cai.codeai-{os.getpid()}-live.tmp"  # a running writer's
    live.write_bytes(b"")

    proc = _interrupt_after_first_change(["migrate-dsl", "--to", "2.0", "--report", "json", "-j", jobs,
                                          str(tmp_path / "tree")], paths[0])

    assert proc.returncode == 130, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)  # the report is complete, interrupted or not
    assert doc["summary"]["interrupted"] is True
    skipped = {f["path"] for f in doc["files"] if f["error"] and "not migrated" in f["error"]}
    written = {f["path"] for f in doc["files"] if f["written"]}
    assert skipped and written and len(doc["files"]) == FILES
    assert doc["summary"]["not_attempted"] == len(skipped)
    assert "interrupted:" in proc.stderr and "not migrated" in proc.stderr
    for path in paths:
        data = path.read_bytes()
        assert data in (BEFORE, AFTER), path  # never half-written
        assert (data == AFTER) == (str(path) in written), path
    leftovers = sorted(p.name for p in (tmp_path / "tree").iterdir() if p.name.endswith(".tmp"))
    assert leftovers == [live.name]  # stale ones removed, ours cleaned up, a live writer's kept


@pytest.mark.slow
def test_second_run_finishes_the_job(tmp_path: Path) -> None:
    paths = _tree(tmp_path / "tree")
    first = _interrupt_after_first_change(["migrate-dsl", "--to", "2.0", "-j", "2", str(tmp_path / "tree")], paths[0])
    assert first.returncode == 130
    again = subprocess.run([sys.executable, "-m", "codeai_lang.cli", "migrate-dsl", "--to", "2.0", "-j", "2",
                            str(tmp_path / "tree")], capture_output=True, text=True, timeout=LIMIT * 3)
    assert again.returncode == 0, again.stderr[-2000:]
    assert all(p.read_bytes() == AFTER for p in paths)
