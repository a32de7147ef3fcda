"""`codeai migrate generate` end to end on SQLite and on the real PostgreSQL: generate → up →
generate says "no changes"; add a field → generate → up → down restores the schema; destructive
changes refused without --allow-destructive; generated migrations pass `migrate lint`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pg_server import Db, db_fixture, invoke  # noqa: F401

V1 = """#version 2.0
entity Author {
    id: uuid, primary, auto
    name: string, required
    email: string, unique
}

entity Book {
    id: uuid, primary, auto
    title: string, required
    author: ref(Author), required
    price: decimal(6, 2)
    genres: list(string)
    status: enum(draft, live), default(draft)
    published: boolean, default(false)
    created_at: timestamp, default(now())
    deleted_at: timestamp, soft_delete
    index: [author, created_at]
}
"""


class Project:
    def __init__(self, db: Db, tmp_path: Path) -> None:
        self.db, self.root = db, tmp_path
        self.app = tmp_path / "app.cai"
        self.migrations = tmp_path / "migrations"
        self.config = tmp_path / "empty.yaml"
        self.config.write_text("# tests pass --database-url\n")

    def codeai(self, *args: str) -> tuple[int, str, str]:
        result = invoke("migrate", *args, "--database-url", self.db.url, config=self.config)
        return result.exit_code, result.stdout, result.stderr

    def generate(self, name: str, *extra: str) -> tuple[int, str, str]:
        return self.codeai("generate", name, "--from", str(self.app), "--dir", str(self.migrations), *extra)

    def up(self) -> None:
        code, _, err = self.codeai("up", "--dir", str(self.migrations))
        assert code == 0, err

    def down(self) -> None:
        code, _, err = self.codeai("down", "--dir", str(self.migrations))
        assert code == 0, err

    def files(self) -> list[str]:
        return sorted(p.name for p in self.migrations.glob("*.sql")) if self.migrations.is_dir() else []

    def execute(self, sql: str) -> list[Any]:
        """Like the application would: on SQLite with foreign keys enforced (a per-connection pragma)."""
        if self.db.kind != "sqlite":
            return self.db.query(sql)
        import sqlite3

        with sqlite3.connect(self.db.target.sqlite_path) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            return conn.execute(sql).fetchall()

    def schema(self) -> dict[str, Any]:
        snap = self.db.snapshot()
        snap.pop("tracking")
        return snap

    def lint(self) -> tuple[int, str]:
        dialect = self.db.kind
        code, out, err = self.codeai("lint", "--dir", str(self.migrations), "--dialect", dialect)
        return code, out + err


@pytest.fixture
def project(db: Db, tmp_path: Path) -> Project:
    return Project(db, tmp_path)


def test_generate_up_then_no_changes(project: Project) -> None:
    project.app.write_text(V1)
    code, out, err = project.generate("initial")
    assert code == 0, err
    assert len(out.splitlines()) == 2 and "create table authors" in err and "create table books" in err
    project.up()
    assert {"authors", "books"} <= project.db.tables()
    assert set(project.db.columns("books")) == {"id", "title", "author", "price", "genres", "status", "published",
                                                "created_at", "deleted_at"}
    assert {"ux_authors_email", "idx_books_author_created_at"} <= project.db.indexes()
    before = project.files()
    code, out, err = project.generate("again")
    assert code == 0 and out == "" and "no changes" in err
    assert project.files() == before
    code, report = project.lint()
    assert code == 0, report


def test_foreign_key_enum_check_and_defaults_are_enforced(project: Project) -> None:
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    with pytest.raises(Exception, match="(?i)foreign key"):
        project.execute("INSERT INTO books (title, author) VALUES ('t', '00000000-0000-4000-8000-000000000000')")
    project.execute("INSERT INTO authors (name) VALUES ('ann')")
    [(author_id,)] = project.execute("SELECT id FROM authors")
    assert len(str(author_id)) == 36  # generated uuid
    with pytest.raises(Exception, match="(?i)check"):
        project.execute(f"INSERT INTO books (title, author, status) VALUES ('t', '{author_id}', 'nope')")
    project.execute(f"INSERT INTO books (title, author) VALUES ('t', '{author_id}')")
    assert project.db.query("SELECT status FROM books") == [("draft",)]


def test_add_a_field_then_up_and_down_restore_the_schema(project: Project) -> None:
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    original = project.schema()
    project.app.write_text(V1.replace("    deleted_at:", "    subtitle: text\n    stock: integer, default(0)\n"
                                                          "    isbn: string, unique\n    deleted_at:"))
    code, _, err = project.generate("add_book_details")
    assert code == 0, err
    assert "add column books.subtitle" in err and "create index ux_books_isbn" in err
    project.up()
    assert {"subtitle", "stock", "isbn"} <= set(project.db.columns("books"))
    assert project.generate("nothing")[2].count("no changes") == 1
    project.down()
    assert project.schema() == original
    code, report = project.lint()
    assert code == 0, report


def test_destructive_changes_are_refused_without_the_flag(project: Project) -> None:
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    before = project.files()
    project.app.write_text(V1.replace("    price: decimal(6, 2)\n", "    cost: decimal(6, 2)\n"))  # a rename
    code, out, err = project.generate("rename_price")
    assert code == 1 and out == ""
    assert "drop column books.price" in err and "renames are never guessed" in err
    assert project.files() == before
    code, out, err = project.generate("rename_price", "--allow-destructive")
    assert code == 0, err
    up_file = Path(out.splitlines()[0])
    text = up_file.read_text()
    assert "-- codeai:contract" in text and "DROP COLUMN" in text and "ADD COLUMN" in text
    project.up()
    assert "cost" in project.db.columns("books") and "price" not in project.db.columns("books")
    code, report = project.lint()
    assert code == 0, report
    project.app.write_text(V1.split("entity Book")[0])  # drop the whole entity
    code, _, err = project.generate("drop_books")
    assert code == 1 and "drop table books" in err


def test_required_field_without_default_on_existing_table_is_refused(project: Project) -> None:
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    project.app.write_text(V1.replace("    deleted_at:", "    isbn: string, required\n    deleted_at:"))
    code, _, err = project.generate("add_isbn")
    assert code == 1 and "books.isbn is required and has no default" in err


@pytest.mark.postgres
def test_postgres_column_changes(tmp_path: Path) -> None:
    from pg_server import make_db

    project = Project(make_db("postgres", tmp_path), tmp_path)
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    original = project.schema()
    changed = (V1.replace("    title: string, required\n", "    title: text, required\n")
                 .replace("    genres: list(string)\n", "    genres: list(string), required\n")
                 .replace("default(draft)", "default(live)"))
    project.app.write_text(changed)
    code, out, err = project.generate("widen_title")
    assert code == 0, err
    assert "change type of books.title: VARCHAR(255) → TEXT" in err and "books.genres becomes NOT NULL" in err
    text = Path(out.splitlines()[0]).read_text()
    assert "NOT VALID" in text and "VALIDATE CONSTRAINT" in text  # the safe SET NOT NULL recipe
    project.up()
    assert project.generate("nothing")[2].count("no changes") == 1
    code, report = project.lint()
    assert code == 0, report
    project.down()
    assert project.schema() == original
    project.app.write_text(V1.replace("    title: string, required\n", "    title: string(40), required\n"))
    code, _, err = project.generate("narrow_title")
    assert code == 1 and "(narrowing)" in err


def test_sqlite_column_changes_rebuild_the_table_keeping_rows(tmp_path: Path) -> None:
    from pg_server import make_db

    project = Project(make_db("sqlite", tmp_path), tmp_path)
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    project.execute("INSERT INTO authors (id, name) VALUES ('a1', 'ann')")
    project.execute("INSERT INTO books (id, title, author, genres, price) VALUES ('b1', 't', 'a1', '[]', 9.5)")
    original = project.schema()
    original_sql = project.db.query("SELECT sql FROM sqlite_master WHERE name = 'books'")
    project.app.write_text(V1.replace("    genres: list(string)\n", "    genres: list(string), required\n")
                             .replace("default(draft)", "default(live)"))
    code, out, err = project.generate("require_genres")
    assert code == 0, err
    assert "rebuild table books (SQLite)" in err
    text = Path(out.splitlines()[0]).read_text()
    assert "RENAME TO _codeai_rebuild_books" in text and "-- codeai:allow CAI501" in text
    project.up()
    assert project.db.query("SELECT id, title, author, genres, price FROM books") == [("b1", "t", "a1", "[]", 9.5)]
    with pytest.raises(Exception, match="(?i)not null"):
        project.execute("INSERT INTO books (id, title, author) VALUES ('b2', 't', 'a1')")
    assert "no changes" in project.generate("nothing")[2]
    code, report = project.lint()
    assert code == 0, report
    project.down()
    assert project.schema() == original
    assert project.db.query("SELECT sql FROM sqlite_master WHERE name = 'books'") == original_sql
    assert project.db.query("SELECT id, genres FROM books") == [("b1", "[]")]


def test_sqlite_rebuild_of_a_referenced_table_is_refused(tmp_path: Path) -> None:
    from pg_server import make_db

    project = Project(make_db("sqlite", tmp_path), tmp_path)
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    project.app.write_text(V1.replace("    name: string, required\n", "    name: string\n"))
    code, _, err = project.generate("relax_name")
    assert code == 1 and "books references it" in err and "foreign keys off" in err


def test_invalid_entities_are_reported_with_positions(project: Project) -> None:
    project.app.write_text(V1.replace("ref(Author)", "ref(Writer)"))
    code, _, err = project.generate("initial")
    assert code == 1 and "app.cai:11:" in err and "CAI202" in err
    assert project.files() == []
    code, _, err = project.codeai("generate", "x", "--from", str(project.root / "missing"))
    assert code == 2 and "no such file or directory" in err


@pytest.mark.postgres
def test_the_worked_example_of_the_docs(tmp_path: Path) -> None:
    """docs/sql-migrations.md "Worked example", step by step on the real PostgreSQL."""
    from pg_server import make_db

    project = Project(make_db("postgres", tmp_path), tmp_path)
    project.app.write_text("#version 2.0\nentity Order {\n    id: uuid, primary, auto\n"
                           "    total: decimal(10, 2), required\n}\n")
    assert project.generate("orders")[0] == 0
    project.up()
    project.app.write_text("#version 2.0\nentity Customer {\n    id: uuid, primary, auto\n"
                           "    email: string, required, unique\n}\n\nentity Order {\n"
                           "    id: uuid, primary, auto\n    total: decimal(10, 2), required\n"
                           "    customer: ref(Customer)\n    shipped_at: timestamp\n    index: [customer]\n}\n")
    code, _, err = project.generate("add_customers")
    assert code == 0, err
    assert [line.strip() for line in err.splitlines()] == [
        "create table customers", "add column orders.customer", "add column orders.shipped_at",
        "create index idx_orders_customer"]
    code, report = project.lint()
    assert code == 0 and "0 errors, 1 warning" in report and "[CAI503]" in report  # the FK took the recipe
    project.up()
    assert "no changes" in project.generate("check")[2]
    project.app.write_text(project.app.read_text().replace("customer: ref(Customer)",
                                                           "customer: ref(Customer), required"))
    code, out, err = project.generate("require_customer")
    assert code == 0 and "orders.customer becomes NOT NULL" in err
    assert "VALIDATE CONSTRAINT" in Path(out.splitlines()[0]).read_text()
    project.up()
    assert project.db.query("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'orders' "
                            "AND column_name = 'customer'") == [("NO",)]


def test_enum_values_are_diffed(project: Project) -> None:
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    original = project.schema()
    project.app.write_text(V1.replace("enum(draft, live)", "enum(draft, live, archived)"))
    code, _, err = project.generate("add_archived")
    assert code == 0, err
    assert "values of books.status: draft, live → draft, live, archived" in err
    project.up()
    project.execute("INSERT INTO authors (id, name) VALUES ('00000000-0000-4000-8000-0000000000a1', 'ann')")
    project.execute("INSERT INTO books (id, title, author, status) VALUES ('00000000-0000-4000-8000-0000000000b1', 't', '00000000-0000-4000-8000-0000000000a1', 'archived')")
    assert "no changes" in project.generate("nothing")[2]
    code, report = project.lint()
    assert code == 0, report
    project.execute("DELETE FROM books")
    project.down()
    assert project.schema() == original
    with pytest.raises(Exception, match="(?i)check"):
        project.execute("INSERT INTO books (id, title, author, status) VALUES ('00000000-0000-4000-8000-0000000000b1', 't', '00000000-0000-4000-8000-0000000000a1', 'archived')")
    project.app.write_text(V1.replace("enum(draft, live)", "enum(draft)"))
    code, _, err = project.generate("drop_live")
    assert code == 1 and "(narrowing)" in err


def test_bad_name_and_missing_scratch_database_are_usage_errors(project: Project) -> None:
    project.app.write_text(V1)
    code, _, err = project.generate("9_bad")
    assert code == 2 and "invalid migration name" in err and project.files() == []
    if project.db.kind == "sqlite":
        code, _, err = project.generate("initial", "--dialect", "postgres")
        assert code == 2 and "needs a PostgreSQL database for its scratch schema" in err


def test_keyword_names_are_quoted_and_integer_ids_numbered(project: Project) -> None:
    project.app.write_text("#version 2.0\nentity Group {\n    id: integer, primary, auto\n"
                           "    order: integer, default(0)\n    user: string, unique\n    set: text\n"
                           "    index: [order, user]\n}\n")
    code, out, err = project.generate("groups")
    assert code == 0, err
    assert '"order" INTEGER DEFAULT 0' in Path(out.splitlines()[0]).read_text()
    project.up()
    project.execute('INSERT INTO groups ("user", "set") VALUES (\'u1\', \'s\')')
    project.execute('INSERT INTO groups ("user") VALUES (\'u2\')')
    assert project.execute('SELECT id, "order", "user" FROM groups ORDER BY id') == [(1, 0, "u1"), (2, 0, "u2")]
    assert "no changes" in project.generate("again")[2]
    code, report = project.lint()
    assert code == 0, report


def test_on_delete_of_a_reference(project: Project) -> None:
    project.app.write_text(V1.replace("author: ref(Author), required", "author: ref(Author), required, "
                                                                      "on_delete(cascade)"))
    assert project.generate("initial")[0] == 0
    project.up()
    author = "00000000-0000-4000-8000-0000000000a1"
    project.execute(f"INSERT INTO authors (id, name) VALUES ('{author}', 'ann')")
    project.execute(f"INSERT INTO books (title, author) VALUES ('t', '{author}')")
    project.execute("DELETE FROM authors")
    assert project.execute("SELECT count(*) FROM books") == [(0,)]
    project.app.write_text(V1)  # back to NO ACTION: the foreign key is replaced
    code, _, err = project.generate("no_cascade")
    assert code == 0, err
    project.up()
    assert "no changes" in project.generate("again")[2]
    project.app.write_text(V1.replace("required\n    price", "required, on_delete(explode)\n    price"))
    code, _, err = project.generate("bad")
    assert code == 1 and "on_delete(explode)" in err


def test_dry_run_and_check_write_nothing(project: Project) -> None:
    project.app.write_text(V1)
    code, out, err = project.generate("initial", "--dry-run")
    assert code == 0, err
    assert "CREATE TABLE IF NOT EXISTS authors" in out and "DROP TABLE IF EXISTS books" in out
    assert project.files() == []
    code, _, err = project.generate("initial", "--check")
    assert code == 1 and "need a new migration" in err and project.files() == []
    assert project.generate("initial")[0] == 0
    code, _, err = project.generate("again", "--check")
    assert code == 0 and "no changes" in err


ROOT = Path(__file__).resolve().parent.parent
CORPUS_WITH_TABLES = sorted(str(p.relative_to(ROOT)) for v in ("v1.1", "v2.0")
                            for p in (ROOT / "corpus" / v / "valid").glob("*.cai")
                            if "entity " in p.read_text() or "model " in p.read_text())


@pytest.mark.parametrize("source", CORPUS_WITH_TABLES)
def test_every_corpus_program_generates_applies_and_is_then_up_to_date(source: str, project: Project) -> None:
    """Entities (and 1.0-style `database { model … }`) of the bundled programs."""
    project.app.write_text((ROOT / source).read_text())
    code, _, err = project.generate("initial")
    assert code == 0, err
    project.up()
    assert "no changes" in project.generate("again")[2]
    code, report = project.lint()
    assert code == 0, report


@pytest.mark.postgres
def test_postgres_index_only_changes_are_built_concurrently(tmp_path: Path) -> None:
    from pg_server import make_db

    project = Project(make_db("postgres", tmp_path), tmp_path)
    project.app.write_text(V1)
    assert project.generate("initial")[0] == 0
    project.up()
    project.app.write_text(V1.replace("    index: [author, created_at]\n", "    index: [title]\n"))
    code, out, err = project.generate("reindex")
    assert code == 0, err
    up_text = Path(out.splitlines()[0]).read_text()
    down_text = Path(out.splitlines()[1]).read_text()
    assert "-- codeai:no-transaction" in up_text and "-- codeai:no-transaction" in down_text
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_books_title" in up_text
    assert "DROP INDEX CONCURRENTLY IF EXISTS idx_books_author_created_at" in up_text
    code, _, err = project.codeai("up", "--dir", str(project.migrations))
    assert code == 0 and "outside a transaction" in err, err
    assert "idx_books_title" in project.db.indexes()
    code, report = project.lint()
    assert code == 0 and "[CAI503]" not in report, report
    project.down()
    assert "idx_books_author_created_at" in project.db.indexes()
