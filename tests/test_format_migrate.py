"""`migrate-dsl` output passes `fmt --check` when its input did: the rewrite rules leave no
badly laid-out code behind (D1/D2 re-indent, D3 nests, D6 closes multi-line handlers, and an
inserted `#version` line is followed by its blank line).

Without the fixes in deprecations.py/rewrite.py (D3 in a one-line `config { … }`, D6 over
several lines, the inserted directive) the corpus cases below fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_runner import run_codeai
from codeai_testing.generate import program_1_0, program_1_1, program_2_0
from hypothesis import given, settings
from hypothesis import strategies as st

from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.format import format_text
from codeai_lang.syntax.registry import default_registry

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
# Files with syntax errors are left alone by fmt and refused by migrate-dsl: nothing to compare.
SOURCES = sorted(p for p in CORPUS.rglob("*.cai")
                 if "/format/" not in str(p) and format_text(p.read_bytes().decode("utf-8")).ok)
# Every version a file can be migrated to, 2.1 included: D7/D8 separate the properties they
# make the way fmt does (two spaces in a one-line body, one per line in a multi-line body).
TARGETS = [v for v in default_registry().names if v != "1.0"]


def formatted(text: str) -> str | None:
    result = format_text(text)
    return result.text if result.ok else None


def assert_migration_stays_formatted(text: str) -> int:
    """Migrate a formatted `text` to every newer version; the output is formatted too."""
    checked = 0
    for target in TARGETS:
        migrated = migrate_text(text, target)
        if not migrated.ok or not migrated.changed:
            continue
        again = format_text(migrated.text)
        assert again.ok, again.diagnostics
        assert again.text == migrated.text, f"migration to {target} left unformatted code"
        checked += 1
    return checked


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_migrating_a_formatted_corpus_file_keeps_it_formatted(path: Path) -> None:
    text = formatted(path.read_bytes().decode("utf-8"))
    assert text is not None
    assert_migration_stays_formatted(text)


DECLS = ('event job.done { schema { id string } }\n'
         'workflow report {\n    trigger manual\n    steps { build { activity "build" } }\n}\n')


@pytest.mark.parametrize("snippet", [
    # D7: a clause chain in a multi-line body (one property per line), in a one-line body
    # (two spaces apart), after a comment, in a CRLF file; D8 in a one-line schema
    "#version 1.1\nevent e { }\nwebhook w {\n    event \"e\"\n    retry 3 initial_interval 1s backoff 2.0 // why\n}\n",
    "integration i {\n    type rest\n    circuit_breaker { threshold 5 timeout 30s max_concurrent 10 }\n}\n",
    "auth a { method jwt issuer \"https://id.example.com\" }\nrole r { permissions [\"all\"] }\n",
    "#version 1.1\r\nevent e { }\r\nwebhook w {\r\n    event \"e\"\r\n    retry 3 initial_interval 1s backoff 2.0\r\n}\r\n",
    "event e { schema { id string total decimal } }\n",
    'config { db_host: "localhost" }\n',
    DECLS + 'on "job.done" /* why */ do\n    workflow "report" async\n',
    "// header\ndatabase postgres {\n    model A {\n        id: uuid, primary\n    }\n}\n",
    DECLS + 'function f() {\n    on "job.done" do\n        workflow "report"\n}\n',
])
def test_rewrite_layout_cases(snippet: str) -> None:
    text = formatted(snippet)
    assert text is not None
    assert assert_migration_stays_formatted(text) >= 1


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([program_1_0, program_1_1, program_2_0]), st.integers(0, 5000))
def test_generated_programs_stay_formatted(gen, seed: int) -> None:  # type: ignore[no-untyped-def]
    text = formatted(gen(150, seed=seed))
    assert text is not None
    assert_migration_stays_formatted(text)


@pytest.mark.parametrize("target", ["2.0", "2.1"])
def test_cli_migrate_then_fmt_check(tmp_path: Path, target: str) -> None:
    root = tmp_path / "app"
    shutil.copytree(CORPUS / "migrations" / "mixed", root)
    for manual in root.glob("*.after.cai"):
        manual.unlink()
    assert run_codeai("fmt", str(root)).returncode in (0, 1)  # 1: files with syntax errors
    check = run_codeai("fmt", "--check", str(root))
    clean = [line.split(":")[0] for line in check.stderr.splitlines() if "error[" in line]
    for bad in set(clean):
        Path(bad).unlink()
    assert run_codeai("fmt", "--check", str(root)).returncode == 0
    migrated = run_codeai("migrate-dsl", "--to", target, "-j", "1", str(root))
    assert migrated.returncode == 0, migrated.stderr
    after = run_codeai("fmt", "--check", str(root))
    assert after.returncode == 0, after.stderr
