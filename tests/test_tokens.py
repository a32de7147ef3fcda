"""Tokens are small (issue 13: kind and fixed spellings live in per-kind classes, `end` is
computed, punctuation and newlines are their own start offset) but behave exactly like plain
(kind, text, start, end) records."""

from __future__ import annotations

import copy
import gc
import pickle
import sys

import pytest

from codeai_lang.syntax.lexer import Token, lex
from codeai_lang.syntax.tokens import PUNCT_KINDS, FixedToken, shift_tokens


def test_tokens_from_the_lexer_cover_the_text_exactly() -> None:
    text = 'entity User {\n    id: uuid primary\n    tags: ["a", "b"]\n}\nvar n = 1.5 + 2\n'
    toks = lex(text).tokens
    assert [(t.kind, t.text) for t in toks[:4]] == [("NAME", "entity"), ("NAME", "User"),
                                                   ("LBRACE", "{"), ("NL", "\n")]
    for t in toks:
        assert text[t.start:t.end] == t.text
        assert not hasattr(t, "__dict__")


def test_the_constructor_picks_a_class_by_kind_and_spelling() -> None:
    brace = Token("RBRACE", "}", 7, 8)
    virtual = Token("RBRACE", "", 9, 9)  # the parser's missing-token stand-in: empty text
    assert (brace.kind, brace.text, brace.start, brace.end) == ("RBRACE", "}", 7, 8)
    assert (virtual.kind, virtual.text, virtual.start, virtual.end) == ("RBRACE", "", 9, 9)
    assert type(brace) is not type(virtual)
    odd = Token("$END", "", 3)
    assert (odd.kind, odd.end) == ("$END", 3)
    assert repr(Token("NAME", "x", 1)) == "Token(NAME, 'x', 1, 2)"


def test_tokens_shift_copy_and_pickle() -> None:
    tok = Token("NAME", "user", 10)
    tok.start += 5
    assert (tok.start, tok.end) == (15, 19)
    for clone in (pickle.loads(pickle.dumps(tok)), copy.copy(tok), copy.deepcopy(tok)):
        assert (clone.kind, clone.text, clone.start, clone.end) == ("NAME", "user", 15, 19)
    nl = pickle.loads(pickle.dumps(Token("NL", "\n", 4)))
    assert (nl.kind, nl.text, nl.end) == ("NL", "\n", 5)


def test_equal_names_share_one_string() -> None:
    toks = lex("var total = 1\ntotal = total + 1\n").tokens
    names = [t.text for t in toks if t.text == "total"]
    assert len(names) == 3 and len({id(s) for s in names}) == 1


def test_punctuation_and_newlines_are_their_own_start_offset() -> None:
    """Issue 13's memory bar: over half the tokens are punctuation or newlines, and each is an
    `int` subclass without slots whose value is its start — no slot, no int object of its own
    (a slotted token with an int start costs 80 bytes instead of 48, ~7 MB on 100k lines)."""
    text = 'entity User {\n    id: uuid primary\n    tags: ["a", "b"]\n}\nvar n = f(1, x.y)\n'
    toks = lex(text).tokens
    fixed = [t for t in toks if t.kind in set(PUNCT_KINDS.values()) | {"NL"}]
    assert len(fixed) * 2 > len(toks)
    for t in fixed:
        assert isinstance(t, FixedToken) and isinstance(t, int)
        assert type(t).__basicsize__ == int.__basicsize__  # no slot, no __dict__
        assert gc.get_referents(t) == [type(t)]  # in particular, no separate start object
        assert sys.getsizeof(t) <= sys.getsizeof(1 << 20) + 16  # (+ the collector's header)
        assert type(t.start) is int and text[t.start:t.end] == t.text
    for t in toks:
        if not isinstance(t, FixedToken):
            assert sys.getsizeof(t) <= 48  # start and text slots only (kind is the class's)


def test_a_fixed_token_behaves_as_a_token_not_a_number() -> None:
    a, b = Token("LBRACE", "{", 0), Token("LBRACE", "{", 0)
    assert bool(a)  # at offset 0 too
    zero = 0
    assert a == a and a != b and a != zero and zero != a and a not in [zero, b]
    assert len({a, b}) == 2
    with pytest.raises(TypeError):
        _ = a < b
    assert str(a) == f"{a}" == repr(a) == "Token(LBRACE, '{', 0, 1)"
    for clone in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert type(clone) is type(a) and (clone.kind, clone.start, clone.end) == ("LBRACE", 0, 1)


def test_shifting_moves_slotted_tokens_and_replaces_fixed_ones() -> None:
    toks = lex("x = {\n}\n").tokens
    before = list(toks)
    shift_tokens(toks, 0, len(toks), 100)
    assert [(t.kind, t.start) for t in toks] == [(t.kind, t.start) for t in lex(" " * 100 + "x = {\n}\n").tokens]
    for old, new in zip(before, toks, strict=True):
        assert (old is new) == (not isinstance(old, FixedToken))
