"""LineIndex: LSP columns in each position encoding, and back (round trip on every boundary)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeai_lang.diagnostics.positions import ENCODINGS, LineIndex

LINE = 'a é 𝄞 b'  # 1-, 2-, 4-byte characters; 𝄞 is two UTF-16 units


@pytest.mark.parametrize(("encoding", "columns"), [
    ("utf-8", [0, 1, 2, 4, 5, 9, 10, 11]),
    ("utf-16", [0, 1, 2, 3, 4, 6, 7, 8]),
    ("utf-32", [0, 1, 2, 3, 4, 5, 6, 7]),
])
def test_columns_per_encoding(encoding: str, columns: list[int]) -> None:
    index = LineIndex("x\n" + LINE)
    got = [index.lsp(2 + i, encoding) for i in range(len(LINE) + 1)]
    assert got == [(1, c) for c in columns]
    assert [index.offset_from_lsp(1, c, encoding) for c in columns] == [2 + i for i in range(len(LINE) + 1)]


def test_column_inside_a_character_lands_after_it() -> None:
    index = LineIndex(LINE)
    assert index.offset_from_lsp(0, 3, "utf-8") == 3  # inside `é` → after it
    assert index.offset_from_lsp(0, 5, "utf-16") == 5  # between 𝄞's surrogates → after it
    assert index.offset_from_lsp(0, 99, "utf-8") == len(LINE)


@given(st.text(alphabet=st.sampled_from(["a", "é", "𝄞", "\n", "中"]), max_size=30))
def test_round_trip(text: str) -> None:
    index = LineIndex(text)
    for enc in ENCODINGS:
        for offset in range(len(text) + 1):
            line, col = index.lsp(offset, enc)
            assert index.offset_from_lsp(line, col, enc) == offset
