"""The layout engine: re-emit a parsed document's tokens with canonical whitespace.

It works over the lexer's lossless token stream: significant tokens are copied as they are
(strings, shell text and comments are raw text and never touched) and only the trivia
between two tokens is decided here — a space, nothing, or a line break with its indentation.
The author's line breaks are kept (like gofmt), except where a layout rule of
docs/formatting.md moves one: `{` joins its header line, `else` joins the `}` before it, a
multi-line body gets its `{` and `}` on lines of their own, and one statement goes per line.
The AST supplies what tokens alone cannot tell: where statements start (continuation lines)
and where a decorator ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import Token
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import Document

INDENT: Final = "    "
_CLOSER_OF: Final = {"LBRACE": "RBRACE", "LPAR": "RPAR", "LSQB": "RSQB"}
_CLOSERS: Final = frozenset(_CLOSER_OF.values())
_BRACKETS: Final = _CLOSERS | frozenset(_CLOSER_OF)
# A line ending with one of these continues on the next (2.1 expressions).
_CONTINUED_AFTER: Final = frozenset({"OP", "COMMA", "EQUAL", "COLON", "QMARK", "PERCENT"})
# Inside the trivia between two tokens: a newline or a comment (everything else is blank).
_GAP_ITEM: Final = re.compile(r"\n|//[^\r\n]*|/\*[\s\S]*?(?:\*/|\Z)")
_DIRECTIVE: Final = re.compile(r"#version[ \t]*(\S*)[ \t]*(.*?)\s*$")
_NO_SPACE_AFTER: Final = frozenset({"LPAR", "LSQB", "DOT", "AT"})
_NO_SPACE_BEFORE: Final = frozenset({"RPAR", "RSQB", "COMMA", "COLON", "DOT"})
# After these an operator is unary (`-1`, `x: -2`): no space between it and its operand.
_UNARY_CONTEXT: Final = frozenset({"OP", "EQUAL", "COLON", "COMMA", "LPAR", "LSQB", "LBRACE", "QMARK"})
# Continuation words that continue a condition rather than start a query clause (2.1).
_CONDITION_WORDS: Final = frozenset({"and", "or"})
# Words after which `-`/`+` is unary (`not done and -balance`).
_UNARY_AFTER_WORDS: Final = frozenset({"and", "or", "not", "return"})
# Words that are not callees when a `(` follows them.
_PAREN_KEYWORDS: Final = frozenset({"if", "for", "in", "and", "or", "not", "where", "return", "while"})
# A `{` joins the previous line unless it follows one of these (an element, not a body).
_NO_JOIN_BRACE_AFTER: Final = frozenset({"COMMA", "LPAR", "LSQB", "LBRACE", "OP", "EQUAL", "COLON"})
# `_space` gives one space between a token of these kinds and a NAME after it, whatever their
# texts, unless the NAME starts an entry or a statement (never on the fast path)
_SPACED_BEFORE_NAME: Final = frozenset({"NAME", "COLON", "COMMA", "STRING", "EQUAL"})
# What is known of each token, one bit each in `_Printer.flags` (by token index: a list is
# read in order, where sets of offsets cost a hash probe per token and question).
_AFTER_NL: Final = 1  # a newline token precedes it
_STMT: Final = 2  # it starts a statement (any depth)
_ENTRY: Final = 4  # it starts an entry of a declarative body or a field of an object (2.1)
_TOP: Final = 8  # it starts a top-level statement
_TERNARY: Final = 16  # the `:` of a ternary (2.1)


@dataclass(slots=True)
class _Frame:
    """An open bracket (or the file itself): where its contents are indented."""

    kind: str  # LBRACE / LPAR / LSQB, or TOP for the file
    base: int  # indentation level of its closing line; contents get base + 1
    multiline: bool = False  # a `{ … }` whose source spans lines: `{` and `}` on own lines
    raw: bool = False  # the braces of `exec { … }`: the shell text between them is verbatim
    unit: int = 0  # TOP and `{` frames: indentation of the statement or entry being laid out
    script: bool = False  # a script block: a line not starting a statement continues one


def line_ending(text: str) -> str:
    """The file's line ending, from its first line break: CRLF or LF."""
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def split_lines(text: str) -> list[str]:
    """Lines with their `\\n` (and `\\r\\n`) kept; only `\\n` ends a line, as in the lexer."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def layout(doc: Document) -> str:
    """The canonical layout of `doc` (which must have no syntax errors)."""
    return _Printer(doc).run()


def layout_with_cuts(doc: Document) -> tuple[str, list[int], list[int]]:
    """The layout, and where it claims top-level statements start: for each such statement
    that starts its output line at bracket depth 0, its first token's offset in the input and
    its line's offset in the output. Only a hint for the local proof (`verify.py`), which
    checks every property it relies on; a wrong hint only costs the whole-file proof."""
    printer = _Printer(doc)
    out = printer.run()
    lines, cut_lines = printer.lines, printer.cut_lines
    offsets: list[int] = []
    if cut_lines:
        step = len(line_ending(doc.text))
        pos = 1 if out.startswith("\ufeff") else 0
        k, want = 0, cut_lines[0]
        for index, line in enumerate(lines):
            if index == want:
                offsets.append(pos)
                k += 1
                if k == len(cut_lines):
                    break
                want = cut_lines[k]
            pos += len(line) + step
    return out, printer.cut_starts[:len(offsets)], offsets


class _Printer:
    def __init__(self, doc: Document) -> None:
        self.text = doc.text
        self._index_tokens(doc)
        self._index_tree(doc)
        self.directive = doc.directive
        # output state
        self.lines: list[str] = []
        self.line: list[str] = []
        self.indent = 0  # indentation level of the current line
        self.base = 0  # the same without its continuation level
        self.frames = [_Frame("TOP", -1)]
        self.last_open = False  # the last thing emitted is an opening bracket
        self.after_comment = False  # the last thing emitted is a block comment inside a line
        self.inline_at: set[int] = set()  # indexes in `line` of block comments placed inside it
        self.line_code = False  # the current line holds a token (not only comments)
        # top-level statements starting an output line: input offset, output line index
        self.cut_starts: list[int] = []
        self.cut_lines: list[int] = []

    def _index_tokens(self, doc: Document) -> None:
        """The significant tokens without NL, their starts, where a NL preceded one (the
        first flags), bracket partners."""
        toks: list[Token] = []
        kinds: list[str] = []  # each token's kind, text and start, read once: attribute
        texts: list[str] = []  # reads of token objects are the dearest part of the pass
        starts: list[int] = []
        flags: list[int] = []
        after = 0
        for t in doc.lexed.tokens:
            kind = t.kind
            if kind == "NL":
                after = _AFTER_NL  # NL tokens never follow each other
                continue
            toks.append(t)
            kinds.append(kind)
            texts.append(t.text)
            starts.append(t.start)
            flags.append(after)
            after = 0
        self.toks, self.kinds, self.texts, self.starts, self.flags = toks, kinds, texts, starts, flags
        self.match = _match_brackets(kinds)

    def _index_tree(self, doc: Document) -> None:
        """What the tree tells that tokens do not: where statements (and, from 2.1, entries)
        start, which braces open script blocks, which `}` an `else` follows, where decorators
        end, and the version's continuation words."""
        stmt_starts: list[int] = []
        self.else_after: set[int] = set()  # end offsets of then-blocks followed by `else`
        self.block_starts: set[int] = set()  # `{` of script blocks: their lines are statements
        for stmt in n.iter_statements(doc.statements):
            stmt_starts.append(stmt.start)
            if isinstance(stmt, n.IfStmt):
                self.block_starts.add(stmt.then.start)
                if isinstance(stmt.orelse, n.Block):
                    self.block_starts.add(stmt.orelse.start)
                if stmt.orelse is not None:
                    self.else_after.add(stmt.then.end)
            elif isinstance(stmt, n.ForStmt | n.FunctionDecl):
                self.block_starts.add(stmt.body.start)
        self.decorator_ends = {d.end for s in doc.statements if isinstance(s, n.Declaration)
                               for d in s.decorators}
        # Words that continue the construct of the line before (2.1 queries: `where`, `from`…),
        # as the version's grammar tables declare them (none before 2.1).
        tables = default_registry().tables(doc.version)
        continuing: frozenset[str] = getattr(tables, "continuations", frozenset())
        self.continuation_words = {word for word, term in tables.keywords.items()
                                   if term in continuing}
        # Grammars with `key:` terminals (2.1+) allow several properties on one line: those
        # entries go on lines of their own in a multi-line body, two spaces apart in a
        # one-line body (`{ method: jwt  issuer: "…" }`). Earlier bodies hold one per line.
        starts, flags = self.starts, self.flags
        _mark(starts, flags, [s.start for s in doc.statements], _TOP)
        _mark(starts, flags, stmt_starts, _STMT)
        if getattr(tables, "has_key", False):
            _mark(starts, flags, _entry_starts(doc.statements, self.else_after), _ENTRY)
            _fields_and_ternaries(self.kinds, self.texts, starts, flags)

    # -- driver ---------------------------------------------------------------------------

    def run(self) -> str:
        toks, text = self.toks, self.text
        first = toks[0].start if toks else len(text)
        blank_next = self._leading(text[:first])
        flags, starts, kinds, texts, space = self.flags, self.starts, self.kinds, self.texts, self._space
        brackets = _BRACKETS
        prev_end = 0
        for i, tok in enumerate(toks):
            start, ttext = starts[i], texts[i]
            # the gap before it: no new string for the commonest two
            if start == prev_end or not i:
                gap = ""
            elif start == prev_end + 1 and text[prev_end] == " ":
                gap = " "
            else:
                gap = text[prev_end:start]
            prev_end = start + len(ttext)  # a token is its exact slice (cheaper than `.end`)
            # Fast path, most tokens: at most one space before it, in the middle of a line,
            # and no rule that could break the line here (see _place and _forced_break).
            if ((gap == " " or not gap) and i and not flags[i] & (_STMT | _ENTRY)
                    and not self.last_open and not self.after_comment
                    and kinds[i] not in brackets):
                line = self.line
                # the commonest pairs, where no rule of _space applies but the last: one space
                if kinds[i] == "NAME" and kinds[i - 1] in _SPACED_BEFORE_NAME:
                    line.append(" ")
                else:
                    line.append(space(i, gap))
                line.append(ttext)
                continue
            self._token(i, tok, gap, blank_next if i == 0 else False)
        tail = text[toks[-1].end:] if toks else ""
        self._trailing(tail)
        self._flush()
        eol = line_ending(text)
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        lines = self.lines
        while lines and not lines[-1]:
            lines.pop()
        return bom + eol.join(lines) + eol if lines else bom

    # -- lines ----------------------------------------------------------------------------

    def _flush(self) -> None:
        line = self.line
        if line:
            k = len(line) - 1
            while k > 0 and self.inline_at and k in self.inline_at:
                # block comments meant to sit inside the line ended it after all: they are
                # end-of-line comments, two spaces after the code
                line[k] = "  " + line[k].lstrip(" ")
                k -= 1
            self.lines.append(INDENT * self.indent + "".join(line))
            self.line = []
        self.line_code = False
        if self.inline_at:
            self.inline_at = set()

    def _break(self, blank: bool, indent: int, base: int) -> None:
        self._flush()
        if blank and self.lines and self.lines[-1]:
            self.lines.append("")
        self.indent, self.base = indent, base
        top = self.frames[-1]
        if top.kind in ("TOP", "LBRACE"):
            top.unit = base

    # -- the region before the first token: comments and the #version line ------------------

    def _leading(self, gap: str) -> bool:
        """Emit comments and the directive before the first token; True if a blank line must
        follow (the directive is followed by one)."""
        d = self.directive
        inside = d is not None and d.start < len(gap)
        items: list[tuple[int, str]] = [
            (m.start(), m.group()) for m in _GAP_ITEM.finditer(gap)
            if not (inside and d is not None and d.start <= m.start() < d.end)]
        if inside and d is not None:
            items.append((d.start, _directive_text(d.text)))
            items.sort()
        nls, after_directive, started = 0, False, False
        for start, item in items:
            if item == "\n":
                nls += 1
                continue
            if d is not None and start == d.start and item.startswith("#version"):
                self._break(started and nls >= 2, 0, 0)
                self.line.append(item)
                after_directive = True
            elif started and nls == 0 and self.line:  # on the same line as the comment before
                self.line.append(" " + _comment_text(item))
            else:
                self._break(after_directive or (started and nls >= 2), 0, 0)
                self.line.append(_comment_text(item))
                after_directive = False
            started, nls = True, 0
        return after_directive or (started and nls >= 2)

    def _trailing(self, gap: str) -> None:
        nls = 0
        for m in _GAP_ITEM.finditer(gap):
            item = m.group()
            if item == "\n":
                nls += 1
                continue
            self._comment(item, nls, 0, closer_next=False)
            nls = 0

    # -- one token ------------------------------------------------------------------------

    def _token(self, i: int, tok: Token, gap: str, blank_first: bool) -> None:
        frames = self.frames
        top = frames[-1]
        kind = tok.kind
        closes = kind in _CLOSERS and top.kind != "TOP"
        if i == 0:
            self._break(blank_first, *self._indent(i, tok, top, closes))
        else:
            self._place(i, tok, gap, closes)
        if not self.line and len(frames) == 1 and self.flags[i] & _TOP:
            self.cut_starts.append(tok.start)
            self.cut_lines.append(len(self.lines))
        self.line.append(tok.text)
        self.line_code = True
        self.last_open = kind in _CLOSER_OF
        self.after_comment = False
        if kind in _CLOSER_OF:
            frames.append(self._open_frame(i, tok))
        elif closes:
            frames.pop()

    def _indent(self, i: int, tok: Token, top: _Frame, closes: bool) -> tuple[int, int]:
        """(indentation, indentation without continuation) of token `i` starting a line."""
        if closes:
            return top.base, top.base
        base = top.base + 1
        return base + self._continuation(i, tok, top), base

    def _place(self, i: int, tok: Token, gap: str, closes: bool) -> None:
        """Decide the trivia before token `i`: its comments, then a space or a line break."""
        nls, must_break, comments = 0, False, False
        if gap == " " or not gap:
            pass  # the common case: no comment, no line break
        elif "/" in gap:
            indent = self._indent(i, tok, self.frames[-1], closes)[0]
            for m in _GAP_ITEM.finditer(gap):
                item = m.group()
                if item == "\n":
                    nls += 1
                    continue
                comment_indent = indent + 1 if closes else indent
                must_break = self._comment(item, nls, comment_indent, closer_next=closes,
                                           inline=_inline_block(item, gap, m.end()))
                comments, nls = True, 0
        else:
            nls = gap.count("\n")
        prev = self.toks[i - 1]
        if must_break or (nls and not self._joins(i, tok, prev, comments)):
            blank = nls >= 2 and not self.last_open and not closes
            self._break(blank, *self._indent(i, tok, self.frames[-1], closes))
            return
        if self._forced_break(i, tok, prev, closes):
            self._break(False, *self._indent(i, tok, self.frames[-1], closes))
            return
        if self.after_comment:
            self.line.append("" if tok.kind in _NO_SPACE_BEFORE else " ")
        else:
            self.line.append(self._space(i, gap))

    def _comment(self, item: str, nls: int, indent: int, *, closer_next: bool,
                 inline: bool = False) -> bool:
        """Emit a comment; True if what follows must start a new line."""
        text = _comment_text(item)
        if nls == 0 and self.line:  # end-of-line comment (or a block comment inside a line)
            lead = "  " if not inline else "" if self.last_open else " "
            self.line.append(lead + text)
            if inline:
                self.inline_at.add(len(self.line) - 1)
            self.last_open = False
            self.after_comment = inline
            return not inline
        blank = nls >= 2 and not self.last_open
        self._break(blank, indent, indent)
        self.line.append(text)
        self.last_open = False
        self.after_comment = inline
        return text.startswith("//") or not inline

    # -- rules ----------------------------------------------------------------------------

    def _continuation(self, i: int, tok: Token, top: _Frame) -> int:
        """1 if token `i`, starting a line, continues the statement or entry before it."""
        if i == 0 or top.kind in ("LPAR", "LSQB"):
            return 0
        prev = self.toks[i - 1]
        if tok.text == "else" and prev.end in self.else_after:
            return 0  # `else` after a comment line: at the `if`'s indentation
        if top.kind == "TOP":
            return 0 if self.flags[i] & _TOP or prev.end in self.decorator_ends else 1
        if (self.flags[i] & (_STMT | _ENTRY)
                or (prev.kind == "LBRACE" and self.match[i - 1] >= 0)):
            return 0
        # In a declarative body every line is an entry, unless the line before ends with an
        # operator or separator or this one starts with a continuation word (2.1); in a script
        # block a statement may span lines (`on "e" do⏎ workflow "w"`).
        if top.script or not self.flags[i] & _AFTER_NL or prev.kind in _CONTINUED_AFTER:
            return self._deeper(tok)
        return self._deeper(tok) if tok.text in self.continuation_words else 0

    def _deeper(self, tok: Token) -> int:
        """The continuation level of a line: 1, except that an `and`/`or` line (2.1) goes one
        level deeper than a query clause line it continues (`where a⏎    and b`), and stays
        at the level of an `and`/`or` line before it."""
        if tok.text not in _CONDITION_WORDS or tok.text not in self.continuation_words:
            return 1
        before = self.line[0] if self.line else ""  # the first token of the line above
        level = self.indent - self.base
        if before in _CONDITION_WORDS:
            return max(level, 1)
        if level >= 1 and before in self.continuation_words:
            return level + 1
        return 1

    def _joins(self, i: int, tok: Token, prev: Token, comments: bool) -> bool:
        """True if a source line break before `tok` is removed by a layout rule."""
        if comments:
            return False
        if self.match[i] == i - 1:  # an empty body: `{ }`, `()`, `[]`
            return True
        if tok.kind == "LBRACE":  # `{` ends its header line
            top = self.frames[-1].kind
            return (top in ("TOP", "LBRACE") and not self.flags[i] & _AFTER_NL
                    and prev.kind not in _NO_JOIN_BRACE_AFTER)
        if tok.text == "else" and prev.kind == "RBRACE" and prev.end in self.else_after:
            return True  # `} else {`
        return prev.text == "else" and bool(self.flags[i] & (_STMT | _ENTRY))  # `else if`

    def _forced_break(self, i: int, tok: Token, prev: Token, closes: bool) -> bool:
        """A line break the source lacks: around a multi-line body, between statements."""
        top = self.frames[-1]
        if top.raw:
            return False
        if top.multiline and (closes or (self.last_open and self.match[i - 1] >= 0)):
            return True
        if not self.line_code:
            return False  # only comments before it on this line (`/* why */ key: 1`)
        if self.flags[i] & _STMT and prev.text != "else":
            return top.kind == "TOP" or top.multiline
        if self.flags[i] & _ENTRY and top.kind == "LBRACE":
            return top.multiline and prev.text != "else"
        return False

    def _open_frame(self, i: int, tok: Token) -> _Frame:
        if tok.kind != "LBRACE":
            return _Frame(tok.kind, self.indent)
        # A body closes at the indentation of the statement or entry it belongs to, even when
        # its header spans lines (`function f(a,⏎ b) {`); an object inside brackets closes at
        # the indentation of its line.
        top = self.frames[-1]
        base = top.unit if top.kind in ("TOP", "LBRACE") else self.indent
        if i and self.toks[i - 1].kind == "EXEC":
            return _Frame("LBRACE", base, raw=True, unit=base + 1)
        close = self.toks[self.match[i]]
        empty = self.match[i] == i + 1 and "/" not in self.text[tok.end:close.start]
        multiline = not empty and self.text.find("\n", tok.end, close.start) >= 0
        return _Frame("LBRACE", base, multiline=multiline, unit=base + 1,
                      script=tok.start in self.block_starts)

    def _space(self, i: int, gap: str) -> str:
        """The spacing between token `i` and the one before, on one line."""
        kinds, texts = self.kinds, self.texts
        pk, k, ptext = kinds[i - 1], kinds[i], texts[i - 1]
        if pk == "SHELL" or k == "SHELL" or (pk == "LBRACE" and k == "RBRACE" and self.frames[-1].raw):
            return ""  # the braces of `exec { … }` hug the shell text, which keeps its spaces
        if ptext.endswith("/") and texts[i][:1] in "/*":
            return " "  # never glue `/` and `/` or `*` into a comment opener
        if gap and ((pk == "NUMBER" and k == "DOT") or (pk == "DOT" and k in ("NUMBER", "DURATION"))):
            return " "  # `1 .5` must not become the number `1.5`
        if self.flags[i] & _ENTRY and pk not in ("LBRACE", "COMMA") and ptext != "else":
            return "  "  # the next property of a one-line body (`{ a: 1  b: 2 }`)
        if k == "COLON" and self.flags[i] & _TERNARY:
            return " "  # the `:` of a ternary `c ? a : b` (2.1)
        if pk in _NO_SPACE_AFTER or k in _NO_SPACE_BEFORE:
            return ""
        if pk == "OP" and ptext in "+-" and self._unary(i - 1):
            return ""  # `-1`, `-(a + b)`
        if k == "LPAR":
            return "" if pk == "NAME" and ptext not in _PAREN_KEYWORDS else " "
        if k == "LSQB" and not gap and pk in ("NAME", "RPAR", "RSQB"):
            return ""  # indexing `a[0]` (2.1) keeps its tight bracket
        return " "

    def _unary(self, j: int) -> bool:
        """True if the operator at token `j` has no left operand (`-1`)."""
        if j == 0 or not self.line[:-1]:
            return True
        before = self.toks[j - 1]
        return before.kind in _UNARY_CONTEXT or (before.kind == "NAME" and before.text in _UNARY_AFTER_WORDS)


