"""``codeai migrate lint``: changes that break a running application or cannot be undone.

The expand/contract discipline of the upgrade guide (§6.3), as squawk, strong_migrations and
Atlas check it. Statements are read by real parsers (:mod:`lintfacts`); the round trip CAI509
runs the migrations for real on a scratch database (:mod:`scratch`). Diagnostics use the one
model of ``validate`` with offsets into the ``.sql`` file.

Markers (SQL line comments): ``-- codeai:contract`` makes an up file's drops deliberate,
``-- codeai:no-transaction`` lets it use ``CONCURRENTLY``, and ``-- codeai:allow CAI504`` on a
statement's line (or the line just above it) silences that finding, visibly.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from codeai_lang.diagnostics.codes import CODES
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.platform.dbmigrate.discovery import Migration
from codeai_lang.platform.dbmigrate.errors import ConnectError, MigrateError, SqlFileError
from codeai_lang.platform.dbmigrate.lintfacts import Fact, PgSyntaxError, pg_facts, sqlite_facts
from codeai_lang.platform.dbmigrate.scratch import Scratch, ScratchFailed
from codeai_lang.platform.dbmigrate.sqltext import Statement, has_marker, select_dialect, split_statements

_ALLOW = re.compile(r"--\s*codeai:allow\s+((?:CAI\d{3}[\s,]*)+)", re.I)
_SQLITE_SYNTAX = ("syntax error", "incomplete input", "unrecognized token")
_NEAR = re.compile(r'near "([^"]*)"')


def diagnostic(code: str, message: str, start: int, end: int) -> Diagnostic:
    """A finding with the code's registered severity (codeai_lang/diagnostics/codes.py)."""
    return Diagnostic(code, CODES[code].severity, message, start, max(end, start))


@dataclass
class LintedFile:
    path: str
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressed: list[Diagnostic] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # statements' (start, end) offsets


@dataclass
class LintResult:
    files: list[LintedFile]
    notes: list[str]  # what was not checked and why (printed for people)


@dataclass
class _History:
    """What earlier statements established: validated ``col IS NOT NULL`` checks (CAI507)."""

    pending: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, constraint) → column
    validated: set[tuple[str, str]] = field(default_factory=set)  # (table, column)


def lint(migrations: list[Migration], dialect: str,
         scratch: Callable[[], Scratch] | None = None) -> LintResult:
    """Lint every migration for ``dialect``; ``scratch`` opens a database for the round trip."""
    history = _History()
    files: list[LintedFile] = []
    broken: int | None = None  # first migration that cannot be parsed: the round trip stops there
    for mig in migrations:
        up = _lint_file(mig.up_file, mig.up_sql, "up", dialect, history)
        down = _lint_file(mig.down_file, mig.down_sql, "down", dialect, history)
        files += [up, down]
        if broken is None and any(d.code == "CAI510" for d in up.diagnostics + down.diagnostics):
            broken = mig.version
    notes: list[str] = []
    if scratch is None:
        notes.append(f"CAI509 not checked: no {dialect} scratch database (configure one to run the round trip)")
    else:
        by_path = {f.path: f for f in files}
        runnable = [m for m in migrations if broken is None or m.version < broken]
        notes += _round_trip(runnable, scratch, by_path)
        if broken is not None:
            notes.append(f"CAI509 not checked from {broken} on: fix the syntax errors first")
    for f in files:
        _apply_allows(f)
    return LintResult(files, notes)


# -- one file --------------------------------------------------------------------------------


def _lint_file(path: str, text: str, direction: str, dialect: str, history: _History) -> LintedFile:
    out = LintedFile(path, text)
    try:
        statements = split_statements(select_dialect(text, dialect, path), path)
    except SqlFileError as exc:
        out.diagnostics.append(_file_error(text, str(exc), path))
        return out
    facts: list[Fact] = []
    for st in statements:
        out.spans.append((st.offset, st.offset + len(st.text)))
        try:
            facts += pg_facts(st) if dialect == "postgres" else _sqlite_checked(st)
        except PgSyntaxError as exc:
            at = st.offset + exc.index
            out.diagnostics.append(diagnostic("CAI510", f"syntax error: {exc.message}", at, at + 1))
        except _SqliteSyntax as exc:
            out.diagnostics.append(diagnostic("CAI510", exc.message, exc.start, exc.end))
    rules = _Rules(text, direction, dialect, history)
    for fact in facts:
        out.diagnostics.extend(rules.check(fact))
    return out


