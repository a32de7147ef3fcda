"""Batch migration benchmark: `codeai migrate-dsl` over a tree of generated DSL 1.0 files.

Builds a temporary tree (default 10,000 files, mostly 20–200 lines, a few up to 1,000, in
100 directories), then times the real CLI:
  1. `migrate-dsl --jobs 1` on one copy,
  2. `migrate-dsl --jobs 2` on a second copy,
  3. `migrate-dsl --check --jobs 1` on the migrated tree (nothing to do: the fast path).
Bars (issue 5): jobs 2 at least 1.7× faster than jobs 1; the check at least 3× faster than
the migration (both with one job). Prints PASS/FAIL and exits 1 on a FAIL.

Usage: python benchmarks/migrate_batch.py [--files N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codeai_lang.generate import program_1_0

SPEEDUP_BAR = 1.7
CHECK_BAR = 3.0


def build_tree(root: Path, files: int, seed: int = 5) -> int:
    """Write `files` generated 1.0 programs; returns the total number of lines."""
    rng = random.Random(seed)
    total = 0
    for i in range(files):
        size = rng.randint(500, 1000) if rng.random() < 0.01 else rng.randint(20, 200)
        text = program_1_0(size, seed=i)
        directory = root / f"d{i % 100:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i:05d}.cai").write_text(text, encoding="utf-8")
        total += text.count("\n")
    return total


def run_cli(*args: str) -> tuple[float, dict[str, object], int]:
    """Run `codeai migrate-dsl ARGS --report json`; (seconds, summary, exit code)."""
    cmd = [sys.executable, "-m", "codeai_lang.cli", "migrate-dsl", *args, "--report", "json"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode == 2 or not proc.stdout:
        sys.exit(f"codeai failed: {proc.stderr[-2000:]}")
    return elapsed, json.loads(proc.stdout)["summary"], proc.returncode


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary tree")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codeai-migrate-bench-"))
    try:
        return run(work, args.files)
    finally:
        if args.keep:
            print(f"tree kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, files: int) -> int:
    one, two = work / "jobs1", work / "jobs2"
    started = time.perf_counter()
    lines = build_tree(one, files)
    shutil.copytree(one, two)
    print(f"tree: {files} files, {lines} lines, built in {time.perf_counter() - started:.1f} s "
          f"({os.cpu_count()} CPUs)")
    t1, s1, rc1 = run_cli("--jobs", "1", str(one))
    t2, s2, rc2 = run_cli("--jobs", "2", str(two))
    tc, sc, rcc = run_cli("--check", "--jobs", "1", str(one))
    for name, summary, rc in (("jobs 1", s1, rc1), ("jobs 2", s2, rc2)):
        if rc != 0 or summary["changed"] != files or summary["failed"]:
            print(f"{name}: unexpected result (exit {rc}): {summary}")
            return 1
    if rcc != 0 or sc["changed"]:
        print(f"check after migration: unexpected result (exit {rcc}): {sc}")
        return 1
    speedup, check = t1 / t2, t1 / tc
    print(f"migrate --jobs 1: {t1:6.2f} s  {files / t1:8.0f} files/s")
    print(f"migrate --jobs 2: {t2:6.2f} s  {files / t2:8.0f} files/s")
    print(f"check   --jobs 1: {tc:6.2f} s  {files / tc:8.0f} files/s (already migrated)")
    print(f"speed-up jobs 2 / jobs 1: {speedup:.2f}x (bar {SPEEDUP_BAR}x)  {verdict(speedup >= SPEEDUP_BAR)}")
    print(f"check vs migration:       {check:.2f}x (bar {CHECK_BAR}x)  {verdict(check >= CHECK_BAR)}")
    return 0 if speedup >= SPEEDUP_BAR and check >= CHECK_BAR else 1


if __name__ == "__main__":
    sys.exit(main())
