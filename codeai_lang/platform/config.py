"""Layered configuration for the codeai toolchain.

Sources, lowest to highest precedence: ``/etc/codeai/config.yaml``, ``$HOME/.cai.yaml``,
``./config.yaml``, ``CODEAI_*`` environment variables, then command-line flags; ``--config FILE``
replaces the three-file search. Every effective value remembers where it came from, because with
five layers the question people ask is not "what is the value" but "why is it that value".

The loader takes its file list, environment and flags as arguments so tests (and embedders) never
read the real ``/etc`` or ``$HOME``; :func:`default_search_paths` supplies the real ones.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

SYSTEM_CONFIG = Path("/etc/codeai/config.yaml")
MASK = "****"


class ConfigError(Exception):
    """A configuration source is unreadable or holds a value of the wrong type."""


class ConfigUnreadable(ConfigError):
    """A configuration file exists (or may) but cannot be read: skipped unless asked for by name."""


@dataclass(frozen=True)
class Key:
    """One known setting: its dotted name, type, default and how it is fed from the environment."""

    name: str
    default: str | int | bool
    kind: str = "str"  # "str", "port", "choice", "dburl", "int" (>= 0), "bool" or "duration" (30s, 5m, 1h)
    choices: tuple[str, ...] = ()
    secret: bool = False
    url: bool = False  # a URL whose password part is a secret
    env: tuple[str, ...] = ()  # environment variables, highest precedence first

    def expected(self) -> str:
        if self.kind == "port":
            return "an integer port number (1-65535)"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "dburl":
            return SUPPORTED_DB_URLS
        if self.kind == "int":
            return "a non-negative integer"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "duration":
            return "a duration (e.g. 30s, 5m, 1h)"
        return "a string"


_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
KEYS: dict[str, Key] = {k.name: k for k in (
    Key("database.driver", "sqlite", "choice", ("sqlite", "postgres"), env=("CODEAI_DB_DRIVER",)),
    Key("database.path", "./codeai.db", env=("CODEAI_DB_PATH",)),
    Key("database.url", "", "dburl", secret=True, url=True, env=("CODEAI_DB_URL", "DATABASE_URL")),
    Key("database.host", "localhost", env=("CODEAI_DB_HOST",)),
    Key("database.port", 5432, "port", env=("CODEAI_DB_PORT",)),
    Key("database.name", "codeai", env=("CODEAI_DB_NAME", "DATABASE_NAME")),
    Key("database.user", "postgres", env=("CODEAI_DB_USER",)),
    Key("database.password", "", secret=True, env=("CODEAI_DB_PASSWORD",)),
    Key("database.sslmode", "disable", "choice", _SSLMODES, env=("CODEAI_DB_SSLMODE",)),
    Key("server.host", "localhost", env=("CODEAI_SERVER_HOST",)),
    Key("server.port", 8080, "port", env=("CODEAI_SERVER_PORT",)),
    Key("server.shutdown_timeout", "30s", "duration", env=("CODEAI_SERVER_SHUTDOWN_TIMEOUT",)),
    Key("server.max_body", 1_048_576, "int", env=("CODEAI_SERVER_MAX_BODY",)),
    Key("server.public_reads", False, "bool", env=("CODEAI_SERVER_PUBLIC_READS",)),
    Key("server.db_pool_size", 10, "int", env=("CODEAI_SERVER_DB_POOL_SIZE",)),
    Key("server.workers", 1, "int", env=("CODEAI_SERVER_WORKERS",)),
    Key("log.level", "info", "choice", ("debug", "info", "warn", "error"), env=("CODEAI_LOG_LEVEL",)),
    Key("log.format", "json", "choice", ("json", "text"), env=("CODEAI_LOG_FORMAT",)),
    Key("redis.url", "", url=True, env=("CODEAI_REDIS_URL",)),
    Key("auth.jwt_secret", "", secret=True, env=("CODEAI_JWT_SECRET",)),
    Key("auth.jwks_url", "", env=("CODEAI_JWKS_URL",)),
    Key("features.file", "config/features.yaml", env=("CODEAI_FEATURES_FILE",)),
)}
SECTIONS = frozenset(name.split(".")[0] for name in KEYS)
DEPRECATED = {"db_host": "database.host", "db_port": "database.port", "db_name": "database.name"}
# Settings whose presence (from any source but the defaults) means "talk to PostgreSQL".
_PG_KEYS = ("database.host", "database.port", "database.name", "database.user",
            "database.password", "database.sslmode")

RANK_DEFAULT, RANK_ENV, RANK_FLAG = 0, 100, 200


@dataclass
class Config:
    """The effective configuration: values by dotted key, and where each one came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    ranks: dict[str, int]
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def get(self, key: str) -> Any:
        return self.values[key]

    def masked(self, key: str) -> Any:
        """The value as it may be shown to people: secrets replaced, URL passwords hidden."""
        value = self.values[key]
        spec = KEYS[key]
        if spec.url and value:
            return mask_any_url(str(value), self.secrets())
        if spec.secret and value:
            return MASK
        return value

    def secrets(self) -> list[str]:
        """Every secret value in effect, so messages can be scrubbed of them wherever they appear."""
        found = [str(self.values[k]) for k, s in KEYS.items() if s.secret and not s.url and self.values[k]]
        for key, spec in KEYS.items():
            if spec.url and self.values[key]:
                found += url_secrets(str(self.values[key]))
        return found

    def as_json(self) -> dict[str, Any]:
        nested: dict[str, dict[str, Any]] = {}
        for key in KEYS:
            section, name = key.split(".", 1)
            nested.setdefault(section, {})[name] = self.masked(key)
        return {"config": nested, "sources": dict(self.sources), "files": list(self.files),
                "warnings": list(self.warnings)}


