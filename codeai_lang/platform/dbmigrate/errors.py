"""Errors of the migration runner, each carrying the exit code the CLI must use.

Exit codes follow the toolchain contract: 1 when the input is invalid or a migration failed,
2 for usage, I/O, configuration and connection problems (nothing was attempted).
"""

from __future__ import annotations

EXIT_FAILED, EXIT_USAGE = 1, 2


class MigrateError(Exception):
    """Base class; ``exit_code`` tells the CLI how to end."""

    exit_code = EXIT_FAILED


class UsageError(MigrateError):
    """A bad argument or an unreadable migration directory."""

    exit_code = EXIT_USAGE


class ConnectError(MigrateError):
    """The database server cannot be reached or the SQLite file cannot be opened."""

    exit_code = EXIT_USAGE


class LockTimeout(MigrateError):
    """Another runner held the migration lock for longer than ``--timeout``; nothing was applied."""

    exit_code = EXIT_USAGE


class DiscoveryError(MigrateError):
    """The migration set breaks the naming convention or lacks a down file."""

    SHOWN = 50  # a directory of wrongly named files should not flood the terminal

    def __init__(self, problems: list[str]) -> None:
        lines = [f"  {p}" for p in problems[: self.SHOWN]]
        if len(problems) > self.SHOWN:
            lines.append(f"  … and {len(problems) - self.SHOWN} more")
        super().__init__("invalid migration set:\n" + "\n".join(lines))
        self.problems = problems


class SqlFileError(MigrateError):
    """A migration file cannot be split into statements (e.g. an unterminated string)."""


class ModifiedError(MigrateError):
    """An applied migration's up file changed since it was applied."""


class MigrationFailed(MigrateError):
    """A statement failed or the run timed out; that migration was rolled back."""
