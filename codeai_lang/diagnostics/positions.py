"""Offset ↔ line/column conversion, done once per text and only at the edges."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

# LSP position encodings (PositionEncodingKind values): what a column counts.
UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column (columns count code points), plus the 0-based byte offset."""

    line: int
    column: int
    offset: int


class LineIndex:
    """Maps character offsets of one text to lines, columns, byte offsets and UTF-16 columns."""

    def __init__(self, text: str, line_starts: list[int] | None = None) -> None:
        """`line_starts`: the offsets where `text`'s lines start, if the caller keeps them up
        to date already (the language server does, edit by edit)."""
        self.text = text
        if line_starts is None:
            line_starts = [0]
            find = text.find
            i = find("\n")
            while i != -1:
                line_starts.append(i + 1)
                i = find("\n", i + 1)
        self.line_starts = line_starts
        self._ascii = text.isascii()
        self._byte_starts: list[int] | None = None

    def line_of(self, offset: int) -> int:
        """0-based line containing character offset `offset`."""
        return bisect_right(self.line_starts, offset) - 1

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        col = offset - self.line_starts[line]
        return Position(line + 1, col + 1, self.byte_offset(offset))

    def byte_offset(self, offset: int) -> int:
        if self._ascii:
            return offset
        if self._byte_starts is None:
            acc, starts = 0, []
            for i, s in enumerate(self.line_starts):
                starts.append(acc)
                nxt = self.line_starts[i + 1] if i + 1 < len(self.line_starts) else len(self.text)
                acc += len(self.text[s:nxt].encode("utf-8", "surrogatepass"))
            self._byte_starts = starts
        line = self.line_of(offset)
        ls = self.line_starts[line]
        return self._byte_starts[line] + len(self.text[ls:offset].encode("utf-8", "surrogatepass"))

    def lsp(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        """0-based (line, column) for the LSP, the column counted in `encoding`'s code units
        (the position encoding negotiated with the client: utf-8, utf-16 or utf-32)."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        ls = self.line_starts[line]
        seg = self.text[ls:offset]
        if seg.isascii() or encoding == UTF32:
            return line, len(seg)
        return line, code_units(seg, encoding)

    def offset_from_lsp(self, line: int, character: int, encoding: str = UTF16) -> int:
        """Character offset for a 0-based LSP position in `encoding` (clamped to the text;
        a column inside a character's code units lands after that character)."""
        if line >= len(self.line_starts):
            return len(self.text)
        ls = self.line_starts[max(line, 0)]
        le = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.text)
        seg = self.text[ls:le]
        if seg.isascii() or encoding == UTF32:
            return ls + min(max(character, 0), len(seg))
        width = _WIDTH[encoding]
        units = 0
        for i, ch in enumerate(seg):
            if units >= character:
                return ls + i
            units += width(ord(ch))
        return le

    def utf16(self, offset: int) -> tuple[int, int]:
        """0-based (line, UTF-16 column)."""
        return self.lsp(offset, UTF16)

    def offset_from_utf16(self, line: int, character: int) -> int:
        return self.offset_from_lsp(line, character, UTF16)


def _utf8_width(cp: int) -> int:
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


def _utf16_width(cp: int) -> int:
    return 2 if cp > 0xFFFF else 1


_WIDTH = {UTF8: _utf8_width, UTF16: _utf16_width, UTF32: lambda cp: 1}


def code_units(text: str, encoding: str) -> int:
    """Length of `text` in code units of `encoding` (utf-8 bytes, utf-16 units, code points)."""
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == UTF16:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text)
