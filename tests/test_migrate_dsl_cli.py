"""`codeai migrate-dsl` through the real CLI (subprocesses), on small trees in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from cli_runner import run_codeai

MIGRATIONS = Path(__file__).resolve().parent.parent / "corpus" / "migrations"
BEFORE = MIGRATIONS / "mixed" / "all_rules.before.cai"
AFTER = MIGRATIONS / "mixed" / "all_rules.after.cai"
NEEDS_HUMAN = MIGRATIONS / "manual" / "d4_not_a_duration.before.cai"


# These tests exercise the CLI on the 2.0 migration fixtures, so they name the target; the
# default target (the newest version) and the 1.0 → 2.1 chain are in tests/test_dsl_2_1.py.


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Six files needing migration, one already at 2.0, one needing a human."""
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    for i, rule in enumerate(("D1", "D2", "D3", "D4", "D5", "D6")):
        src = sorted((MIGRATIONS / rule).glob("*.before.cai"))[0]
        copy(src, root / ("sub" if i % 2 else ".") / f"{rule}.cai")
    copy(AFTER, root / "done.cai")
    copy(NEEDS_HUMAN, root / "human.cai")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.cai"))}


def expected_after(name: str) -> bytes:
    rule = name.removesuffix(".cai")
    src = sorted((MIGRATIONS / rule).glob("*.before.cai"))[0]
    return src.with_name(src.name.replace(".before.", ".after.")).read_bytes()


