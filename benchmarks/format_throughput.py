"""`codeai fmt` speed, against baselines measured in the same run.

1. Throughput on one core for a generated 100k-line file (DSL 1.0, 2.0 and 2.1 generators):
   parse + format + verify + atomic write, in lines/s, best of N runs with the collector
   paused (as `format_text` itself pauses it); printed beside the parse alone (the floor: the
   formatter needs the tree), the lex alone (what the whole-file layout proof costs), the
   local proof of this file's layout (only the segments that changed are lexed again) and the
   layout alone; lines/s from the process's CPU time ("one core") and from wall time; then the real
   CLI on the same file, interpreter start-up included.
2. `codeai fmt --check` over an already formatted tree of 2,000 generated files, against
   `codeai validate` over the same tree: wall time of the real CLI (subprocesses), each with
   its default worker processes and with `-j 1`; like with like: both with a cold result
   cache (empty), then both with a warm one (filled by a previous run of the same command).

Bars (issue 15): ≥ 100,000 lines/s (at least 60,000) for the 100k-line file; `fmt --check`
no slower than `validate` on the 2,000-file tree.

    python benchmarks/format_throughput.py [--runs 3] [--lines 100000] [--files 2000]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeai_testing.generate import program_1_0, program_1_1, program_2_0, program_2_1

from codeai_lang.analysis.validator import validate
from codeai_lang.files.atomic import atomic_write
from codeai_lang.format import format_text
from codeai_lang.format.layout import layout, layout_with_cuts
from codeai_lang.format.verify import verify_local
from codeai_lang.syntax import native
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.versioned_parse import parse_document

BAR_LINES_PER_S = 100_000
MIN_LINES_PER_S = 60_000


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """Fastest (CPU seconds, wall seconds) of `runs` calls, the collector paused during each.

    CPU time of this one process is the "one core" figure; wall time is printed beside it
    because on a shared machine it also counts waiting for a core.
    """
    best_cpu = best_wall = float("inf")
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            best_cpu = min(best_cpu, time.process_time() - cpu)
            best_wall = min(best_wall, time.perf_counter() - wall)
        finally:
            gc.enable()
    return best_cpu, best_wall


def throughput(lines: int, runs: int, workdir: Path) -> None:
    print(f"== one {lines:,}-line file, one core (best of {runs})")
    for name, gen in (("DSL 1.0", program_1_0), ("DSL 2.0", program_2_0), ("DSL 2.1", program_2_1)):
        one_file(name, gen(lines, seed=3), runs, workdir / "big.cai")


def one_file(name: str, messy: str, runs: int, target: Path) -> None:
    clean = format_text(messy).text
    n = clean.count("\n")
    doc = parse_document(clean)
    messy_doc = parse_document(messy)
    out, cut_starts, cut_offsets = layout_with_cuts(messy_doc)
    local = "accepted" if verify_local(messy_doc, out, cut_starts, cut_offsets) else \
        "DECLINED: fmt ran the whole-file proof"

    def fmt_and_write() -> None:
        atomic_write(target, format_text(messy).text)

    rows = [
        ("parse only (baseline)", best_of(runs, lambda: parse_document(clean))),
        ("lex only (the whole-file layout proof)", best_of(runs, lambda: lex(clean))),
        (f"local layout proof of the unformatted file ({local})",
         best_of(runs, lambda: verify_local(messy_doc, out, cut_starts, cut_offsets))),
        ("validate (baseline)", best_of(runs, lambda: validate(clean))),
        ("layout only", best_of(runs, lambda: layout(doc))),
        ("fmt unformatted file: parse+format+verify+write", best_of(runs, fmt_and_write)),
        ("fmt --check formatted file: parse+format", best_of(runs, lambda: format_text(clean))),
    ]
    for label, (cpu, wall) in rows[:7]:
        print(f"  {name} {label:<50} {n / cpu:>9,.0f} lines/s CPU  {n / wall:>9,.0f} lines/s wall")
    messy_path = target.with_name("messy.cai")
    rows.append(("real CLI `fmt --no-cache` unformatted (with start-up)",
                 cli_file(runs, lambda: messy_path.write_text(messy, encoding="utf-8"),
                          "fmt", "--no-cache", str(messy_path))))
    rows.append(("real CLI `fmt --check --no-cache` formatted (start-up)",
                 cli_file(runs, lambda: target.write_text(clean, encoding="utf-8"),
                          "fmt", "--check", "--no-cache", str(target))))
    for label, (cpu, wall) in rows[-2:]:
        print(f"  {name} {label:<50} {n / cpu:>9,.0f} lines/s CPU  {n / wall:>9,.0f} lines/s wall")
    full = n / rows[5][1][0]
    verdict = "meets the bar" if full >= BAR_LINES_PER_S else (
        "below the bar, above the minimum" if full >= MIN_LINES_PER_S else "BELOW THE MINIMUM")
    print(f"  {name} fmt (CPU): {full:,.0f} lines/s vs bar {BAR_LINES_PER_S:,} "
          f"(minimum {MIN_LINES_PER_S:,}): {verdict}")


def cli_file(runs: int, prepare: Callable[[], Any], *args: str) -> tuple[float, float]:
    """Fastest (CPU seconds of the child, wall seconds) of `runs` runs of the real CLI."""
    best_cpu = best_wall = float("inf")
    for _ in range(runs):
        prepare()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "codeai_lang.cli", *args], capture_output=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_cpu, best_wall = min(best_cpu, cpu), min(best_wall, wall)
    return best_cpu, best_wall


def make_tree(root: Path, files: int) -> int:
    gens = (program_1_0, program_1_1, program_2_0)
    total = 0
    for i in range(files):
        text = format_text(gens[i % 3](40 + i % 60, seed=i)).text
        path = root / f"pkg{i % 20:02}" / f"f{i:05}.cai"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        total += text.count("\n")
    return total


def cli(*args: str, cache: Path) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "codeai_lang.cli", *args], capture_output=True,
                          text=True, env={**os.environ, "XDG_CACHE_HOME": str(cache)})
    return time.perf_counter() - started, proc.returncode


def timed(args: tuple[str, ...], runs: int, workdir: Path, *, warm: bool) -> tuple[float, int]:
    """Best wall time of `runs` runs, each with a cache directory of its own: empty (cold), or
    filled by one untimed run of the same command first (warm)."""
    best, code = float("inf"), 0
    for _ in range(runs):
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))
        if warm:
            cli(*args, cache=cache)
        secs, code = cli(*args, cache=cache)
        best = min(best, secs)
    return best, code


def tree_check(files: int, runs: int, workdir: Path) -> None:
    root = workdir / "tree"
    lines = make_tree(root, files)
    jobs = len(os.sched_getaffinity(0))
    print(f"== {files:,} formatted files ({lines:,} lines), real CLI, wall time, best of {runs}")
    print("   cold: an empty result cache (every file parsed; entries written);"
          " warm: the cache filled by a previous run of the same command")
    commands = (("validate", ("validate", str(root))),
                (f"fmt --check (default -j{jobs})", ("fmt", "--check", str(root))),
                ("validate -j 1", ("validate", "-j", "1", str(root))),
                ("fmt --check -j 1", ("fmt", "--check", "-j", "1", str(root))))
    for state in ("cold", "warm"):
        results: dict[str, float] = {}
        for label, args in commands:
            secs, code = timed(args, runs, workdir, warm=state == "warm")
            results[label] = secs
            print(f"  {state} {label:<28} {secs:>7.2f} s  exit {code}")
        for fmt_label, base_label in ((commands[1][0], "validate"), ("fmt --check -j 1", "validate -j 1")):
            ratio = results[fmt_label] / results[base_label]
            print(f"  {state} {fmt_label} / {base_label} = {ratio:.2f}x "
                  f"({'no slower' if ratio <= 1 else 'SLOWER'} than validate, both {state})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=2000, help="0: skip the tree")
    args = parser.parse_args()
    print(f"parser modules: {native.describe()} (CODEAI_PURE_PYTHON=1: pure Python)")
    with tempfile.TemporaryDirectory(prefix="codeai-fmt-bench-") as tmp:
        throughput(args.lines, args.runs, Path(tmp))
        if args.files:
            tree_check(args.files, max(1, args.runs - 1), Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
