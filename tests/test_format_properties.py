"""The formatter's promises (spec format.md), as properties over many programs.

Programs come from hypothesis (the messy snippet programs of test_lossless: random comments,
tabs, CRLF, blank lines and spacing between every token), from the deterministic generators
of every DSL version, and from every corpus file. For each: formatting is idempotent, the AST
is unchanged (positions aside), every comment is kept, the line endings are kept, and the
output obeys the layout invariants (no trailing blanks, 4-space indentation, no double blank
lines, one final newline).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from codeai_testing import generate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lossless import programs

from codeai_lang.diagnostics.model import apply_edits
from codeai_lang.format import format_range, format_text, line_indent, minimal_edits
from codeai_lang.format.layout import split_lines
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import parse_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CORPUS_FILES = sorted(CORPUS.rglob("*.cai"))
# The program generator of every DSL version that has one (2.1's joins when it lands).
GENERATORS = [g for v in default_registry().names
              if (g := getattr(generate, f"program_{v.replace('.', '_')}", None)) is not None]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shape(node: Any) -> Any:
    """A node's JSON without positions (ranges, the shell text's offset)."""
    if isinstance(node, dict):
        return {k: shape(v) for k, v in node.items() if k not in ("range", "shell_start")}
    if isinstance(node, list):
        return [shape(v) for v in node]
    return node


def ast_of(text: str, version: str | None = None) -> Any:
    doc = parse_document(text, version=version)
    return doc.version, shape(doc.program.to_json())


def comments_of(text: str) -> list[str]:
    return [c.text.rstrip(" \t") for c in lex(text).comments]


def raw_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of text that is never re-laid out: multi-line block comments, shell text and
    (2.1) triple-quoted strings."""
    lexed = lex(text)
    spans = [(c.start, c.end) for c in lexed.comments if "\n" in c.text]
    spans += [(t.start, t.end) for t in lexed.tokens if t.kind in ("SHELL", "TSTRING")]
    return spans


def outside_raw_lines(text: str) -> list[str]:
    """The lines of `text` that do not start inside raw text."""
    spans = raw_spans(text)
    out, pos = [], 0
    for line in text.split("\n"):
        if not any(s < pos < e for s, e in spans):
            out.append(line)
        pos += len(line) + 1
    return out


def assert_promises(text: str, version: str | None = None) -> str:
    result = format_text(text, version)
    assert result.ok, result.diagnostics
    out = result.text
    assert format_text(out, version).text == out, "not idempotent"
    assert ast_of(out, version) == ast_of(text, version), "the AST changed"
    assert comments_of(out) == comments_of(text), "a comment was lost or changed"
    if "\n" in text:
        crlf_in, crlf_out = text.count("\r\n"), out.count("\r\n")
        if crlf_in == text.count("\n"):
            assert crlf_out == out.count("\n"), "CRLF file got LF line breaks"
        if crlf_in == 0:
            assert crlf_out == 0, "LF file got CRLF line breaks"
    assert_layout_invariants(out)
    return out


def assert_layout_invariants(out: str) -> None:
    if not out.strip("\ufeff"):
        return
    assert out.endswith("\n") and not out.endswith("\n\n") and not out.endswith("\n\r\n")
    lines = outside_raw_lines(out.replace("\r\n", "\n"))
    for line in lines:
        assert line == line.rstrip(" \t"), f"trailing whitespace: {line!r}"
        indent = re.match(r"[ \t]*", line).group()  # type: ignore[union-attr]
        assert "\t" not in indent and len(indent) % 4 == 0, f"bad indentation: {line!r}"
    assert "\n\n\n" not in out.replace("\r\n", "\n")


@SETTINGS
@given(programs())
def test_messy_programs_keep_every_promise(program: tuple[str, int]) -> None:
    assert_promises(program[0])


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(GENERATORS), st.integers(0, 10_000),
       st.integers(20, 300))
