"""`codeai_lsp.expressions` on its own: completion and hover at every offset of a program
equal the plain definitions (every token scanned, the file's index built each time)."""

from __future__ import annotations

from codeai_lsp import expressions
from codeai_testing.generate import program_2_1

from codeai_lang.analysis.expression_checks import local_index
from codeai_lang.analysis.validator import validate


def _plain_completion(statements: list, tokens: list, offset: int) -> tuple[str, list[str]] | None:
    before = [tk for tk in tokens if tk.end <= offset][-40:]
    if before and before[-1].end == offset and before[-1].kind == "NAME":
        before = before[:-1]
    if not before:
        return None
    index = local_index(statements)
    last = before[-1].text
    if last in expressions._ENTITY_WORDS:
        return "entity", sorted(index.entities)
    if last in expressions._FIELD_WORDS:
        entity = expressions._entity_before(before)
        fields = index.fields(entity) if entity else None
        if fields is not None:
            return f"field of {entity}", sorted(fields)
    return None


def test_completion_and_hover_at_every_offset() -> None:
    text = program_2_1(120, seed=7)
    doc = validate(text).document
    offered = 0
    for offset in range(0, len(text) + 1):
        got = expressions.completion(doc.statements, doc.lexed.tokens, offset)
        assert got == _plain_completion(doc.statements, doc.lexed.tokens, offset)
        offered += got is not None
        expressions.hover(doc.statements, offset)  # (must not fail anywhere)
    assert offered  # the program has queries: some offsets complete names
