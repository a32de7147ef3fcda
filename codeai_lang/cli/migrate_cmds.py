"""`codeai migrate …` (SQL schema migrations) and `codeai config …` (layered configuration).

Exit codes: 0 success; 1 a migration failed, was refused (modified file) or the migration set is
invalid; 2 usage, I/O, configuration or connection problems and lock timeouts (nothing was tried).
Messages for people go to stderr; status tables, JSON, dry-run SQL and created paths to stdout.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codeai_lang.cli import app
from codeai_lang.platform.config import (
    KEYS,
    Config,
    ConfigError,
    load_config,
    mask_secrets,
    migrate_config,
    url_secrets,
)
from codeai_lang.platform.dbmigrate import MigrateError, Options, Runner, create_pair, discover, open_backend
from codeai_lang.platform.dbmigrate.runner import StatusEntry
from codeai_lang.platform.dbmigrate.target import DatabaseTarget, target_from_config
from codeai_lang.platform.dbmigrate.timing import parse_duration

if TYPE_CHECKING:
    from codeai_lang.platform.dbmigrate.scratch import Scratch

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

migrate_app = typer.Typer(name="migrate", no_args_is_help=True,
                          help="SQL schema migrations on SQLite (default) or PostgreSQL.")
config_app = typer.Typer(name="config", no_args_is_help=True,
                         help="Show the effective configuration or rewrite an old config file.")
app.add_typer(migrate_app, name="migrate")
app.add_typer(config_app, name="config")


class Format(str, Enum):
    text = "text"
    json = "json"


DirOpt = Annotated[Path | None, typer.Option("--dir", help="Read migrations from DIR instead of the embedded set")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the SQL that would run; change nothing")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Print each statement and its timing")]
TimeoutOpt = Annotated[str | None, typer.Option("--timeout", help="Bound the lock wait and the run (30s, 5m, 1h)")]
AllowModOpt = Annotated[bool, typer.Option("--allow-modified", help="Apply even if applied files changed")]
UrlOpt = Annotated[str | None, typer.Option("--database-url", help="postgresql://… or sqlite:PATH")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Read only this config file")]


@dataclass(frozen=True)
class Common:
    directory: Path | None
    dry_run: bool
    verbose: bool
    timeout: str | None
    allow_modified: bool
    database_url: str | None
    config_file: Path | None


# Secret values known so far (passwords from flags, environment and configuration): every message
# for people is scrubbed of them, because drivers quote connection strings in their errors.
_SECRETS: list[str] = []


def say(message: str) -> None:
    typer.echo(mask_secrets(message, _SECRETS), err=True)


def emit(text: str) -> None:
    typer.echo(text)


def fail(message: str, code: int) -> typer.Exit:
    say(f"codeai: error: {message}")
    return typer.Exit(code)


def load_effective_config(config_file: Path | None, database_url: str | None) -> Config:
    """The real layers: system, home and working-directory files, the environment and flags."""
    _SECRETS.extend(url_secrets(database_url or ""))
    for key in ("database.url", "database.password", "auth.jwt_secret"):
        for var in KEYS[key].env:
            value = os.environ.get(var, "")
            _SECRETS.extend(url_secrets(value) if KEYS[key].url else [value] if value else [])
    try:
        cfg = load_config(config_file=config_file, env=os.environ,
                          flags={"database.url": (database_url, "--database-url")})
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    _SECRETS.extend(cfg.secrets())
    for warning in cfg.warnings:
        say(f"codeai: warning: {warning}")
    return cfg


@contextmanager
def open_runner(common: Common, readonly: bool = False) -> Iterator[Runner]:
    """Config → target → migration files → connection; every failure becomes a clean exit."""
    try:
        timeout = parse_duration(common.timeout) if common.timeout else None
    except ValueError as exc:
        raise fail(f"--timeout: {exc}", EXIT_USAGE) from exc
    cfg = load_effective_config(common.config_file, common.database_url)
    options = Options(common.dry_run, common.verbose, common.allow_modified, timeout)
    backend = open_backend(target_from_config(cfg))
    try:
        migrations = discover(common.directory)
        runner = Runner(backend, migrations, options, say=say, emit=emit)
        backend.connect(runner.deadline, readonly=readonly or common.dry_run)
        yield runner
    except MigrateError as exc:
        raise fail(str(exc), exc.exit_code) from exc
    except KeyboardInterrupt as exc:
        raise fail("interrupted; the migration in progress was rolled back", EXIT_FAILED) from exc
    except Exception as exc:
        if not type(exc).__module__.startswith(("sqlite3", "psycopg")):
            raise
        raise fail(f"database error on {backend.target.describe()}: {str(exc).strip()}", EXIT_USAGE) from exc
    finally:
        backend.close()


def parse_version(text: str) -> int:
    if text.lower() in ("0", "none"):
        return 0
    if len(text) != 14 or not text.isdigit():
        raise fail(f"invalid version {text!r}: expected YYYYMMDDHHMMSS (or 0 / none)", EXIT_USAGE)
    return int(text)


@migrate_app.command("up")
def up(count: Annotated[int | None, typer.Argument(min=1, help="Apply at most N pending migrations")] = None,
       directory: DirOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
       timeout: TimeoutOpt = None, allow_modified: AllowModOpt = False, database_url: UrlOpt = None,
       config: ConfigOpt = None) -> None:
    """Apply all pending migrations (or the next N), each in its own transaction."""
    with open_runner(Common(directory, dry_run, verbose, timeout, allow_modified, database_url, config)) as r:
        r.up(count)


@migrate_app.command("down")
def down(count: Annotated[int, typer.Argument(min=1, help="Revert the last N applied migrations")] = 1,
         directory: DirOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
         timeout: TimeoutOpt = None, allow_modified: AllowModOpt = False, database_url: UrlOpt = None,
         config: ConfigOpt = None) -> None:
    """Revert the last applied migration (or the last N)."""
    with open_runner(Common(directory, dry_run, verbose, timeout, allow_modified, database_url, config)) as r:
        r.down(count)


@migrate_app.command("reset")
def reset(directory: DirOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
          timeout: TimeoutOpt = None, allow_modified: AllowModOpt = False, database_url: UrlOpt = None,
          config: ConfigOpt = None) -> None:
    """Revert every applied migration, newest first."""
    with open_runner(Common(directory, dry_run, verbose, timeout, allow_modified, database_url, config)) as r:
        r.reset()


@migrate_app.command("goto")
def goto(version: Annotated[str, typer.Argument(help="Target version (YYYYMMDDHHMMSS, or 0)")],
         directory: DirOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
         timeout: TimeoutOpt = None, allow_modified: AllowModOpt = False, database_url: UrlOpt = None,
         config: ConfigOpt = None) -> None:
    """Migrate up or down until VERSION is the newest applied migration."""
    target = parse_version(version)
    with open_runner(Common(directory, dry_run, verbose, timeout, allow_modified, database_url, config)) as r:
        r.goto(target)


@migrate_app.command("force")
def force(version: Annotated[str, typer.Argument(help="Version to record as current (or 0)")],
          directory: DirOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
          timeout: TimeoutOpt = None, allow_modified: AllowModOpt = False, database_url: UrlOpt = None,
          config: ConfigOpt = None) -> None:
    """Rewrite the tracking table after a manual fix: VERSION and older applied, newer not. Runs no SQL."""
    target = parse_version(version)
    with open_runner(Common(directory, dry_run, verbose, timeout, allow_modified, database_url, config)) as r:
        r.force(target)


@migrate_app.command("status")
def status(output: Annotated[Format, typer.Option("--output", "-o", help="text or json")] = Format.text,
           directory: DirOpt = None, verbose: VerboseOpt = False, timeout: TimeoutOpt = None,
           database_url: UrlOpt = None, config: ConfigOpt = None) -> None:
    """List every migration as applied, pending, modified or missing, then `latest <version>`."""
    common = Common(directory, False, verbose, timeout, False, database_url, config)
    with open_runner(common, readonly=True) as runner:
        try:
            entries = runner.status()
        except MigrateError as exc:
            raise fail(str(exc), exc.exit_code) from exc
        except Exception as exc:  # a broken tracking table or a lost connection
            raise fail(f"cannot read the tracking table: {exc}", EXIT_USAGE) from exc
        print_status(entries, output, runner.backend.target.describe())


def print_status(entries: list[StatusEntry], output: Format, database: str) -> None:
    applied = [e.version for e in entries if e.state in ("applied", "modified", "missing")]
    latest = str(max(applied)) if applied else None
    if output is Format.json:
        emit(json.dumps({"database": database, "migrations": [e.as_json() for e in entries],
                         "latest": latest, "pending": sum(e.state == "pending" for e in entries)}, indent=2))
        return
    width = max([len(e.name) for e in entries] + [4])
    for e in entries:
        when = f"  {e.applied_at}" if e.applied_at else ""
        emit(f"{e.version}  {e.name:<{width}}  {e.state:<8}{when}".rstrip())
    emit(f"latest {latest or 'none'}")


@migrate_app.command("create")
def create(name: Annotated[str, typer.Argument(help="snake_case description, e.g. add_orders_table")],
           directory: Annotated[Path, typer.Option("--dir", help="Where to write the pair")] = Path("migrations"),
           ) -> None:
    """Write an empty, timestamped up/down pair into --dir (default ./migrations)."""
    try:
        up_file, down_file = create_pair(directory, name)
    except MigrateError as exc:
        raise fail(str(exc), exc.exit_code) from exc
    except OSError as exc:
        raise fail(f"cannot write into {directory}: {exc}", EXIT_USAGE) from exc
    emit(str(up_file))
    emit(str(down_file))


class Dialect(str, Enum):
    postgres = "postgres"
    sqlite = "sqlite"


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


DialectOpt = Annotated[Dialect | None, typer.Option("--dialect", help="postgres or sqlite (default: the configured database's)")]


@migrate_app.command("lint")
def lint(directory: DirOpt = None, dialect: DialectOpt = None,
         output: Annotated[LintFormat, typer.Option("--output", "-o", help="text, json, sarif or github")]
         = LintFormat.text,
         strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too")] = False,
         verbose: VerboseOpt = False, database_url: UrlOpt = None, config: ConfigOpt = None) -> None:
    """Check migrations for changes that break running code or cannot be undone (CAI501–CAI510)."""
    from codeai_lang.cli.migrate_lint_output import render_lint
    from codeai_lang.platform.dbmigrate.lint import lint as run_lint

    cfg = load_effective_config(config, database_url)
    target = target_from_config(cfg)
    chosen = dialect.value if dialect else target.driver
    try:
        migrations = discover(directory)
        result = run_lint(migrations, chosen, scratch_factory(chosen, target))
    except MigrateError as exc:
        raise fail(str(exc), exc.exit_code) from exc
    for note in result.notes:
        say(f"codeai: note: {note}")
    text, errors, warnings = render_lint(result, output.value, verbose)
    sys.stdout.write(text)
    hidden = sum(len(f.suppressed) for f in result.files)
    if output is LintFormat.github and hidden:  # annotations have no place for them: say so
        say(f"codeai: {hidden} finding{'s' if hidden != 1 else ''} suppressed by codeai:allow")
    if errors or (strict and warnings):
        raise typer.Exit(EXIT_FAILED)


def scratch_factory(dialect: str, target: DatabaseTarget) -> Callable[[], Scratch] | None:
    """SQLite: in memory. PostgreSQL: a temporary schema, only when a PostgreSQL database is configured."""
    from codeai_lang.platform.dbmigrate.scratch import open_scratch

    if dialect == "postgres" and target.driver != "postgres":
        return None
    return lambda: open_scratch(dialect, target)


@migrate_app.command("generate")
def generate_cmd(
    name: Annotated[str, typer.Argument(help="snake_case description, e.g. add_orders_table")],
    source: Annotated[Path, typer.Option("--from", help="The .cai file or project directory with the entities")]
    = Path("."),
    directory: Annotated[Path, typer.Option("--dir", help="The migration directory (read, then written)")]
    = Path("migrations"),
    dialect: DialectOpt = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive",
                                                    help="Write drops and narrowing type changes too")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the pair instead of writing it")] = False,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if a migration is needed (CI)")]
    = False,
    database_url: UrlOpt = None, config: ConfigOpt = None,
) -> None:
    """Write the up/down pair that brings the schema to what the `entity` declarations say."""
    from codeai_lang.files.sources import SourceError, read_source
    from codeai_lang.files.sources import discover as discover_sources
    from codeai_lang.platform.dbmigrate.generate import generate

    cfg = load_effective_config(config, database_url)
    target = target_from_config(cfg)
    chosen = dialect.value if dialect else target.driver
    if chosen == "postgres" and target.driver != "postgres":
        raise fail("--dialect postgres needs a PostgreSQL database for its scratch schema "
                   "(--database-url postgresql://… or database.driver: postgres)", EXIT_USAGE)
    try:
        sources = [(path, read_source(path).text) for path in discover_sources([str(source)])]
    except SourceError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    if not sources:
        raise fail(f"no .cai files under {source}", EXIT_USAGE)
    try:
        result = generate(name, sources, directory, chosen, target, allow_destructive or check,
                          dry_run=dry_run or check)
    except MigrateError as exc:
        raise fail(str(exc), exc.exit_code) from exc
    except OSError as exc:
        raise fail(f"cannot write into {directory}: {exc.strerror or exc}", EXIT_USAGE) from exc
    if result.up_file is None:
        say("no changes: the migrations already build the schema the entities declare")
        return
    for change in result.plan.changes:
        say(f"  {change}")
    if check:
        raise fail("the entity declarations need a new migration (run `codeai migrate generate`)", EXIT_FAILED)
    if dry_run:
        emit(f"-- {result.up_file}\n{result.up_text}\n-- {result.down_file}\n{result.down_text}".rstrip("\n"))
        return
    emit(str(result.up_file))
    emit(str(result.down_file))


@config_app.command("show")
def config_show(output: Annotated[Format, typer.Option("--output", "-o", help="text or json")] = Format.text,
                database_url: UrlOpt = None, config: ConfigOpt = None) -> None:
    """Print the effective configuration and where each value came from (secrets masked)."""
    cfg = load_effective_config(config, database_url)
    if output is Format.json:
        emit(json.dumps(cfg.as_json(), indent=2))
        return
    keys = list(cfg.values)
    width = max(len(k) for k in keys)
    for key in keys:
        emit(f"{key:<{width}}  {cfg.masked(key)!s:<24}  ({cfg.sources[key]})")


@config_app.command("migrate")
def config_migrate(
    old: Annotated[Path, typer.Argument(help="Old config file")] = Path("config.yaml"),
    new: Annotated[str | None, typer.Argument(help="Where to write (default: OLD in place; - for stdout)")] = None,
) -> None:
    """Rewrite top-level db_host/db_port/db_name into `database:`, keeping comments and other keys."""
    try:
        result = migrate_config(old.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"cannot read {old}: {exc.strerror or exc}", EXIT_USAGE) from exc
    except ConfigError as exc:
        raise fail(f"{old}: {exc}", EXIT_USAGE) from exc
    for note in result.notes:
        say(f"config migrate: {note}")
    if new == "-":
        emit(result.text.rstrip("\n"))
        return
    target = Path(new) if new else old
    if not result.changed and target == old:
        return
    try:
        write_atomic(target, result.text, like=old)
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}", EXIT_USAGE) from exc
    say(f"config migrate: wrote {target}")


def write_atomic(path: Path, text: str, like: Path) -> None:
    """Replace ``path`` in one step, with the permissions of ``like``, so a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, (path if path.exists() else like).stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