def test_generated_programs_of_every_version(gen: Any, seed: int, lines: int) -> None:
    assert generate.program_2_1 in GENERATORS and len(GENERATORS) >= 4
    assert_promises(gen(lines, seed=seed))


def perturb(text: str, rng: random.Random) -> str:
    """The same tokens and line breaks with other blanks between them: other indentation,
    trailing blanks, wider spaces (gaps holding a comment or the directive are kept)."""
    out, pos, prev = [], 0, ""
    for tok in (t for t in lex(text).tokens if t.kind != "NL"):
        gap = text[pos:tok.start]
        if (not gap and pos and prev not in _GLUED_AFTER and tok.kind not in _GLUED_BEFORE
                and rng.random() < 0.5):
            gap = " "  # `f(a, b)` → `f( a , b)`: spaces the layout removes again
        elif gap and "/" not in gap and "#" not in gap:
            if "\n" in gap:
                gap = (rng.choice(["", " ", "\t "]) + "\n" * gap.count("\n")
                       + rng.choice(["", " ", "\t", "  ", "      ", "\t\t"]))
            else:
                gap = rng.choice([" ", "  ", "\t"])
        out += [gap, tok.text]
        pos, prev = tok.end, tok.kind
    return "".join(out) + text[pos:]


# Where a space would change the tokens or their reading: shell text is raw, `key:` (2.1) needs
# its colon attached, `f(` is a call and `a[` an index, `-1` a number.
_GLUED_BEFORE = frozenset({"SHELL", "COLON", "LPAR", "LSQB"})
_GLUED_AFTER = frozenset({"SHELL", "OP"})


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(GENERATORS), st.integers(0, 10_000))
def test_formatting_undoes_any_respacing(gen: Any, seed: int) -> None:
    """Layout is a function of the tokens and line breaks only."""
    canonical = format_text(gen(120, seed=seed)).text
    messy = perturb(canonical, random.Random(seed))
    assert format_text(messy).text == canonical


def sprinkle_comments(text: str, rng: random.Random) -> str:
    """`text` with comments added in its gaps: end-of-line and own-line `//` comments where a
    gap holds a line break, block comments between tokens on a line. Gaps touching shell text
    or holding a comment or the directive already are left alone."""
    out, pos, prev = [], 0, ""
    for k, tok in enumerate(t for t in lex(text).tokens if t.kind != "NL"):
        gap = text[pos:tok.start]
        if gap and "/" not in gap and "#" not in gap and "EXEC" not in (prev, tok.kind) \
                and "SHELL" not in (prev, tok.kind):
            r, nl = rng.random(), gap.find("\n")
            if nl >= 0 and r < 0.15:
                gap = gap[:nl] + f"  // end {k}" + gap[nl:]
            elif nl >= 0 and r < 0.3:
                gap = gap[:nl + 1] + rng.choice(["", "  ", "\t"]) + f"// own {k}\n" + gap[nl + 1:]
            elif nl < 0 and r < 0.05:
                gap = gap + f"/* b{k} */ "
        out += [gap, tok.text]
        pos, prev = tok.end, tok.kind
    return "".join(out) + text[pos:]


def triple_quoted(text: str) -> list[str]:
    return [t.text for t in lex(text).tokens if t.kind == "TSTRING"]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(30, 200))
