"""The proof that a layout kept the program: the output re-lexed, not re-parsed.

The parser sees nothing of the text but the lexer's tokens: their kinds and texts (newline
tokens included), and one fact about positions — whether a NAME is directly followed by `:`
(a `key:`, in grammars that have one: 2.1 on). The AST builder makes nodes from those tokens alone (positions are
only recorded), and the version comes from the `#version` directive or, without one, from the
parse. So if the output's token stream equals the input's in all of that, the output parses to
the same AST, positions aside: a complete proof, at the cost of one lex (~3x cheaper than a
parse). Comments are compared too (the promise that every comment is kept).

Two differences the layout makes on purpose: where newline tokens fall (newlines are tokens
only inside `{ … }`: `} else` joined, an empty body `{ }`, a one-line body opened onto lines,
statements split), and `name :` becoming `name:`. Whether the grammar cares depends on where
they are, so the top-level statements holding such a difference are parsed again, alone (a
top-level statement is an independent unit), and their trees compared; the other statements
need nothing more.

The local proof (`verify_local`) reaches the same conclusion without re-lexing the whole
output. The layout names cut points: top-level statements that start a line, at bracket depth
0, in both texts. Cut there, the two texts are sequences of segments; a segment whose output
equals its input byte for byte needs nothing, and each other segment is lexed alone and
compared with the input's tokens (newline tokens and `key:` gluing included), comments and
directives in that segment. Lexing a segment alone reads it as it is read in place because a
cut is a clean lexer state: a line start (so inside no comment, string, shell text or token),
with only blanks before the statement's first token, no bracket open (so newline tokens are
emitted alike), and the token before it not an HTTP method (the one place a token depends on
the one before: a path). Nothing the lexer decides looks across a cut (a segment ends with a
line break; an unterminated comment, string or exec block in an output segment would differ
from the input's, which are all terminated), except the search for the `{` of `exec`, so a
file with `exec` used as a name is proven whole. Where newlines or `key:` gluing moved inside
a segment, its statements are parsed again, alone, as above. Anything not shown locally falls
back to the whole-file proof; only that proof reports a failure.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from operator import attrgetter
from typing import Any

from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import EXEC_LOOKAHEAD, HTTP_METHODS, Lexed, Token, lex
from codeai_lang.syntax.parser import parse_tokens
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import Document, parse_document

_KIND_TEXT = attrgetter("kind", "text")
_START = attrgetter("start")
# `exec` as a whole word, by the lexer's own classes (see `verify_local`)
_EXEC_WORD = re.compile(r"(?<![A-Za-z0-9_])exec(?![A-Za-z0-9_])")
_BLANK = " \t\r\f\v\ufeff"
# How far before a changed segment an `exec` can look into it: the lexer's look-ahead for its
# `{`, plus the word itself (and a margin)
_EXEC_REACH = EXEC_LOOKAHEAD + 8
_DIRECTIVE = re.compile(r"#version[ \t]*(\S*)[ \t]*(.*?)\s*$")


class FormatError(Exception):
    """The layout engine produced text that reads differently from the input (a bug)."""


def verify_layout(doc: Document, out: str) -> None:
    """Raise FormatError unless `out` is `doc`'s program with only its layout changed."""
    before, after = doc.lexed, lex(out)
    has_key = getattr(default_registry().tables(doc.version), "has_key", False)
    if list(map(_KIND_TEXT, before.tokens)) != list(map(_KIND_TEXT, after.tokens)) or (
            has_key and _glued_keys(before.tokens) != _glued_keys(after.tokens)):
        a = [t for t in before.tokens if t.kind != "NL"]
        b = [t for t in after.tokens if t.kind != "NL"]
        _same_tokens(a, b)
        moved = _moved(before.tokens, after.tokens, has_key)
        _same_statements(doc, a, b, moved, out)
    if [_directive(d.text) for d in before.directives] != [_directive(d.text) for d in after.directives]:
        raise FormatError("internal error: formatting would change the #version line; file left unchanged")
    if _comments(before) != _comments(after):
        raise FormatError("internal error: formatting would change a comment; file left unchanged")


