"""The code registry is the single source of diagnostic metadata: every emitted code is
registered, docs/diagnostics.md is generated from it, its examples are true, and deprecation
diagnostics carry their rule id as a field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics import codes
from codeai_lang.diagnostics.model import Applicability, Severity
from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.output.rules_doc import deprecation_rows, render_markdown
from codeai_lang.syntax.registry import default_registry

ROOT = Path(__file__).resolve().parent.parent
CODE_LITERAL = re.compile(r'"(CAI[0-9]{3})"')
EXAMPLE = re.compile(r"```(cai)?\n(.*?)```", re.S)  # untagged or `cai` blocks are DSL examples
DSL_CATEGORIES = {"syntax", "names", "declarations", "deprecations", "versions"}  # what `validate` reports
ANNOTATION = re.compile(r"//\s*(error|warning|info)\[(CAI[0-9]{3})\]")


def _emitted_codes() -> set[str]:
    """Every code literal in the toolchain's source (what it can report)."""
    found: set[str] = set()
    for base in (ROOT / "codeai_lang", ROOT / "lsp" / "codeai_lsp"):
        for path in base.rglob("*.py"):
            if path.name != "codes.py":
                found |= set(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_emitted_code_is_registered() -> None:
    missing = _emitted_codes() - set(codes.CODES)
    assert not missing, f"register these in codeai_lang/diagnostics/codes.py: {sorted(missing)}"
    assert "CAI102" in _emitted_codes()  # the scan itself works


def test_registry_entries_are_well_formed() -> None:
    names = [c.name for c in codes.CODES.values()]
    assert len(set(names)) == len(names), "names are unique"
    for c in codes.CODES.values():
        assert re.fullmatch(r"CAI[0-9]{3}", c.code) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.name)
        assert c.title and not c.title.endswith(".") and "\n" not in c.title
        assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", c.since), c.code
        assert "```" in c.doc, f"{c.code}: the documentation needs an example"
        assert c.category in codes.CATEGORIES
        assert c.help_uri.endswith("#" + c.code.lower())


def test_docs_diagnostics_md_is_generated_from_the_registry() -> None:
    expected = render_markdown(deprecation_rows(default_registry().deprecations))
    actual = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/diagnostics.md is out of date: run `make docs`"
    for code in codes.CODES:
        assert f"\n### {code}\n" in actual


def _examples() -> list[tuple[str, str, set[str]]]:
    out = []
    for c in codes.CODES.values():
        for _, block in EXAMPLE.findall(c.doc):
            annotated = {code for _, code in ANNOTATION.findall(block)}
            if annotated:
                out.append((c.code, block, annotated))
    return out


@pytest.mark.parametrize(("code", "block", "annotated"), _examples(),
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(_examples())])
def test_documented_examples_report_what_they_say(code: str, block: str, annotated: set[str]) -> None:
    reported = {d.code for d in validate(block).diagnostics}
    assert annotated <= reported, f"{code} example: says {annotated}, validator reports {reported}"


# Reported by the CLI about a file it could not read, never by the validator on a text (its
# behaviour is checked end to end in tests/hardening/test_special_files.py).
# CAI601 is about a project's codeai.yaml, not a .cai text (tests/test_projects.py checks it).
NOT_FROM_TEXT = {"CAI005", "CAI601"}


SQL_EXAMPLE = re.compile(r"```sql\n(.*?)```", re.S)
SQL_ANNOTATION = re.compile(r"--\s*(error|warning|info)\[(CAI[0-9]{3})\]")
SQL_SETUP = "CREATE TABLE IF NOT EXISTS deployments (id TEXT PRIMARY KEY);\n"


def _sql_examples() -> list[tuple[str, str, set[str]]]:
    """`migrate lint` examples: ```sql blocks whose lines say `-- severity[CODE]`."""
    return [(c.code, block, {code for _, code in SQL_ANNOTATION.findall(block)})
            for c in codes.CODES.values() for block in SQL_EXAMPLE.findall(c.doc)
            if SQL_ANNOTATION.search(block)]


@pytest.mark.parametrize(("code", "block", "annotated"), _sql_examples(),
                         ids=[f"{c}-sql-{i}" for i, (c, _, _) in enumerate(_sql_examples())])
