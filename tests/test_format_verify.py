"""The layout proof (`format/verify.py`): a re-lex of the output, complete for the parser.

Each case gives an input and a wrong "layout" of it; the proof must refuse every one (and
accept layouts that only move what the grammar ignores). Without the newline and `key:`
checks, the first cases pass the old token comparison although they change the program.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeai_lang.cli import fmt_cmd
from codeai_lang.format import api
from codeai_lang.format.verify import FormatError, verify_layout
from codeai_lang.syntax.versioned_parse import parse_document

STEP = "#version 2.1\n\njob j {{\n    steps {{\n        s {{\n{}\n        }}\n    }}\n}}\n"


def step(*lines: str) -> str:
    return STEP.format("\n".join(" " * 12 + line for line in lines))


WRONG = [
    # two entries joined on one line: the same tokens but one newline fewer
    ("#version 2.0\n\nentity A {\n    id: uuid\n    name: string\n}\n",
     "#version 2.0\n\nentity A {\n    id: uuid name: string\n}\n"),
    ("#version 2.0\n\nworkflow w {\n    steps {\n        a\n        b\n    }\n}\n",
     "#version 2.0\n\nworkflow w {\n    steps {\n        a b\n    }\n}\n"),
    # an entry split: one newline more
    ("#version 2.0\n\nendpoint GET /a {\n    response User status 200\n}\n",
     "#version 2.0\n\nendpoint GET /a {\n    response User\n    status 200\n}\n"),
    # two tokens glued into one, one split into two
    ("function f(a, b) { }\n", "function f(ab) { }\n"),
    ("var total = 1\n", "var to tal = 1\n"),
    # the directive, a comment, a string's content
    ("#version 1.0\n\nvar a = 1\n", "#version 1.1\n\nvar a = 1\n"),
    ("var a = 1 // why\n", "var a = 1\n"),
    ("var a = 1 /* x  y */\n", "var a = 1 /* x y */\n"),
    ('var a = "x  y"\n', 'var a = "x y"\n'),
]


@pytest.mark.parametrize(("text", "wrong"), WRONG)
def test_a_layout_that_changes_the_program_is_refused(text: str, wrong: str) -> None:
    doc = parse_document(text)
    assert not [d for d in doc.diagnostics if d.severity.value == "error"]
    with pytest.raises(FormatError):
        verify_layout(doc, wrong)


RIGHT = [
    ("entity A {\n  id: uuid\n}\n", "entity A {\n    id:   uuid\n}\n"),
    # newlines the grammar ignores moved: `} else`, an empty body, a one-line body opened
    (step("if a > 1 {", "    x: 1", "}", "else {", "    x: 2", "}"),
     step("if a > 1 {", "    x: 1", "} else {", "    x: 2", "}")),
    ("#version 2.0\n\nevent e {\n}\n", "#version 2.0\n\nevent e { }\n"),
    (step("o: f({ a: 1  b: 2 })"), step("o: f({", "    a: 1", "    b: 2", "})")),
    # `name :` → `name:` where it reads the same (2.1 object key)
    (step("o: f({ a : 1 })"), step("o: f({ a: 1 })")),
]


@pytest.mark.parametrize(("text", "right"), RIGHT)
def test_a_layout_that_keeps_the_program_is_accepted(text: str, right: str) -> None:
    verify_layout(parse_document(text), right)


def test_the_cli_leaves_a_file_alone_when_the_proof_fails(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    text = "#version 2.0\n\nentity A {\n  id: uuid\n  name: string\n}\n"
    path = tmp_path / "a.cai"
    path.write_text(text)
    monkeypatch.setattr(api, "layout_with_cuts",
                        lambda doc: (doc.text.replace("uuid\n  name", "uuid name"), [], []))
    (outcome,) = fmt_cmd.run_fmt([str(path)], "write", None, 1, use_cache=False)
    assert outcome.errors and "internal error" in outcome.errors[0]
    assert path.read_text() == text


def test_the_collector_is_paused_only_during_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from codeai_lang.format import format_text

    states: list[bool] = []
    real = api.parse_document

    def spy(text: str, **kwargs: Any) -> Any:
        states.append(gc.isenabled())
        return real(text, **kwargs)

    monkeypatch.setattr(api, "parse_document", spy)
    try:
        assert gc.isenabled()
        format_text("var   a = 1\n")
        assert gc.isenabled()
        gc.disable()
        format_text("var   a = 1\n")
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()
    assert states == [False, False]


def test_an_inferred_version_must_stay_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a directive, moving a newline must not make a newer version accept the file."""
    from codeai_lang.format import verify

    text, right = RIGHT[2]
    text, right = text.replace("#version 2.0\n\n", ""), right.replace("#version 2.0\n\n", "")
    doc = parse_document(text)
    assert doc.version_source == "inferred"
    verify_layout(doc, right)  # the real inference agrees
    real = verify.parse_document

    def newer(out: str, **kwargs: Any) -> Any:
        again = real(out, **kwargs)
        again.version = "9.9"
        return again

    monkeypatch.setattr(verify, "parse_document", newer)
    with pytest.raises(FormatError, match="read as DSL 9.9"):
        verify_layout(doc, right)
