"""Token classes and the parser's splice list: plain Python, never compiled.

The lexer and the parser driver may be compiled (`codeai_lang.syntax.native`); these classes
use CPython tricks a compiler does not support (per-kind classes made at import, `int`
subclasses, `object.__new__` with class attributes standing in for slots, a `list` subclass),
and their objects are what the rest of the toolchain sees, so they stay ordinary Python
objects either way.
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
    a class attribute, not a slot, and a token's text is exactly its slice of the source, so
    `end` is computed rather than stored. Two layouts (`Token(kind, text, start)` picks one):

    - `FixedToken`: punctuation and newlines (over half of all tokens), whose text is a class
      attribute too. Such a token *is* its start offset: an `int` subclass without slots, 32
      bytes and no separate int object (a slotted object is 48 bytes plus its start's 32).
      It behaves as a token, not as a number (identity equality and hash, always true), and
      it is immutable: code that moves tokens replaces them (`shifted`).
    - `TextedToken`: every other kind, with `start` and `text` slots (48 bytes).

    Tokens compare, print and pickle as plain (kind, text, start, end) records.
    """

    __slots__ = ()
    start: int  # a slot (`TextedToken`) or the int value (`FixedToken`)
    kind: str  # a class attribute of each kind's class
    text: str  # a slot (`TextedToken`) or a class attribute (`FIXED_CLASSES`)

    def __new__(cls, kind: str, text: str, start: int, end: int | None = None) -> Token:
        fixed = FIXED_CLASSES.get(kind)
        if fixed is not None and fixed.text == text:
            return int.__new__(fixed, start)
        texted = object.__new__(texted_class(kind))
        texted.text = text
        texted.start = start
        return texted

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def shifted(self, delta: int) -> Token:
        """This token `delta` characters later: itself, moved, or (immutable) a new token."""
        raise NotImplementedError

    def __reduce__(self) -> tuple[type[Token], tuple[str, str, int]]:
        return (Token, (self.kind, self.text, self.start))

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.start}, {self.end})"


class TextedToken(Token):
    __slots__ = ("start", "text")

    def shifted(self, delta: int) -> Token:
        self.start += delta
        return self


class FixedToken(Token, int):
    __slots__ = ()
    text: str  # one character: `end` is start + 1

    # An int's number behaviour must not leak into a token's: the int value is storage.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = object.__hash__
    __format__ = object.__format__
    __str__ = Token.__repr__
    __repr__ = Token.__repr__
    __reduce__ = Token.__reduce__

    def __bool__(self) -> bool:
        return True

    start = property(int.__int__)  # (C-level: no Python call)

    @property
    def end(self) -> int:
        return self + 1  # (an int subclass's sum is a plain int)

    def shifted(self, delta: int) -> Token:
        return int.__new__(type(self), int(self) + delta)


for _name in ("__lt__", "__le__", "__gt__", "__ge__"):  # (not ordered, as other tokens)
    setattr(FixedToken, _name, getattr(object, _name))

_CLASSES: dict[str, type[TextedToken]] = {}


def texted_class(kind: str) -> type[TextedToken]:
    cls = _CLASSES.get(kind)
    if cls is None:
        cls = _CLASSES[kind] = type(f"{kind}Token", (TextedToken,), {"__slots__": (), "kind": kind})
    return cls


FIXED_CLASSES: dict[str, type[FixedToken]] = {
    kind: type(f"{kind}Token", (FixedToken,), {"__slots__": (), "kind": kind, "text": text})
    for text, kind in (*PUNCT_KINDS.items(), ("\n", "NL"))
}
PUNCT_CLASSES = {text: FIXED_CLASSES[kind] for text, kind in PUNCT_KINDS.items()}


def shift_tokens(tokens: list[Token], first: int, last: int, delta: int) -> None:
    """Move `tokens[first:last]` by `delta` characters, replacing the immutable ones in place."""
    for i in range(first, last):
        tokens[i] = tokens[i].shifted(delta)


class Splice(list[Any]):
    """Children of a helper rule (`x*`, `x?`), spliced into the parent's children."""