def _entry_starts(statements: list[n.Node], else_after: set[int]) -> list[int]:
    """Where every entry of every declarative body starts (and, into `else_after`, where the
    then-body of an `if` entry followed by `else` ends). Bodies hang only off declarations,
    handlers and entries, so expressions (most of a 2.1 tree) are not walked."""
    out: list[int] = []
    bodies = [b for s in n.iter_statements(statements)
              if isinstance(b := getattr(s, "body", None), n.Body)]
    while bodies:
        for entry in bodies.pop().entries:
            e: n.Entry | n.Body | None = entry
            while isinstance(e, n.Entry):  # an entry, and the `else if` entries it chains
                out.append(e.start)
                if e.body is not None:
                    bodies.append(e.body)
                if isinstance(e, n.IfEntry) and e.orelse is not None and e.body is not None:
                    else_after.add(e.body.end)
                e = e.orelse if isinstance(e, n.IfEntry) else None
            if isinstance(e, n.Body):
                bodies.append(e)
    return out


# Tokens that end a value: a field written after one starts a new field (`{ a: 1  b: 2 }`).
_VALUE_END: Final = frozenset({"NAME", "NUMBER", "STRING", "TSTRING", "DURATION", "RPAR", "RSQB", "RBRACE"})
_KEY_KINDS: Final = frozenset({"NAME", "HNAME", "STRING"})