SUPPORTED_DB_URLS = ("a postgresql:// or postgres:// URL (postgresql://user@host:5432/dbname), "
                     "a libpq key=value string (such as host=db.example port=5432 dbname=codeai), "
                     "or sqlite:PATH / sqlite:///ABSOLUTE/PATH")
# `password=…` inside free text: a quoted libpq value, else everything up to white space but for
# a final punctuation mark of the sentence (masking too much is harmless, too little is a leak).
_PASSWORD_PARAM = re.compile(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*?(?=[:,;)]?(?:\s|$)))")
# `scheme://user:secret@host` inside free text (the last `@` of the token ends the secret).
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)(\S*)@")


def database_url_kind(url: str) -> str:
    """``"sqlite"``, ``"postgres"`` (a URL) or ``"conninfo"`` (libpq key=value); ``""`` if unsupported."""
    scheme, sep, _ = url.partition(":")
    if sep and scheme.lower() == "sqlite":
        return "sqlite"
    if sep and scheme.lower() in ("postgres", "postgresql") and url[len(scheme):].startswith("://"):
        return "postgres"
    if "://" not in url and re.match(r"\s*[A-Za-z_]+\s*=", url):
        return "conninfo"
    return ""


def check_database_url(url: str, origin: str, label: str) -> str:
    """Refuse what we cannot connect to, so a typo never migrates ``./codeai.db`` instead."""
    kind = database_url_kind(url)
    if not kind:
        raise ConfigError(f"{origin}: {label}: unsupported database URL {mask_secrets(url)!r}; "
                          f"expected {SUPPORTED_DB_URLS}")
    if kind == "conninfo":
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(url)
        except ProgrammingError as exc:
            # libpq's own message may quote a fragment of the password: name only the rule.
            # The value is not quoted either: where a password ends cannot be known.
            raise ConfigError(f"{origin}: {label}: malformed key=value connection string "
                              "(not shown, it may hold a password): write key=value pairs separated "
                              "by spaces, quote values containing spaces in single quotes") from exc
    return url


