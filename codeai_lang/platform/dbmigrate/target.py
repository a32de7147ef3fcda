"""Which database to migrate, worked out from the layered configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codeai_lang.platform.config import Config, database_url_kind, mask_any_url

# Connection settings that, when set in a higher layer than database.url, override the URL's part.
_PG_PARAMS = {"database.host": "host", "database.port": "port", "database.name": "dbname",
              "database.user": "user", "database.password": "password", "database.sslmode": "sslmode"}


@dataclass(frozen=True)
class DatabaseTarget:
    driver: str  # "sqlite" or "postgres"
    sqlite_path: str = ""
    conninfo: str = ""  # a postgresql:// URL, possibly empty
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """Where we connect, fit for messages: never shows a password."""
        if self.driver == "sqlite":
            return f"SQLite database {self.sqlite_path}"
        if self.conninfo:
            extra = {k: v for k, v in self.params.items() if k != "password"}
            return f"PostgreSQL {mask_any_url(self.conninfo)}" + (f" {extra}" if extra else "")
        p = self.params
        return f"PostgreSQL {p.get('user')}@{p.get('host')}:{p.get('port')}/{p.get('dbname')}"


def sqlite_path_from_url(url: str) -> str:
    """``sqlite:relative.db``, ``sqlite://relative.db`` and ``sqlite:///abs/path.db`` all work."""
    rest = url.split(":", 1)[1]
    return rest[2:] if rest.startswith("//") else rest


def target_from_config(cfg: Config) -> DatabaseTarget:
    url = str(cfg.get("database.url"))
    if cfg.get("database.driver") == "sqlite":
        if url and url.lower().startswith("sqlite:") and cfg.ranks["database.url"] >= cfg.ranks["database.path"]:
            return DatabaseTarget("sqlite", sqlite_path=sqlite_path_from_url(url))
        return DatabaseTarget("sqlite", sqlite_path=str(cfg.get("database.path")))
    if url and database_url_kind(url) in ("postgres", "conninfo"):
        url_rank = cfg.ranks["database.url"]
        overrides = {p: cfg.get(k) for k, p in _PG_PARAMS.items() if cfg.ranks[k] > url_rank}
        return DatabaseTarget("postgres", conninfo=url, params=overrides)
    params = {p: cfg.get(k) for k, p in _PG_PARAMS.items()}
    if not params["password"]:
        del params["password"]
    return DatabaseTarget("postgres", params=params)
