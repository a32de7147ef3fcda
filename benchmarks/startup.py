"""Cold start-up of the `codeai` command, against a bare Python start in the same run.

Runs each command as a fresh process (the grammar-table cache warm, as on any machine after
the first run; bytecode compiled, as `pip install` leaves it, in a scratch PYTHONPYCACHEPREFIX
even where the environment sets PYTHONDONTWRITEBYTECODE) and prints the median and best wall
time of N runs (interleaved), and the median CPU time (user + system) of the process:

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
import resource
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


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one fresh process (output discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def timings(cases: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    """`runs` rounds, each running every case once (interleaved: a passing load on the machine
    weighs on every case alike, not on whichever ran then)."""
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, cmd in cases.items():
            out[name].append(timed(cmd, env))
    return out


def busy_note(rows: list[tuple[float, float]]) -> str | None:
    """A warning when the processes waited for a CPU (other processes competing for them):
    their wall time is then well above the CPU time they used."""
    wall, cpu = statistics.median(w for w, _ in rows), statistics.median(c for _, c in rows)
    if wall <= 1.25 * cpu:
        return None
    return (f"note: bare Python took {wall:.1f} ms of wall time for {cpu:.1f} ms of CPU: other "
            "processes compete for the CPUs, so wall times include waiting for one")


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
        results = timings(cases, args.runs, env)
    walls = {name: [w for w, _ in rows] for name, rows in results.items()}
    floor = statistics.median(walls["python -c pass"])
    print(f"cold start-up, {args.runs} interleaved runs each (wall median / best, CPU median; ms)")
    for name, rows in results.items():
        med = statistics.median(walls[name])
        cpu = statistics.median(c for _, c in rows)
        print(f"  {name:30s} {med:7.1f} / {min(walls[name]):7.1f}   CPU {cpu:6.1f}   "
              f"({med - floor:+.1f} over bare Python)")
    note = busy_note(results["python -c pass"])
    if note:
        print(note)
    validate_ms = statistics.median(walls["codeai validate (150 lines)"])
    ok = validate_ms <= BAR_MS
    print(f"codeai validate median {validate_ms:.1f} ms, bar {BAR_MS:.0f} ms: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
