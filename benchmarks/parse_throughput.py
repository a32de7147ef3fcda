"""Parse and parse+validate throughput on generated 10k- and 100k-line DSL 1.0 programs.

Prints lines/s and MB/s (best of N runs, garbage collector paused around each measured call),
peak memory of a fresh process parsing+validating the 100k-line file, and two baselines
measured in the same run over the same grammar:

- *plain Lark*: `Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True)`
  on a variant of the 1.0 grammar with Lark terminals (`LARK_TERMINALS` below) instead of our
  lexer — what a straightforward Lark implementation of the DSL would run; and the same
  *without propagate_positions* (Lark's fastest configuration: tokens keep their positions,
  tree nodes do not), so the speed-up is shown against both;
- *Lark over our tokens*: Lark's LALR parser and tree building fed by our lexer, which
  separates the parser/tree cost from the lexer's.

Bars (issue 2): parse+validate ≥ 50,000 lines/s on the 100k-line file, peak memory < 300 MB.
Bar (issue 10): parse+validate of a DSL 2.1 program (expressions, queries, records, statements
in bodies: `program_2_1`) at least as fast as of the 1.x programs of the same line count
(`program_1_0`, `program_1_1`), measured in the same run, per token: a 2.1 line carries ~1.5x
the tokens of a 1.x line (`a.b + c[0]` where 1.x writes `ref(A)`), so lines/s compares unequal
amounts of code; lines/s and MB/s are printed beside it (docs/decisions.md, DSL 2.1).
Bars (issue 13): peak memory ≤ 100 MB, and parse+validate ≥ 3× the plain-Lark parse of the same
run on the largest file. Exits 1 when any bar is missed.
Compiled (mypyc) or pure-Python parser modules: whichever `make setup` left in use (printed
first); `CODEAI_PURE_PYTHON=1` runs the pure ones, for an A/B of the two.

    python benchmarks/parse_throughput.py [--runs 3] [--lines 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

from codeai_testing import timing
from codeai_testing.generate import program_1_0, program_1_1, program_2_1

from codeai_lang.analysis.validator import validate
from codeai_lang.syntax import native
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import parse_document

BAR_LINES_PER_S = 50_000
BAR_PEAK_MB = 300
BAR_PEAK_MB_13 = 100  # issue 13
BAR_OVER_LARK_13 = 3.0  # issue 13: parse+validate vs plain Lark, same run


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    """Fastest wall time of `runs` calls, with the collector paused during each call."""
    return timing.best_of(runs, fn, pause_gc=True)


# Lark terminals standing in for codeai_lang.syntax.lexer. Keywords come from the registry as string
# terminals, so Lark's contextual lexer makes them keywords only where the parser state accepts
# them (our driver's contextual keywords). Newlines: NL (higher priority) where a state accepts
# it, ignored elsewhere. Shell text: one level of nested braces (enough for generated programs).
LARK_TERMINALS = r"""
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\\n]|\\[^\n])*"/
NUMBER: /[0-9]+(?:\.[0-9]+)?/
SHELL.3: /[^{}]+(?:\{[^{}]*\}[^{}]*)*/
NL.2: /(?:\r?\n[ \t\f\r]*)+/
LBRACE: "{"
RBRACE: "}"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
COMMA: ","
COLON: ":"
EQUAL: "="
DOT: "."
AT: "@"
%ignore /[ \t\f\r]+/
%ignore /\n/
%ignore /\/\/[^\n]*/
%ignore /\/\*[\s\S]*?\*\//
%ignore /\#version[^\n]*/
"""


def plain_lark(version: str, positions: bool = True) -> Callable[[str], Any]:
    """Lark on its own: contextual lexer, LALR, Tree building, propagated positions (unless
    `positions` is False: then only tokens carry positions, as in Lark's default).

    Lark's contextual lexer offers NL wherever a (merged) LALR state has it as a lookahead,
    including after expressions inside script blocks, where the real grammar has no NL; the
    variant therefore lets programs and script blocks skip newlines. Our driver instead asks
    whether NL would be shifted after the pending reductions, which no Lark lexer can do.
    """
    from lark import Lark

    reg = default_registry()
    grammar = (reg.grammar_dir / reg.versions[version].grammar_file).read_text()
    grammar = re.sub(r"^%declare.*$", "", grammar, flags=re.M)
    for old, new in (("program: statement*", "program: (statement | NL)*"),
                     ("block: LBRACE statement* RBRACE", "block: LBRACE (statement | NL)* RBRACE")):
        assert old in grammar, f"grammar changed: {old!r} not found"
        grammar = grammar.replace(old, new)
    keywords = "\n".join(f'{term}: "{word}"' for word, term in sorted(reg.tables(version).keywords.items()))
    parser = Lark(grammar + LARK_TERMINALS + keywords + "\n", parser="lalr", lexer="contextual",
                  start="program", propagate_positions=positions)
    return parser.parse


def lark_over_our_tokens(version: str) -> Callable[[str], Any]:
    """Plain Lark: its LALR parser, Tree building and propagated positions, our tokens."""
    from lark import Lark
    from lark import Token as LarkToken
    from lark.lexer import Lexer

    reg = default_registry()
    grammar = (reg.grammar_dir / reg.versions[version].grammar_file).read_text()
    keywords = reg.tables(version).keywords

    class Adapter(Lexer):
        __future_interface__ = 1  # receive the parser state, like Lark's contextual lexer

        def __init__(self, conf: Any) -> None:
            pass

        def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[LarkToken]:
            text = lexer_state.text.text if hasattr(lexer_state.text, "is_complete_text") else lexer_state.text
            tokens = text.tokens
            for i, tok in enumerate(tokens):  # our lexer's output, passed through
                accepted = parser_state.parse_conf.states[parser_state.position]
                kind = tok.kind
                if kind == "NAME" and keywords.get(tok.text) in accepted and not (
                        "NAME" in accepted and i + 1 < len(tokens)
                        and tokens[i + 1].kind in ("EQUAL", "LPAR")):
                    kind = keywords[tok.text]
                if kind == "NL" and not _accepts(parser_state, "NL"):
                    continue
                yield LarkToken(kind, tok.text, tok.start, 0, 0, end_pos=tok.end)

    parser = Lark(grammar, parser="lalr", lexer=Adapter, start="program", propagate_positions=True)

    class Text(str):
        tokens: list[Any]

    def run(text: str) -> Any:
        wrapped = Text(text)
        wrapped.tokens = lex(text).tokens
        return parser.parse(wrapped)

    return run


def _accepts(parser_state: Any, kind: str) -> bool:
    """Would Lark shift `kind` after the reductions it triggers? (what our driver checks)"""
    from lark.parsers.lalr_analysis import Shift

    states = parser_state.parse_conf.states
    stack = list(parser_state.state_stack)
    while True:
        action = states[stack[-1]].get(kind)
        if action is None:
            return False
        if action[0] is Shift:
            return True
        rule = action[1]
        if rule.expansion:
            del stack[-len(rule.expansion):]
        stack.append(states[stack[-1]][rule.origin.name][1])


def measure(lines: int, runs: int) -> dict[str, float]:
    text = program_1_0(lines, seed=lines)
    nlines = text.count("\n")
    size_mb = len(text.encode()) / 1e6
    validate("var warm = 1\n")
    plain, bare = plain_lark("1.0"), plain_lark("1.0", positions=False)
    over_tokens = lark_over_our_tokens("1.0")
    _same_statements(text, plain(text))
    _same_statements(text, bare(text))
    results = {
        "parse": best_of(runs, lambda: parse_document(text)),
        "parse+validate": best_of(runs, lambda: validate(text)),
        "plain Lark parse": best_of(runs, lambda: plain(text)),
        "plain Lark, no positions": best_of(runs, lambda: bare(text)),
        "Lark over our tokens": best_of(runs, lambda: over_tokens(text)),
    }
    print(f"\n{nlines:,} lines, {size_mb:.2f} MB")
    for name, seconds in results.items():
        print(f"  {name:<24} {seconds * 1000:8.1f} ms  {nlines / seconds:>10,.0f} lines/s  "
              f"{size_mb / seconds:6.2f} MB/s")
    for baseline in ("plain Lark parse", "plain Lark, no positions"):
        print(f"  speed-up over {baseline}: parse {results[baseline] / results['parse']:.2f}x, "
              f"parse+validate {results[baseline] / results['parse+validate']:.2f}x")
    print(f"  parse over Lark-on-our-tokens {results['Lark over our tokens'] / results['parse']:.2f}x")
    return {name: nlines / s for name, s in results.items()}


def measure_2_1(lines: int, runs: int) -> tuple[float, float]:
    """parse+validate tokens/s of a 2.1 program and of the slower of the 1.x programs.

    The versions are timed in interleaved rounds (best of each), so a burst of load from
    other processes hits all of them alike instead of one version's whole series."""
    programs = {"1.0": program_1_0(lines, seed=lines), "1.1": program_1_1(lines, seed=lines),
                "2.1": program_2_1(lines, seed=lines)}
    for version, text in programs.items():
        result = validate(text)
        if result.document.version != version or result.errors:
            raise SystemExit(f"generated {version} program is not a clean {version} file")
    best = dict.fromkeys(programs, float("inf"))
    for _ in range(max(runs, 5)):
        for version, text in programs.items():
            best[version] = min(best[version], best_of(1, lambda text=text: validate(text)))  # type: ignore[misc]
    print(f"\nDSL 2.1 vs 1.x, ~{lines:,} lines each: parse+validate (interleaved rounds)")
    rates: dict[str, float] = {}
    by_line: dict[str, float] = {}
    for version, text in programs.items():
        seconds, ntokens, nlines = best[version], len(lex(text).tokens), text.count("\n")
        rates[version], by_line[version] = ntokens / seconds, nlines / seconds
        print(f"  DSL {version}  {seconds * 1000:8.1f} ms  {rates[version]:>10,.0f} tokens/s  "
              f"{by_line[version]:>9,.0f} lines/s ({ntokens / nlines:.2f} tokens/line)  "
              f"{len(text.encode()) / 1e6 / seconds:6.2f} MB/s")
    slowest = min(("1.0", "1.1"), key=lambda v: rates[v])
    print(f"  2.1 / slowest 1.x: {rates['2.1'] / rates[slowest]:.2f}x per token, "
          f"{by_line['2.1'] / by_line[slowest]:.2f}x per line (2.1 lines are denser)")
    return rates["2.1"], rates[slowest]


def _same_statements(text: str, tree: Any) -> None:
    """The baseline must parse the same program, or the comparison means nothing."""
    from lark import Tree

    ours = len(parse_document(text).statements)
    theirs = sum(isinstance(child, Tree) for child in tree.children)
    if ours != theirs:
        raise SystemExit(f"baseline disagrees: {theirs} statements, ours {ours}")


def peak_memory_mb(lines: int) -> float:
    """Peak RSS of a fresh interpreter that generates, parses and validates `lines` lines."""
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would count this (large) parent's
    # pages that the child shared between fork and exec.
    code = ("from codeai_testing.generate import program_1_0\n"
            "from codeai_lang.analysis.validator import validate\n"
            f"validate(program_1_0({lines}, seed={lines}))\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
            "print(hwm.split()[1])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # VmHWM is in kB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lines", default="10000,100000")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    print(f"parser modules: {native.describe()}")
    figures: dict[str, Any] = {}
    speedups: dict[str, float] = {}
    for lines in (int(x) for x in args.lines.split(",")):
        figures[str(lines)] = measure(lines, args.runs)
        speedups[str(lines)] = figures[str(lines)]["parse+validate"] / figures[str(lines)]["plain Lark parse"]
    largest = str(max(int(k) for k in figures))
    rate = figures[largest]["parse+validate"]
    peak = peak_memory_mb(int(largest))
    print(f"\npeak memory, {int(largest):,}-line parse+validate: {peak:.0f} MB")
    ok_rate, ok_mem = rate >= BAR_LINES_PER_S, peak < BAR_PEAK_MB
    print(f"bar parse+validate >= {BAR_LINES_PER_S:,} lines/s: {rate:,.0f}  "
          f"{'PASS' if ok_rate else 'FAIL'}")
    print(f"bar peak memory < {BAR_PEAK_MB} MB: {peak:.0f} MB  {'PASS' if ok_mem else 'FAIL'}")
    rate_2_1, rate_1x = measure_2_1(int(largest), args.runs)
    ok_2_1 = rate_2_1 >= rate_1x
    print(f"bar 2.1 parse+validate >= 1.x: {rate_2_1:,.0f} vs {rate_1x:,.0f} tokens/s  "
          f"{'PASS' if ok_2_1 else 'FAIL'}")
    ok_mem_13 = peak <= BAR_PEAK_MB_13
    print(f"bar (issue 13) peak memory <= {BAR_PEAK_MB_13} MB: {peak:.1f} MB  {'PASS' if ok_mem_13 else 'FAIL'}")
    over = speedups[largest]
    ok_lark_13 = over >= BAR_OVER_LARK_13
    print(f"bar (issue 13) parse+validate >= {BAR_OVER_LARK_13:.0f}x plain Lark parse: {over:.2f}x  "
          f"{'PASS' if ok_lark_13 else 'FAIL'}")
    if args.json:
        print(json.dumps({"figures": figures, "peak_mb": peak,
                          "dsl_2_1": {"2.1": rate_2_1, "slowest_1x": rate_1x}}))
    return 0 if ok_rate and ok_mem and ok_2_1 and ok_mem_13 and ok_lark_13 else 1


if __name__ == "__main__":
    sys.exit(main())