def mask_url(url: str) -> str:
    """Hide the password of ``scheme://user:password@host/...`` and of ``?password=…``."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        netloc = f"{parts.username or ''}:{MASK}@" + netloc.rsplit("@", 1)[1]
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k.lower() == "password" for k, _ in pairs):
        query = urlencode([(k, MASK if k.lower() == "password" else v) for k, v in pairs], safe="*/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_any_url(url: str, secrets: Sequence[str] = ()) -> str:
    """Mask a URL or key=value string exactly (keeping the other parts readable)."""
    if "://" in url:
        masked = mask_url(url)
        for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
            masked = masked.replace(secret, MASK)
        return masked
    return mask_secrets(url, secrets)


def mask_secrets(text: str, secrets: Sequence[str] = ()) -> str:
    """Hide every password form in free text: URL userinfo, ``?password=``, key=value ``password=``.

    ``secrets`` are known secret values (from the configuration), hidden wherever they appear,
    e.g. inside a driver's error message that quotes part of a connection string.
    """
    for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return _PASSWORD_PARAM.sub(lambda m: m.group(1) + MASK, text)


def url_secrets(url: str) -> list[str]:
    """The password values a database URL or key=value string carries (for :func:`mask_secrets`)."""
    found: list[str] = []
    kind = database_url_kind(url)
    if kind == "conninfo":
        from psycopg.conninfo import conninfo_to_dict

        with contextlib.suppress(Exception):  # malformed: the regexes mask it
            found.append(str(conninfo_to_dict(url).get("password") or ""))
    elif "://" in url:
        with contextlib.suppress(Exception):  # malformed: the regexes mask it
            parts = urlsplit(url)
            found.append(parts.password or "")
            found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
    return [s for s in found if s]


def default_search_paths(home: Path | None = None, cwd: Path | None = None) -> list[Path]:
    """The three files searched when ``--config`` is not given, lowest precedence first."""
    home = home if home is not None else Path.home()
    cwd = cwd if cwd is not None else Path.cwd()
    return [SYSTEM_CONFIG, home / ".cai.yaml", cwd / "config.yaml"]


def convert(spec: Key, raw: object, origin: str, label: str | None = None) -> str | int:
    """Check and convert one raw value; the error names the source, the key and the expected type."""
    label = label or spec.name
    if isinstance(raw, (dict, list)) or isinstance(raw, bool) and spec.kind not in ("str", "bool"):
        shown = MASK if spec.secret and not spec.url else mask_secrets(repr(raw))
        raise ConfigError(f"{origin}: {label}: expected {spec.expected()}, got {shown}")
    if spec.kind in ("int", "bool", "duration"):
        return _convert_scalar(spec, raw, origin, label)
    if spec.kind == "port":
        text = str(raw).strip()
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise ConfigError(f"{origin}: {label}: expected {spec.expected()}, got {raw!r}")
        return int(text)
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    if spec.kind == "dburl" and text:
        return check_database_url(text, origin, label)
    if spec.kind == "choice" and text.lower() not in spec.choices:
        raise ConfigError(f"{origin}: {label}: expected {spec.expected()}, got {raw!r}")
    return text.lower() if spec.kind == "choice" else text


_BOOLS = {"true": True, "yes": True, "on": True, "1": True,
          "false": False, "no": False, "off": False, "0": False}


def _convert_scalar(spec: Key, raw: object, origin: str, label: str) -> Any:
    """int / bool / duration values; a duration stays text (its parser lives with its user)."""
    text = str(raw).strip().lower()
    if spec.kind == "int" and text.isdigit():
        return int(text)
    if spec.kind == "bool" and text in _BOOLS:
        return _BOOLS[text]
    if spec.kind == "duration" and _is_duration(text):
        return text
    raise ConfigError(f"{origin}: {label}: expected {spec.expected()}, got {raw!r}")


def _is_duration(text: str) -> bool:
    from codeai_lang.platform.dbmigrate.timing import parse_duration

    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


def read_file_layer(path: Path, warnings: list[str]) -> dict[str, tuple[Any, str]]:
    """Values of one YAML file, keyed by dotted name, each with its source label."""
    data = _load_yaml(path)
    origin = str(path)
    found: dict[str, tuple[Any, str]] = {}
    for old, new in DEPRECATED.items():
        if old in data and data[old] is not None:
            warnings.append(f"{origin}: '{old}' is deprecated, use '{new}' instead "
                            "(it will be removed in the next major version; `codeai config migrate` rewrites it)")
            found[new] = (convert(KEYS[new], data[old], origin, old), f"{origin} ({old}, deprecated)")
    for section in SECTIONS & data.keys():
        found.update(_read_section(data, section, origin, warnings))
    return found


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigUnreadable(f"{path}: cannot read configuration: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _read_section(data: dict[str, Any], section: str, origin: str,
                  warnings: list[str]) -> dict[str, tuple[Any, str]]:
    body = data[section]
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ConfigError(f"{origin}: {section}: expected a mapping, got {body!r}")
    found: dict[str, tuple[Any, str]] = {}
    for name, raw in body.items():
        key = f"{section}.{name}"
        if key not in KEYS:
            warnings.append(f"{origin}: unknown key '{key}' ignored")
        elif raw is not None:
            found[key] = (convert(KEYS[key], raw, origin), origin)
    if any(DEPRECATED[old] in found for old in DEPRECATED if old in data):
        warnings.append(f"{origin}: both deprecated and nested database keys are set; the nested ones win")
    return found


def read_env_layer(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    found: dict[str, tuple[Any, str]] = {}
    for key, spec in KEYS.items():
        for var in spec.env:
            if env.get(var, "") != "":
                origin = f"env {var}"
                found[key] = (convert(spec, env[var], f"environment variable {var}"), origin)
                break
    return found


def read_flag_layer(flags: Mapping[str, tuple[object, str]]) -> dict[str, tuple[Any, str]]:
    """Flags arrive as ``{dotted key: (value, "--flag-name")}``; unset flags are simply absent."""
    found: dict[str, tuple[Any, str]] = {}
    for key, (raw, flag) in flags.items():
        if raw is not None:
            found[key] = (convert(KEYS[key], raw, f"flag {flag}"), f"flag {flag}")
    return found


def load_config(search_paths: Sequence[Path] | None = None, *, config_file: Path | None = None,
                env: Mapping[str, str] | None = None,
                flags: Mapping[str, tuple[object, str]] | None = None) -> Config:
    """Merge defaults, files, environment and flags into one :class:`Config`.

    Missing files in the search are skipped; a ``config_file`` that is missing is an error,
    because the user asked for that file by name.
    """
    cfg = Config({k: s.default for k, s in KEYS.items()}, dict.fromkeys(KEYS, "default"),
                 dict.fromkeys(KEYS, RANK_DEFAULT))
    if config_file is not None:
        if not _exists(config_file, None):
            raise ConfigError(f"{config_file}: configuration file not found")
        files = [config_file]
    else:
        searched = search_paths if search_paths is not None else _search_paths(cfg.warnings)
        files = [p for p in searched if _exists(p, cfg.warnings)]
    for rank, path in enumerate(files, start=1):
        try:
            layer = read_file_layer(path, cfg.warnings)
        except ConfigUnreadable as exc:
            if config_file is not None:
                raise  # asked for by name: an error (exit 2)
            cfg.warnings.append(f"{exc}; this layer is skipped")
            continue
        cfg.files.append(str(path))
        _apply(cfg, layer, rank)
    _apply(cfg, read_env_layer(env if env is not None else os.environ), RANK_ENV)
    _apply(cfg, read_flag_layer(flags or {}), RANK_FLAG)
    _derive_driver(cfg)
    return cfg


def _search_paths(warnings: list[str]) -> list[Path]:
    """The default search; a home directory that cannot be determined drops that layer."""
    try:
        return default_search_paths()
    except (OSError, RuntimeError, KeyError) as exc:  # Path.home() with no HOME and no passwd entry
        warnings.append(f"cannot determine the home directory ({exc}); ~/.cai.yaml is skipped")
        return [SYSTEM_CONFIG, Path.cwd() / "config.yaml"]


def _exists(path: Path, warnings: list[str] | None) -> bool:
    """Is `path` a file to read? A search path that cannot even be looked at (an unreadable or
    odd $HOME) is skipped with a warning; a --config path (`warnings` None) is an error."""
    try:
        return path.is_file()
    except OSError as exc:
        if warnings is None:
            raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from exc
        warnings.append(f"{path}: cannot read configuration: {exc.strerror or exc}; this layer is skipped")
        return False


def _apply(cfg: Config, layer: dict[str, tuple[Any, str]], rank: int) -> None:
    for key, (value, source) in layer.items():
        cfg.values[key], cfg.sources[key], cfg.ranks[key] = value, source, rank


def _derive_driver(cfg: Config) -> None:
    """Without an explicit driver, any PostgreSQL setting (or a postgres URL) selects PostgreSQL.

    A URL from a higher layer than an explicit driver wins too: `--database-url` must not be
    ignored because ``~/.cai.yaml`` says ``driver: sqlite``.
    """
    url = str(cfg.values["database.url"])
    if cfg.ranks["database.driver"] >= max(cfg.ranks["database.url"], RANK_DEFAULT + 1):
        return
    if url:
        driver = "sqlite" if database_url_kind(url) == "sqlite" else "postgres"
        cfg.values["database.driver"] = driver
        cfg.sources["database.driver"] = f"derived from database.url ({cfg.sources['database.url']})"
        return
    for key in _PG_KEYS:
        if cfg.ranks[key] != RANK_DEFAULT:
            cfg.values["database.driver"] = "postgres"
            cfg.sources["database.driver"] = f"derived from {key} ({cfg.sources[key]})"
            return


# --- `codeai config migrate`: old flat layout -> nested layout, comments kept -------------------

@dataclass
class ConfigMigration:
    text: str
    changed: bool
    notes: list[str]


def migrate_config_text(old: str) -> str:
    """Rewrite top-level ``db_host``/``db_port``/``db_name`` into a nested ``database`` mapping."""
    return migrate_config(old).text


def migrate_config(old: str) -> ConfigMigration:
    """Round-trip the document with ruamel.yaml so comments, order and unrelated keys survive."""
    yml = YAML()
    yml.preserve_quotes = True
    try:
        doc = yml.load(old)
        _, _, seq_offset = load_yaml_guess_indent(old)
    except Exception as exc:  # ruamel raises several unrelated error classes
        raise ConfigError(f"invalid YAML: {exc}") from exc
    offset = seq_offset or 0
    yml.indent(mapping=_mapping_indent(old), sequence=offset + 2, offset=offset)
    if not isinstance(doc, CommentedMap):
        return ConfigMigration(old, False, ["nothing to migrate: the document is not a mapping"])
    present = [k for k in doc if k in DEPRECATED]
    if not present:
        return ConfigMigration(old, False, ["nothing to migrate: no deprecated keys"])
    notes = _move_deprecated(doc, present)
    out = io.StringIO()
    yml.dump(doc, out)
    return ConfigMigration(out.getvalue(), True, notes)


def _mapping_indent(text: str) -> int:
    """The file's own nesting width (ruamel re-indents to its default otherwise)."""
    widths = [len(line) - len(line.lstrip(" ")) for line in text.splitlines()
              if line.startswith(" ") and line.strip() and not line.lstrip().startswith(("-", "#"))]
    return min(widths, default=2)


