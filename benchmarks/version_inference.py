"""Version inference must cost at most 1.3× a single-version parse on valid files.

Measures `parse_document` on generated 1.1-style files (with some deprecated forms, so the
newest version rejects a few statements), 2.1 files (the newest version) and 1.0-style text declared 1.1
(the worst case: most statements use forms 2.0 removed), once with their `#version`
directive (one grammar) and once without it (inference). Prints the ratios and PASS/FAIL;
exits 1 on FAIL. Usage: python benchmarks/version_inference.py [--lines N] [--repeat R]
"""

from __future__ import annotations

import argparse
import re
import sys

from codeai_testing.generate import program_1_0, program_1_1, program_2_1
from codeai_testing.timing import best_of

from codeai_lang.syntax.versioned_parse import parse_document

BAR = 1.3
_DIRECTIVE = re.compile(r"\A#version [0-9.]+\n")


def measure(name: str, text: str, version: str, repeat: int) -> float:
    bare = _DIRECTIVE.sub("", text)
    declared = parse_document(text)
    inferred = parse_document(bare)
    assert declared.version == inferred.version == version, (declared.version, inferred.version)
    assert not declared.diagnostics and not inferred.diagnostics, "benchmark files must be valid"
    t_declared = best_of(repeat, lambda: parse_document(text))
    t_inferred = best_of(repeat, lambda: parse_document(bare))
    ratio = t_inferred / t_declared
    print(f"{name:<10} {len(text.splitlines()):>6} lines  directive {t_declared * 1000:8.1f} ms  "
          f"inferred {t_inferred * 1000:8.1f} ms  ratio {ratio:.2f}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    parse_document(program_2_1(50))  # compile/load the grammar tables outside the timings
    parse_document(program_1_1(50))
    ratios = [measure(f"1.1 #{seed}", program_1_1(args.lines, seed), "1.1", args.repeat)
              for seed in (1, 2)]
    ratios += [measure(f"2.1 #{seed}", program_2_1(args.lines, seed), "2.1", args.repeat)
               for seed in (1, 2)]
    # Worst case: old-style text full of forms 2.0 removed (most statements fall back to 1.1).
    legacy = program_1_0(args.lines, 1).replace("#version 1.0", "#version 1.1", 1)
    ratios.append(measure("1.0-style", legacy, "1.1", args.repeat))
    worst = max(ratios)
    verdict = "PASS" if worst <= BAR else "FAIL"
    print(f"{verdict}: worst inferred/declared ratio {worst:.2f} (bar {BAR}x)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
