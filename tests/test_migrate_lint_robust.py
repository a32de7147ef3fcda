"""`migrate lint` never crashes on odd SQL: any prefix of real statements, any token soup."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from codeai_lang.platform.dbmigrate.discovery import Migration
from codeai_lang.platform.dbmigrate.lint import lint
from codeai_lang.platform.dbmigrate.scratch import SqliteScratch

SAMPLES = (
    "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT 'x', b INTEGER REFERENCES t (id));\n"
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a) WHERE b > 0;\n"
    "ALTER TABLE t ADD COLUMN c TEXT NOT NULL, ALTER COLUMN b TYPE BIGINT USING b::bigint;\n"
    "ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT c_nn;\n"
    "ALTER TABLE t RENAME COLUMN a TO a2; ALTER TABLE t RENAME TO t2; DROP TABLE IF EXISTS t2 CASCADE;\n"
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 'é'; END;\n"
    "DROP FUNCTION IF EXISTS f(integer); CREATE VIEW v AS SELECT * FROM t; INSERT INTO t VALUES (1, $$x;y$$);\n"
    "-- codeai:allow CAI504\n/* block ; comment */ SELECT 'it''s';\n"
)
TOKENS = ["CREATE", "TABLE", "INDEX", "ALTER", "DROP", "COLUMN", "ADD", "RENAME", "TO", "TYPE", "NOT", "NULL",
          "DEFAULT", "CHECK", "(", ")", ",", ";", "'", '"', "$$", "--", "/*", "*/", "t", "a", "1", "IF", "EXISTS",
          "CONCURRENTLY", "REFERENCES", "SET", "VALID", "BEGIN", "END", "\n", " ", "é", "\x00"]


def _check(up: str, down: str) -> None:
    migs = [Migration(20260101000000, "x", "x.up.sql", "x.down.sql", up, down, "0")]
    for dialect in ("sqlite", "postgres"):
        result = lint(migs, dialect, SqliteScratch if dialect == "sqlite" else None)
        for f in result.files:
            for d in f.diagnostics + f.suppressed:
                assert 0 <= d.start <= d.end <= len(f.text), (d, len(f.text))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(SAMPLES)), st.integers(0, len(SAMPLES)))
def test_any_prefix_of_real_statements(cut_up: int, cut_down: int) -> None:
    _check(SAMPLES[:cut_up], SAMPLES[cut_down:])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.lists(st.sampled_from(TOKENS), max_size=20))
def test_token_soup(up: list[str], down: list[str]) -> None:
    _check(" ".join(up), " ".join(down))


def test_nul_characters_and_empty_files() -> None:
    _check("SELECT \x00 1;\nALTER TABLE t ADD COLUMN x \x00;", "")
    _check("", "")
    _check("-- only a comment\n", ";;;")