def _move_deprecated(doc: CommentedMap, present: list[str]) -> list[str]:
    order = list(doc.keys())
    target = doc.get("database")
    if target is not None and not isinstance(target, CommentedMap):
        raise ConfigError(f"'database' is {target!r}, not a mapping; cannot move {', '.join(present)} into it")
    notes: list[str] = []
    created = target is None
    database: CommentedMap = CommentedMap() if target is None else target
    moved: list[str] = []
    for old in present:
        name = DEPRECATED[old].split(".", 1)[1]
        if name in database:
            notes.append(f"{old} dropped: database.{name} is already set and wins")
        else:
            database[name] = doc[old]
            moved.append(old)
            notes.append(f"{old} -> database.{name}")
    trailing = _detach_comments(doc, present, moved, database)
    for old in present:
        del doc[old]
    if created:
        doc.insert(order.index(present[0]), "database", database)
    for after, text in trailing:
        _append_comment(doc, _key_before(doc, after), text)
    return notes


def _detach_comments(doc: CommentedMap, present: list[str], moved: list[str],
                     database: CommentedMap) -> list[tuple[str | None, str]]:
    """Move each old key's end-of-line comment with it; keep full-line comments where they were.

    ruamel stores the comment lines that follow a key on that key, so a comment that introduces
    the *next* top-level key must stay in front of that key rather than travel into ``database``.
    """
    order = list(doc.keys())
    trailing: list[tuple[str | None, str]] = []
    for old in present:
        token = doc.ca.items.get(old, [None, None, None, None])[2]
        if token is None:
            continue
        eol, _, rest = token.value.partition("\n")
        nxt = order.index(old) + 1
        follows_moved = nxt < len(order) and order[nxt] in moved and old in moved
        if old in moved:
            name = DEPRECATED[old].split(".", 1)[1]
            body = eol + "\n" + (_indent(rest, 2) if follows_moved else "")
            if body.strip():
                database.ca.items[name] = [None, None, CommentToken(body, CommentMark(token.column or 0)), None]
        if rest and not follows_moved:
            trailing.append((order[nxt] if nxt < len(order) else None, rest))
    return trailing


def _indent(text: str, width: int) -> str:
    return "".join(" " * width + line if line.strip() else line for line in text.splitlines(True))


def _key_before(doc: CommentedMap, key: str | None) -> Any:
    keys = list(doc.keys())
    idx = keys.index(key) if key is not None and key in keys else len(keys)
    return keys[idx - 1] if idx > 0 else None


def _append_comment(container: Any, key: Any, text: str) -> None:
    """Attach full-line comments after ``container[key]``, descending into nested collections."""
    if key is None:
        container.ca.comment = container.ca.comment or [None, []]
        container.ca.comment[1] = (container.ca.comment[1] or []) + [CommentToken(text, CommentMark(0))]
        return
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
        last = list(value.keys())[-1] if isinstance(value, CommentedMap) else len(value) - 1
        _append_comment(value, last, text)
        return
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    slot = 2 if isinstance(container, CommentedMap) else 0
    token = entry[slot]
    if token is None:
        entry[slot] = CommentToken("\n" + text, CommentMark(0))
    else:
        token.value = token.value + text if token.value.endswith("\n") else token.value + "\n" + text
