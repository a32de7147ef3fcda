"""Time-boxed fuzzers for the toolchain's guarantees (run by hand; CI runs the hypothesis tests).

    .venv/bin/python scripts/fuzz.py validate SECONDS [SEED]     # no hang, no crash
    .venv/bin/python scripts/fuzz.py incremental SECONDS [SEED]  # incremental == full analysis
    .venv/bin/python scripts/fuzz.py rewrite SECONDS [SEED]      # migrate-dsl's promises

Each stops at the first failure, writes the input to /tmp/codeai-fuzz-failure.cai and exits 1.
"""

from __future__ import annotations

import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeai_testing.generate import program_1_0, program_1_1, program_2_0, program_2_1

from codeai_lang.analysis.incremental import IncrementalDocument
from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import apply_edits
from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.syntax.lexer import lex

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FAILURE = Path("/tmp/codeai-fuzz-failure.cai")
WORDS = ["var", "if", "else", "for", "in", "function", "exec", "config", "database", "model",
         "entity", "collection", "on", "do", "async", "endpoint", "GET", "/a/:id", "workflow",
         "job", "event", "@", '"s"', '"open', "1", "2.5", "30s", "x", "y", "{", "}", "(", ")",
         "[", "]", ",", ":", "=", ".", "\n", "#version 1.0\n", "#version 2.0\n", "/*", "*/",
         "//c\n", "$x", "<", "+", "~"]
PIECES = ["\n", "  ", "\t", "// c\n", "/* x */", "}", "{", '"', "x", " primary_key", "\r\n", ""]


LAST: list[str] = [""]  # the input being tried, written out on failure


class Hang(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise Hang


def fuzz_validate(rng: random.Random) -> str | None:
    LAST[0] = text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 60)))
    validate(text)
    return None


# Edits that change what other statements depend on: names of entities, fields, events and
# script globals (the per-statement check caches must notice), 2.1 expressions and queries.
NAMED = ["@a ", "database postgres {", "Order", "status", "total", "OrderShipped", "discount",
         " x", "var discount = 1\n", "function log2(a) { }\n", "var y = x\n", "x = [1]\n",
         "status: string\n", "entity Order {\n", "q: select total from Order where statu = 1\n",
         "r: OrderShipped { order_id: 1 }\n", "var z = discount + input\n", "[", "(", "1)"]
GENERATORS = [program_1_0, program_1_1, program_2_0, program_2_1]


def fuzz_incremental(rng: random.Random) -> str | None:
    make = rng.choice(GENERATORS)
    text = make(rng.randrange(40, 300), seed=rng.randrange(999))
    doc = IncrementalDocument(text, min_incremental=0)
    for _ in range(10):
        a = rng.randrange(len(doc.text) + 1)
        doc.apply_edit(a, min(len(doc.text), a + rng.randrange(5)), rng.choice(PIECES + NAMED))
        LAST[0] = doc.text
        inc = [(d.code, d.start, d.end, d.message) for d in doc.result.diagnostics]
        if inc != [(d.code, d.start, d.end, d.message) for d in validate(doc.text).diagnostics]:
            return "incremental and full analysis differ"
    return None


def fuzz_rewrite(rng: random.Random) -> str | None:
    files = [p for p in CORPUS.glob("v1.*/**/*.cai")] + list(CORPUS.glob("migrations/**/*.before.cai"))
    text = rng.choice(files).read_text()
    for _ in range(rng.randrange(3)):
        a = rng.randrange(len(text) + 1)
        text = text[:a] + rng.choice(PIECES) + text[a:]
    LAST[0] = text
    result = migrate_text(text, "2.0")
    if not result.changed:
        return None if result.text == text else "an unchanged result differs from the input"
    checks: list[tuple[Callable[[], bool], str]] = [
        (lambda: apply_edits(text, result.edits) == result.text, "edits do not reproduce the output"),
        (lambda: validate(result.text).valid, "the migrated text does not validate"),
        (lambda: migrate_text(result.text, "2.0").text == result.text, "not idempotent"),
        (lambda: _comments(text) == _comments(result.text), "a comment changed"),
    ]
    return next((why for ok, why in checks if not ok()), None)


def _comments(text: str) -> list[str]:
    return sorted(c.text.rstrip() for c in lex(text).comments)


def main() -> int:
    kind, seconds = sys.argv[1], float(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    fuzz = {"validate": fuzz_validate, "incremental": fuzz_incremental, "rewrite": fuzz_rewrite}[kind]
    signal.signal(signal.SIGALRM, _alarm)
    runs, started = 0, time.time()
    while time.time() - started < seconds:
        signal.alarm(20)
        try:
            problem = fuzz(rng)
        except Hang:
            problem = "hang (over 20 s)"
        except Exception as exc:  # a crash is a finding
            problem = f"crash: {type(exc).__name__}: {exc}"
        finally:
            signal.alarm(0)
        if problem:
            FAILURE.write_text(LAST[0])
            print(f"FAIL after {runs} runs: {problem}; input in {FAILURE}")
            return 1
        runs += 1
    print(f"ok: {runs} {kind} runs in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