def _fields_and_ternaries(kinds: list[str], texts: list[str], starts: list[int],
                          flags: list[int]) -> None:
    """One pass over the tokens of a 2.1 file, marked in `flags`: where the fields of object
    literals and records start (`{ a: 1  b: 2 }`, as entries), and where the `:` of each
    ternary `c ? a : b` is.

    A field starts at a key written against its `:`, directly inside `{ }`: first in the
    braces, after a `,`, at the start of a line or after a value (entries of bodies match too;
    they are entries anyway). A ternary's `:` is the first `:` after a `?` at the same bracket
    depth (keys inside the branches are deeper; nested ternaries pair inside out), and its
    middle operand follows `?` or an operator, never a value, so it is not taken for a key."""
    stack: list[str] = []
    open_q = [0]  # per bracket depth: the `?` still waiting for their `:`
    last = len(kinds) - 1
    for i, k in enumerate(kinds):
        if k in _CLOSER_OF:
            stack.append(k)
            open_q.append(0)
        elif k in _CLOSERS:
            if stack:
                stack.pop()
                open_q.pop()
        elif k == "QMARK":
            open_q[-1] += 1
        elif k == "COLON" and open_q[-1]:
            open_q[-1] -= 1
            flags[i] |= _TERNARY
        elif (k in _KEY_KINDS and stack and stack[-1] == "LBRACE" and i < last
              and kinds[i + 1] == "COLON" and starts[i + 1] == starts[i] + len(texts[i])):
            pk = kinds[i - 1]
            if (pk in ("LBRACE", "COMMA") or flags[i] & _AFTER_NL
                    or (pk in _VALUE_END and texts[i - 1] not in _UNARY_AFTER_WORDS)):
                flags[i] |= _ENTRY


