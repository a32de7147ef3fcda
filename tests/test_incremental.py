"""Incremental analysis gives exactly the diagnostics of a full `validate` after every edit.

Edits are random insertions and deletions of characters that stress the lexer and the
parser (braces, quotes, comment openers, newlines, keywords, `#version`), applied to
corpus-like programs of every DSL version, with and without a directive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from codeai_testing.generate import program_1_0, program_1_1, program_2_0, program_2_1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeai_lang.analysis.incremental import IncrementalDocument
from codeai_lang.analysis.validator import Result, validate
from codeai_lang.syntax.registry import default_registry

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PIECES = ["{", "}", "(", ")", "[", "]", '"', "/*", "*/", "//", "\n", "\r\n", " ", "x", "1",
          "30s", ",", ":", "=", "var a = 1\n", "entity ", "model", "primary_key", "not_null",
          "#version 1.1\n", "#version 2.0\n", "exec { echo $x }", "GET /a", "@", "é", "\t"]


def _key(result: Result) -> tuple[object, ...]:
    """What must be identical. Sites: an incremental document carries only the deprecation
    sites its version reports or removes (the rest are shifted lazily and never read)."""
    doc = result.document
    reg = default_registry()
    diags = [(d.code, d.severity, d.message, d.start, d.end, d.fix, d.tags) for d in result.diagnostics]
    sites = [(s.rule, s.start, s.end, s.fix, s.manual) for s in doc.sites
             if reg.is_removed(s.rule, doc.version) or reg.is_deprecated(s.rule, doc.version)]
    return diags, doc.version, doc.version_source, sites, len(doc.statements)


def _program(kind: int, seed: int, directive: bool) -> str:
    gen = (program_1_0, program_1_1, program_2_0, program_2_1)[kind]
    text = gen(45, seed=seed)
    if not directive:
        text = "\n".join(line for line in text.split("\n") if not line.startswith("#version"))
    return text


edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(PIECES + [""])),
                 min_size=1, max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.integers(0, 3), seed=st.integers(0, 50), directive=st.booleans(), steps=edits)
def test_incremental_equals_full_after_every_edit(kind: int, seed: int, directive: bool,
                                                  steps: list[tuple[float, int, str]]) -> None:
    doc = IncrementalDocument(_program(kind, seed, directive), min_incremental=0)
    for where, length, piece in steps:
        start = int(where * len(doc.text))
        doc.apply_edit(start, start + length, piece)
        assert _key(doc.result) == _key(validate(doc.text)), (doc.text, start, length, piece)
    assert doc.stats.internal_errors == 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 50), steps=edits)
def test_default_version_matches_validate_with_that_default(seed: int,
                                                            steps: list[tuple[float, int, str]]) -> None:
    """With `default_version`, results equal `validate(default_version=…)`: the project's
    version without a directive, the directive's (or CAI401 and the newest) with one."""
    doc = IncrementalDocument(_program(0, seed, False), default_version="1.1", min_incremental=0)
    for where, length, piece in steps:
        start = int(where * len(doc.text))
        doc.apply_edit(start, start + length, piece)
        assert _key(doc.result) == _key(validate(doc.text, default_version="1.1"))


def test_typing_in_a_large_file_stays_incremental() -> None:
    """Ordinary typing (in names, strings, comments) never falls back to a full analysis."""
    text = program_1_1(3000)
    doc = IncrementalDocument(text)
    full_before = doc.stats.full
    at = text.index("activity") + 3
    for i, ch in enumerate("abc"):
        doc.apply_edit(at + i, at + i, ch)
    doc.apply_edit(at, at + 3, "")
    mid = text.index('"https://api.example.com"') + 5
    doc.apply_edit(mid, mid, "z")
    assert doc.stats.full == full_before
    assert doc.stats.incremental == 5
    assert _key(doc.result) == _key(validate(doc.text))


CORPUS_DIRS = sorted({p.parent for p in CORPUS.rglob("*.cai")})
PER_DIRECTORY = 6  # files sampled from each corpus directory, spread over its sorted list


