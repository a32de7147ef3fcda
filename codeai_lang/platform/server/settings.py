"""The server's settings: the layered configuration plus the ``api.versions`` policy.

``api.versions`` is a mapping per version, which the flat key table of :mod:`config` does not
model, so it is read here from the same files, in the same precedence (a later file's entry for a
version replaces an earlier one's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml

from codeai_lang.platform.config import Config, ConfigError
from codeai_lang.platform.dbmigrate.target import DatabaseTarget, target_from_config
from codeai_lang.platform.dbmigrate.timing import parse_duration
from codeai_lang.platform.server.cache import check_redis_url

API_VERSIONS = ("v1", "v2")
VERSION_STATUSES = ("current", "supported", "deprecated")


@dataclass(frozen=True)
class VersionPolicy:
    name: str
    status: str = "current"
    sunset: datetime | None = None
    successor: str | None = None

    def sunset_http_date(self) -> str | None:
        """RFC 8594 wants an HTTP-date (IMF-fixdate): ``Sat, 01 Jan 2027 00:00:00 GMT``."""
        return format_datetime(self.sunset, usegmt=True) if self.sunset else None

    def gone(self, at: datetime) -> bool:
        return self.sunset is not None and at >= self.sunset

    def as_json(self) -> dict[str, Any]:
        return {"version": self.name, "status": self.status,
                "sunset": self.sunset.strftime("%Y-%m-%dT%H:%M:%SZ") if self.sunset else None,
                "successor": self.successor, "base_path": f"/api/{self.name}"}


DEFAULT_VERSIONS = {"v1": VersionPolicy("v1", "supported", None, "v2"), "v2": VersionPolicy("v2", "current")}


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    target: DatabaseTarget
    shutdown_timeout: float = 30.0
    max_body: int = 1_048_576
    public_reads: bool = False
    jwt_secret: str = ""
    jwks_url: str = ""
    redis_url: str = ""
    features_file: Path = Path("config/features.yaml")
    log_format: str = "json"
    log_level: str = "info"
    pool_size: int = 10
    workers: int = 1
    versions: dict[str, VersionPolicy] = field(default_factory=lambda: dict(DEFAULT_VERSIONS))


def settings_from_config(cfg: Config) -> ServerSettings:
    return ServerSettings(
        host=str(cfg.get("server.host")), port=int(cfg.get("server.port")), target=target_from_config(cfg),
        shutdown_timeout=parse_duration(str(cfg.get("server.shutdown_timeout"))),
        max_body=int(cfg.get("server.max_body")), public_reads=bool(cfg.get("server.public_reads")),
        jwt_secret=str(cfg.get("auth.jwt_secret")), jwks_url=str(cfg.get("auth.jwks_url")),
        redis_url=check_redis_url(str(cfg.get("redis.url"))), features_file=Path(str(cfg.get("features.file"))),
        log_format=str(cfg.get("log.format")), log_level=str(cfg.get("log.level")),
        pool_size=max(1, int(cfg.get("server.db_pool_size"))), workers=max(1, int(cfg.get("server.workers"))),
        versions=read_versions(cfg.files))


def read_versions(files: list[str]) -> dict[str, VersionPolicy]:
    versions = dict(DEFAULT_VERSIONS)
    for path in files:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        api = data.get("api") if isinstance(data, dict) else None
        if api is None:
            continue
        body = api.get("versions") if isinstance(api, dict) else None
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: api.versions: expected a mapping of versions, got {body!r}")
        for name, spec in body.items():
            versions[str(name)] = _policy(str(name), spec, path)
    for policy in versions.values():
        if policy.successor is not None and policy.successor not in versions:
            raise ConfigError(f"api.versions.{policy.name}.successor: unknown version {policy.successor!r}")
    return versions


def _policy(name: str, spec: object, path: str) -> VersionPolicy:
    where = f"{path}: api.versions.{name}"
    if name not in API_VERSIONS:
        raise ConfigError(f"{where}: unknown API version (this server has {', '.join(API_VERSIONS)})")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping with status, sunset, successor")
    status = str(spec.get("status", "current"))
    if status not in VERSION_STATUSES:
        raise ConfigError(f"{where}.status: expected one of {', '.join(VERSION_STATUSES)}, got {status!r}")
    sunset = _instant(spec.get("sunset"), f"{where}.sunset")
    successor = spec.get("successor")
    return VersionPolicy(name, status, sunset, str(successor) if successor else None)


def _instant(raw: object, where: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):  # YAML parses unquoted timestamps itself
        value = raw
    else:
        try:
            value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(f"{where}: expected an RFC 3339 instant like 2027-01-01T00:00:00Z, "
                              f"got {raw!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
