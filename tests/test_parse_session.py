"""`ParseSession`: the one version selection (directive, override, project default, inference,
re-parsing failing statements under other versions), used by `parse_document` and, fed with
its cached units, by the incremental document."""

from __future__ import annotations

import pytest
from codeai_testing.generate import program_1_1, program_2_1

from codeai_lang.analysis.incremental import IncrementalDocument
from codeai_lang.analysis.validator import validate
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.parser import Unit, parse_tokens
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import Document, ParseSession, parse_document

ON_DO = 'event e { }\non "e" do emit "e"\n'  # `on … do`: removed in 2.0, so inferred as 1.1
ENTITY_UNDER_1_0 = "#version 1.0\nvar x = 1\nentity U {\n    id: uuid\n}\n"


class _Recording(ParseSession):
    """A session that records every re-parse of a run of units."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.calls: list[tuple[int, int, str, bool]] = []

    def reparse(self, units: list[Unit], idx: int, size: int, version: str) -> list[n.Node] | None:
        got = super().reparse(units, idx, size, version)
        self.calls.append((idx, size, version, got is not None))
        return got


def _key(doc: Document) -> tuple[object, ...]:
    diags = [(d.code, d.start, d.end, d.message) for d in doc.diagnostics]
    spans = [(type(s).__name__, s.start, s.end) for s in doc.statements]
    return doc.version, doc.version_source, doc.declared, diags, spans


def test_inference_parses_under_the_newest_and_chooses_the_newest_accepting_version() -> None:
    session = _Recording(ON_DO)
    assert session.parse_version() == default_registry().ordered[-1].name
    doc = session.document()
    assert (doc.version, doc.version_source, doc.diagnostics) == ("1.1", "inferred", [])
    # The `on … do` unit fails under the newest version; 2.0 (the next candidate) rejects it
    # too, 1.1 accepts it: only that unit is re-parsed.
    assert session.calls == [(1, 1, "2.0", False), (1, 1, "1.1", True)]
    assert [type(s).__name__ for s in doc.statements] == ["Declaration", "OnHandler"]


def test_a_failing_statement_reparsed_under_a_newer_version_is_cai403() -> None:
    session = _Recording(ENTITY_UNDER_1_0)
    assert session.parse_version() == "1.0"
    doc = session.document()
    assert (doc.version, doc.version_source, doc.declared) == ("1.0", "directive", "1.0")
    assert [d.code for d in doc.diagnostics] == ["CAI403"]
    assert "require DSL 1.1" in doc.diagnostics[0].message
    assert doc.diagnostics[0].start == ENTITY_UNDER_1_0.index("entity")
    assert session.calls == [(1, 1, "1.1", True)]  # newer versions first, the nearest first
    entity = doc.statements[-1]  # the 1.1 parse stands in the tree
    assert isinstance(entity, n.Declaration) and entity.keyword.name == "entity"


def test_the_choice_of_version() -> None:
    reg = default_registry()
    assert ParseSession("var x = 1\n").document(version="1.1").version_source == "override"
    project = ParseSession("var x = 1\n").document(default_version="1.1")
    assert (project.version, project.version_source) == ("1.1", "project")
    declared = ParseSession("#version 2.0\nvar x = 1\n").document(default_version="1.1")
    assert (declared.version, declared.version_source) == ("2.0", "directive")
    unknown = ParseSession("#version 9.9\nvar x = 1\n")
    assert unknown.parse_version(default_version="1.0") == reg.latest  # CAI401, not the default
    assert unknown.document(default_version="1.0").version_source == "default"


def test_fed_units_are_used_instead_of_a_parse() -> None:
    text = ENTITY_UNDER_1_0
    lexed = lex(text)
    out = parse_tokens(lexed.tokens, default_registry().tables("1.0"), text)
    session = ParseSession(text, lexed=lexed)
    session.feed("1.0", out.units)
    doc = session.document()
    assert doc.statements[0] is out.units[0].node  # the fed node, not a new parse's
    assert _key(doc) == _key(parse_document(text))


CASES = {
    "inferred": (ON_DO * 3, None),
    "inferred, nothing accepts it": ("var x = = 1\n" + ON_DO, None),
    "CAI403": (ENTITY_UNDER_1_0, None),
    "removed form (CAI302)": ("#version 2.0\n" + ON_DO, None),
    "project default": (program_1_1(20, seed=2).split("\n", 1)[1], "1.1"),
    "unknown directive with a project default": (
        "#version 9.9\n" + program_2_1(10, seed=1).split("\n", 1)[1], "1.0"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_incremental_document_and_parse_document_agree(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text, default = CASES[case]
    doc = IncrementalDocument(text, default_version=default, min_incremental=0)
    doc.apply_edit(len(text), len(text), "\n")  # analysed from the cached units
    assert (doc.stats.full, doc.stats.incremental) == (1, 1)
    sessions: list[ParseSession] = []
    document = ParseSession.document

    def spy(self: ParseSession, **kwargs: str | None) -> Document:
        sessions.append(self)
        return document(self, **kwargs)

    monkeypatch.setattr(ParseSession, "document", spy)
    result = doc.result
    assert len(sessions) == 1  # one session chose the version, fed with the cached units
    units, _ = sessions[0].parsed(doc.parse_version)
    assert any(u.node is not None and u.node in result.document.statements for u in units)
    full = parse_document(doc.text, default_version=default)
    assert _key(result.document) == _key(full)
    expected = validate(doc.text, default_version=default)
    assert [(d.code, d.start, d.message) for d in result.diagnostics] == \
        [(d.code, d.start, d.message) for d in expected.diagnostics]
