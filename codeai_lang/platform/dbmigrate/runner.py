"""The migration runner: plans what to apply or revert, and applies it one transaction at a time.

There is no "dirty" state. Each migration's statements and its ``schema_migrations`` row commit
together, so a migration is either fully applied and recorded, or not at all — a failure, a
timeout or a ``kill -9`` leaves the database exactly as it was before that migration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from codeai_lang.platform.dbmigrate.backends import AppliedRow, Backend
from codeai_lang.platform.dbmigrate.discovery import Migration
from codeai_lang.platform.dbmigrate.errors import MigrationFailed, ModifiedError, UsageError
from codeai_lang.platform.dbmigrate.sqltext import Statement
from codeai_lang.platform.dbmigrate.timing import Deadline

UP, DOWN = "up", "down"


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    verbose: bool = False
    allow_modified: bool = False
    timeout: float | None = None  # seconds; bounds the lock wait and the run together


@dataclass(frozen=True)
class StatusEntry:
    version: int
    name: str
    state: str  # applied | pending | modified | missing
    file: str | None
    applied_at: str | None
    checksum: str | None  # of the file on disk
    recorded_checksum: str | None
    duration_ms: float | None

    def as_json(self) -> dict[str, object]:
        return {"version": str(self.version), "name": self.name, "state": self.state, "file": self.file,
                "applied_at": self.applied_at, "checksum": self.checksum,
                "recorded_checksum": self.recorded_checksum, "duration_ms": self.duration_ms}


def _quiet(_: str) -> None:
    return None


class Runner:
    """Runs one command against one database; ``say`` gets messages for people, ``emit`` output."""

    def __init__(self, backend: Backend, migrations: list[Migration], options: Options | None = None,
                 say: Callable[[str], None] = _quiet, emit: Callable[[str], None] = _quiet) -> None:
        self.backend = backend
        self.migrations = migrations
        self.by_version = {m.version: m for m in migrations}
        self.options = options or Options()
        self.say, self.emit = say, emit
        self.deadline = Deadline(self.options.timeout)
        self.version: int | None = None  # the database's version as the run goes
        self.current: set[int] = set()  # versions applied, as the run goes

    # --- read-only ---------------------------------------------------------------------------

    def status(self) -> list[StatusEntry]:
        applied = self.backend.applied()
        return [self._entry(v, self.by_version.get(v), applied.get(v))
                for v in sorted(set(applied) | set(self.by_version))]

    @staticmethod
    def _entry(version: int, mig: Migration | None, row: AppliedRow | None) -> StatusEntry:
        if row is None:
            state = "pending"
        elif mig is None:
            state = "missing"
        else:
            state = "applied" if mig.checksum == row.checksum else "modified"
        return StatusEntry(version, mig.name if mig else row.name if row else "", state,
                           mig.up_file if mig else None, row.applied_at if row else None,
                           mig.checksum if mig else None, row.checksum if row else None,
                           row.duration_ms if row else None)

    def latest(self) -> int | None:
        applied = self.backend.applied()
        return max(applied) if applied else None

    # --- commands ------------------------------------------------------------------------------

    def up(self, count: int | None = None) -> int:
        with self._locked() as applied:
            self._check_modified(applied)
            plan = [m for m in self.migrations if m.version not in applied]
            return self._summary(self._run(plan[:count] if count is not None else plan, UP), 0)

    def down(self, count: int | None = 1) -> int:
        with self._locked() as applied:
            versions = sorted(applied, reverse=True)
            return self._summary(0, self._run(self._files_for(versions[:count] if count is not None else versions),
                                              DOWN))

    def reset(self) -> int:
        return self.down(None)

    def goto(self, target: int) -> int:
        if target != 0 and target not in self.by_version:
            raise UsageError(f"unknown version {target}: no migration file has it (use 0 to revert everything)")
        with self._locked() as applied:
            downs = self._files_for(sorted((v for v in applied if v > target), reverse=True))
            ups = [m for m in self.migrations if m.version <= target and m.version not in applied]
            if ups:
                self._check_modified(applied)
            reverted = self._run(downs, DOWN)
            return self._summary(self._run(ups, UP), reverted)

    def force(self, target: int) -> int:
        """Make the tracking table say "everything up to ``target`` is applied", running no SQL."""
        if target != 0 and target not in self.by_version:
            raise UsageError(f"unknown version {target}: no migration file has it (use 0 to clear the table)")
        with self._locked() as applied:
            changes = self._force_plan(applied, target)
            if self.options.dry_run:
                for line in changes:
                    self.emit(f"-- force: {line}")
                return len(changes)
            self.backend.begin(self.deadline, self._waiting)
            try:
                self._force_rows(applied, target)
                self.backend.commit()
            except BaseException:
                self.backend.rollback()
                raise
        for line in changes:
            self.say(f"force: {line}")
        self.say(f"tracking table now at version {target or 'none'}")
        return len(changes)

    # --- internals -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[dict[int, AppliedRow]]:
        if self.options.dry_run:
            applied = self.backend.applied()
            self._track(applied)
            yield applied
            return
        self.backend.lock(self.deadline, self._waiting)
        try:
            self.backend.ensure_tracking(self.deadline, self._waiting)
            applied = self.backend.applied()
            self._track(applied)
            yield applied
        finally:
            self.backend.unlock()

    def _track(self, applied: dict[int, AppliedRow]) -> None:
        self.current = set(applied)
        self.version = max(applied) if applied else None

    def _waiting(self) -> None:
        self.say(f"waiting for the migration lock held by another runner ({self.deadline.describe()})…")

    def _check_modified(self, applied: dict[int, AppliedRow]) -> None:
        changed = [(self.by_version[v], row) for v, row in applied.items()
                   if v in self.by_version and self.by_version[v].checksum != row.checksum]
        if not changed:
            return
        lines = [f"  {m.up_file}: recorded checksum {row.checksum[:12]}…, file now {m.checksum[:12]}…"
                 for m, row in changed]
        if self.options.allow_modified:
            self.say("warning: applied migrations changed since they were applied (--allow-modified):\n"
                     + "\n".join(lines))
            return
        raise ModifiedError("applied migrations were changed after they were applied:\n" + "\n".join(lines)
                            + "\nmigrations are never edited after release: revert the edit and create a new "
                            "migration, or pass --allow-modified (and `force` to record the new checksums)")

    def _files_for(self, versions: list[int]) -> list[Migration]:
        missing = [v for v in versions if v not in self.by_version]
        if missing:
            raise MigrationFailed("cannot revert " + ", ".join(map(str, missing))
                                  + ": the migration files are missing (is --dir right?)")
        return [self.by_version[v] for v in versions]

    def _run(self, plan: list[Migration], direction: str) -> int:
        parsed = [(m, m.statements(direction, self.backend.dialect)) for m in plan]
        return sum(self._apply_one(mig, direction, statements) for mig, statements in parsed)

    def _summary(self, applied: int, reverted: int) -> int:
        if not self.options.dry_run:
            parts = ([f"reverted {reverted}"] if reverted else []) + ([f"applied {applied}"] if applied else [])
            done = " and ".join(parts) + " migration(s)" if parts else "nothing to do"
            self.say(f"{done}; database is at version {self.version or 'none'}")
        return applied + reverted

    def _apply_one(self, mig: Migration, direction: str, statements: list[Statement]) -> int:
        path = mig.up_file if direction == UP else mig.down_file
        outside = mig.no_transaction(direction) and self.backend.runs_outside_transactions
        if self.options.dry_run:
            self.emit(f"-- {direction}{' (no transaction)' if outside else ''}: {path}")
            for st in statements:
                self.emit(st.text + ";")
            return 1
        if outside:
            return self._apply_outside(mig, direction, statements, path)
        self.backend.begin(self.deadline, self._waiting)
        try:
            if self.backend.is_applied(mig.version) != (direction == UP):
                started = time.perf_counter()
                for st in statements:
                    self._execute(mig, path, st, len(statements))
                elapsed = (time.perf_counter() - started) * 1000
                if direction == UP:
                    self.backend.record(mig, elapsed)
                else:
                    self.backend.unrecord(mig.version)
                self.backend.commit()
            else:
                self.backend.rollback()
                verb = "applied" if direction == UP else "reverted"
                self.say(f"skipped {mig.label}: another runner already {verb} it")
                return 0
        except BaseException:
            self.backend.rollback()
            raise
        self._moved(mig, direction)
        self.say(f"{'applied' if direction == UP else 'reverted'} {mig.label} ({elapsed:.1f} ms)")
        return 1

    def _apply_outside(self, mig: Migration, direction: str, statements: list[Statement], path: str) -> int:
        """A ``-- codeai:no-transaction`` migration: each statement commits on its own (what
        ``CREATE INDEX CONCURRENTLY`` needs); the tracking row is written only once all succeeded.
        The whole-run advisory lock keeps other runners out meanwhile."""
        if self.backend.is_applied(mig.version) == (direction == UP):
            self.say(f"skipped {mig.label}: another runner already {'applied' if direction == UP else 'reverted'} it")
            return 0
        started = time.perf_counter()
        done = 0
        try:
            for st in statements:
                self.backend.bound_statement(self.deadline)
                self._execute(mig, path, st, len(statements))
                done += 1
        except MigrationFailed as exc:
            raise MigrationFailed(self._halfway(mig, direction, exc, done)) from exc
        finally:
            self.backend.unbound_statement()
        elapsed = (time.perf_counter() - started) * 1000
        self.backend.begin(self.deadline, self._waiting)
        try:
            if direction == UP:
                self.backend.record(mig, elapsed)
            else:
                self.backend.unrecord(mig.version)
            self.backend.commit()
        except BaseException:
            self.backend.rollback()
            raise
        self._moved(mig, direction)
        self.say(f"{'applied' if direction == UP else 'reverted'} {mig.label} outside a transaction "
                 f"({elapsed:.1f} ms)")
        return 1

    def _halfway(self, mig: Migration, direction: str, exc: MigrationFailed, done: int) -> str:
        failure = str(exc).rsplit("\n", 1)[0]  # the statement and the reason, not "was rolled back"
        kept = (f"statements 1–{done} of it stayed applied" if done > 1
                else "statement 1 of it stayed applied" if done == 1 else "none of its statements took effect")
        state = "recorded as reverted" if direction == DOWN else "recorded as applied"
        return "\n".join([failure,
                          f"{mig.label} runs outside a transaction (-- codeai:no-transaction), so nothing was "
                          f"rolled back: {kept}, and it was not {state}; "
                          f"the database stays at version {self.version or 'none'}.",
                          "Fix it by hand (e.g. DROP INDEX CONCURRENTLY IF EXISTS for an index left INVALID), "
                          "then re-run `codeai migrate " + direction + "` (robust statements — IF [NOT] EXISTS — "
                          "make that safe), or, if you finished the change by hand, record it with "
                          f"`codeai migrate force {mig.version if direction == UP else self._previous(mig)}`."])

    def _previous(self, mig: Migration) -> str:
        older = [v for v in self.current if v < mig.version]
        return str(max(older)) if older else "0"

    def _moved(self, mig: Migration, direction: str) -> None:
        if direction == UP:
            self.current.add(mig.version)
        else:
            self.current.discard(mig.version)
        self.version = max(self.current) if self.current else None

    def _execute(self, mig: Migration, path: str, st: Statement, total: int) -> None:
        if self.deadline.expired():
            raise MigrationFailed(self._failure(mig, path, st, f"timed out ({self.deadline.describe()})"))
        if self.options.verbose:
            self.say(f"  {path}: statement {st.index}/{total} (line {st.line}): {st.preview(100)}")
        started = time.perf_counter()
        try:
            self.backend.execute(st.text)
        except Exception as exc:
            reason = f"timed out ({self.deadline.describe()})" if self.deadline.expired() else str(exc).strip()
            raise MigrationFailed(self._failure(mig, path, st, reason)) from exc
        if self.options.verbose:
            self.say(f"    done in {(time.perf_counter() - started) * 1000:.2f} ms")

    def _failure(self, mig: Migration, path: str, st: Statement, reason: str) -> str:
        return (f"{path}: statement {st.index} (line {st.line}) failed: {reason}\n"
                f"    {st.preview()}\n"
                f"{mig.label} was rolled back; the database stays at version {self.version or 'none'}")

    def _force_plan(self, applied: dict[int, AppliedRow], target: int) -> list[str]:
        lines = [f"forget {v}_{row.name}" for v, row in sorted(applied.items()) if v > target]
        for mig in self.migrations:
            if mig.version > target:
                break
            row = applied.get(mig.version)
            if row is None:
                lines.append(f"mark {mig.label} as applied")
            elif row.checksum != mig.checksum:
                lines.append(f"record the current checksum of {mig.label}")
        return lines

    def _force_rows(self, applied: dict[int, AppliedRow], target: int) -> None:
        for version in applied:
            if version > target:
                self.backend.unrecord(version)
        for mig in self.migrations:
            row = applied.get(mig.version)
            if mig.version <= target and (row is None or row.checksum != mig.checksum):
                if row is not None:
                    self.backend.unrecord(mig.version)
                self.backend.record(mig, row.duration_ms if row else 0.0)
