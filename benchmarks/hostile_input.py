"""Time and peak memory of parse+validate on hostile inputs, each against an ordinary file of
the same size measured in the same run (issue 12, items 6–8).

Inputs: one huge string literal, one huge block comment, a long run of characters that start
no token, a file of `@`, and a file of unbalanced `)`. Each runs in a fresh process so peak RSS
(ru_maxrss) is that input's alone; the baseline is a generated DSL 1.0 program of the same size.

    python benchmarks/hostile_input.py [--mb 3] [--only string,at]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable

from codeai_testing.generate import program_1_0

HOSTILE: dict[str, Callable[[int], str]] = {
    "string": lambda size: 'var s = "' + "x" * size + '"\n',
    "escaped_string": lambda size: 'var s = "' + "\\n" * (size // 2) + '"\n',
    "comment": lambda size: "/* " + "x" * size + " */\n",
    "bad_chars": lambda size: "var x = 1\n" + "\u00a7" * size + "\n",
    "at_signs": lambda size: "@" * size,
    "spaced_at_signs": lambda size: "@ " * (size // 2),
    "closers": lambda size: ")" * size,
    "mixed_junk": lambda size: ("@,:." * (size // 4 + 1))[:size],  # no identical neighbours
    "stray_names": lambda size: ("x " * (size // 2 + 1))[:size],
}

_CHILD = r"""
import json, resource, sys, time
from codeai_lang.analysis.validator import validate
text = sys.stdin.read()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
result = validate(text)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
longest = max((len(d.message) for d in result.diagnostics), default=0)
print(json.dumps({"seconds": elapsed, "peak_mb": peak / 1024, "grew_mb": (peak - base) / 1024,
                  "diagnostics": len(result.diagnostics), "longest_message": longest}))
"""


def baseline(size: int) -> str:
    """A generated ordinary program, cut to whole lines of about `size` characters."""
    lines, text = 1000, ""
    while len(text) < size:
        lines *= 2
        text = program_1_0(lines)
    return text[: text.rfind("\n", 0, size) + 1]


def measure(text: str, timeout: float) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _CHILD], input=text, capture_output=True,
                          text=True, timeout=timeout, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=3.0, help="size of each input in MB (default 3)")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(HOSTILE))
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    names = [n for n in args.only.split(",") if n] or list(HOSTILE)
    base = measure(baseline(size), args.timeout)
    print(f"{'input':<16} {'size MB':>8} {'seconds':>8} {'peak MB':>8} {'grew MB':>8} {'diags':>6} {'msg len':>8}")
    row = "{:<16} {:>8.1f} {:>8.2f} {:>8.0f} {:>8.0f} {:>6} {:>8}"
    print(row.format("baseline", args.mb, base["seconds"], base["peak_mb"], base["grew_mb"],
                     base["diagnostics"], base["longest_message"]))
    for name in names:
        got = measure(HOSTILE[name](size), args.timeout)
        print(row.format(name, args.mb, got["seconds"], got["peak_mb"], got["grew_mb"],
                         got["diagnostics"], got["longest_message"])
              + f"   ({got['grew_mb'] / max(base['grew_mb'], 1):.1f}x baseline memory)")


if __name__ == "__main__":
    main()
