"""Before/after pairs in corpus/format/, one per layout rule of spec/format.md.

`fmt(before) == after` byte for byte (CRLF files included), and `after` is a fixed point.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codeai_lang.format import format_text

FORMAT = Path(__file__).resolve().parent.parent / "corpus" / "format"
PAIRS = sorted(FORMAT.glob("*.before.cai"))
RULES = {"indentation", "braces", "statements", "spaces", "blank_lines", "comments", "raw_text",
         "trailing_whitespace", "crlf", "no_final_newline", "version_2_0", "else_chains",
         # DSL 2.1 (spec language.md §8): colon clause forms, expressions, queries over
         # several lines, record and object literals, triple-quoted strings, statements in bodies
         "colon_forms_2_1", "expressions_2_1", "queries_2_1", "records_2_1", "triple_quoted_2_1",
         "statements_in_bodies_2_1"}


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def test_every_layout_rule_has_a_pair() -> None:
    names = {p.name.removesuffix(".before.cai") for p in PAIRS}
    assert names >= RULES
    for p in PAIRS:
        assert p.with_name(p.name.replace(".before.", ".after.")).exists(), p


@pytest.mark.parametrize("before", PAIRS, ids=lambda p: p.name.removesuffix(".before.cai"))
def test_before_formats_to_after(before: Path) -> None:
    after = before.with_name(before.name.replace(".before.", ".after."))
    result = format_text(read(before))
    assert result.ok, result.diagnostics
    assert result.changed
    assert result.text == read(after)
    again = format_text(read(after))
    assert again.text == read(after) and not again.changed
