"""Tokens are small (issue 13: kind and fixed spellings live in per-kind classes, `end` is
computed) but behave exactly like plain (kind, text, start, end) records."""

from __future__ import annotations

import copy
import pickle

from codeai_lang.syntax.lexer import Token, lex


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
