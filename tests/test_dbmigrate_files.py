"""Migration files without a database: names, pairing, checksums, dialect sections, splitting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from codeai_lang.platform.dbmigrate.discovery import checksum, create_pair, discover
from codeai_lang.platform.dbmigrate.errors import DiscoveryError, SqlFileError, UsageError
from codeai_lang.platform.dbmigrate.sqltext import select_dialect, split_statements
from codeai_lang.platform.dbmigrate.timing import parse_duration


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_embedded_set_is_complete_and_ordered() -> None:
    migrations = discover()
    assert [(m.version, m.name) for m in migrations] == [
        (20260111120000, "initial_schema"), (20260115093000, "add_user_table"),
        (20261201070000, "config_revisions"), (20261201070100, "deployment_lifecycle"),
        (20261201070200, "deployment_labels_priority"), (20261201070300, "execution_actor")]
    for m in migrations:
        for dialect in ("sqlite", "postgres"):
            assert m.statements("up", dialect) and m.statements("down", dialect)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    d = write(tmp_path / "m", {
        "20260101000000_ok.up.sql": "", "20260101000000_ok.down.sql": "",
        "20260101000001_no_down.up.sql": "",
        "20260101000002_no_up.down.sql": "",
        "1_short.up.sql": "",
        "20260101000003_Bad-Name.up.sql": "",
        "20260101000004_x.sideways.sql": "",
        "20260101000000_dupe.up.sql": "", "20260101000000_dupe.down.sql": "",
        "README.md": "ignored", ".hidden.sql": "ignored",
    })
    with pytest.raises(DiscoveryError) as info:
        discover(d)
    text = str(info.value)
    assert f"{d}/20260101000001_no_down.up.sql: missing down file (expected {d}/20260101000001_no_down.down.sql)" in text
    assert "20260101000002_no_up.down.sql: down file without an up file" in text
    for bad in ("1_short.up.sql", "20260101000003_Bad-Name.up.sql", "20260101000004_x.sideways.sql"):
        assert f"{d}/{bad}: malformed migration file name" in text
    assert "version 20260101000000 is also used by 20260101000000_dupe" in text
    assert len(info.value.problems) == 6


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        discover(tmp_path / "nope")


def test_checksum_ignores_line_endings_only() -> None:
    assert checksum(b"SELECT 1;\r\nSELECT 2;\r\n") == checksum(b"SELECT 1;\nSELECT 2;\n")
    assert checksum(b"SELECT 1;\n") != checksum(b"SELECT 2;\n")


def test_create_pair_is_discoverable_and_never_collides(tmp_path: Path) -> None:
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    first = create_pair(tmp_path, "Add Orders-table", now)
    second = create_pair(tmp_path, "add_orders_table", now)
    assert first[0].name == "20260304050607_add_orders_table.up.sql"
    assert second[0].name == "20260304050608_add_orders_table.up.sql"
    assert [m.version for m in discover(tmp_path)] == [20260304050607, 20260304050608]
    with pytest.raises(UsageError):
        create_pair(tmp_path, "123")


def test_create_command_writes_a_pair(tmp_path: Path) -> None:
    from pg_server import invoke

    result = invoke("migrate", "create", "add_orders", "--dir", str(tmp_path / "db"))
    assert result.exit_code == 0
    up, down = result.stdout.split()
    assert up.endswith("_add_orders.up.sql") and down.endswith("_add_orders.down.sql")
    assert len(discover(tmp_path / "db")) == 1


def test_splitting_respects_quotes_comments_dollar_bodies_and_triggers() -> None:
    sql = """-- leading comment; not a statement
CREATE TABLE a (x TEXT DEFAULT 'semi;colon', "odd;name" TEXT); -- trailing; comment
/* block; /* nested; */ still comment */ INSERT INTO a VALUES ('it''s; fine');
CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN RETURN NEW; END; $body$ LANGUAGE plpgsql;
CREATE TRIGGER t AFTER INSERT ON a BEGIN
  UPDATE a SET x = CASE WHEN x = 'y' THEN 'z' ELSE x END;
  DELETE FROM a WHERE x IS NULL;
END;
SELECT E'back\\\\'';slash'
"""
    statements = split_statements(sql, "f.sql")
    assert [s.line for s in statements] == [2, 3, 4, 5, 9]
    assert statements[0].text.startswith("CREATE TABLE a") and statements[0].text.endswith(")")
    assert statements[3].text.endswith("END")
    assert statements[4].text == "SELECT E'back\\\\'';slash'"


def test_unterminated_constructs_name_file_and_line() -> None:
    with pytest.raises(SqlFileError, match=r"f.sql:2: unterminated ' quote"):
        split_statements("SELECT 1;\nSELECT 'oops;\n", "f.sql")
    with pytest.raises(SqlFileError, match=r"f.sql:1: unterminated \$\$"):
        split_statements("DO $$ BEGIN", "f.sql")


def test_transaction_control_is_refused() -> None:
    with pytest.raises(SqlFileError, match="controls the transaction"):
        split_statements("BEGIN;\nCREATE TABLE a (x INT);\nCOMMIT;", "f.sql")


def test_dialect_sections_keep_line_numbers() -> None:
    sql = ("CREATE TABLE a (x INT);\n-- codeai:dialect postgres\nSELECT pg_sleep(0);\n"
           "-- codeai:dialect sqlite\nSELECT 1;\n-- codeai:dialect all\nDROP TABLE a;\n")
    pg = split_statements(select_dialect(sql, "postgres", "f"), "f")
    lite = split_statements(select_dialect(sql, "sqlite", "f"), "f")
    assert [(s.line, s.text) for s in pg] == [(1, "CREATE TABLE a (x INT)"), (3, "SELECT pg_sleep(0)"),
                                              (7, "DROP TABLE a")]
    assert [(s.line, s.text) for s in lite] == [(1, "CREATE TABLE a (x INT)"), (5, "SELECT 1"), (7, "DROP TABLE a")]
    with pytest.raises(SqlFileError, match="f:1: unknown dialect 'mysql'"):
        select_dialect("-- codeai:dialect mysql\n", "sqlite", "f")


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("30m", 1800), ("1h30m", 5400),
                                               ("250ms", 0.25), ("2", 2), ("1.5s", 1.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "0s", "-1", "5m3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