def test_messy_2_1_programs_keep_every_promise(seed: int, lines: int) -> None:
    """DSL 2.1 (colon forms, expressions, queries over lines, records, triple-quoted strings,
    statements in bodies) with other spacing and indentation and comments everywhere:
    idempotent, AST unchanged, every comment kept, triple-quoted strings untouched; without
    the comments, the result is the canonical layout of the clean program."""
    rng = random.Random(seed)
    clean = generate.program_2_1(lines, seed=seed)
    canonical = format_text(clean).text
    respaced = perturb(canonical, rng)
    assert format_text(respaced).text == canonical
    messy = sprinkle_comments(respaced, rng)
    out = assert_promises(messy)
    assert triple_quoted(out) == triple_quoted(messy) == triple_quoted(clean)
    assert parse_document(out).version == "2.1"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_file(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    result = format_text(text)
    if not result.ok:  # syntax errors: left exactly as it was
        assert result.text == text and not result.changed
        assert any(d.code.startswith("CAI00") or d.code.startswith("CAI4") for d in result.diagnostics)
        return
    assert_promises(text)


def test_syntax_errors_leave_the_text_alone() -> None:
    text = "entity A {\n  id: uuid,, \n"
    result = format_text(text)
    assert not result.ok and result.text == text and not result.changed
    assert {d.code for d in result.diagnostics} & {"CAI001", "CAI003"}


@pytest.mark.parametrize("version", ["1.0", "1.1", "2.0"])
def test_version_override_is_used(version: str) -> None:
    result = format_text("var   a  =  1\n", version)
    assert result.ok and result.version == version and result.text == "var a = 1\n"


@SETTINGS
@given(programs(), st.data())
def test_range_formatting_changes_only_lines_in_range(program: tuple[str, int], data: st.DataObject) -> None:
    text = program[0]
    old = split_lines(text)
    n = len(old)
    first = data.draw(st.integers(0, max(n - 1, 0)))
    last = data.draw(st.integers(first, max(n - 1, first)))
    result = format_range(text, first, last)
    assert result.ok
    new = split_lines(result.text)
    assert new[:first] == old[:first]
    after = n - 1 - last
    if after:
        assert new[len(new) - after:] == old[n - after:]
    assert ast_of(result.text) == ast_of(text)
    assert comments_of(result.text) == comments_of(text)
    if first == 0 and last == n - 1:
        assert result.text == format_text(text).text


def _without_continuations(path: Path) -> bool:
    """Files of versions whose grammar has no continuation lines (2.1 queries have them)."""
    tables = default_registry().tables(parse_document(path.read_bytes().decode("utf-8")).version)
    return not getattr(tables, "continuations", None) and not getattr(tables, "has_key", False)


VALID_FILES = sorted(p for p in CORPUS.glob("v*/valid/*.cai") if _without_continuations(p))


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_on_type_indentation_agrees_with_the_formatter(path: Path) -> None:
    """Re-indenting any line of a formatted file on type changes nothing (these files have no
    continuation lines, the one thing on-type indentation cannot see without a parse)."""
    text = format_text(path.read_bytes().decode("utf-8")).text
    for i, line in enumerate(split_lines(text)):
        indent = line_indent(text, i)
        if indent is not None and line.strip():
            assert line.startswith(indent) and not line[len(indent)].isspace(), (i + 1, line)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}()[],:=.@"/*-+ \t\r\nabcxyz019#version ')), max_size=120))
def test_any_text_is_formatted_or_refused_never_crashes(text: str) -> None:
    result = format_text(text)
    if not result.ok:
        assert result.text == text and not result.changed
        return
    assert format_text(result.text).text == result.text
    assert comments_of(result.text) == comments_of(text)


@SETTINGS
@given(programs())
def test_minimal_edits_rebuild_the_formatted_text_line_by_line(program: tuple[str, int]) -> None:
    text = program[0]
    out = format_text(text).text
    edits = minimal_edits(text, out)
    assert apply_edits(text, edits) == out
    old_lines = split_lines(text)
    assert len(edits) <= len(old_lines) + 1
    for e in edits:
        assert text[e.start:e.end] != e.new_text  # no edit rewrites a line with itself
        assert e.start == 0 or text[e.start - 1] == "\n"  # whole lines only


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["}\n", "\n", "a b\n", "ab\n", " a\n", "c", "x y z\n"]), max_size=12),
       st.lists(st.sampled_from(["}\n", "\n", "a b\n", "ab\n", " a\n", "c", "x y z\n"]), max_size=12))
def test_minimal_edits_are_correct_for_any_two_texts(a: list[str], b: list[str]) -> None:
    old, new = "".join(a), "".join(b)
    assert apply_edits(old, minimal_edits(old, new)) == new
