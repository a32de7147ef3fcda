"""textDocument/formatting, rangeFormatting and onTypeFormatting.

Each answer is the formatter's result as minimal edits (one per changed run of lines, from a
line diff), so the client keeps cursors and marks. The client's FormattingOptions (tab size,
spaces) are ignored on purpose: there is one layout, as with gofmt. A document with syntax
errors gets no edits. On-type formatting re-indents only the line typed on, from the brackets
open before it, because a document being typed rarely parses.
"""

from __future__ import annotations

from lsprotocol import types as t

from codeai_lang.diagnostics.model import Edit
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lsp.convert import to_range

ON_TYPE_FIRST = "}"
ON_TYPE_MORE = ["\n"]


def _text_edits(index: LineIndex, edits: list[Edit]) -> list[t.TextEdit]:
    return [t.TextEdit(range=to_range(index, e.start, e.end), new_text=e.new_text) for e in edits]


def format_document(text: str, version: str | None) -> list[t.TextEdit]:
    from codeai_lang.format import format_text, minimal_edits

    result = format_text(text, version)
    if not result.ok or not result.changed:
        return []
    return _text_edits(LineIndex(text), minimal_edits(text, result.text))


def format_range(text: str, rng: t.Range, version: str | None) -> list[t.TextEdit]:
    """Edits touching only the lines of `rng` (a range ending at column 0 excludes that line)."""
    from codeai_lang.format import format_range as format_lines
    from codeai_lang.format import minimal_edits

    last = rng.end.line - 1 if rng.end.character == 0 and rng.end.line > rng.start.line else rng.end.line
    result = format_lines(text, rng.start.line, last, version)
    if not result.ok or not result.changed:
        return []
    return _text_edits(LineIndex(text), minimal_edits(text, result.text))


def format_on_type(text: str, position: t.Position, ch: str) -> list[t.TextEdit]:
    """Re-indent the line typed on: after `}` only if the line starts with it."""
    from codeai_lang.format import reindent_edit

    index = LineIndex(text)
    line = position.line
    if ch == ON_TYPE_FIRST:
        start = index.line_starts[line] if line < len(index.line_starts) else len(text)
        if not text[start:].lstrip(" \t").startswith("}"):
            return []
    edit = reindent_edit(text, line)
    return [] if edit is None else _text_edits(index, [edit])