def _file_error(text: str, message: str, path: str) -> Diagnostic:
    """A file the splitter rejects (unterminated quote, BEGIN/COMMIT): CAI510 at its line."""
    match = re.match(re.escape(path) + r":(\d+): (.*)", message, re.S)
    line, reason = (int(match.group(1)), match.group(2)) if match else (1, message)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    start = starts[min(line, len(starts)) - 1]
    end = text.find("\n", start)
    return diagnostic("CAI510", reason, start, len(text) if end < 0 else end)


class _SqliteSyntax(Exception):
    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message, self.start, self.end = message, start, end


def _sqlite_checked(st: Statement) -> list[Fact]:
    """SQLite itself judges the syntax: EXPLAIN compiles the statement on an empty in-memory
    database without running it ("no such table" there is not a syntax error)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute("EXPLAIN " + st.text)
    except sqlite3.Error as exc:
        message = str(exc)
        if any(marker in message for marker in _SQLITE_SYNTAX):
            near = _NEAR.search(message)
            found = st.text.find(near.group(1)) if near and near.group(1) else -1
            start = st.offset + (found if found >= 0 else 0)
            end = start + (len(near.group(1)) if near and found >= 0 else len(st.text))
            raise _SqliteSyntax(f"syntax error: {message}", start, end) from exc
    finally:
        conn.close()
    return sqlite_facts(st)


class _Rules:
    """The rules over facts; ``created`` holds tables this file creates (changes to them are free)."""

    def __init__(self, text: str, direction: str, dialect: str, history: _History) -> None:
        self.up = direction == "up"
        self.pg = dialect == "postgres"
        self.contract = has_marker(text, "contract")
        self.no_transaction = has_marker(text, "no-transaction")
        self.history = history
        self.created: set[str] = set()

    def check(self, f: Fact) -> list[Diagnostic]:
        handler = getattr(self, f"_{f.kind}", None)
        return list(handler(f)) if handler else []

    def _existing(self, f: Fact) -> bool:
        return f.table not in self.created

    def _create_table(self, f: Fact) -> list[Diagnostic]:
        self.created.add(f.table)
        return self._robust_create(f, f"CREATE TABLE {f.table}")

    def _robust_create(self, f: Fact, what: str) -> list[Diagnostic]:
        if not self.up or f.guarded or not f.can_guard:
            return []
        return [diagnostic("CAI508", f"{what} without IF NOT EXISTS: a re-run after a partial failure "
                                     "stops here", f.start, f.end)]

    def _robust_drop(self, f: Fact, what: str) -> list[Diagnostic]:
        if self.up or f.guarded or not f.can_guard:
            return []
        return [diagnostic("CAI508", f"{what} without IF EXISTS in a down migration", f.start, f.end)]

    def _drop_table(self, f: Fact) -> list[Diagnostic]:
        return self._contract(f, f"DROP TABLE {f.table}") + self._robust_drop(f, f"DROP TABLE {f.table}")

    def _drop_column(self, f: Fact) -> list[Diagnostic]:
        what = f"DROP COLUMN {f.table}.{f.column}"
        return self._contract(f, what) + self._robust_drop(f, what)

    def _contract(self, f: Fact, what: str) -> list[Diagnostic]:
        if not self.up or self.contract or f.table in self.created:
            return []
        return [diagnostic("CAI501", f"{what} in an up migration without a `-- codeai:contract` marker: "
                                     "code still running may use it; drop only in a deliberate contract "
                                     "migration, after no deployed version reads it", f.start, f.end)]

    def _drop_index(self, f: Fact) -> list[Diagnostic]:
        return self._robust_drop(f, f"DROP INDEX {f.name}")

    def _drop_other(self, f: Fact) -> list[Diagnostic]:
        return self._robust_drop(f, f"DROP {f.name}")

    def _create_index(self, f: Fact) -> list[Diagnostic]:
        out = self._robust_create(f, f"CREATE INDEX {f.name}".rstrip())
        if not self.pg:
            return out
        if f.concurrent and not self.no_transaction:
            out.append(diagnostic("CAI503", "CREATE INDEX CONCURRENTLY cannot run inside a transaction: mark "
                                            "the migration `-- codeai:no-transaction`", f.start, f.end))
        elif not f.concurrent and self._existing(f):
            out.append(diagnostic("CAI503", f"CREATE INDEX on existing table {f.table} without CONCURRENTLY "
                                            "blocks writes while it builds: use CONCURRENTLY in a migration "
                                            "marked `-- codeai:no-transaction`", f.start, f.end))
        return out

    def _add_column(self, f: Fact) -> list[Diagnostic]:
        out = self._robust_create(f, f"ADD COLUMN {f.table}.{f.column}")
        if not self._existing(f):
            return out
        if f.not_null and not f.has_default:
            out.append(diagnostic("CAI502", f"ADD COLUMN {f.table}.{f.column} NOT NULL without a DEFAULT fails "
                                            "on a table with rows and breaks inserts of running code: add it "
                                            "nullable (or with a DEFAULT), backfill, then SET NOT NULL",
                                  f.start, f.end))
        if f.references and self.pg:
            out.append(diagnostic("CAI506", f"ADD COLUMN {f.table}.{f.column} REFERENCES validates the foreign "
                                            "key under a lock on both tables: add the column, then the "
                                            "constraint NOT VALID, then VALIDATE CONSTRAINT", f.start, f.end))
        return out

    def _rename_column(self, f: Fact) -> list[Diagnostic]:
        return [diagnostic("CAI504", f"renaming column {f.table}.{f.column} breaks the code still running: "
                                     "add the new column, copy, switch the code, then drop the old one",
                           f.start, f.end)]

    def _rename_table(self, f: Fact) -> list[Diagnostic]:
        return [diagnostic("CAI504", f"renaming table {f.table} to {f.name} breaks the code still running: "
                                     "create the new table (or a view), copy, switch, then drop", f.start, f.end)]

    def _alter_type(self, f: Fact) -> list[Diagnostic]:
        if not self._existing(f):
            return []
        return [diagnostic("CAI505", f"ALTER COLUMN {f.table}.{f.column} TYPE rewrites the table under an "
                                     "exclusive lock: add a new column, backfill in batches, switch, drop",
                           f.start, f.end)]

    def _add_constraint(self, f: Fact) -> list[Diagnostic]:
        if f.not_null_check:
            if f.not_valid:
                self.history.pending[(f.table, f.name)] = f.not_null_check
            else:
                self.history.validated.add((f.table, f.not_null_check))
        if not self.pg or f.not_valid or not self._existing(f):
            return []
        kind = "foreign key" if f.constraint == "foreign" else "check constraint"
        return [diagnostic("CAI506", f"{kind} {f.name or ''} added to {f.table} without NOT VALID scans the "
                                     "table under a lock: add it NOT VALID, then VALIDATE CONSTRAINT in a "
                                     "later migration".replace("  ", " "), f.start, f.end)]

    def _validate_constraint(self, f: Fact) -> list[Diagnostic]:
        column = self.history.pending.pop((f.table, f.name), None)
        if column:
            self.history.validated.add((f.table, column))
        return []

    def _set_not_null(self, f: Fact) -> list[Diagnostic]:
        if not self._existing(f) or (f.table, f.column) in self.history.validated:
            return []
        return [diagnostic("CAI507", f"SET NOT NULL on {f.table}.{f.column} scans the table under an exclusive "
                                     f"lock: first ADD CONSTRAINT … CHECK ({f.column} IS NOT NULL) NOT VALID, "
                                     "then VALIDATE CONSTRAINT, then SET NOT NULL", f.start, f.end)]


# -- CAI509: the round trip, for real ----------------------------------------------------------


def _round_trip(migrations: list[Migration], open_scratch: Callable[[], Scratch],
                files: dict[str, LintedFile]) -> list[str]:
    """up, down, compare, up again — for each migration in order, on one scratch database.

    After a down that does not undo its up, the scratch database is rebuilt from the up files
    (a fresh one, ups only), so the next migrations are checked from the state they expect.
    """
    try:
        scratch = open_scratch()
        try:
            for i, mig in enumerate(migrations):
                state = _one_round_trip(scratch, mig, files)
                if state == "failed":
                    return [f"CAI509 not checked after {mig.label}: it does not run on the scratch database"]
                if state == "differs":
                    scratch.close()
                    scratch = open_scratch()
                    for done in migrations[: i + 1]:
                        scratch.run(done, "up")
        finally:
            scratch.close()
    except ScratchFailed as exc:  # replaying ups that ran before: the database changed under us
        return [f"CAI509 not checked further: {exc}"]
    except ConnectError:
        raise  # a configured database that cannot be reached is an I/O error (exit 2), not a note
    except MigrateError as exc:
        return [f"CAI509 not checked: {exc}"]
    return []


def _one_round_trip(scratch: Scratch, mig: Migration, files: dict[str, LintedFile]) -> str:
    """``ok``, ``differs`` (reported; the scratch database is off the path) or ``failed`` (reported)."""
    try:
        before = scratch.schema()
        scratch.run(mig, "up")
        scratch.run(mig, "down")
        after = scratch.schema()
    except ScratchFailed as exc:
        f = files[exc.path]
        start = exc.statement.offset
        f.diagnostics.append(diagnostic("CAI509", f"fails on a scratch {scratch.dialect} database: {exc.reason}",
                                        start, start + len(exc.statement.text)))
        return "failed"
    except SqlFileError:
        return "failed"  # already reported as CAI510
    differences = before.differences(after)
    if not differences:
        try:
            scratch.run(mig, "up")
        except ScratchFailed as exc:
            _report_rerun(files, scratch, mig, exc)
            return "failed"
        return "ok"
    down = files[mig.down_file]
    start, end = down.spans[0] if down.spans else (0, 0)
    shown = "; ".join(differences[:5]) + (f"; … {len(differences) - 5} more" if len(differences) > 5 else "")
    down.diagnostics.append(diagnostic("CAI509", f"up then down leaves a different schema than before "
                                                 f"(checked on a scratch {scratch.dialect} database): {shown}",
                                       start, end))
    return "differs"


def _report_rerun(files: dict[str, LintedFile], scratch: Scratch, mig: Migration, exc: ScratchFailed) -> None:
    f = files[exc.path]
    start = exc.statement.offset
    f.diagnostics.append(diagnostic("CAI509", f"up, down, then up again fails on a scratch {scratch.dialect} "
                                              f"database (down leaves something behind): {exc.reason}",
                                    start, start + len(exc.statement.text)))


# -- suppressions ------------------------------------------------------------------------------


def _apply_allows(f: LintedFile) -> None:
    """Move findings silenced by ``-- codeai:allow CODE`` (statement's lines or the line above) aside."""
    allowed = _allowed_by_line(f.text)
    if not allowed:
        f.diagnostics.sort(key=Diagnostic.sort_key)
        return
    kept: list[Diagnostic] = []
    for d in f.diagnostics:
        first, last = _statement_lines(f, d.start)
        codes = set().union(*(allowed.get(n, set()) for n in range(first, last + 1)))
        codes |= allowed.get(first - 1, set()) if _comment_only(f.text, first - 1) else set()
        (f.suppressed if d.code in codes else kept).append(d)
    f.diagnostics = sorted(kept, key=Diagnostic.sort_key)


def _allowed_by_line(text: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ALLOW.search(line)
        if match:
            out[number] = {c.upper() for c in re.findall(r"CAI\d{3}", match.group(1), re.I)}
    return out


def _comment_only(text: str, line: int) -> bool:
    lines = text.splitlines()
    return 1 <= line <= len(lines) and lines[line - 1].lstrip().startswith("--")


def _statement_lines(f: LintedFile, offset: int) -> tuple[int, int]:
    start, end = next(((s, e) for s, e in f.spans if s <= offset <= e), (offset, offset))
    return f.text.count("\n", 0, start) + 1, f.text.count("\n", 0, end) + 1
