"""Every before/after pair in corpus/migrations: the engine output, byte for byte.

The pairs were written for this project, one folder per rule (D1–D6), `mixed/` for files using
several rules (or none), and `manual/` for files a human must fix, each with the report the
engine must give (`*.expected.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import apply_edits
from codeai_lang.fixes.rewrite import MigrationResult, UnknownVersion, migrate_text, migration_fix

MIGRATIONS = Path(__file__).resolve().parent.parent / "corpus" / "migrations"
PAIRS = sorted(p for p in MIGRATIONS.glob("*/*.before.cai") if p.parent.name != "manual")
MANUAL = sorted(MIGRATIONS.glob("manual/*.before.cai"))


def read(path: Path) -> str:
    """Bytes as they are: CRLF and a missing final newline are part of the test."""
    return path.read_bytes().decode("utf-8")


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name.removesuffix('.before.cai')}" for p in paths]


def test_corpus_covers_every_rule() -> None:
    for rule in ("D1", "D2", "D3", "D4", "D5", "D6"):
        assert len(list((MIGRATIONS / rule).glob("*.before.cai"))) >= 3, rule
    assert len(MANUAL) >= 3


@pytest.mark.parametrize("before", PAIRS, ids=ids(PAIRS))
def test_pair(before: Path) -> None:
    text = read(before)
    expected = read(before.with_name(before.name.replace(".before.", ".after.")))
    result = migrate_text(text, "2.0")
    assert result.ok, result.error
    assert result.text == expected
    assert result.changed == (text != expected)
    assert apply_edits(text, result.edits) == result.text
    again = migrate_text(result.text, "2.0")
    assert again.ok and not again.changed and again.text == result.text
    after = validate(expected)
    assert after.document.version == "2.0"
    assert not after.diagnostics, [(d.code, d.message) for d in after.diagnostics]


@pytest.mark.parametrize("before", PAIRS + MANUAL, ids=ids(PAIRS + MANUAL))
def test_before_is_a_1x_file(before: Path) -> None:
    """The inputs are real 1.x files: they parse, and they use the forms they are about."""
    result = validate(read(before))
    syntax = [d for d in result.diagnostics if d.code in ("CAI001", "CAI002", "CAI003", "CAI004")]
    assert not syntax
    rule = before.parent.name
    if rule.startswith("D"):
        assert any(s.rule == rule for s in result.document.sites)


@pytest.mark.parametrize("before", MANUAL, ids=ids(MANUAL))
def test_needs_a_human(before: Path) -> None:
    expected = json.loads(before.with_name(before.name.replace(".before.cai", ".expected.json")).read_text())
    text = read(before)
    result = migrate_text(text, expected["target"])
    assert not result.ok and not result.changed
    assert result.text == text and result.edits == []
    assert expected["error_contains"] in (result.error or "")
    assert result.source_version == expected["from"]
    assert [[m.rule, m.line] for m in result.manual] == expected["manual"]
    assert result.diagnostics and result.attempted != text


def test_steps_through_1_1_changes_only_the_directive() -> None:
    text = read(MIGRATIONS / "mixed" / "all_rules.before.cai")
    result = migrate_text(text, "1.1")
    assert result.ok and result.changed and result.rules_applied == []
    assert result.text == text.replace("#version 1.0", "#version 1.1", 1)


def test_file_at_target_is_unchanged_without_validation() -> None:
    text = "#version 2.1\nvar x = 1\n"
    result = migrate_text(text)
    assert result == MigrationResult(text, "2.1", "2.1", False)


def test_undeclared_file_at_target_gets_no_directive() -> None:
    text = "var x = 1\n"
    result = migrate_text(text, "2.0")
    assert result.ok and not result.changed and result.version_source == "inferred"


def test_declared_2_0_with_removed_forms_is_fixed() -> None:
    text = ('#version 2.0\nevent a.b { schema { id string } }\nworkflow w {\n    trigger manual\n'
            '    timeout "30s"\n    steps { s { activity "x" } }\n}\n')
    result = migrate_text(text, "2.0")
    assert result.ok and result.changed and result.rules_applied == ["D4"]
    assert "timeout 30s" in result.text


def test_downgrade_is_refused() -> None:
    result = migrate_text("#version 2.0\nentity E {\n    id: uuid, primary\n}\n", "1.0")
    assert not result.ok and "does not downgrade" in (result.error or "")


def test_unknown_directive_is_replaced() -> None:
    result = migrate_text("#version 9.9 // typo\nvar x = 1\n", "2.1")
    assert result.ok and result.text == "#version 2.1 // typo\nvar x = 1\n"


def test_bare_directive_gets_a_version() -> None:
    result = migrate_text("#version\nvar x = 1\n", "2.1")
    assert result.ok and result.text == "#version 2.1\nvar x = 1\n"


def test_unknown_target_raises() -> None:
    with pytest.raises(UnknownVersion):
        migrate_text("var x = 1\n", "3.7")


def test_migration_fix_for_the_language_server() -> None:
    text = read(MIGRATIONS / "mixed" / "all_rules.before.cai")
    fix = migration_fix(text, "2.0")
    assert fix is not None and fix.description == "Migrate file to DSL 2.0"
    assert apply_edits(text, fix.edits) == read(MIGRATIONS / "mixed" / "all_rules.after.cai")
    assert migration_fix(read(MIGRATIONS / "mixed" / "all_rules.after.cai"), "2.0") is None


def test_overlapping_edits_are_reported_not_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    from codeai_lang.diagnostics.model import Edit, Fix
    from codeai_lang.syntax import deprecations as rules

    def clash(statements: list[object], text: str):  # type: ignore[no-untyped-def]
        start = text.index("primary_key")
        yield rules.Site("D4", start, start + 3, Fix("bad", (Edit(start, start + 3, "x"),)))

    monkeypatch.setitem(rules.RULES, "D4", clash)
    text = read(MIGRATIONS / "D5" / "model_modifiers.before.cai")
    result = migrate_text(text, "2.0")
    assert not result.ok and result.text == text
    assert "overlapping edits" in (result.error or "") and "D4 and D5" in (result.error or "")


def test_bom_is_kept_when_the_first_line_goes() -> None:
    text = "\ufeffdatabase postgres {\n    model A {\n        id: uuid, primary\n    }\n}\n"
    result = migrate_text(text)
    assert result.ok and result.text == "\ufeff#version 2.1\n\nentity A {\n    id: uuid, primary\n}\n"


def test_fast_path_agrees_with_the_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token-only shortcut for files at the target must never change an answer."""
    from codeai_testing.generate import program_1_0

    from codeai_lang.fixes import rewrite

    texts = [read(p) for p in sorted(MIGRATIONS.glob("*/*.cai"))]
    texts += [migrate_text(program_1_0(60, seed)).text for seed in range(5)]
    texts += ['#version 2.0\non "e" do workflow "w"\n', '#version 2.0\nvar x = "30s"\nvar timeout = 1\n']
    fast = [migrate_text(t) for t in texts]
    monkeypatch.setattr(rewrite, "_declares_target_without_sites", lambda text, target: False)
    for text, quick in zip(texts, fast, strict=True):
        full = migrate_text(text)
        assert (quick.text, quick.changed, quick.ok) == (full.text, full.changed, full.ok), text[:60]
