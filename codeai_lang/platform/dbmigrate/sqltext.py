"""Turning a migration file into the statements one dialect runs.

Two jobs: keep only the lines meant for the current dialect (``-- codeai:dialect …`` sections),
then split on the semicolons that end statements — not those inside strings, quoted names,
comments, PostgreSQL dollar-quoted bodies or SQLite trigger bodies. Drivers only run one
statement per call with parameters, and naming the failing statement needs the split anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codeai_lang.platform.dbmigrate.errors import SqlFileError

DIALECTS = ("sqlite", "postgres")
_MARKER = re.compile(r"^\s*--\s*codeai:dialect\b\s*(\S*)\s*$", re.IGNORECASE)
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_BLOCK_START = re.compile(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TRIGGER|FUNCTION|PROCEDURE)\b", re.I)
_TXN_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "END", "START"}


def has_marker(text: str, name: str) -> bool:
    """Whether a line of ``text`` is the comment ``-- codeai:NAME`` (``no-transaction``, ``contract``)."""
    return re.search(rf"^\s*--\s*codeai:{re.escape(name)}(?![\w-])", text, re.I | re.M) is not None


@dataclass(frozen=True)
class Statement:
    index: int  # 1-based position in the file (for this dialect)
    line: int  # 1-based line of its first character
    text: str
    offset: int = 0  # character offset of its first character in the file (lint positions)

    def preview(self, width: int = 160) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1] + "…"


def select_dialect(text: str, dialect: str, filename: str) -> str:
    """Blank out lines of other dialects' sections, keeping line numbers and offsets intact.

    A line ``-- codeai:dialect sqlite`` (or ``postgres``, or ``all``) starts a section that runs
    on that dialect only, up to the next marker; text before the first marker runs everywhere.
    """
    current = "all"
    kept: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        match = _MARKER.match(line)
        if match:
            current = match.group(1).lower()
            if current not in (*DIALECTS, "all"):
                raise SqlFileError(f"{filename}:{number}: unknown dialect '{match.group(1)}' in section marker "
                                   f"(expected one of: {', '.join(DIALECTS)}, all)")
        keep = current in ("all", dialect) and not match
        kept.append(line if keep else _blank(line))
    return "".join(kept)


def _blank(line: str) -> str:
    """Spaces instead of the line's text, its line break kept: later offsets do not move."""
    body = line.rstrip("\r\n")
    return " " * len(body) + line[len(body):]


def split_statements(text: str, filename: str) -> list[Statement]:
    """Split SQL text into statements; raise :class:`SqlFileError` on unterminated constructs."""
    splitter = _Splitter(text, filename)
    statements = splitter.run()
    for st in statements:
        first = st.text.split(None, 1)[0].upper().rstrip(";")
        if first in _TXN_CONTROL and not _is_savepoint_like(st.text):
            raise SqlFileError(f"{filename}:{st.line}: statement {st.index} controls the transaction "
                               f"({first}); the runner wraps each migration in one transaction itself")
    return statements


def _is_savepoint_like(text: str) -> bool:
    return bool(re.match(r"^\s*(ROLLBACK\s+TO|END\s+IF)\b", text, re.I))


class _Splitter:
    """A small scanner: enough SQL lexing to find statement boundaries, nothing more."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.pos = 0
        self.code_start: int | None = None  # where the current statement's first token begins
        self.depth = 0  # BEGIN/CASE … END nesting inside trigger/function bodies
        self.block = False
        self.words = 0  # words seen in the current statement; a block start is within the first few
        self.out: list[Statement] = []

    def run(self) -> list[Statement]:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            is_comment = text.startswith(("--", "/*"), self.pos)
            if self.code_start is None and not ch.isspace() and not is_comment and ch != ";":
                self.code_start = self.pos
            if ch == ";" and self.depth == 0:
                self._emit(self.pos)
                self.pos += 1
            elif ch in "'\"`":
                self._skip_quoted(ch)
            elif text.startswith("--", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                self._skip_block_comment()
            elif ch == "$":
                self._skip_dollar()
            elif ch.isalpha() or ch == "_":
                self._word()
            else:
                self.pos += 1
        self._emit(len(text))
        return self.out

    def _emit(self, end: int) -> None:
        if self.code_start is not None:
            text = self.text[self.code_start:end].strip()
            self.out.append(Statement(len(self.out) + 1, self._line(self.code_start), text, self.code_start))
        self.depth, self.block, self.words, self.code_start = 0, False, 0, None

    def _line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def _skip_quoted(self, quote: str) -> None:
        begin = self.pos
        backslash = quote == "'" and self.pos > 0 and self.text[self.pos - 1] in "eE" and (
            self.pos < 2 or not (self.text[self.pos - 2].isalnum() or self.text[self.pos - 2] == "_"))
        self.pos += 1
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if backslash and ch == "\\":
                self.pos += 2
                continue
            if ch == quote:
                if self.text.startswith(quote * 2, self.pos):
                    self.pos += 2
                    continue
                self.pos += 1
                return
            self.pos += 1
        raise SqlFileError(f"{self.filename}:{self._line(begin)}: unterminated {quote} quote")

    def _skip_block_comment(self) -> None:
        begin, nesting = self.pos, 0
        while self.pos < len(self.text):
            if self.text.startswith("/*", self.pos):
                nesting, self.pos = nesting + 1, self.pos + 2
            elif self.text.startswith("*/", self.pos):
                nesting, self.pos = nesting - 1, self.pos + 2
                if nesting == 0:
                    return
            else:
                self.pos += 1
        raise SqlFileError(f"{self.filename}:{self._line(begin)}: unterminated /* comment")

    def _skip_dollar(self) -> None:
        match = _DOLLAR.match(self.text, self.pos)
        prev = self.text[self.pos - 1] if self.pos else " "
        if not match or prev.isalnum() or prev == "_":
            self.pos += 1
            return
        tag = match.group(0)
        end = self.text.find(tag, match.end())
        if end < 0:
            raise SqlFileError(f"{self.filename}:{self._line(self.pos)}: unterminated {tag} quoted body")
        self.pos = end + len(tag)

    def _word(self) -> None:
        begin = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        word = self.text[begin:self.pos].upper()
        self.words += 1
        if not self.block:
            if self.words > 6:
                return
            self.block = bool(_BLOCK_START.match(self.text, self.code_start or 0, self.pos))
            if not self.block:
                return
        if word in ("BEGIN", "CASE"):
            self.depth += 1
        elif word == "END" and self.depth:
            self.depth -= 1
