"""Token classes and the parser's splice list: plain Python, never compiled.

The lexer and the parser driver may be compiled (`codeai_lang.syntax.native`); these classes
use CPython tricks a compiler does not support (per-kind classes made at import, `object.__new__`
with class attributes standing in for slots, a `list` subclass), and their objects are what the
rest of the toolchain sees, so they stay ordinary Python objects either way.
"""

from __future__ import annotations

from typing import Any

PUNCT_KINDS = {
    "{": "LBRACE", "}": "RBRACE", "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB",
    ",": "COMMA", ":": "COLON", "=": "EQUAL", ".": "DOT", "@": "AT", "?": "QMARK", "%": "PERCENT",
}


class Token:
    """A significant token. `kind` is a grammar terminal name; offsets are character offsets.

    Memory (a 100k-line file has ~400k tokens): each kind is its own small class, so `kind` is
    a class attribute, not a slot; punctuation and newlines also spell their text in the class
    (`FIXED_CLASSES`), so such a token holds its start only. A token's text is exactly its slice of
    the source, so `end` is computed rather than stored. `Token(kind, text, start)` picks the
    class; tokens compare, print and pickle as before.
    """

    __slots__ = ("start",)
    start: int
    kind: str  # a class attribute of each kind's class
    text: str  # a slot (`_Texted`) or a class attribute (`FIXED_CLASSES`)

    def __new__(cls, kind: str, text: str, start: int, end: int | None = None) -> Token:
        fixed = FIXED_CLASSES.get(kind)
        if fixed is not None and fixed.text == text:
            tok = object.__new__(fixed)
        else:
            texted = object.__new__(texted_class(kind))
            texted.text = text
            tok = texted
        tok.start = start
        return tok

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def __reduce__(self) -> tuple[type[Token], tuple[str, str, int]]:
        return (Token, (self.kind, self.text, self.start))

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.start}, {self.end})"


class _Texted(Token):
    __slots__ = ("text",)


_CLASSES: dict[str, type[_Texted]] = {}


def texted_class(kind: str) -> type[_Texted]:
    cls = _CLASSES.get(kind)
    if cls is None:
        cls = _CLASSES[kind] = type(f"{kind}Token", (_Texted,), {"__slots__": (), "kind": kind})
    return cls


FIXED_CLASSES: dict[str, type[Token]] = {
    kind: type(f"{kind}Token", (Token,), {"__slots__": (), "kind": kind, "text": text})
    for text, kind in (*PUNCT_KINDS.items(), ("\n", "NL"))
}
PUNCT_CLASSES = {text: FIXED_CLASSES[kind] for text, kind in PUNCT_KINDS.items()}


class Splice(list[Any]):
    """Children of a helper rule (`x*`, `x?`), spliced into the parent's children."""
