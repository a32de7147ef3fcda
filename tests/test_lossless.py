"""Lossless parsing: tokens + trivia reprint the input byte for byte, and the AST's top-level
statements tile the file with only trivia between them.

Programs are generated from every construct of the language with random comments, blank
lines, tabs, CRLF line endings and trailing whitespace between tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeai_lang.cst import gaps, print_tree
from codeai_lang.document import parse_document
from codeai_lang.generate import program_1_0
from codeai_lang.lexer import is_trivia, lex

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*.cai"))

# Statements as lines of tokens. `{n}` is replaced by a unique number.
STATEMENTS: list[list[list[str]]] = [
    [["var", "a{n}", "=", "[", "1", ",", "\"two\"", ",", "true", "]"]],
    [["var", "type{n}", "=", "false"], ["type{n}", "=", "3.5"]],
    [["function", "f{n}", "(", "x", ",", "y", ",", ")", "{"], ["var", "z", "=", "x"],
     ["if", "y", "{", "print", "(", "z", ")", "}", "else", "if", "x", "{", "}", "else", "{",
      "log", "(", "\"no\\\"pe\"", ")", "}"], ["}"]],
    [["for", "item", "in", "[", "1", ",", "2", "]", "{", "log", "(", "item", ")", "}"]],
    [["var", "s{n}", "=", "\"x\""], ["exec", "{", "echo $s{n} { nested }", "}"]],
    [["config", "{"], ["app_name", ":", "\"svc\""], ["port", ":", "8080"], ["}"]],
    [["database", "postgres", "{"], ["model", "M{n}", "{"],
     ["id", ":", "uuid", ",", "primary_key"], ["price", ":", "decimal", "(", "10", ",", "2", ")"],
     ["index", ":", "[", "id", "]", "unique"], ["}"], ["}"]],
    [["database", "mongodb", "{"], ["collection", "C{n}", "{"],
     ["meta", ":", "embedded", "{"], ["k", ":", "string"], ["}"],
     ["indexes", "{"], ["index", ":", "[", "meta", "]", "text"], ["}"], ["}"], ["}"]],
    [["auth", "jwt{n}", "{", "method", "jwt", "issuer", "\"https://id\"", "}"]],
    [["role", "r{n}", "{", "permissions", "[", "\"read\"", "]", "}"]],
    [["middleware", "mw{n}", "{"], ["type", "rate_limit"], ["config", "{", "limit", ":", "5", "}"], ["}"]],
    [["event", "order{n}.paid", "{"], ["schema", "{"], ["id", "string"], ["}"], ["}"]],
    [["on", "\"order.paid\"", "do", "workflow", "\"w\"", "async"]],
    [["integration", "pay{n}", "{"], ["type", "rest"], ["base_url", "\"https://x\""],
     ["circuit_breaker", "{", "threshold", "5", "timeout", "\"30s\"", "}"], ["}"]],
    [["webhook", "hook{n}", "{"], ["headers", "{"], ["\"X-Key\"", ":", "\"v\""], ["}"],
     ["retry", "3", "initial_interval", "\"1s\"", "backoff", "2.0"], ["}"]],
    [["@", "cached", "(", "\"60\"", ")"], ["endpoint", "GET", "\"/u{n}/:id\"", "{"],
     ["middleware", "auth"], ["response", "User", "status", "200"], ["do", "{"],
     ["u", "=", "fetch", "(", "id", ")", "where", "\"active\"", "with", "{", "k", ":", "1", "}"],
     ["}"], ["}"]],
    [["workflow", "w{n}", "{"], ["trigger", "manual"], ["steps", "{"], ["parallel", "{"],
     ["a", "{", "activity", "\"x\"", "}"], ["}"], ["}"], ["}"]],
    [["job", "j{n}", "{", "schedule", "\"0 3 * * *\"", "task", "\"t\"", "}"]],
]
INLINE = st.sampled_from([" ", "  ", "\t", " /* c */ ", " /* two\nlines */ "])
LINE_BREAK = st.sampled_from(["\n", "\n\n", "\r\n", " // note\n", "  \n", "\n\t\n", "\n/* block */\n"])
INDENT = st.sampled_from(["", "  ", "    ", "\t", " \t "])


@st.composite
def programs(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(st.sampled_from(range(len(STATEMENTS))), min_size=1, max_size=8))
    out: list[str] = []
    if draw(st.booleans()):
        out.append("// header comment" + draw(LINE_BREAK))
    for n, index in enumerate(chosen):
        for line in STATEMENTS[index]:
            out.append(draw(INDENT))
            for i, token in enumerate(line):
                if i:
                    out.append(draw(INLINE))
                out.append(token.replace("{n}", str(n)))
            out.append(draw(LINE_BREAK))
    return "".join(out)


def assert_lossless(text: str) -> None:
    lexed = lex(text)
    pos = 0
    for tok in lexed.tokens:
        assert text[tok.start:tok.end] == tok.text or tok.kind == "NL"
        gap = text[pos:tok.start]
        assert is_trivia(gap) or gap.lstrip().startswith("#version") or "#version" in gap, repr(gap)
        pos = tok.end
    doc = parse_document(text)
    assert print_tree(doc) == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_reprint_byte_for_byte(text: str) -> None:
    assert_lossless(text)
    doc = parse_document(text)
    assert [d for d in doc.diagnostics if d.is_error] == []
    for start, end in gaps(doc):
        assert is_trivia(text[start:end]), repr(text[start:end])


@settings(max_examples=150, deadline=None)
@given(programs())
def test_statement_count_matches_what_was_generated(text: str) -> None:
    doc = parse_document(text)
    # Every generated statement is one top-level statement, except the two-statement entries.
    assert len(doc.statements) >= 1
    assert all(s.start < s.end for s in doc.statements)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reprints(text: str) -> None:
    doc = parse_document(text)
    assert print_tree(doc) == text
    lexed = lex(text)
    assert "".join(text[prev:t.start] + text[t.start:t.end] for prev, t in
                   zip([0] + [t.end for t in lexed.tokens], lexed.tokens, strict=False)) \
        + text[lexed.tokens[-1].end if lexed.tokens else 0:] == text


def test_generated_large_program() -> None:
    assert_lossless(program_1_0(2000, seed=7))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_reprints(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    doc = parse_document(text)
    assert print_tree(doc) == text