def test_in_place_keeps_permissions_and_crlf(tmp_path: Path) -> None:
    target = copy(MIGRATIONS / "D3" / "crlf_default_kind.before.cai", tmp_path / "app.cai")
    target.chmod(0o640)
    proc = run_codeai("migrate-dsl", "--to", "2.0", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.read_bytes() == (MIGRATIONS / "D3" / "crlf_default_kind.after.cai").read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "1 migrated" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["app.cai"]  # no temp file left


def test_already_at_target_is_not_rewritten(tmp_path: Path) -> None:
    target = copy(AFTER, tmp_path / "app.cai")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    proc = run_codeai("migrate-dsl", "--to", "2.0", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.stat().st_mtime_ns == 1_000_000_000


def test_output_single_file_only(tmp_path: Path) -> None:
    src = copy(BEFORE, tmp_path / "in.cai")
    out = tmp_path / "out.cai"
    proc = run_codeai("migrate-dsl", "--to", "2.0", str(src), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == AFTER.read_bytes() and src.read_bytes() == BEFORE.read_bytes()
    proc = run_codeai("migrate-dsl", "--to", "2.0", str(src), str(src), "--output", str(out))
    assert proc.returncode == 2 and "exactly one input file" in proc.stderr
    proc = run_codeai("migrate-dsl", "--to", "2.0", str(tmp_path), "--output", str(out))
    assert proc.returncode == 2


def test_check_writes_nothing(tree: Path) -> None:
    before = snapshot(tree)
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--check", "--jobs", "1", str(tree))
    assert proc.returncode == 1
    assert snapshot(tree) == before
    done = run_codeai("migrate-dsl", "--to", "2.0", "--check", str(tree / "done.cai"))
    assert done.returncode == 0, done.stderr


def test_diff_prints_and_writes_nothing(tree: Path) -> None:
    before = snapshot(tree)
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--diff", str(tree / "sub" / "D6.cai"))
    assert proc.returncode == 0, proc.stderr
    assert snapshot(tree) == before
    assert proc.stdout.startswith("--- a/") and "\n+++ b/" in proc.stdout
    assert '\n-on "user.created" do integration "crm"\n' in proc.stdout
    assert '\n+on "user.created" { integration "crm" }\n' in proc.stdout


def test_report_json_and_parallel_directory(tree: Path) -> None:
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--jobs", "2", "--report", "json", str(tree))
    assert proc.returncode == 1  # human.cai needs a human
    report = json.loads(proc.stdout)
    files = {Path(f["path"]).name: f for f in report["files"]}
    assert set(files) == {"D1.cai", "D2.cai", "D3.cai", "D4.cai", "D5.cai", "D6.cai", "done.cai", "human.cai"}
    assert {"path", "from", "to", "changed", "rules_applied", "manual", "error"} <= set(files["D1.cai"])
    assert files["D1.cai"]["changed"] and files["D1.cai"]["rules_applied"] == ["D1"]
    assert not files["done.cai"]["changed"] and files["done.cai"]["error"] is None
    human = files["human.cai"]
    assert human["error"] and human["manual"][0]["rule"] == "D4" and human["manual"][0]["line"] == 5
    assert report["summary"] | {"seconds": 0} == {"files": 8, "target": "2.0", "mode": "write", "changed": 6,
                                                  "unchanged": 1, "failed": 1, "written": 6, "seconds": 0}
    for name in ("D1", "D2", "D3", "D4", "D5", "D6"):
        path = tree / ("sub" if name in ("D2", "D4", "D6") else ".") / f"{name}.cai"
        assert path.read_bytes() == expected_after(f"{name}.cai"), name
    assert (tree / "human.cai").read_bytes() == NEEDS_HUMAN.read_bytes()
    again = run_codeai("migrate-dsl", "--to", "2.0", "--check", str(tree / "sub"))
    assert again.returncode == 0, again.stderr


def test_unknown_target_and_missing_path(tmp_path: Path) -> None:
    src = copy(BEFORE, tmp_path / "in.cai")
    proc = run_codeai("migrate-dsl", "--to", "7.0", str(src))
    assert proc.returncode == 2 and "unknown DSL version '7.0'" in proc.stderr
    assert run_codeai("migrate-dsl", str(tmp_path / "nope.cai")).returncode == 2
    assert src.read_bytes() == BEFORE.read_bytes()


def test_to_1_1_only_updates_the_directive(tmp_path: Path) -> None:
    src = copy(BEFORE, tmp_path / "in.cai")
    proc = run_codeai("migrate-dsl", "--to", "1.1", str(src))
    assert proc.returncode == 0, proc.stderr
    assert src.read_bytes() == BEFORE.read_bytes().replace(b"#version 1.0", b"#version 1.1", 1)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_worker_raising_leaves_that_file_untouched(tree: Path, jobs: str) -> None:
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--jobs", jobs, "--report", "json", str(tree),
                      env={"CODEAI_MIGRATE_FAULT": "raise:D3.cai"})
    assert proc.returncode == 1
    files = {Path(f["path"]).name: f for f in json.loads(proc.stdout)["files"]}
    assert "internal error: RuntimeError" in files["D3.cai"]["error"]
    assert str(tree / "D3.cai") in files["D3.cai"]["path"]
    assert (tree / "D3.cai").read_bytes() == (sorted((MIGRATIONS / "D3").glob("*.before.cai"))[0]).read_bytes()
    assert (tree / "D1.cai").read_bytes() == expected_after("D1.cai")


# Where the worker dies: before reading the file (migrate-dsl's own hook), and inside the atomic
# write once the temp file exists (half written) or is complete just before the rename.
KILL_POINTS = {
    "before-read": {"CODEAI_MIGRATE_FAULT": "exit:D4.cai"},
    "temp-half-written": {"CODEAI_ATOMIC_FAULT": "partial:D4.cai"},
    "before-rename": {"CODEAI_ATOMIC_FAULT": "renaming:D4.cai"},
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_worker_leaves_every_file_old_or_new(tree: Path, point: str) -> None:
    old = snapshot(tree)
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--jobs", "2", "--report", "json", str(tree),
                      env=KILL_POINTS[point])
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    failed = [Path(f["path"]).name for f in report["files"] if "worker failed" in (f["error"] or "")]
    assert "D4.cai" in failed
    after = snapshot(tree)
    for name, data in after.items():
        new = expected_after(Path(name).name) if Path(name).stem.startswith("D") else old[name]
        assert data in (old[name], new), name
    d4 = next(name for name in after if name.endswith("D4.cai"))
    assert after[d4] == old[d4]  # killed before its rename: still the old bytes
    assert [p.name for p in tree.rglob("*") if p.name.endswith(".tmp")] == []


def test_stdin_to_stdout() -> None:
    proc = run_codeai("migrate-dsl", "--to", "2.0", "-", input=BEFORE.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == AFTER.read_bytes().decode()


def _unreadable(directory: Path) -> Path:
    """A .cai path whose read fails even as root (permission bits do not stop root): a
    symlink to itself (ELOOP); also mode 000 when not root."""
    path = directory / "unreadable.cai"
    if os.geteuid() != 0:
        path.write_bytes(BEFORE.read_bytes())
        path.chmod(0)
    else:
        path.symlink_to(path.name)
    return path


def test_unreadable_file_exits_2_and_the_others_still_migrate(tmp_path: Path) -> None:
    bad = _unreadable(tmp_path)
    good = copy(BEFORE, tmp_path / "good.cai")
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    files = {Path(f["path"]).name: f for f in json.loads(proc.stdout)["files"]}
    assert files[bad.name]["error"].startswith("I/O error: ")
    assert good.read_bytes() == AFTER.read_bytes()


def test_file_that_cannot_be_written_exits_2_and_stays_as_it_was(tmp_path: Path) -> None:
    """The atomic write's temp file name (`.NAME.xxxxxxxx.tmp`) is too long for the file system
    when NAME is 250 characters: the write fails with an OSError even as root."""
    target = copy(BEFORE, tmp_path / ("x" * 246 + ".cai"))
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", str(target))
    assert proc.returncode == 2, proc.stderr
    (report,) = json.loads(proc.stdout)["files"]
    assert report["error"].startswith("I/O error: ") and "name too long" in report["error"].lower()
    assert target.read_bytes() == BEFORE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    out = tmp_path / "not-a-dir"
    out.write_text("", encoding="utf-8")
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--output", str(out / "x.cai"), str(target))  # parent is a file
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