def verify_local(doc: Document, out: str, cut_starts: list[int], cut_offsets: list[int]) -> bool:
    """True if `out` is proven to be `doc`'s program with only its layout changed, segment by
    segment between the cut points the layout named (the module docstring); False if that
    could not be shown here (the caller then runs `verify_layout`). Never True wrongly: each
    condition the argument needs is checked here, none is taken from the layout."""
    text, lexed = doc.text, doc.lexed
    if len(cut_starts) != len(cut_offsets):
        return False
    # The cuts: line starts in the input, offsets in the output, and the statement starting
    # each line (its conditions are checked below, only where a segment changed).
    ins, outs, heads = [0], [0], [0]
    for start, offset in zip(cut_starts, cut_offsets, strict=True):
        line = text.rfind("\n", 0, start) + 1
        if line == 0:
            continue  # on the first line: the start of the file is a cut already
        if line <= ins[-1] or offset <= outs[-1] or offset > len(out):
            return False
        ins.append(line)
        outs.append(offset)
        heads.append(start)
    ins.append(len(text))
    outs.append(len(out))
    changed = _changed_segments(text, out, ins, outs)
    if not changed:
        return True
    tokens = lexed.tokens
    tables = default_registry().tables(doc.version)
    has_key = getattr(tables, "has_key", False)
    last = len(ins) - 1
    moved = False
    for k in changed:
        a0, a1, b0, b1 = ins[k], ins[k + 1], outs[k], outs[k + 1]
        if (k and not _clean_cut(text, out, tokens, ins[k], heads[k], b0)) or (
                k + 1 < last and not _clean_cut(text, out, tokens, a1, heads[k + 1], b1)):
            return False
        for m in _EXEC_WORD.finditer(text, max(0, a0 - _EXEC_REACH), a1):
            at = bisect_left(tokens, m.start(), key=_START)
            if at < len(tokens) and tokens[at].start == m.start() and tokens[at].kind != "EXEC":
                return False  # `exec` as a name: whether it opens an exec block is a far lookahead
        piece = out[b0:b1]
        again = lex(piece, local=False)
        if again.diagnostics:
            return False
        before = tokens[bisect_left(tokens, a0, key=_START):bisect_left(tokens, a1, key=_START)]
        if not _same_in(lexed.comments, a0, a1, again.comments, _comment_text) or \
                not _same_in(lexed.directives, a0, a1, again.directives, _directive):
            return False
        after = again.tokens
        if list(map(_KIND_TEXT, before)) == list(map(_KIND_TEXT, after)) and (
                not has_key or _glued_keys(before) == _glued_keys(after)):
            continue
        a = [t for t in before if t.kind != "NL"]
        b = [t for t in after if t.kind != "NL"]
        if list(map(_KIND_TEXT, a)) != list(map(_KIND_TEXT, b)):
            return False
        # newlines or `key:` gluing moved: the segment's statements, parsed again, alone
        statements = doc.statements
        lo = bisect_left(statements, a0, key=_START)
        hi = bisect_left(statements, a1, key=_START)
        reparsed = parse_tokens(after, tables, piece)
        if reparsed.diagnostics or len(reparsed.statements) != hi - lo or any(
                _shape(x) != _shape(y) for x, y in zip(reparsed.statements, statements[lo:hi],
                                                       strict=True)):
            return False
        moved = True
    if moved and doc.version_source == "inferred":
        return parse_document(out).version == doc.version  # as in `_same_statements`
    return True


def _changed_segments(text: str, out: str, ins: list[int], outs: list[int]) -> list[int]:
    """The segments (between cuts `ins` in `text`, `outs` in `out`) whose output differs from
    their input. Consecutive segments shifted alike are compared at once (one string compare
    for a run of unchanged statements)."""
    changed: list[int] = []
    k, n = 0, len(ins) - 1
    while k < n:
        shift, j = outs[k] - ins[k], k
        while j < n and outs[j + 1] - ins[j + 1] == shift:
            j += 1
        # segments k … j-1 are as long in the output as in the input
        if j > k and text[ins[k]:ins[j]] != out[outs[k]:outs[j]]:
            changed += [m for m in range(k, j)
                        if text[ins[m]:ins[m + 1]] != out[outs[m]:outs[m + 1]]]
        if j < n:
            changed.append(j)  # segment j changes length
        k = j + 1
    return changed


def _clean_cut(text: str, out: str, tokens: list[Token], line: int, start: int,
               offset: int) -> bool:
    """Is the cut at input line start `line` (whose first token starts at `start`) and output
    offset `offset` a clean lexer state in both texts (the module docstring)?"""
    if out[offset - 1] != "\n" or text[line:start].strip(_BLANK):
        return False
    at = bisect_left(tokens, start, key=_START)
    return at < len(tokens) and tokens[at].start == start and tokens[at].kind != "NL" and not (
        at and tokens[at - 1].kind == "NAME" and tokens[at - 1].text in HTTP_METHODS)


