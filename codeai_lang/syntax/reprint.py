"""Lossless reprinting: the concrete text of a parsed document, rebuilt from its pieces.

The text is rebuilt from the lexer's tokens, taken statement by statement from the AST, and
the trivia between them: the comments the lexer records and whitespace. Nothing is copied
from the source between statement offsets, so `print_tree(parse_document(t)) == t` checks
that the top-level statements start and end on token boundaries, that every token belongs to
a statement (or, in a document with syntax errors, to text that recovery skipped next to a
reported error) and that everything else is trivia. A parse that lost a statement, or a lexer
that lost a token, raises `ReprintError` instead of reprinting.
"""

from __future__ import annotations

from collections.abc import Sequence

from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.syntax.lexer import Comment, Token
from codeai_lang.syntax.versioned_parse import Document

_WHITESPACE = " \t\r\f\v\ufeff\n"  # what the lexer's WS and NEWLINE patterns match


class ReprintError(ValueError):
    """The tree does not account for the text: a lost statement or token, or overlapping nodes."""


def print_tree(doc: Document) -> str:
    """Reprint `doc` from its statements' tokens, skipped tokens and the trivia between them."""
    tokens = doc.lexed.tokens
    if doc.lexed.directives:
        tokens = sorted([*tokens, *doc.lexed.directives], key=lambda t: t.start)
    out = _Printer(doc.text, doc.lexed.comments)
    errors = [d for d in doc.diagnostics if d.is_error]
    i, ntok = 0, len(tokens)
    for stmt in doc.statements:
        j = i
        while j < ntok and tokens[j].end <= stmt.start:
            j += 1
        _check_skipped(tokens[i:j], errors, stmt.start)
        out.tokens(tokens, i, j)
        if j == ntok or tokens[j].start != stmt.start:
            raise ReprintError(f"statement at offset {stmt.start} does not start at a token")
        k = j + 1
        while k < ntok and tokens[k].end <= stmt.end:
            k += 1
        # A statement left open by an unclosed bracket (an error) ends at the end of the text.
        if tokens[k - 1].end != stmt.end and not (errors and stmt.end == len(doc.text)):
            raise ReprintError(f"statement at offset {stmt.start} does not end at a token")
        out.tokens(tokens, j, k)
        i = k
    _check_skipped(tokens[i:], errors, len(doc.text))
    out.tokens(tokens, i, ntok)
    return out.finish()


def _check_skipped(skipped: Sequence[Token], errors: list[Diagnostic], until: int) -> None:
    """Tokens outside every statement are only allowed where recovery reported an error: on
    them, or in the trivia after them up to `until` (the next statement or the end of the text,
    where an "unexpected end of file" after a stray `@` is reported)."""
    significant = [t for t in skipped if t.kind not in ("DIRECTIVE", "NL")]
    if not significant:
        return
    lo, hi = significant[0].start, significant[-1].end
    if not any(d.start <= until and d.end >= lo for d in errors):
        raise ReprintError(f"tokens at offsets {lo}-{hi} belong to no statement and no error "
                           f"was reported there (a lost statement?)")


class _Printer:
    """Appends tokens and, before each, the trivia since the previous one."""

    def __init__(self, text: str, comments: list[Comment]) -> None:
        self.text = text
        self.comments = comments
        self.next_comment = 0
        self.pos = 0
        self.parts: list[str] = []

    def tokens(self, tokens: Sequence[Token], start: int, stop: int) -> None:
        parts = self.parts
        for idx in range(start, stop):
            tok = tokens[idx]
            if tok.start < self.pos:
                raise ReprintError(f"token at offset {tok.start} overlaps the previous one")
            self._trivia(tok.start)
            parts.append(tok.text)
            self.pos = tok.end

    def finish(self) -> str:
        self._trivia(len(self.text))
        return "".join(self.parts)

    def _trivia(self, end: int) -> None:
        """Comments as the lexer recorded them; the rest must be whitespace."""
        comments, pos = self.comments, self.pos
        while self.next_comment < len(comments) and comments[self.next_comment].start < end:
            comment = comments[self.next_comment]
            self._whitespace(pos, comment.start)
            self.parts.append(comment.text)
            pos = comment.end
            self.next_comment += 1
        self._whitespace(pos, end)
        self.pos = end

    def _whitespace(self, start: int, end: int) -> None:
        if start > end:
            raise ReprintError(f"comment at offset {end} overlaps a token")
        gap = self.text[start:end]
        if gap.strip(_WHITESPACE):
            raise ReprintError(f"text {gap[:40]!r} at offset {start} is neither a token nor trivia")
        self.parts.append(gap)


def gaps(doc: Document) -> list[tuple[int, int]]:
    """The (start, end) ranges between top-level statements."""
    out, pos = [], 0
    for stmt in doc.statements:
        out.append((pos, stmt.start))
        pos = stmt.end
    out.append((pos, len(doc.text)))
    return out
