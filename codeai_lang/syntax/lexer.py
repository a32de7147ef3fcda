"""Lexer: text → significant tokens, with comments and whitespace kept as trivia.

The lexer is shared by every DSL version. It never fails: unknown characters become ERROR
tokens, and unterminated strings, comments and brackets become diagnostics, so the parser
always has a complete token stream to recover from.

Trivia (whitespace, comments) is everything between two tokens; tokens store character
offsets, so the text between `tokens[i-1].end` and `tokens[i].start` is exactly that trivia
and concatenating trivia and tokens gives back the input byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax.tokens import FIXED_CLASSES, PUNCT_CLASSES, PUNCT_KINDS, Token, texted_class

MAX_NESTING = 128
# Past this many identical punctuation, operator or invalid tokens in a row (only white space
# between), the rest of the run is one ERROR token: no valid program repeats one of them that
# often (brackets nest at most MAX_NESTING deep), and a megabyte of `@` must not become a
# million tokens for the parser to recover from, once per DSL version.
MAX_RUN = 2 * MAX_NESTING
_RUN_KINDS = frozenset({"PUNCT", "OP", "ERROR"})
_BRACKETS = frozenset("{}()[]")
# What continues a run of junk (punctuation, operators, invalid characters, white space between):
# anything but names, numbers, strings, brackets, `/` (comments) and `#` (directives).
_JUNK_RUN = re.compile(r"(?:\s*+[^\sA-Za-z0-9_\"{}()\[\]/#]++)*+")
# The DSL's HTTP methods: a `/` after one starts a path (also what an endpoint may name).
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

# STRING uses possessive quantifiers (Python 3.11+): with a plain `(?:[^"\\]|\\.)*`, `re` keeps a
# backtracking frame per character, about 300 bytes each (a 3 MB literal needed ~900 MB). Nothing
# after the body ever needs to backtrack into it, so possessive repeats match the same strings.
# Every token but white space and newlines (shared by the two patterns below).
_TOKENS = r"""
    (?P<LINE_COMMENT>//[^\r\n]*)
  | (?P<BLOCK_COMMENT>/\*[\s\S]*?(?:\*/|\Z))
  | (?P<DIRECTIVE>\#version\b[^\n]*)
  | (?P<TSTRING>"{3}[\s\S]*?(?:"{3}|\Z))
  | (?P<STRING>"[^"\\\n]*+(?:\\[^\n][^"\\\n]*+)*+"?)
  | (?P<DURATION>[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d)(?![A-Za-z0-9_]))
  | (?P<NUMBER>[0-9]+(?:\.[0-9]+)?)
  | (?P<HNAME>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)+(?=:))
  | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<OP><=|>=|==|!=|[<>+\-*/])
  | (?P<PUNCT>[{}()\[\],:=.@?%])
  | (?P<ERROR>.[^\sA-Za-z0-9_"{}()\[\],:=.@/<>+\-*!\#?%]*)
"""
_BLANKS = r"[ \t\r\f\v\ufeff]*+"
_MASTER = re.compile(r"(?P<WS>[ \t\r\f\v\ufeff]+) | (?P<NEWLINE>\n) |" + _TOKENS,
                     re.VERBOSE | re.DOTALL)
# The lexer's own pattern: each match also takes the blanks after its token (after a newline,
# the blank lines too), so white space costs no match of its own — a third of all matches in
# an indented file. A match starts where its token starts (`_Lexer.run` skips leading blanks).
_SKIP_BLANKS = re.compile(_BLANKS)
_TOKEN = re.compile(r"(?: (?P<NEWLINE>\n(?:" + _BLANKS + r"\n)*+) |" + _TOKENS + ")" + _BLANKS,
                    re.VERBOSE | re.DOTALL)
# The operator terminals a grammar may declare instead of the generic OP (2.1+): the parser
# driver refines an OP token to its terminal where the grammar declares it.
OPERATOR_TERMINALS = {
    "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "<": "LT", ">": "GT", "<=": "LE",
    ">=": "GE", "==": "EQEQ", "!=": "NE",
}
# Every token kind the lexer produces. A grammar's other declared terminals are keywords
# (spelled as the terminal, lower-cased) or driver refinements (KEY, operator terminals);
# EXEC is both: the lexer emits it before `{`, the driver turns a bare `exec` name into it.
TOKEN_KINDS = frozenset({
    "NAME", "HNAME", "STRING", "TSTRING", "NUMBER", "DURATION", "PATH", "SHELL", "OP", "NL",
    "ERROR", *PUNCT_KINDS.values(),
})
# Terminals the driver derives from the token stream rather than from spelling: a NAME
# directly followed by ':' where the grammar accepts a key.
DRIVER_TERMINALS = frozenset({"KEY", *OPERATOR_TERMINALS.values()})
_CLOSER_OF = {"{": "}", "(": ")", "[": "]"}
_PATH = re.compile(r"/[A-Za-z0-9_\-.~:/*{}]*")
# Bounds the search for `{` after `exec` (no quadratic rescans); the formatter's local proof
# relies on it (format/verify.py).
EXEC_LOOKAHEAD = 4096
# A whole block comment: `[\s\S]*?\*/` could, backtracking, run on past its `*/` to a later one.
_WHOLE_BLOCK_COMMENT = r"/\*(?:[^*]++|\*(?!/))*+\*/"
_EXEC_OPEN = re.compile(r"(?:[ \t\r\n\f\v]|//[^\r\n]*|" + _WHOLE_BLOCK_COMMENT + r")*\{")
# `exec x {`, `exec "s" {`: one stray token between `exec` and its `{` on the same line (a
# newline inside /* */ does not count). Not `=`, `(`, `.` or a bracket, which make `exec` a
# name (`exec = {…}`, `exec(x)`), nor a line comment (it ends the line).
_BLOCK_COMMENTS = re.compile(_WHOLE_BLOCK_COMMENT)
_INLINE_TRIVIA = r"(?:[ \t\r\f\v]|" + _WHOLE_BLOCK_COMMENT + ")*"
_EXEC_STRAY = re.compile(
    _INLINE_TRIVIA + r'(?:"[^"\\\n]*+(?:\\[^\n][^"\\\n]*+)*+"|[A-Za-z0-9_]+(?:\.[0-9]+[A-Za-z]*)?'
    r'|[^\s\w"{}()\[\]=./]+)' + _INLINE_TRIVIA + r"\{")
# The line of a `{` that opens a script block (where a statement may start with `exec`).
_SCRIPT_LINE = re.compile(r"[ \t]*(?:\}[ \t]*)?(?:if|else|for|function)\b")
_INTERN_MAX = 64  # longer string literals are rarely repeated: not worth a dictionary entry
_TRIVIA_KINDS = frozenset({"WS", "NEWLINE", "LINE_COMMENT", "BLOCK_COMMENT"})


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment (trivia), kept for tools: folding, hover, migration checks."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class Lexed:
    """The result of lexing one text."""

    text: str
    tokens: list[Token]
    comments: list[Comment] = field(default_factory=list)
    directives: list[Token] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unclosed: list[Token] = field(default_factory=list)
    # Offsets where an unclosed bracket was closed (see `lex`): the parser ends the statement
    # before each, as it does at end of file.
    resets: list[int] = field(default_factory=list)
    # Offsets of closers that matched no open bracket (incremental analysis: a closer after an
    # edit could close a bracket the edit left open).
    strays: list[int] = field(default_factory=list)


# The keywords that start a top-level statement in some DSL version: one at column 0 ends the
# brackets that are never closed (see `lex`). The lexer is version-independent and runs before
# any grammar is loaded, so the set is spelled here; tests/test_versions_data.py derives it from
# every registered grammar's start state and fails when the two differ.
RESET_WORDS = frozenset({
    "var", "function", "if", "for", "exec", "config", "database", "auth", "role", "middleware",
    "event", "integration", "webhook", "endpoint", "workflow", "job", "entity", "collection", "on",
})
_RESET_AT = re.compile("(?:" + "|".join(sorted(RESET_WORDS)) + r")\b|@")


def lex(text: str, *, local: bool = True) -> Lexed:
    """Split `text` into significant tokens; trivia stays in the gaps between them.

    A bracket that is never closed stays local: it ends at the first line after it that starts
    at column 0 with a top-level statement word (`_RESET_AT`) while only never-closed brackets
    are open; there each is reported (CAI003, at its opener) and closed, so the rest of the file
    is lexed — and parsed — as if the statement had ended there. Which brackets are never
    closed is only known at end of file, so such a text is lexed again from the first of them;
    a text whose brackets all close is lexed once, and a bracket that a later closer closes is
    never cut short (so no closer changes its match). `local=False` keeps every bracket open
    to the end (a prefix of a text, where the closers are still to come).
    """
    first = _Lexer(text)
    out = first.run()
    if not local or not out.unclosed or first.too_deep:
        return out
    return _Lexer(text, {o.start for o in out.unclosed}).rerun(out)


class _Lexer:
    def __init__(self, text: str, doomed: set[int] | None = None) -> None:
        self.text = text
        self.out = Lexed(text, [])
        self.stack: list[Token] = []  # open brackets, innermost last
        # Lexing stopped early (MAX_NESTING, or an unterminated triple-quoted string ate the
        # rest): the openers may close later, so they are not reported as unclosed.
        self.too_deep = False
        self.doomed = doomed or set()  # offsets of the openers never closed (second pass)

    def rerun(self, before: Lexed) -> Lexed:
        """The second pass: keep the first pass's output before the first unclosed opener (the
        stack was empty there) and lex again from it, closing brackets at reset lines."""
        at = min(self.doomed)
        out = self.out
        out.tokens = [t for t in before.tokens if t.start < at]
        out.comments = [c for c in before.comments if c.start < at]
        out.directives = [t for t in before.directives if t.start < at]
        out.diagnostics = [d for d in before.diagnostics if d.start < at]
        out.strays = [x for x in before.strays if x < at]
        self.run(at)
        out.diagnostics.sort(key=lambda d: d.start)
        return out

    def _reset(self, at: int) -> None:
        """Close every open bracket before a reset line (`lex`), reporting each at its opener."""
        self._report_unclosed(self.stack)
        self.stack.clear()
        self.out.resets.append(at)

    def _report_unclosed(self, openers: list[Token]) -> None:
        for opener in openers:
            closer = _CLOSER_OF[opener.text]
            self._diag("CAI003", f"unclosed '{opener.text}': expected a matching '{closer}'",
                       opener.start, opener.end)

    def run(self, start: int = 0) -> Lexed:
        text, out, stack = self.text, self.out, self.stack
        tokens = out.tokens
        append = tokens.append
        match, skip_blanks = _TOKEN.match, _after_blanks
        n = len(text)
        pos = skip_blanks(text, start)  # each match then takes the blanks after its token
        last_nl = True  # suppress NL right after another NL or at file start
        doomed = self.doomed
        names: dict[str, str] = {}  # one string object per distinct name or literal (memory)
        intern = names.setdefault
        # The commonest kinds (names, punctuation, newlines, operators, strings, numbers and
        # durations) are built inline (no Python-level constructor call): speed.
        new, new_fixed = object.__new__, int.__new__
        name_cls, nl_cls, punct_cls = texted_class("NAME"), FIXED_CLASSES["NL"], PUNCT_CLASSES
        op_cls, string_cls = texted_class("OP"), texted_class("STRING")
        word_classes = {kind: texted_class(kind) for kind in ("NUMBER", "DURATION")}
        run = 0  # length of the current run of identical PUNCT/OP/ERROR tokens
        junk = 0  # length of the current run of PUNCT/OP/ERROR tokens other than brackets
        while pos < n:
            m = match(text, pos)
            assert m is not None  # ERROR matches any character
            kind = m.lastgroup or ""
            after = m.end()  # past the token and the blanks after it
            if kind == "NAME":
                word = m.group(kind)
                if word == "exec":
                    brace = self._exec_brace(pos)
                    if brace >= 0:
                        pos = skip_blanks(text, self._exec(pos, brace))
                        last_nl = False
                        continue
                name_tok = new(name_cls)
                name_tok.text = intern(word, word)
                name_tok.start = pos
                append(name_tok)
                last_nl = False
                run = junk = 0
                pos = after
                continue
            if kind == "PUNCT":
                ch = text[pos]
                tok = new_fixed(punct_cls[ch], pos)  # (a fixed token is its start: `Token`)
                if ch in _CLOSER_OF:
                    if len(stack) >= MAX_NESTING:
                        self._too_deep(tok)
                        return self.finish()
                    stack.append(tok)
                elif ch in ")]}":
                    self._close(tok)
                append(tok)
                end = pos + 1
            elif kind == "NEWLINE":
                if doomed and stack and text[after - 1] == "\n" and stack[-1].start in doomed \
                        and _RESET_AT.match(text, after):
                    self._reset(after)
                    pos = after
                    continue
                if not last_nl and stack and stack[-1].text == "{":
                    append(new_fixed(nl_cls, pos))
                    last_nl = True
                pos = after
                continue
            elif kind in ("LINE_COMMENT", "BLOCK_COMMENT"):
                body = m.group(kind)
                self._comment(body, pos, pos + len(body))
                pos = after
                continue
            elif kind == "OP":
                op = m.group(kind)
                end = pos + len(op)
                if op == "/" and tokens and tokens[-1].kind == "NAME" and tokens[-1].text in HTTP_METHODS:
                    pm = _PATH.match(text, pos)
                    assert pm is not None
                    end = pm.end()
                    after = skip_blanks(text, end)
                    append(Token("PATH", pm.group(), pos, end))
                else:
                    op_tok = new(op_cls)
                    op_tok.text = op
                    op_tok.start = pos
                    append(op_tok)
            elif kind == "TSTRING":
                s = m.group(kind)
                end = pos + len(s)
                if len(s) < 6 or not s.endswith('"""'):
                    self._diag("CAI002", "unterminated triple-quoted string: expected '\"\"\"'",
                               pos, pos + 3)
                    self.too_deep = True  # it swallowed the closers: "unclosed" would be noise
                append(Token("TSTRING", s, pos, end))
            elif kind == "HNAME":
                word = m.group(kind)
                end = pos + len(word)
                append(Token("HNAME", word, pos, end))
            elif kind == "STRING":
                s = m.group(kind)
                end = pos + len(s)
                if len(s) < 2 or not s.endswith('"') or _escaped_quote_at_end(s):
                    self._diag("CAI002", "unterminated string literal", pos, end)
                string_tok = new(string_cls)
                string_tok.text = intern(s, s) if len(s) <= _INTERN_MAX else s
                string_tok.start = pos
                append(string_tok)
            elif kind == "DIRECTIVE":
                word = m.group(kind)
                end = pos + len(word)
                out.directives.append(Token("DIRECTIVE", word, pos, end))
            elif kind == "ERROR":  # a run of characters no token starts with: one error
                ch = m.group(kind)
                end = pos + len(ch)
                self._diag("CAI001", f"unexpected {_quote_run(ch)}", pos, end)
                append(Token("ERROR", ch, pos, end))
            else:  # NUMBER, DURATION
                word = m.group(kind)
                end = pos + len(word)
                word_cls = word_classes.get(kind)
                word_tok = new(word_cls if word_cls is not None else texted_class(kind))
                word_tok.text = intern(word, word)
                word_tok.start = pos
                append(word_tok)
            last_nl = False
            pos = after
            if kind in _RUN_KINDS:
                last = tokens[-1].text
                run = run + 1 if len(tokens) > 1 and tokens[-2].text == last else 1
                junk = 0 if last in _BRACKETS or last == "/" else junk + 1
                if run >= MAX_RUN:
                    pos, run, junk = skip_blanks(text, self._skip_run(last, end)), 0, 0
                elif junk >= MAX_RUN:
                    pos, run, junk = skip_blanks(text, self._skip_run(None, end)), 0, 0
            else:
                run = junk = 0
        return self.finish()

    def _skip_run(self, repeated: str | None, start: int) -> int:
        """Make the rest of a run one ERROR token; return where it ends. `repeated` is the text
        of the repeated token, or None for a run of any junk (see `_JUNK_RUN`)."""
        # Possessive, so `re` keeps no backtracking frame per repetition (memory stays flat).
        pattern = _JUNK_RUN if repeated is None else \
            re.compile(r"(?:[ \t\r\n\f\v\ufeff]*+" + re.escape(repeated) + ")*+")
        m = pattern.match(self.text, start)
        end = m.end() if m else start
        if end > start:
            body = self.text[start:end]
            count = (f"{MAX_RUN} punctuation tokens and {len(body):,} more characters" if repeated is None
                     else f"{body.count(repeated) + MAX_RUN:,} {repeated!r} tokens")
            self._diag("CAI001", f"unexpected run of {count}; the rest of the run is skipped", start, end)
            self.out.tokens.append(Token("ERROR", body, start, end))
        return end

    def finish(self) -> Lexed:
        # Past the nesting cap the rest is unread, so "unclosed" would be a guess (and one
        # diagnostic per level is noise): the nesting error alone is reported.
        if not self.too_deep:
            self._report_unclosed(self.stack)
        self.out.unclosed = list(self.stack)
        return self.out

    def _close(self, tok: Token) -> None:
        stack = self.stack
        want = {"}": "{", ")": "(", "]": "["}[tok.text]
        if stack and stack[-1].text == want:
            stack.pop()
            return
        # A closer that does not match the innermost opener: pop to a matching opener if any,
        # leaving the parser to report the stray token.
        for i in range(len(stack) - 1, -1, -1):
            if stack[i].text == want:
                del stack[i:]
                return
        self.out.strays.append(tok.start)

    def _comment(self, body: str, start: int, end: int) -> None:
        if body.startswith("/*") and (len(body) < 4 or not body.endswith("*/")):
            self._diag("CAI004", "unterminated block comment: expected '*/'", start, start + 2)
        self.out.comments.append(Comment(body, start, end))

    def _exec_brace(self, start: int) -> int:
        """Where the `{` of the exec block starting at `start` is, or -1 if `exec` is a name."""
        end = start + 4
        opener = _EXEC_OPEN.match(self.text, end, end + EXEC_LOOKAHEAD)
        if opener is not None:
            return opener.end() - 1
        stray = _EXEC_STRAY.match(self.text, end, end + EXEC_LOOKAHEAD)
        if stray is not None and self._statement_starts_at(start):
            return stray.end() - 1
        return -1

    def _statement_starts_at(self, start: int) -> bool:
        """Can a script statement start at `start`? It starts a line, and every open bracket
        is a script block's `{` (a line starting with `if`, `else`, `for` or `function`): in
        a declaration body, `exec "s" { … }` is an entry, not a mistyped exec block."""
        text, tokens = self.text, self.out.tokens
        if tokens and tokens[-1].kind != "NL":
            gap = text[tokens[-1].end:start]
            if "\n" not in gap or "\n" not in _BLOCK_COMMENTS.sub(" ", gap):
                return False
        return all(o.text == "{" and _SCRIPT_LINE.match(text, text.rfind("\n", 0, o.start) + 1)
                   for o in self.stack)

    def _exec(self, start: int, brace: int) -> int:
        """Lex `exec { shell text }`: the braces nest, everything inside is one SHELL token.
        A stray token before the `{` (`exec x {`) stays a token, for the parser to report."""
        text, append = self.text, self.out.tokens.append
        name_end = start + 4
        append(Token("EXEC", "exec", start, name_end))
        for m in _MASTER.finditer(text, name_end, brace):
            kind = m.lastgroup or ""
            if kind in ("LINE_COMMENT", "BLOCK_COMMENT"):
                self._comment(m.group(), m.start(), m.end())
            elif kind not in ("WS", "NEWLINE"):
                self._stray(kind, m.group(), m.start())
        append(Token("LBRACE", "{", brace, brace + 1))
        depth, i, n = 1, brace + 1, len(text)
        while i < n:
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        append(Token("SHELL", text[brace + 1:i], brace + 1, i))
        if i >= n:
            self._diag("CAI003", "unclosed '{' of exec block: expected a matching '}'",
                       brace, brace + 1)
            return n
        append(Token("RBRACE", "}", i, i + 1))
        return i + 1

    def _stray(self, kind: str, word: str, start: int) -> None:
        """A token between `exec` and its `{` (see `_EXEC_STRAY`)."""
        if kind == "ERROR":
            self._diag("CAI001", f"unexpected {_quote_run(word)}", start, start + len(word))
        elif kind == "PUNCT":
            kind = PUNCT_KINDS[word]
        self.out.tokens.append(Token(kind, word, start))

    def _too_deep(self, tok: Token) -> None:
        """Past MAX_NESTING the rest of the file is one ERROR token (kept, so still lossless)."""
        self._diag("CAI001", f"brackets nested deeper than {MAX_NESTING} levels", tok.start, tok.end)
        self.too_deep = True
        rest = self.text[tok.start:]
        self.out.tokens.append(Token("ERROR", rest, tok.start, len(self.text)))

    def _diag(self, code: str, message: str, start: int, end: int) -> None:
        self.out.diagnostics.append(Diagnostic(code, Severity.ERROR, message, start, end))


def _after_blanks(text: str, pos: int) -> int:
    """Where the blanks starting at `pos` end."""
    m = _SKIP_BLANKS.match(text, pos)
    return m.end() if m is not None else pos


EXCERPT = 20  # characters of a long run quoted in a message (the range covers all of it)


def _quote_run(run: str) -> str:
    if len(run) == 1:
        return f"character {run!r}"
    if len(run) <= EXCERPT:
        return f"characters {run!r}"
    return f"characters {run[:EXCERPT]!r}… ({len(run):,} characters)"


def _escaped_quote_at_end(s: str) -> bool:
    """True when the closing quote of `s` is escaped (odd run of backslashes before it)."""
    run = len(s) - 1 - len(s[:-1].rstrip("\\"))
    return run % 2 == 1


def is_trivia(text: str) -> bool:
    """True if `text` is only whitespace and comments (used to prove losslessness)."""
    pos = 0
    while pos < len(text):
        m = _MASTER.match(text, pos)
        if m is None or m.lastgroup not in _TRIVIA_KINDS:
            return False
        pos = m.end()
    return True
