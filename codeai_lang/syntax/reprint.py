"""Lossless reprinting: the concrete text of a parsed document, rebuilt from its pieces.

The AST's top-level statements cover their tokens exactly; everything between them is
trivia (whitespace, comments, the `#version` line) or text the parser skipped while
recovering. Reprinting walks the statements in order and emits the gaps between them
verbatim, so `print_tree(parse_document(t)) == t` proves that statements tile the file and
that nothing is lost — the property the rewrite engine relies on.
"""

from __future__ import annotations

from codeai_lang.syntax.versioned_parse import Document


def print_tree(doc: Document) -> str:
    """Reprint `doc` from its top-level statements and the trivia between them."""
    text = doc.text
    parts: list[str] = []
    pos = 0
    for stmt in doc.statements:
        if stmt.start < pos:
            raise ValueError(f"statements overlap at offset {stmt.start}")
        parts.append(text[pos:stmt.start])  # trivia or skipped text before the statement
        parts.append(text[stmt.start:stmt.end])
        pos = stmt.end
    parts.append(text[pos:])
    return "".join(parts)


def gaps(doc: Document) -> list[tuple[int, int]]:
    """The (start, end) ranges between top-level statements."""
    out, pos = [], 0
    for stmt in doc.statements:
        out.append((pos, stmt.start))
        pos = stmt.end
    out.append((pos, len(doc.text)))
    return out
