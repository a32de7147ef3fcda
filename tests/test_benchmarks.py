"""The benchmark scripts cannot pass by default: a bar they cannot measure is a failure, and
the baselines they compare against are printed (run tiny, so this checks behaviour, not speed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_runner import ROOT

BENCH = ROOT / "benchmarks"


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=240, cwd=ROOT)


def test_migrate_runner_fails_without_postgres(tmp_path: Path) -> None:
    proc = _run("migrate_runner.py", "--count", "3", "--repeat", "1", env={"CODEAI_PG_BINDIR": str(tmp_path)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sqlite    overhead" in proc.stdout  # the SQLite bar still ran
    assert "postgres  FAIL: no PostgreSQL server" in proc.stderr


def test_parse_throughput_prints_both_lark_baselines() -> None:
    proc = _run("parse_throughput.py", "--lines", "300", "--runs", "1")
    assert proc.returncode in (0, 1), proc.stderr  # a 300-line file may miss the speed bar
    for line in ("plain Lark parse ", "plain Lark, no positions ", "speed-up over plain Lark parse: parse ",
                 "speed-up over plain Lark, no positions: parse "):
        assert line in proc.stdout, proc.stdout


def test_startup_prints_the_bare_python_floor_and_cpu_times() -> None:
    proc = _run("startup.py", "--runs", "1")
    assert proc.returncode in (0, 1), proc.stderr  # one run on a busy machine may miss the bar
    for case in ("python -c pass", "codeai version", "codeai validate (150 lines)", "the same, --no-cache"):
        line = next((ln for ln in proc.stdout.splitlines() if case in ln), "")
        assert " CPU " in line and "over bare Python" in line, proc.stdout
    assert "codeai validate median" in proc.stdout and "bar 150 ms" in proc.stdout
