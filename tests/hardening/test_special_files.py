"""Issue 12 items 4–5: FIFOs, sockets, unreadable and missing files among the sources.

Each is reported for that file; the others are still checked; the exit code is 2; JSON output
is complete. A hang (a FIFO opened for reading) fails by the subprocess timeout.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cli_runner import run_codeai
from typer.testing import CliRunner

from codeai_lang.cli import _register, app
from codeai_lang.files import sources

MIGRATIONS = Path(__file__).resolve().parents[2] / "corpus" / "migrations"
BEFORE = MIGRATIONS / "mixed" / "all_rules.before.cai"
AFTER = MIGRATIONS / "mixed" / "all_rules.after.cai"
HANG_LIMIT = 60  # seconds: far above a normal run, so only a hang reaches it


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Iterator[Path]:
    """good.cai and old.cai, plus a FIFO, a socket and a dangling symlink, all named *.cai."""
    root = tmp_path / "tree"
    root.mkdir()
    (root / "good.cai").write_text("var x = 1\n")
    shutil.copyfile(BEFORE, root / "old.cai")
    os.mkfifo(root / "fifo.cai")
    (root / "dangling.cai").symlink_to(root / "nowhere")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(root / "sock.cai"))
    try:
        yield root
    finally:
        sock.close()


def _schema() -> dict[str, Any]:
    res = importlib.resources.files("codeai_lang.output").joinpath("schemas/validate-output.schema.json")
    return json.loads(res.read_text(encoding="utf-8"))


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["path"]).name: f for f in doc["files"]}


def test_validate_reports_special_files_and_checks_the_others(hostile_tree: Path) -> None:
    proc = run_codeai("validate", "--output", "json", str(hostile_tree), timeout=HANG_LIMIT)
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, _schema())
    files = _by_name(doc)
    assert set(files) == {"good.cai", "old.cai", "fifo.cai", "sock.cai", "dangling.cai"}
    assert files["good.cai"]["valid"] and files["good.cai"]["diagnostics"] == []
    assert files["old.cai"]["valid"]  # 1.0 with deprecations: checked, not skipped
    for name, words in (("fifo.cai", "FIFO"), ("sock.cai", "socket"), ("dangling.cai", "no such file")):
        [diag] = files[name]["diagnostics"]
        assert diag["code"] == "CAI005" and words in diag["message"] and not files[name]["valid"]
    assert f"{hostile_tree / 'fifo.cai'}: a FIFO" in proc.stderr


def test_validate_text_lists_each_special_file(hostile_tree: Path) -> None:
    proc = run_codeai("validate", str(hostile_tree), timeout=HANG_LIMIT)
    assert proc.returncode == 2
    assert f"{hostile_tree / 'sock.cai'}:1:1: error[CAI005]" in proc.stdout
    assert "5 files checked" in proc.stdout


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_missing_file_is_inside_machine_output(tmp_path: Path, fmt: str) -> None:
    ok = tmp_path / "ok.cai"
    ok.write_text("var x = 1\n")
    proc = run_codeai("validate", "--output", fmt, str(ok), str(tmp_path / "missing.cai"), timeout=HANG_LIMIT)
    assert proc.returncode == 2
    assert "missing.cai" in proc.stdout and "no such file" in proc.stderr.lower()
    if fmt == "json":
        files = _by_name(json.loads(proc.stdout))
        assert files["ok.cai"]["valid"] and files["missing.cai"]["diagnostics"][0]["code"] == "CAI005"
    if fmt == "sarif":
        assert json.loads(proc.stdout)["runs"][0]["results"][0]["ruleId"] == "CAI005"


def test_explicit_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.cai"
    os.mkfifo(fifo)
    for args in (["validate", str(fifo)], ["parse", str(fifo)], ["migrate-dsl", str(fifo)]):
        proc = run_codeai(*args, timeout=HANG_LIMIT)
        assert proc.returncode == 2 and "FIFO" in proc.stderr + proc.stdout, args


def test_migrate_dsl_skips_special_files_and_migrates_the_others(hostile_tree: Path) -> None:
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", "-j", "2", str(hostile_tree), timeout=HANG_LIMIT)
    assert proc.returncode == 2, proc.stderr
    files = _by_name(json.loads(proc.stdout))
    assert files["old.cai"]["written"] and (hostile_tree / "old.cai").read_bytes() == AFTER.read_bytes()
    assert "FIFO" in files["fifo.cai"]["error"] and "socket" in files["sock.cai"]["error"]
    assert not files["good.cai"]["error"]


def test_migrate_dsl_reports_missing_path_in_json(tmp_path: Path) -> None:
    src = tmp_path / "old.cai"
    shutil.copyfile(BEFORE, src)
    proc = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", str(src), str(tmp_path / "gone.cai"), timeout=HANG_LIMIT)
    assert proc.returncode == 2
    files = _by_name(json.loads(proc.stdout))
    assert files["old.cai"]["written"] and "No such file" in files["gone.cai"]["error"]


def test_unreadable_file_is_reported_and_others_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, because root reads a 0000 file anyway: the read fails with EACCES."""
    (tmp_path / "a.cai").write_text("var x = 1\n")
    (tmp_path / "b.cai").write_text("var y = 2\n")
    real = sources.read_regular_file

    def deny_b(path: str | os.PathLike[str]) -> bytes:
        if str(path).endswith("b.cai"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(sources, "read_regular_file", deny_b)
    _register()
    result = CliRunner().invoke(app, ["validate", "--output", "json", str(tmp_path)])
    assert result.exit_code == 2
    files = _by_name(json.loads(result.stdout))
    assert files["a.cai"]["valid"] and "permission denied" in files["b.cai"]["diagnostics"][0]["message"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a mode-000 file")
def test_mode_000_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.cai").write_text("var x = 1\n")
    secret = tmp_path / "b.cai"
    secret.write_text("var y = 2\n")
    secret.chmod(0)
    proc = run_codeai("validate", "--output", "json", str(tmp_path), timeout=HANG_LIMIT)
    assert proc.returncode == 2 and len(json.loads(proc.stdout)["files"]) == 2
