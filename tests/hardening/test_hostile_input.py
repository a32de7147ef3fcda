"""Issue 12 items 6–8: huge tokens and long junk runs stay linear and lean.

No timings here (those are in benchmarks/hostile_input.py): memory is asserted with tracemalloc
bounds far from both the fixed and the broken figures, and recovery by the structure it leaves
(how many tokens, diagnostics and how long the messages are).
"""

from __future__ import annotations

import tracemalloc

import pytest

from codeai_lang.analysis.validator import validate
from codeai_lang.syntax.lexer import EXCERPT, MAX_RUN, lex
from codeai_lang.syntax.reprint import print_tree
from codeai_lang.syntax.versioned_parse import parse_document

MB = 1_000_000


def _peak_mb(fn: object) -> float:
    tracemalloc.start()
    try:
        fn()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("body", ["x" * MB, "\\n" * (MB // 2), "ab\\\"" * (MB // 4)],
                         ids=["plain", "escapes", "mixed"])
def test_string_literal_memory_is_flat(body: str) -> None:
    text = f'var s = "{body}"\n'
    # Before the fix a 1 MB literal took ~120 MB inside `re` (about 300 bytes per character).
    assert _peak_mb(lambda: lex(text)) < 16
    lexed = lex(text)
    assert [t.kind for t in lexed.tokens] == ["NAME", "NAME", "EQUAL", "STRING"]
    assert lexed.tokens[-1].text == f'"{body}"' and not lexed.diagnostics


def test_unterminated_huge_string_is_one_token() -> None:
    lexed = lex('var s = "' + "y" * MB)
    assert lexed.tokens[-1].kind == "STRING" and [d.code for d in lexed.diagnostics] == ["CAI002"]


def test_run_of_bad_characters_quotes_a_short_excerpt() -> None:
    text = "var x = 1\n" + "\u00a7" * MB + "\n"
    [diag] = lex(text).diagnostics
    assert len(diag.message) < 100 and f"{MB:,} characters" in diag.message
    assert (diag.start, diag.end) == (10, 10 + MB)  # the range still covers the whole run
    assert "\u00a7" * EXCERPT in diag.message and "\u00a7" * (EXCERPT + 1) not in diag.message


@pytest.mark.parametrize("unit", ["@", ")", "}", ",", "@ ", "@\n", "\u00a7 ", "==", "@,:.", "+ - ! \u00a7"])
def test_long_runs_of_stray_tokens_collapse(unit: str) -> None:
    text = unit * (2 * MB // len(unit))
    lexed = lex(text)
    assert len(lexed.tokens) <= MAX_RUN + 1  # not a million tokens
    assert len(lexed.diagnostics) <= MAX_RUN + 1
    assert all(len(d.message) < 200 for d in lexed.diagnostics)
    assert lexed.tokens[-1].end == len(text.rstrip())  # the run is covered to its end
    doc = parse_document(text)
    assert print_tree(doc) == text  # still lossless
    assert 1 <= len(doc.diagnostics) <= MAX_RUN + 10


def test_ten_megabytes_of_at_signs_validate_leanly() -> None:
    text = "@" * (10 * MB)
    result = validate(text)
    assert 1 <= len(result.diagnostics) <= 5
    assert max(len(d.message) for d in result.diagnostics) < 200


def test_short_runs_are_still_tokens() -> None:
    """Valid deep nesting and short repeats are untouched by the run cap."""
    text = "var x = " + "[" * 100 + "1" + "]" * 100 + "\n"
    assert not validate(text).diagnostics
    assert sum(1 for t in lex(text).tokens if t.kind == "RSQB") == 100


@pytest.mark.parametrize("text", [
    "f(" + "b" * MB + " c)\n",  # CAI102 quotes the undefined name
    "entity E { id: " + "T" * MB + " }\n",  # CAI202 quotes the undeclared type
    "var " + "n" * MB + " = 1\nvar " + "n" * MB + " = 2\n",  # CAI101 quotes the duplicate
], ids=["undefined-variable", "undeclared-type", "duplicate"])
def test_every_message_quotes_an_excerpt_of_huge_names(text: str) -> None:
    diags = validate(text).diagnostics
    assert diags and all(len(d.message) <= 300 for d in diags)
    assert any("1,000,000 characters" in d.message for d in diags)