def _mark(starts: list[int], flags: list[int], offsets: list[int], bit: int) -> None:
    """Set `bit` in the flags of the tokens starting at one of `offsets` (`starts` ascends)."""
    offsets.sort()
    i, n = 0, len(starts)
    for offset in offsets:
        while i < n and starts[i] < offset:
            i += 1
        if i < n and starts[i] == offset:
            flags[i] |= bit


def _match_brackets(kinds: list[str]) -> list[int]:
    """For each bracket token (by kind) the index of its partner (-1 for other tokens)."""
    match = [-1] * len(kinds)
    stack: list[int] = []
    for i, k in enumerate(kinds):
        if k in _CLOSER_OF:
            stack.append(i)
        elif k in _CLOSERS and stack and _CLOSER_OF[kinds[stack[-1]]] == k:
            j = stack.pop()
            match[i], match[j] = j, i
    return match


def _inline_block(item: str, gap: str, end: int) -> bool:
    """A block comment followed by code on the same line (`a /* why */ b`)."""
    return item.startswith("/*") and "\n" not in gap[end:] and "//" not in gap[end:]


def _comment_text(item: str) -> str:
    """A comment as emitted: line comments lose trailing blanks; block comments are kept."""
    return item.rstrip(" \t") if item.startswith("//") else item


def _directive_text(raw: str) -> str:
    m = _DIRECTIVE.match(raw)
    if m is None:
        return raw.rstrip()
    version, rest = m.group(1), m.group(2)
    return f"#version {version}" + (f"  {rest}" if rest else "")