def _same_in(items: list[Any], start: int, end: int, again: list[Any], key: Any) -> bool:
    """Do the items (comments, directives) of the input between `start` and `end` read as
    `again` (those of the output segment)?"""
    lo, hi = bisect_left(items, start, key=_START), bisect_left(items, end, key=_START)
    return [key(x.text) for x in items[lo:hi]] == [key(x.text) for x in again]


def _comment_text(text: str) -> str:
    return text.rstrip(" \t")


def _same_tokens(a: list[Token], b: list[Token]) -> None:
    ka, kb = list(map(_KIND_TEXT, a)), list(map(_KIND_TEXT, b))
    if ka != kb:
        at = next((i for i, (x, y) in enumerate(zip(ka, kb, strict=False)) if x != y), min(len(ka), len(kb)))
        raise FormatError(f"internal error: formatting would change token {at} "
                          f"({ka[at:at + 1]} → {kb[at:at + 1]}); file left unchanged")


def _comments(lexed: Lexed) -> list[str]:
    return [c.text.rstrip(" \t") for c in lexed.comments]


def _directive(text: str) -> tuple[str, str]:
    m = _DIRECTIVE.match(text)
    return (m.group(1), m.group(2)) if m else (text, "")


def _glued_keys(tokens: list[Token]) -> list[int]:
    """Indexes (among the tokens other than NL) of every `:` written directly after a name
    (what makes a KEY)."""
    out, prev, count = [], None, 0
    for t in tokens:
        if t.kind == "NL":
            prev = t
            continue
        if t.kind == "COLON" and prev is not None and prev.kind == "NAME" and prev.end == t.start:
            out.append(count)
        count += 1
        prev = t
    return out


def _newline_before(tokens: list[Token]) -> list[bool]:
    """For each token other than NL (and the end): whether a newline token precedes it."""
    out, nl = [], False
    for t in tokens:
        if t.kind == "NL":
            nl = True
            continue
        out.append(nl)
        nl = False
    out.append(nl)
    return out


def _moved(before: list[Token], after: list[Token], has_key: bool) -> set[int]:
    """Indexes (among the tokens other than NL, which are equal) of tokens after which a
    newline token moved, or that are a `:` whose gluing to the name before it changed."""
    nl_a, nl_b = _newline_before(before), _newline_before(after)
    moved = {j - 1 for j, (x, y) in enumerate(zip(nl_a, nl_b, strict=True)) if x != y and j}
    if has_key:
        moved |= set(_glued_keys(before)) ^ set(_glued_keys(after))
    return moved


def _same_statements(doc: Document, a: list[Token], b: list[Token], moved: set[int],
                     out: str) -> None:
    """Parse again, alone, each top-level statement holding a token of `moved`; its tree must
    equal the input's (the tokens other than NL are already known to be equal)."""
    statements = doc.statements
    starts = [s.start for s in statements]
    affected = {bisect_right(starts, a[j].start) - 1 for j in moved}
    tables = default_registry().tables(doc.version)
    firsts = [t.start for t in a]
    for k in sorted(affected):
        if k < 0:
            raise FormatError("internal error: formatting moved a line break outside a statement")
        stmt = statements[k]
        first = bisect_right(firsts, stmt.start - 1)
        last = bisect_right(firsts, stmt.end - 1) - 1
        piece = out[b[first].start:b[last].end]
        again = parse_tokens(lex(piece).tokens, tables, piece)
        if again.diagnostics or len(again.statements) != 1 or \
                _shape(again.statements[0]) != _shape(stmt):
            raise FormatError("internal error: formatting would change the statement at offset "
                              f"{stmt.start}; file left unchanged")
    if affected and doc.version_source == "inferred":
        # Without a directive the version is the newest that accepts the file: a statement
        # equal under this version might now be accepted by a newer one. Infer again.
        again_doc = parse_document(out)
        if again_doc.version != doc.version:
            raise FormatError(f"internal error: formatting would make the file read as DSL "
                              f"{again_doc.version} instead of {doc.version}; file left unchanged")


def _shape(node: n.Node) -> Any:
    """A node's JSON without positions."""
    return _strip(node.to_json())


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("range", "shell_start")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
