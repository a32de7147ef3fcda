"""Deprecations D1–D6 (language.md §6): warned in 1.1, errors in 2.0, each with a fix that works.

For every rule: a 1.1 file gets exactly one CAI301 warning naming the deprecating version,
the removing version and the replacement; the same body under `#version 2.0` gets CAI302
with the same fix; applying the fix (`apply_edits`) gives text that validates clean of that
deprecation — with no errors at all — under the target version.
"""

from __future__ import annotations

import pytest

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Diagnostic, apply_edits
from codeai_lang.syntax.registry import default_registry

# One minimal, otherwise valid file body per rule (no directive: the tests add it).
CASES: dict[str, str] = {
    "D1": """\
database postgres {
    // the people who sign in
    model User {
        id: uuid, primary, auto
        email: string, required, unique
        index: [email]
    }

    model Post {
        id: uuid, primary
        author: ref(User), required
    }
}
""",
    "D2": """\
database mongodb {
    collection AuditLog {
        message: string, required
        meta: embedded {
            level: string
        }
    }
}
""",
    "D3": """\
config {
    app_name: "orders"
    db_host: "localhost"
    db_port: 5432
    db_name: "orders"
    db_user: env("DB_USER")
    database_type: "mysql"
}
""",
    "D4": """\
workflow fulfil {
    trigger manual
    timeout "30s"
    steps { ship { activity "ship" } }
}
""",
    "D5": """\
entity User {
    id: uuid, primary_key
    email: string, unique
}
""",
    "D6": """\
workflow notify {
    trigger manual
    steps { send { activity "mail" } }
}
event order.paid { }
on "order.paid" do workflow "notify" async
""",
}


def _with_version(version: str, body: str) -> str:
    return f"#version {version}\n{body}"


def _only(diags: list[Diagnostic], code: str, rule: str) -> Diagnostic:
    found = [d for d in diags if d.code == code and d.message.startswith(f"{rule}:")]
    assert len(found) == 1, [(d.code, d.message) for d in diags]
    assert len(diags) == 1, [(d.code, d.message) for d in diags]
    return found[0]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_warned_in_1_1_with_versions_and_replacement(rule: str) -> None:
    dep = default_registry().deprecations[rule]
    diag = _only(validate(_with_version("1.1", CASES[rule])).diagnostics, "CAI301", rule)
    assert diag.severity.value == "warning"
    assert "deprecated since DSL 1.1" in diag.message
    assert "removed in 2.0" in diag.message
    assert dep.replacement in diag.message
    assert diag.fix is not None and diag.fix.edits
    assert "deprecated" in diag.tags


@pytest.mark.parametrize("rule", sorted(CASES))
def test_error_in_2_0_with_the_same_fix(rule: str) -> None:
    warned = _only(validate(_with_version("1.1", CASES[rule])).diagnostics, "CAI301", rule)
    text = _with_version("2.0", CASES[rule])
    diag = _only(validate(text).diagnostics, "CAI302", rule)
    assert diag.severity.value == "error"
    assert "removed in DSL 2.0" in diag.message
    assert default_registry().deprecations[rule].replacement in diag.message
    assert diag.fix is not None and warned.fix is not None
    shift = len("#version 2.0\n") - len("#version 1.1\n")
    assert [(e.start - shift, e.end - shift, e.new_text) for e in diag.fix.edits] == \
        [(e.start, e.end, e.new_text) for e in warned.fix.edits]


@pytest.mark.parametrize("version", ["1.1", "2.0"])
@pytest.mark.parametrize("rule", sorted(CASES))
def test_fix_yields_a_clean_file_under_the_target_version(rule: str, version: str) -> None:
    text = _with_version(version, CASES[rule])
    result = validate(text)
    (diag,) = result.diagnostics
    assert diag.fix is not None
    fixed = apply_edits(text, diag.fix.edits)
    after = validate(fixed)
    assert after.document.version == version
    assert after.diagnostics == [], [(d.code, d.message) for d in after.diagnostics]


