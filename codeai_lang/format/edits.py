"""Editor support: the formatter's result as minimal edits, and the indentation of one line.

Editors keep cursors, marks and folds where they were only when a formatting result touches
the lines that changed, so `minimal_edits` diffs old and new text line by line (`align`)
instead of replacing the whole file. `line_indent` serves on-type formatting, where the text
is usually mid-edit and does not parse: it looks only at the brackets still open before the
line (the lexer never fails), one level per line that opened some.
"""

from __future__ import annotations

from codeai_lang.diagnostics.model import Edit
from codeai_lang.format.align import align
from codeai_lang.format.layout import INDENT, split_lines
from codeai_lang.syntax.lexer import lex


def minimal_edits(old: str, new: str) -> list[Edit]:
    """Edits (character offsets into `old`) turning `old` into `new`, one per changed run of
    lines."""
    if old == new:
        return []
    a, b = split_lines(old), split_lines(new)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    edits = []
    for run in align(a, b):
        if a[run.i1:run.i2] != b[run.j1:run.j2]:
            edits.append(Edit(starts[run.i1], starts[run.i2], "".join(b[run.j1:run.j2])))
    return edits


def line_indent(text: str, line: int) -> str | None:
    """The indentation line `line` (0-based) should have, or None when it must not be touched
    (it starts inside shell text or a block comment, or does not exist)."""
    lines = split_lines(text)
    if line < 0 or line > len(lines):
        return None
    start = sum(len(x) for x in lines[:line])
    lexed = lex(text[:start], local=False)  # a prefix: its open brackets close later
    if any(c.end > start or (c.text.startswith("/*") and not c.text.endswith("*/"))
           for c in lexed.comments[-1:]):
        return None  # the line continues a block comment
    if any(tok.kind == "SHELL" and tok.end >= start for tok in lexed.tokens[-2:]):
        return None  # inside (or right at the end of) an exec block's shell text
    opener_lines = {text.count("\n", 0, tok.start) for tok in lexed.unclosed}
    level = len(opener_lines)
    rest = lines[line].lstrip(" \t") if line < len(lines) else ""
    if rest[:1] in ("}", ")", "]") and level:
        level -= 1
    return INDENT * level


def reindent_edit(text: str, line: int) -> Edit | None:
    """The edit giving line `line` its indentation (None if it has it or is not to be touched)."""
    indent = line_indent(text, line)
    if indent is None:
        return None
    lines = split_lines(text)
    body = lines[line] if line < len(lines) else ""
    current = body[:len(body) - len(body.lstrip(" \t"))]
    if current == indent:
        return None
    start = sum(len(x) for x in lines[:line])
    return Edit(start, start + len(current), indent)
