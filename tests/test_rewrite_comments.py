"""Comments in odd places survive migration (cases found by fuzzing the rewrite engine)."""

from __future__ import annotations

import pytest

from codeai_lang.analysis.validator import validate
from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.syntax.lexer import lex


def _comments(text: str) -> list[str]:
    return sorted(c.text.rstrip() for c in lex(text).comments)


@pytest.mark.parametrize("text", [
    # a block comment before a flat key on the same line (D3)
    '#version 1.1\nconfig {\n    db_host: "h"\n   /* x */ db_name: "shop"\n    port: 1\n}\n',
    # a comment inside the database_type value (D3)
    '#version 1.1\nconfig {\n    database_type: /* x */"postgres"\n    db_host: "h"\n}\n',
    # a block comment inside the `database … {` header (D2, empty wrapper)
    "#version 1.1\ndatabase/* x */ mongodb {\n}\nvar ready = true\n",
    # a line comment inside the header (D1): kept on its own line
    "#version 1.1\ndatabase // c\npostgres {\n    model Tag {\n        id: uuid\n    }\n}\n",
])
def test_comments_are_kept(text: str) -> None:
    result = migrate_text(text, "2.0")
    assert result.ok and result.changed, result.error
    assert _comments(result.text) == _comments(text)
    assert validate(result.text).valid
    assert migrate_text(result.text, "2.0").text == result.text


def test_line_comment_in_header_before_code_needs_a_human() -> None:
    text = "#version 1.1\ndatabase // c\npostgres { model Tag {\n        id: uuid\n    }\n}\n"
    result = migrate_text(text, "2.0")
    assert not result.ok
    assert any("comment" in m.message for m in result.manual)