def test_d1_fix_keeps_comments_and_reindents() -> None:
    text = _with_version("1.1", CASES["D1"])
    (diag,) = validate(text).diagnostics
    assert diag.fix is not None
    fixed = apply_edits(text, diag.fix.edits)
    assert "// the people who sign in\nentity User {\n    id: uuid, primary, auto\n" in fixed
    assert "\nentity Post {\n" in fixed
    assert "database" not in fixed


def test_d3_fix_groups_keys_and_takes_the_kind() -> None:
    text = _with_version("1.1", CASES["D3"])
    (diag,) = validate(text).diagnostics
    assert diag.fix is not None
    fixed = apply_edits(text, diag.fix.edits)
    assert 'database: mysql {\n        host: "localhost"\n        port: 5432\n' in fixed
    assert "db_" not in fixed and "database_type" not in fixed
    assert 'app_name: "orders"' in fixed


def test_every_deprecated_form_in_one_file_is_reported_once_each() -> None:
    body = "".join(CASES[r] for r in ("D3", "D4", "D5", "D6"))
    result = validate(_with_version("1.1", body))
    rules = sorted(d.message.split(":")[0] for d in result.diagnostics)
    assert rules == ["D3", "D4", "D5", "D6"]
    assert all(d.code == "CAI301" for d in result.diagnostics)


def test_all_fixes_together_do_not_overlap_and_leave_a_clean_2_0_file() -> None:
    body = "".join(CASES[r] for r in ("D1", "D3", "D4", "D6"))
    text = _with_version("2.0", body)
    diags = validate(text).diagnostics
    assert {d.code for d in diags} == {"CAI302"}
    edits = [e for d in diags if d.fix is not None for e in d.fix.edits]
    fixed = apply_edits(text, edits)
    assert validate(fixed).diagnostics == []


def test_d4_invalid_duration_string_needs_a_human() -> None:
    text = _with_version("2.0", CASES["D4"].replace('"30s"', '"half a minute"'))
    d302 = [d for d in validate(text).diagnostics if d.code == "CAI302"]
    assert len(d302) == 1 and d302[0].fix is None
    assert "a human must fix it" in d302[0].message


def test_d4_property_style_duration_string() -> None:
    text = _with_version("1.1", "job purge {\n    schedule: \"0 3 * * *\"\n    timeout: \"10m\"\n}\n")
    (diag,) = validate(text).diagnostics
    assert diag.code == "CAI301" and diag.fix is not None
    assert "timeout: 10m" in apply_edits(text, diag.fix.edits)


def test_d1_wrapper_with_other_entries_needs_a_human() -> None:
    body = CASES["D1"].replace("    model Post {", "    pool_size 20\n    model Post {")
    diags = validate(_with_version("1.1", body)).diagnostics
    d1 = [d for d in diags if d.message.startswith("D1:")]
    assert len(d1) == 1 and d1[0].fix is None


def test_d3_with_an_existing_database_key_needs_a_human() -> None:
    body = 'config {\n    database: postgres { pool_size: 5 }\n    db_host: "h"\n}\n'
    (diag,) = validate(_with_version("1.1", body)).diagnostics
    assert diag.code == "CAI301" and diag.fix is None


def test_d6_without_async() -> None:
    body = CASES["D6"].replace(" async", "")
    text = _with_version("2.0", body)
    (diag,) = validate(text).diagnostics
    assert diag.fix is not None
    fixed = apply_edits(text, diag.fix.edits)
    assert 'on "order.paid" { workflow "notify" }' in fixed
    assert validate(fixed).diagnostics == []


def test_undeclared_file_with_deprecated_forms_is_inferred_as_1_1() -> None:
    result = validate(CASES["D1"] + CASES["D6"])
    assert result.document.version == "1.1"
    assert result.document.version_source == "inferred"
    assert {d.code for d in result.diagnostics} == {"CAI301"}
