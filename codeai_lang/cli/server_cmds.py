"""`codeai server` (the platform service) and `codeai features list|check` (its feature flags).

The ASGI stack (starlette, uvicorn) and the server package are imported inside the command
functions: `codeai validate` must not pay for them at start-up.

Exit codes: 0 clean stop (also after SIGTERM); 1 pending migrations (without --migrate), a failed
migration, or `features check` of a disabled flag; 2 configuration, connection or bind errors.
"""

from __future__ import annotations

import dataclasses
import json
import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from codeai_lang.cli import app
from codeai_lang.platform.config import Config, ConfigError, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

server_app = typer.Typer(name="server", invoke_without_command=True,
                         help="Run the platform service (HTTP API, health probes, feature flags).")
features_app = typer.Typer(name="features", no_args_is_help=True, help="Inspect feature flags (features.file).")
app.add_typer(server_app, name="server")
app.add_typer(features_app, name="features")

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Read only this config file")]
UrlOpt = Annotated[str | None, typer.Option("--database-url", help="postgresql://… or sqlite:PATH")]


class Output(str, Enum):
    text = "text"
    json = "json"


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"codeai: error: {message}", err=True)
    return typer.Exit(code)


def _config(config_file: Path | None, flags: dict[str, tuple[object, str]]) -> Config:
    try:
        cfg = load_config(config_file=config_file, env=os.environ, flags=flags)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    for warning in cfg.warnings:
        typer.echo(f"codeai: warning: {warning}", err=True)
    return cfg


@server_app.callback()
def server(ctx: typer.Context,
           host: Annotated[str | None, typer.Option("--host", help="Listen address (server.host)")] = None,
           port: Annotated[int | None, typer.Option("--port", min=0, max=65535,
                                                    help="Listen port (server.port; 0 picks a free one)")] = None,
           migrate: Annotated[bool, typer.Option("--migrate", help="Apply pending migrations first (under the "
                                                                   "runner's lock)")] = False,
           migrate_timeout: Annotated[str | None, typer.Option("--migrate-timeout",
                                                               help="Bound the migration lock wait (30s, 5m)")] = None,
           workers: Annotated[int | None, typer.Option("--workers", min=1, max=64,
                                                       help="Worker processes (server.workers)")] = None,
           database_url: UrlOpt = None, config: ConfigOpt = None) -> None:
    """Serve the API until SIGTERM/SIGINT, then drain in-flight requests and exit 0."""
    if ctx.invoked_subcommand is not None:
        return
    from codeai_lang.platform.dbmigrate import MigrateError
    from codeai_lang.platform.dbmigrate.timing import parse_duration
    from codeai_lang.platform.server.run import PendingMigrations, start
    from codeai_lang.platform.server.settings import settings_from_config

    flags: dict[str, tuple[object, str]] = {"server.host": (host, "--host"), "database.url": (database_url,
                                                                                          "--database-url")}
    if workers is not None:
        flags["server.workers"] = (workers, "--workers")
    if port is not None and port != 0:
        flags["server.port"] = (port, "--port")
    cfg = _config(config, flags)
    try:
        settings = settings_from_config(cfg)
        if port == 0:
            settings = dataclasses.replace(settings, port=0)
        timeout = parse_duration(migrate_timeout) if migrate_timeout else None
        code = start(settings, migrate=migrate, migrate_timeout=timeout)
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    except PendingMigrations as exc:
        raise fail(str(exc), EXIT_FAILED) from exc
    except MigrateError as exc:
        raise fail(str(exc), exc.exit_code) from exc
    except OSError as exc:
        raise fail(f"cannot listen on {cfg.get('server.host')}:{port if port is not None else cfg.get('server.port')}"
                   f": {exc.strerror or exc}", EXIT_USAGE) from exc
    raise typer.Exit(code)


@server_app.command("token")
def token(sub: Annotated[str, typer.Option("--sub", help="The user id (JWT subject)")],
          ttl: Annotated[str, typer.Option("--ttl", help="Lifetime (30m, 12h)")] = "1h",
          scope: Annotated[list[str] | None, typer.Option("--scope", help="Add a scope (repeatable)")] = None,
          config: ConfigOpt = None) -> None:
    """Print an HS256 token signed with auth.jwt_secret (for operators and scripts)."""
    from codeai_lang.platform.dbmigrate.timing import parse_duration
    from codeai_lang.platform.server.auth import make_token

    cfg = _config(config, {})
    secret = str(cfg.get("auth.jwt_secret"))
    if not secret:
        raise fail("auth.jwt_secret is not set (config file or CODEAI_JWT_SECRET)", EXIT_USAGE)
    try:
        seconds = int(parse_duration(ttl))
    except ValueError as exc:
        raise fail(f"--ttl: {exc}", EXIT_USAGE) from exc
    typer.echo(make_token(secret, sub, seconds, scope))


FileOpt = Annotated[Path | None, typer.Option("--file", help="Flags file (default: features.file)")]


def _flags(file: Path | None, config: Path | None) -> tuple[Path, dict[str, object]]:
    from codeai_lang.platform.server.features import FeatureError, load_flags

    path = file if file is not None else Path(str(_config(config, {}).get("features.file")))
    try:
        return path, dict(load_flags(path))
    except FeatureError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc


@features_app.command("list")
def features_list(user: Annotated[str | None, typer.Option("--user", help="Also show each flag's value for U")] = None,
                  output: Annotated[Output, typer.Option("--output", "-o")] = Output.text,
                  file: FileOpt = None, config: ConfigOpt = None) -> None:
    """List the flags of the flags file (and, with --user, whether each is on for that user)."""
    from codeai_lang.platform.server.features import Flag

    path, flags = _flags(file, config)
    rows = {name: f for name, f in sorted(flags.items()) if isinstance(f, Flag)}
    if output is Output.json:
        doc = {"file": str(path), "user": user,
               "features": {n: {**f.as_json(), **({"value": f.is_enabled(user)} if user else {})}
                            for n, f in rows.items()}}
        typer.echo(json.dumps(doc, indent=2))
        return
    if not rows:
        typer.echo(f"no flags in {path}", err=True)
    for name, f in rows.items():
        line = f"{name:<24} {'enabled' if f.enabled else 'disabled':<9} rollout {f.rollout_percentage:g}%"
        if f.allowed_users:
            line += f"  allowed: {', '.join(sorted(f.allowed_users))}"
        if user:
            line += f"  → {'on' if f.is_enabled(user) else 'off'} for {user}"
        typer.echo(line)


@features_app.command("check")
def features_check(flag: Annotated[str, typer.Argument(help="Flag name")],
                   user: Annotated[str, typer.Option("--user", help="User id (the JWT sub)")],
                   file: FileOpt = None, config: ConfigOpt = None) -> None:
    """Print whether FLAG is on for USER; exit 0 if on, 1 if off or unknown."""
    from codeai_lang.platform.server.features import Flag

    _, flags = _flags(file, config)
    found = flags.get(flag)
    on = isinstance(found, Flag) and found.is_enabled(user)
    suffix = "" if found is not None else " (unknown flag)"
    typer.echo(f"{flag}: {'on' if on else 'off'} for {user}{suffix}")
    raise typer.Exit(EXIT_OK if on else EXIT_FAILED)
