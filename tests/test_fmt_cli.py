"""`codeai fmt` through the real CLI (subprocesses), on small trees in tmp_path."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cli_runner import run_codeai
from fmt_samples import BROKEN, CLEAN, MESSY, write

FORMAT = Path(__file__).resolve().parent.parent / "corpus" / "format"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    write(root / "messy.cai", MESSY)
    write(root / "sub" / "clean.cai", CLEAN)
    write(root / ".hidden" / "skipped.cai", MESSY)
    write(root / "notes.txt", MESSY)
    return root


def test_in_place_formats_every_file_and_keeps_permissions(tree: Path) -> None:
    (tree / "messy.cai").chmod(0o640)
    result = run_codeai("fmt", str(tree))
    assert result.returncode == 0, result.stderr
    assert (tree / "messy.cai").read_text() == CLEAN
    assert stat.S_IMODE((tree / "messy.cai").stat().st_mode) == 0o640
    assert (tree / "sub" / "clean.cai").read_text() == CLEAN
    assert (tree / ".hidden" / "skipped.cai").read_text() == MESSY  # hidden dirs are skipped
    assert (tree / "notes.txt").read_text() == MESSY
    assert "reformatted" in result.stderr and "messy.cai" in result.stderr
    assert not list(tree.rglob("*.tmp"))
    assert run_codeai("fmt", "--check", str(tree)).returncode == 0


def test_check_writes_nothing_and_fails_on_unformatted(tree: Path) -> None:
    result = run_codeai("fmt", "--check", str(tree))
    assert result.returncode == 1
    assert "would reformat" in result.stderr and "messy.cai" in result.stderr
    assert "clean.cai" not in result.stderr.replace("already formatted", "")
    assert (tree / "messy.cai").read_text() == MESSY
    assert run_codeai("fmt", "--check", str(tree / "sub")).returncode == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(tree: Path) -> None:
    result = run_codeai("fmt", "--diff", str(tree / "messy.cai"))
    assert result.returncode == 0
    assert result.stdout.startswith("--- a/") and "+var a = [1, 2]" in result.stdout
    assert "-var   a=[1 ,2]" in result.stdout
    assert (tree / "messy.cai").read_text() == MESSY
    both = run_codeai("fmt", "--check", "--diff", str(tree))
    assert both.returncode == 1 and "+var a = [1, 2]" in both.stdout
    assert (tree / "messy.cai").read_text() == MESSY


def test_stdin_to_stdout() -> None:
    result = run_codeai("fmt", "-", input=MESSY)
    assert result.returncode == 0 and result.stdout == CLEAN
    named = run_codeai("fmt", "--check", "--stdin-filename", "app/x.cai", "-", input=MESSY)
    assert named.returncode == 1 and "app/x.cai" in named.stderr and named.stdout == ""
    assert run_codeai("fmt", "--check", "-", input=CLEAN).returncode == 0


def test_syntax_errors_leave_the_file_untouched(tree: Path) -> None:
    bad = write(tree / "bad.cai", BROKEN)
    result = run_codeai("fmt", str(tree))
    assert result.returncode == 1
    assert bad.read_text() == BROKEN
    assert f"{bad}:2:9: error[CAI" in result.stderr
    assert (tree / "messy.cai").read_text() == CLEAN  # the other files are still formatted
    piped = run_codeai("fmt", "--stdin-filename", "in.cai", "-", input=BROKEN)
    assert piped.returncode == 1 and piped.stdout == BROKEN and "in.cai:2:9" in piped.stderr


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    before = (FORMAT / "crlf.before.cai").read_bytes()
    target = tmp_path / "w.cai"
    target.write_bytes(before)
    assert run_codeai("fmt", str(target)).returncode == 0
    assert target.read_bytes() == (FORMAT / "crlf.after.cai").read_bytes()
    assert b"\r\n" in target.read_bytes() and b"\n" not in target.read_bytes().replace(b"\r\n", b"")


@pytest.mark.parametrize(("args", "message"), [
    (["nope.cai"], "no such file"),
    (["--dsl-version", "9.9", "-"], "unknown DSL version"),
    (["--stdin-filename", "x.cai", "a.cai"], "--stdin-filename"),
])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    write(tmp_path / "a.cai", CLEAN)
    result = run_codeai("fmt", *args, cwd=tmp_path, input="")
    assert result.returncode == 2 and message in result.stderr


def test_invalid_utf8_is_reported_not_formatted(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.cai"
    bad.write_bytes(b"var a = \"caf\xe9\"\n")
    result = run_codeai("fmt", str(bad))
    assert result.returncode == 1 and "not valid UTF-8" in result.stderr
    assert bad.read_bytes() == b"var a = \"caf\xe9\"\n"


def test_validate_does_not_require_formatted_files(tree: Path) -> None:
    assert run_codeai("validate", str(tree / "messy.cai")).returncode == 0


def test_many_files_in_worker_processes(tmp_path: Path) -> None:
    root = tmp_path / "many"
    for i in range(120):
        write(root / f"d{i % 3}" / f"f{i:03}.cai", MESSY if i % 2 else CLEAN)
    bad = write(root / "d0" / "zz_bad.cai", BROKEN)
    check = run_codeai("fmt", "--check", "-j", "2", str(root))
    assert check.returncode == 1
    assert check.stderr.count("would reformat") == 60 and "zz_bad.cai:2:9" in check.stderr
    diff = run_codeai("fmt", "--diff", "-j", "2", str(root))
    assert diff.stdout.count("+++ b/") == 60
    files = sorted(str(p) for p in root.rglob("f*.cai"))
    assert [line[6:] for line in diff.stdout.splitlines() if line.startswith("+++ b/")] == \
        [f.lstrip("/") for f in files if int(f[-7:-4]) % 2]  # in discovery order
    assert run_codeai("fmt", "-j", "2", str(root)).returncode == 1  # the broken file
    assert all(p.read_text() == CLEAN for p in root.rglob("f*.cai"))
    assert bad.read_text() == BROKEN
