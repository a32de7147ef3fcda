"""Semantic checks of the 1.1 business forms (language.md §5, §7): one behaviour per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeai_lang.analysis.validator import validate


def codes(text: str, version: str = "1.1") -> list[str]:
    return [d.code for d in validate(f"#version {version}\n{text}").diagnostics]


@pytest.mark.parametrize("field", [
    "a: uuid", "a: string, required, unique, searchable", "a: text, optional", "a: integer",
    "a: decimal", "a: decimal(10, 2), default(0)", "a: boolean, default(true)",
    "a: timestamp, auto", "a: timestamp, auto_update", "a: timestamp, soft_delete", "a: date",
    "a: time", "a: json", "a: list(string)", "a: list(ref(E))", "a: ref(E), optional",
    "a: enum(x, y), default(y)", "a: uuid, primary, auto",
])
def test_every_spec_field_form_is_accepted(field: str) -> None:
    assert codes(f"entity E {{\n    id: uuid, primary\n    {field}\n}}\n") == []


@pytest.mark.parametrize(("field", "code"), [
    ("a: strin", "CAI201"), ("a: string, uniq", "CAI201"), ("a: decimal(2, 5)", "CAI201"),
    ("a: decimal(x)", "CAI201"), ("a: list()", "CAI201"), ("a: enum()", "CAI201"),
    ("a: ref(Missing)", "CAI202"), ("a: Missing", "CAI202"), ("a: list(ref(Missing))", "CAI202"),
    ("a: enum(x, y), default(z)", "CAI203"), ("a: string,, required", "CAI001"),
])
def test_bad_fields(field: str, code: str) -> None:
    assert codes(f"entity E {{\n    {field}\n}}\n") == [code]


@pytest.mark.parametrize("block", ["payload", "body", "query", "returns"])
def test_field_blocks_are_checked(block: str) -> None:
    kind = "event e" if block == "payload" else "endpoint POST /x"
    text = f"{kind} {{\n    {block} {{\n        a: strin\n        b: ref(Nope)\n    }}\n}}\n"
    assert codes(text) == ["CAI201", "CAI202"]


def test_spec_property_forms_get_no_warnings() -> None:
    text = """\
integration stripe {
    type: rest
    base_url: "https://x"
    auth: bearer(env(KEY))
    timeout: 30s
    retry: 3 times with exponential_backoff
    circuit_breaker: 5 failures in 1m
    operation charge {
        method: POST
        path: "/c"
    }
}
job j {
    schedule: "0 1 * * *"
    timeout: 10m
}
workflow w {
    trigger: manual
    timeout: 1h
    steps {
        a
    }
}
config {
    database: postgres { pool_size: 20 }
}
"""
    assert codes(text) == []


@pytest.mark.parametrize(("kind", "key"), [
    ("integration i", "flavour"), ("job j", "every"), ("workflow w", "stepz"),
    ("event e", "colour"), ("endpoint GET /x", "cors"),
])
def test_unknown_properties_are_cai206_warnings(kind: str, key: str) -> None:
    result = validate(f"#version 1.1\n{kind} {{\n    {key}: 1\n}}\n")
    assert [(d.code, d.severity.value) for d in result.diagnostics] == [("CAI206", "warning")]
    assert key in result.diagnostics[0].message


def test_config_keys_are_free_form() -> None:
    assert codes("config {\n    anything_goes: 1\n    nested { deep: 2 }\n}\n") == []


@pytest.mark.parametrize(("text", "code"), [
    ("endpoint GET /x {\n    status: 600\n}\n", "CAI203"),
    ('job j {\n    schedule: "0 0 32 * *"\n}\n', "CAI203"),
    ('job j {\n    schedule: "0 0 *"\n}\n', "CAI203"),
    ("job j {\n    timeout: 10 minutes\n}\n", "CAI203"),
    ("endpoint GET /x/:id {\n    params {\n        key: uuid\n    }\n}\n", "CAI203"),
    ("workflow w {\n    trigger: missing.event\n}\n", "CAI202"),
    ("endpoint GET /x {\n    middleware: [nope]\n}\n", "CAI202"),
])
def test_invalid_values_and_references(text: str, code: str) -> None:
    assert codes(text) == [code]


def test_declarations_are_order_free() -> None:
    text = "entity A {\n    b: ref(B)\n}\nentity B {\n    a: ref(A)\n}\n"
    assert codes(text) == []


def test_property_style_bodies_are_cai403_under_1_0_once_per_declaration() -> None:
    text = "integration i {\n    type: rest\n    base_url: \"https://x\"\n}\n"
    assert codes(text, "1.0") == ["CAI403"]


def test_entry_key_is_the_key_name_of_every_entry() -> None:
    """The compiled checks read `entry_key(e)` instead of the `Entry.key_name` property."""
    from codeai_lang.analysis.decl_checks import entry_key
    from codeai_lang.syntax import nodes as n
    from codeai_lang.syntax.versioned_parse import parse_document

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    seen = 0
    for path in sorted(corpus.rglob("*.cai")):
        program = parse_document(path.read_text(encoding="utf-8")).program
        for node in program.walk():
            if isinstance(node, n.Entry):
                assert entry_key(node) == node.key_name, (path, node)
                seen += 1
    quoted = n.Entry(0, 5, n.StringLit(0, 5, '"a\\tb"'), True, [], None)
    assert entry_key(quoted) == quoted.key_name == "a\tb"
    assert seen > 1000
