"""The CI report formats must not cost much more than the JSON output they sit beside.

Renders the same reports (many files, thousands of diagnostics: the worst case for SARIF's
fingerprints and rule metadata) as JSON (the baseline), SARIF, GitLab, JUnit and the GitHub
job summary; prints each time and its ratio to JSON, and PASS/FAIL against BAR (exit 1 on
FAIL). Also prints the start-up import time of `codeai validate`'s command module, with and
without the CI renderers. Usage: python benchmarks/ci_outputs.py [--files N] [--repeat R]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from codeai_testing.timing import best_of

from codeai_lang.analysis.validator import validate
from codeai_lang.output.formats import RENDERERS, FileReport

BAR = 3.0
# Every line gives diagnostics: an undefined variable, a deprecated form, a bad status.
UNIT = """\
print(missing_{i})
entity E{i} {{
    id: uuid, primary_key
}}
endpoint GET /e{i} {{
    status: 700
}}
"""


def reports(files: int, units: int) -> list[FileReport]:
    out = []
    for f in range(files):
        text = "#version 1.1\n" + "".join(UNIT.format(i=f * units + i) for i in range(units))
        result = validate(text)
        out.append(FileReport(f"src/mod{f}.cai", text, result.diagnostics, result.document.version, "directive"))
    return out


def import_ms(statement: str) -> float:
    """Best of 3 fresh interpreters, so nothing is cached in-process."""
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    reps = reports(args.files, args.units)
    count = sum(len(r.diagnostics) for r in reps)
    print(f"{len(reps)} files, {count} diagnostics")
    options = {"dsl_versions": ["1.0", "1.1", "2.0"], "root": "/work", "strict": False,
               "blob_url": "https://github.com/o/r/blob/sha"}
    base = best_of(args.repeat, lambda: RENDERERS["json"](reps, **options))
    print(f"{'json':<15} {base * 1000:8.1f} ms  (baseline)")
    failed = False
    for name in ("sarif", "gitlab", "junit", "github-summary", "github"):
        renderer = RENDERERS[name]
        t = best_of(args.repeat, lambda r=renderer: r(reps, **options))  # type: ignore[misc]
        ratio = t / base
        failed |= ratio > BAR
        print(f"{name:<15} {t * 1000:8.1f} ms  ratio {ratio:5.2f}  {'PASS' if ratio <= BAR else 'FAIL'} (≤ {BAR})")
    cli = import_ms("import codeai_lang.cli.language_cmds")
    everything = import_ms("import codeai_lang.cli.language_cmds, codeai_lang.output.sarif, "
                           "codeai_lang.output.ci_reports, codeai_lang.output.github_summary")
    print(f"import validate's command module: {cli:.1f} ms; with every CI renderer: {everything:.1f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