def test_documented_sql_examples_report_what_they_say(code: str, block: str, annotated: set[str]) -> None:
    """Linted as a migration after one that creates `deployments`; lines after `-- down` are its down file."""
    from codeai_lang.platform.dbmigrate.discovery import Migration
    from codeai_lang.platform.dbmigrate.lint import lint
    from codeai_lang.platform.dbmigrate.scratch import SqliteScratch

    up, _, down = block.partition("-- down\n")
    setup = Migration(20260101000000, "setup", "setup.up.sql", "setup.down.sql", SQL_SETUP,
                      "DROP TABLE IF EXISTS deployments;\n", "0")
    example = Migration(20260102000000, "example", "example.up.sql", "example.down.sql", up,
                        down or "SELECT 1;\n", "0")
    reported: set[str] = set()
    for dialect in ("sqlite", "postgres"):
        result = lint([setup, example], dialect, SqliteScratch if dialect == "sqlite" else None)
        reported |= {d.code for f in result.files for d in f.diagnostics}
    assert annotated <= reported, f"{code} example: says {annotated}, migrate lint reports {reported}"


def test_every_code_has_a_checked_example_except_unreachable_ones() -> None:
    covered = {code for code, _, _ in _examples() + _sql_examples()}
    assert set(codes.CODES) - covered - NOT_FROM_TEXT == set()


def test_deprecation_diagnostics_carry_the_rule_id_as_a_field() -> None:
    text = "#version 1.1\nworkflow w {\n    timeout \"30s\"\n}\nentity U {\n    id: uuid, primary_key\n}\n"
    found = [(d.code, d.rule_id) for d in validate(text).diagnostics]
    assert found == [("CAI301", "D4"), ("CAI301", "D5")]
    removed = [(d.code, d.rule_id) for d in validate(text, version="2.0").diagnostics if d.code == "CAI302"]
    assert removed == [("CAI302", "D4"), ("CAI302", "D5")]
    other = validate("print(x)\n").diagnostics
    assert [(d.code, d.rule_id) for d in other] == [("CAI102", None)]


def test_deprecation_fixes_are_safe_and_applied_by_migrate() -> None:
    text = "#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n"
    (diag,) = validate(text).diagnostics
    assert diag.fix is not None and diag.fix.applicability is Applicability.SAFE
    assert "primary_key" not in migrate_text(text, "2.0").text


def test_registry_severity_matches_what_the_validator_reports() -> None:
    """Over the whole corpus: every reported code is registered with the severity it has."""
    seen: set[str] = set()
    for path in sorted((ROOT / "corpus").rglob("*.cai")):
        for d in validate(path.read_text(encoding="utf-8", errors="replace")).diagnostics:
            assert codes.CODES[d.code].severity is d.severity, (path, d.code, d.severity)
            seen.add(d.code)
    assert {"CAI001", "CAI102", "CAI202", "CAI301", "CAI302", "CAI403"} <= seen  # the corpus is broad
    assert codes.CODES["CAI301"].severity is Severity.WARNING


def test_lookup_is_case_insensitive_and_unknown_is_none() -> None:
    assert codes.get("cai102") is codes.CODES["CAI102"]
    assert codes.get("CAI999") is None
    assert codes.title("CAI999") == "CAI999"


def test_migrate_applies_only_safe_fixes() -> None:
    """As `ruff --fix`: an unsafe fix becomes a site for a human, with the reason."""
    from dataclasses import replace

    from codeai_lang.fixes.rewrite import RewriteRule
    from codeai_lang.syntax.versioned_parse import parse_document

    doc = parse_document("#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n")
    rule = RewriteRule("D5", "modifiers")
    edits, manual = rule.edits(doc)
    assert len(edits) == 1 and manual == []
    doc.sites = [replace(s, fix=replace(s.fix, applicability=Applicability.UNSAFE))
                 for s in doc.sites if s.fix is not None]
    edits, manual = rule.edits(doc)
    assert edits == [] and len(manual) == 1
    assert manual[0].manual.startswith("unsafe fix not applied automatically")


def test_verbose_text_marks_fixes_that_are_not_safe() -> None:
    from dataclasses import replace

    from codeai_lang.output.formats import FileReport, render_text

    text = "#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n"
    (diag,) = validate(text).diagnostics
    report = FileReport("a.cai", text, [diag], "1.1", "directive")
    assert "= fix: replace `primary_key` with `primary`" in render_text([report], verbose=True)
    assert diag.fix is not None
    diag.fix = replace(diag.fix, applicability=Applicability.UNSAFE)
    assert "= fix (unsafe): replace" in render_text([report], verbose=True)


def test_dsl_since_names_a_known_version_and_holds() -> None:
    known = default_registry().names
    for c in codes.CODES.values():
        assert not c.dsl_since or c.dsl_since in known, c.code
    assert codes.CODES["CAI301"].dsl_since == "1.1"
    # A 1.0 file using a form deprecated in 1.1 gets no CAI301 (the code starts at 1.1).
    old = "#version 1.0\ndatabase postgres {\n    model U {\n        id: uuid, primary_key\n    }\n}\n"
    assert "CAI301" not in {d.code for d in validate(old).diagnostics}
    assert "CAI301" in {d.code for d in validate(old.replace("1.0", "1.1", 1)).diagnostics}
