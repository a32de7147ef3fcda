"""`codeai validate` of a directory of 2,000 generated files: jobs and the result cache.

Each figure is the wall time of a fresh `codeai validate DIR -o json` process (best of N):

- `--jobs 1 --no-cache` (the baseline: one core, nothing cached) vs `--jobs 2 --no-cache`;
- a cold run with an empty cache (`--jobs 1`, filling it) vs a warm, unchanged re-run.

Every run's output must be byte-identical to the baseline's. The machine's load average is
printed too: with other work on the two cores, `--jobs 2` cannot reach its speed-up.

Bars (issue 13): `--jobs 2` ≥ 1.6× `--jobs 1`; warm cache ≥ 5× the cold run. Exits 1 when a bar
is missed or outputs differ. Usage: python benchmarks/validate_batch.py [--files 2000] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codeai_testing.generate import program_1_0, program_1_1, program_2_0

BAR_JOBS = 1.6
BAR_CACHE = 5.0


def make_tree(root: Path, files: int, lines: int) -> None:
    gens = (program_1_0, program_1_1, program_2_0)
    for i in range(files):
        sub = root / f"pkg{i % 20:02}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"mod{i:04}.cai").write_text(gens[i % 3](lines, seed=i))


def run(args: list[str], cache: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (the process and its workers) and the output of one run."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "codeai_lang.cli", "validate", *args, "-o", "json"],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"codeai validate failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, cpu, proc.stdout


def best(args: list[str], cache: Path, runs: int, fresh_cache: bool = False) -> tuple[float, float, str]:
    results = []
    for _ in range(runs):
        if fresh_cache:
            shutil.rmtree(cache, ignore_errors=True)
        results.append(run(args, cache))
    return min(results, key=lambda r: r[0])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=100)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "src", Path(tmp) / "cache"
        make_tree(root, args.files, args.lines)
        size = sum(p.stat().st_size for p in root.rglob("*.cai"))
        print(f"{args.files} files, {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs; best of {args.runs} runs (s)")
        j1, j1_cpu, base = best(["--jobs", "1", "--no-cache", str(root)], cache, args.runs)
        j2, j2_cpu, out2 = best(["--jobs", "2", "--no-cache", str(root)], cache, args.runs)
        cold, cold_cpu, out_cold = best(["--jobs", "1", str(root)], cache, args.runs, fresh_cache=True)
        warm, warm_cpu, out_warm = best(["--jobs", "1", str(root)], cache, args.runs)
    same = base == out2 == out_cold == out_warm
    jobs_x, cache_x = j1 / j2, cold / warm
    print("                        wall    CPU (all processes)")
    print(f"  --jobs 1 --no-cache   {j1:6.2f}  {j1_cpu:6.2f}")
    print(f"  --jobs 2 --no-cache   {j2:6.2f}  {j2_cpu:6.2f}   {jobs_x:.2f}× wall (bar {BAR_JOBS}×): "
          f"{'PASS' if jobs_x >= BAR_JOBS else 'FAIL'}; CPU/wall {j2_cpu / j2:.2f}")
    print(f"  cold cache (--jobs 1) {cold:6.2f}  {cold_cpu:6.2f}")
    print(f"  warm cache (--jobs 1) {warm:6.2f}  {warm_cpu:6.2f}   {cache_x:.1f}× (bar {BAR_CACHE:.0f}×): "
          f"{'PASS' if cache_x >= BAR_CACHE else 'FAIL'}")
    print(f"  identical output: {'yes' if same else 'NO'}")
    return 0 if same and jobs_x >= BAR_JOBS and cache_x >= BAR_CACHE else 1


if __name__ == "__main__":
    sys.exit(main())