def _sample(directory: Path) -> list[Path]:
    files = sorted(directory.glob("*.cai"))
    step = max(1, len(files) // PER_DIRECTORY)
    return files[::step][:PER_DIRECTORY]


def test_every_corpus_directory_is_sampled() -> None:
    """The edit test below covers each directory holding .cai files (validation corpora of
    every version, valid and invalid, and every migration rule), not the first N sorted files."""
    dirs = {str(d.relative_to(CORPUS)) for d in CORPUS_DIRS}
    assert {"v1.0/valid", "v1.0/invalid", "v1.1/valid", "v2.0/invalid", "migrations/D1"} <= dirs
    assert all(_sample(d) for d in CORPUS_DIRS)


@pytest.mark.parametrize("directory", CORPUS_DIRS, ids=lambda d: str(d.relative_to(CORPUS)))
def test_corpus_files_with_edits(directory: Path) -> None:
    """Sampled corpus files of each directory: delete and re-insert a line's first character,
    every 7th line (starting at a different line per file), checking against full analysis."""
    for n, path in enumerate(_sample(directory)):
        text = path.read_text(encoding="utf-8")
        doc = IncrementalDocument(text, min_incremental=0)
        assert _key(doc.result) == _key(validate(text)), path
        offsets = [i + 1 for i, ch in enumerate(text) if ch == "\n"][n % 7::7]
        edited = 0
        for off in offsets:
            if off >= len(doc.text):
                continue
            ch = doc.text[off]
            doc.apply_edit(off, off + 1, "")
            assert _key(doc.result) == _key(validate(doc.text)), (path, off)
            doc.apply_edit(off, off, ch)
            edited += 1
        assert edited or text.count("\n") <= n % 7 + 1, path
        assert doc.text == text
        assert _key(doc.result) == _key(validate(text)), path
        assert doc.stats.internal_errors == 0


def test_statement_split_by_recovery_matches_full_analysis() -> None:
    """Regression (found by hypothesis): recovery split a broken `database` statement into
    adjacent failing units that only parse together; full analysis re-parses such runs as
    one, so the incremental result must contain the same statements."""
    doc = IncrementalDocument(_program(0, 1, True), min_incremental=0)
    for where, length, piece in [(0.046875, 0, "\n"), (0.0078125, 0, "}")]:
        start = int(where * len(doc.text))
        doc.apply_edit(start, start + length, piece)
        assert _key(doc.result) == _key(validate(doc.text))


def test_stray_comma_before_a_default_matches_full_analysis() -> None:
    """The validator drops the field check's echo of a parser error (`default , (0)`); the
    incremental analysis must drop it too."""
    text = "#version 1.1\ndatabase postgres {\n  model M {\n    n: integer, default (0)\n  }\n}\n"
    doc = IncrementalDocument(text, min_incremental=0)
    at = text.index("(0)")
    doc.apply_edit(at, at, ", ")
    assert doc.stats.incremental >= 1
    assert _key(doc.result) == _key(validate(doc.text))
    assert [d.code for d in doc.result.diagnostics if d.code == "CAI001"] == ["CAI001"]


def test_typing_inside_an_unclosed_block_stays_incremental() -> None:
    """Issue 13: while a new block's `{` is open, the lexer ends it at the next top-level
    statement in column 0, so each keystroke re-parses the statements around it — no full
    analysis — and the result still equals a full one (also once the `}` is typed)."""
    text = program_1_0(150)
    at = text.index("\n\n", len(text) // 3) + 1
    doc = IncrementalDocument(text, min_incremental=0)
    keys = ["function pending(a) {", *"\n    log(a)", "\n}"]
    pos = at
    for key in keys:
        doc.apply_edit(pos, pos, key)
        pos += len(key)
        assert _key(doc.result) == _key(validate(doc.text)), key
        if key != "\n}":  # errors only in the block typed (a half-typed `log` is one)
            assert all(d.start <= pos for d in doc.result.diagnostics)
            assert doc.result.diagnostics[0].code == "CAI003"
    assert doc.stats.full == 1 and doc.stats.incremental == len(keys)
    assert doc.stats.internal_errors == 0


def test_a_closer_after_the_edit_that_closes_the_new_bracket_matches_full_analysis() -> None:
    """A stray `}` later in the file closes a `{` typed before it (no reset): the window,
    which saw the `{` unclosed, must not be taken as it is."""
    text = program_1_0(60)
    text = text + "}\n"
    doc = IncrementalDocument(text, min_incremental=0)
    at = text.index("\n\n", len(text) // 3) + 1
    doc.apply_edit(at, at, "function pending(a) {\n")
    assert _key(doc.result) == _key(validate(doc.text))
    assert doc.stats.internal_errors == 0
    # And the other way: an edit adding a stray closer after a reset bracket.
    doc = IncrementalDocument(program_1_0(60), min_incremental=0)
    at = doc.text.index("\n\n", len(doc.text) // 3) + 1
    doc.apply_edit(at, at, "function pending(a) {\n")
    end = doc.text.index("\n\n", len(doc.text) * 2 // 3) + 1
    doc.apply_edit(end, end, "}\n")
    assert _key(doc.result) == _key(validate(doc.text))
    assert doc.stats.internal_errors == 0


def test_an_edit_that_moves_the_end_of_an_earlier_stray_group_matches_full_analysis() -> None:
    """Regression (found by scripts/fuzz.py): recovery at a stray `(` looks for the closer that
    ends its group, possibly several statements later; deleting a `{` there moves that closer,
    so the statement holding the `(` parses differently although the edit is far from it."""
    text = ('config {\n    (database: postgres {\n        host:(v("DB_HOST")\n    }\n}\n'
            'entity Customer {\n}\n    steps {\n        reserve_stock\n    }\n}')
    doc = IncrementalDocument(text, min_incremental=0)
    at = text.index("{\n        reserve")
    doc.apply_edit(at, at + 3, "OrderShipped")
    assert _key(doc.result) == _key(validate(doc.text))
    assert [d.start for d in doc.result.diagnostics if d.code == "CAI001"] == [13]
    assert doc.stats.internal_errors == 0
