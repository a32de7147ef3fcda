"""Versions: `#version` handling, inference, CAI401–CAI403, and the corpus bar.

The bar (issue 4): every corpus file gets the same diagnostics from `validate` whether its
version is declared or inferred, wherever inference finds the same version. Removing the
directive line shifts every later offset by its length; diagnostics are compared after
shifting back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from codeai_testing.generate import program_1_1, program_2_1

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import parse_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FILES = sorted(CORPUS.rglob("*.cai"))


def _key(diags: list[Diagnostic], shift: int = 0, at: int = 0) -> list[tuple[str, int, int, str]]:
    """Diagnostics as comparable tuples, offsets at or after `at` moved by `shift`."""
    return [(d.code, d.start + (shift if d.start >= at else 0), d.end + (shift if d.end >= at else 0),
             d.message) for d in diags]


def compare_declared_and_inferred(text: str) -> str | None:
    """Assert the bar for one text; return why it does not apply (None when compared)."""
    doc = parse_document(text)
    if not doc.lexed.directives:
        inferred = validate(text)
        at = 1 if text.startswith("\ufeff") else 0
        line = f"#version {inferred.document.version}\n"
        declared = validate(text[:at] + line + text[at:])
        assert declared.document.version_source == "directive"
        assert _key(declared.diagnostics, -len(line), at) == _key(inferred.diagnostics)
        return None
    if doc.directive is None:
        return "the only directive is misplaced"
    if doc.declared is None:
        return "the directive names no known version"
    if len(parse_document(text).lexed.directives) > 1:
        return "more than one directive"
    tok = doc.directive
    declared = validate(text)
    inferred = validate(text[:tok.start] + text[tok.end:])
    if inferred.document.version != doc.declared:
        newer = default_registry().versions[inferred.document.version]
        if not declared.diagnostics and not newer.deprecates:
            assert inferred.diagnostics == [], "a clean file must stay clean under a newer version"
        return f"inference finds {inferred.document.version}, the file declares {doc.declared}"
    assert inferred.document.version_source == "inferred"
    assert _key(inferred.diagnostics, tok.end - tok.start, tok.start) == _key(declared.diagnostics)
    return None


def _bar_applies(path: Path) -> bool:
    """The bar covers files without a directive, and files whose declared version is the one
    inference finds (a 1.1 file that 2.0 accepts is legitimately inferred as 2.0)."""
    text = path.read_text(encoding="utf-8")
    doc = parse_document(text)
    if not doc.lexed.directives:
        return True
    if doc.directive is None or doc.declared is None or len(doc.lexed.directives) > 1:
        return False
    tok = doc.directive
    return parse_document(text[:tok.start] + text[tok.end:]).version == doc.declared


APPLICABLE = [p for p in FILES if _bar_applies(p)]
OTHERS = [p for p in FILES if p not in APPLICABLE]


@pytest.mark.parametrize("path", APPLICABLE, ids=lambda p: str(p.relative_to(CORPUS)))
def test_declared_and_inferred_agree(path: Path) -> None:
    assert compare_declared_and_inferred(path.read_text(encoding="utf-8")) is None


def test_files_outside_the_bar_still_hold_their_weaker_property() -> None:
    """Where inference finds another version, a clean file must stay clean under it."""
    reasons = [compare_declared_and_inferred(p.read_text(encoding="utf-8")) for p in OTHERS]
    assert all(r is not None for r in reasons)


def test_the_bar_is_not_vacuous() -> None:
    """Most corpus files must really be compared, not skipped."""
    compared = [p for p in FILES if compare_declared_and_inferred(p.read_text(encoding="utf-8")) is None]
    assert len(compared) >= 20


# -- directives ---------------------------------------------------------------------------------


def test_directive_selects_the_version() -> None:
    for version in ("1.0", "1.1", "2.0"):
        doc = parse_document(f"#version {version}\nvar x = 1\n")
        assert (doc.version, doc.version_source, doc.declared) == (version, "directive", version)


def test_directive_after_comments_and_with_spaces() -> None:
    doc = parse_document("// header\n\n#version   1.1  // pinned\nvar x = 1\n")
    assert (doc.version, doc.diagnostics) == ("1.1", [])


def test_unknown_version_is_cai401_and_checks_against_newest() -> None:
    doc = parse_document("#version 9.9\nvar x = 1\n")
    assert [d.code for d in doc.diagnostics] == ["CAI401"]
    assert doc.version == default_registry().latest


def test_repeated_or_late_directive_is_cai402() -> None:
    doc = parse_document("#version 1.1\nvar x = 1\n#version 2.0\n")
    assert [d.code for d in doc.diagnostics] == ["CAI402"]
    assert "before any statement" in doc.diagnostics[0].message or "repeated" in doc.diagnostics[0].message
    late = parse_document("var x = 1\n#version 2.0\n")
    assert [d.code for d in late.diagnostics] == ["CAI402"]
    assert "before any statement" in late.diagnostics[0].message


def test_override_wins_over_directive() -> None:
    doc = parse_document("#version 1.1\nvar x = 1\n", version="2.0")
    assert (doc.version, doc.version_source, doc.declared) == ("2.0", "override", "1.1")


# -- inference -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("var x = 1\n", "2.1"),
    ("entity User {\n    id: uuid, primary\n}\n", "2.1"),
    ('event e { }\non "e" do emit "e"\n', "1.1"),
    ("database postgres {\n    model U {\n        id: uuid\n    }\n}\n", "1.1"),
    ("entity U {\n    id: uuid, primary_key\n}\n", "1.1"),  # D5 is semantic: removed in 2.0
    ('config {\n    db_host: "h"\n}\n', "1.1"),
])
def test_inference_picks_the_newest_accepting_version(text: str, expected: str) -> None:
    doc = parse_document(text)
    assert (doc.version, doc.version_source) == (expected, "inferred")


def test_nothing_accepts_it_reports_against_newest() -> None:
    result = validate("var x = = 1\n")
    assert result.document.version == "2.1"
    assert [d.code for d in result.diagnostics] == ["CAI001"]


def test_generated_programs_are_inferred_as_their_version() -> None:
    for gen, version in ((program_1_1, "1.1"), (program_2_1, "2.1")):
        text = gen(300, 3)
        bare = text.split("\n", 1)[1]
        declared, inferred = validate(text), validate(bare)
        assert declared.document.version == inferred.document.version == version
        assert declared.diagnostics == [] or all(d.code == "CAI301" for d in declared.diagnostics)
        assert _key(inferred.diagnostics, len(text) - len(bare)) == _key(declared.diagnostics)


# -- CAI403 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("snippet", "what"), [
    ("entity U {\n    id: uuid\n}\n", "`entity`"),
    ("collection C {\n    a: string\n}\n", "top-level `collection`"),
    ('workflow w {\n    trigger manual\n    timeout 30s\n    steps { a { activity "a" } }\n}\n',
     "duration literals"),
    ("database postgres {\n    model X {\n        id: uuid\n    }\n}\n"  # X declared the 1.0 way
     "endpoint GET /x {\n    response X status 200\n}\n", "unquoted endpoint paths"),
    ('event e { }\non "e" { emit "e" }\n', "block-style `on"),
    ('config {\n    database: postgres { pool_size: 2 }\n}\n', "nested config values"),
    ("job j {\n    schedule: \"0 1 * * *\"\n}\n", "property-style job bodies"),
    ("event e {\n    payload {\n        id: uuid\n    }\n}\n", "property-style event bodies"),
])
def test_1_1_constructs_under_1_0_are_cai403(snippet: str, what: str) -> None:
    result = validate("#version 1.0\n" + snippet)
    too_new = [d for d in result.diagnostics if d.code == "CAI403"]
    assert len(too_new) == 1, [(d.code, d.message) for d in result.diagnostics]
    assert what in too_new[0].message and "1.1" in too_new[0].message
    assert all(d.code == "CAI403" or d.code == "CAI202" for d in result.diagnostics)
    assert validate("#version 1.1\n" + snippet).errors == 0


def test_1_0_forms_are_fine_under_1_0() -> None:
    text = ('#version 1.0\nintegration api {\n    type rest\n    base_url "https://x"\n'
            '    timeout "10s"\n    auth bearer { token: env("T") }\n}\n')
    assert validate(text).diagnostics == []


MULTILINE_D6 = """\
event job.done { }
workflow report {
    trigger manual
    steps { build { activity "build" } }
}
on "job.done" /* when a job ends */ do
    workflow "report" async
var after = 1
"""


def test_statement_split_by_recovery_is_retried_whole() -> None:
    """`on … do` / `workflow …` over two lines: 2.0's recovery splits it at the second line."""
    inferred = validate(MULTILINE_D6)
    assert inferred.document.version == "1.1"
    assert [d.code for d in inferred.diagnostics] == ["CAI301"]
    declared = validate("#version 2.0\n" + MULTILINE_D6)
    assert [d.code for d in declared.diagnostics] == ["CAI302"]
