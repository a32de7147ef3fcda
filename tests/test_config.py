"""Layered configuration: precedence, environment, deprecated keys, errors, show and migrate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pg_server import invoke, isolated_env

from codeai_lang.platform.config import KEYS, ConfigError, load_config, migrate_config, migrate_config_text
from codeai_lang.platform.dbmigrate.target import target_from_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def layers(tmp_path: Path) -> list[Path]:
    """System, home and working-directory files (in tmp, never the real ones), lowest first."""
    system, home, cwd = tmp_path / "etc.yaml", tmp_path / "home.yaml", tmp_path / "cwd.yaml"
    system.write_text("database: {host: sys-host, port: 1111, name: sysdb, user: sysuser}\n"
                      "server: {host: sys-server}\nlog: {level: debug}\n")
    home.write_text("database: {port: 2222, name: homedb}\nlog: {format: text}\n")
    cwd.write_text("database: {name: cwddb}\nserver: {port: 9000}\n")
    return [system, home, cwd]


def test_defaults_match_the_spec() -> None:
    cfg = load_config([], env={})
    assert {k: cfg.get(k) for k in ("database.host", "database.port", "database.name", "database.user",
                                    "database.sslmode", "server.host", "server.port", "log.level",
                                    "log.format", "database.driver", "database.path")} == {
        "database.host": "localhost", "database.port": 5432, "database.name": "codeai",
        "database.user": "postgres", "database.sslmode": "disable", "server.host": "localhost",
        "server.port": 8080, "log.level": "info", "log.format": "json", "database.driver": "sqlite",
        "database.path": "./codeai.db"}
    assert set(cfg.sources.values()) == {"default"}


def test_every_layer_overrides_the_one_below(layers: list[Path]) -> None:
    system, home, cwd = layers
    cfg = load_config(layers, env={"CODEAI_DB_USER": "envuser", "CODEAI_DB_HOST": "env-host"},
                      flags={"database.url": (None, "--database-url")})
    assert (cfg.get("server.host"), cfg.sources["server.host"]) == ("sys-server", str(system))
    assert (cfg.get("log.level"), cfg.sources["log.level"]) == ("debug", str(system))
    assert (cfg.get("database.port"), cfg.sources["database.port"]) == (2222, str(home))
    assert (cfg.get("log.format"), cfg.sources["log.format"]) == ("text", str(home))
    assert (cfg.get("database.name"), cfg.sources["database.name"]) == ("cwddb", str(cwd))
    assert (cfg.get("server.port"), cfg.sources["server.port"]) == (9000, str(cwd))
    assert (cfg.get("database.user"), cfg.sources["database.user"]) == ("envuser", "env CODEAI_DB_USER")
    assert (cfg.get("database.host"), cfg.sources["database.host"]) == ("env-host", "env CODEAI_DB_HOST")
    assert cfg.files == [str(p) for p in layers]
    flagged = load_config(layers, env={"CODEAI_DB_URL": "postgresql://e@h/db"},
                          flags={"database.url": ("postgresql://f@h/db", "--database-url")})
    assert (flagged.get("database.url"), flagged.sources["database.url"]) == ("postgresql://f@h/db",
                                                                             "flag --database-url")


def test_config_file_replaces_the_search(layers: list[Path], tmp_path: Path) -> None:
    only = tmp_path / "only.yaml"
    only.write_text("server: {port: 7000}\n")
    cfg = load_config(layers, config_file=only, env={})
    assert cfg.get("server.port") == 7000 and cfg.get("database.name") == "codeai" and cfg.files == [str(only)]
    with pytest.raises(ConfigError, match="missing.yaml: configuration file not found"):
        load_config(layers, config_file=tmp_path / "missing.yaml", env={})


def test_missing_search_files_are_skipped(tmp_path: Path) -> None:
    assert load_config([tmp_path / "a.yaml", tmp_path / "b.yaml"], env={}).files == []


@pytest.mark.parametrize(("var", "key", "raw", "value"), [
    ("CODEAI_DB_HOST", "database.host", "db.internal", "db.internal"),
    ("CODEAI_DB_PORT", "database.port", "6543", 6543),
    ("CODEAI_DB_NAME", "database.name", "prod", "prod"),
    ("CODEAI_DB_USER", "database.user", "app", "app"),
    ("CODEAI_DB_PASSWORD", "database.password", "s3cret", "s3cret"),
    ("CODEAI_DB_SSLMODE", "database.sslmode", "require", "require"),
    ("CODEAI_SERVER_HOST", "server.host", "0.0.0.0", "0.0.0.0"),
    ("CODEAI_SERVER_PORT", "server.port", "9090", 9090),
    ("CODEAI_LOG_LEVEL", "log.level", "DEBUG", "debug"),
    ("CODEAI_LOG_FORMAT", "log.format", "text", "text"),
    ("CODEAI_REDIS_URL", "redis.url", "redis://cache:6379/0", "redis://cache:6379/0"),
    ("CODEAI_JWT_SECRET", "auth.jwt_secret", "k", "k"),
    ("CODEAI_JWKS_URL", "auth.jwks_url", "https://id/jwks.json", "https://id/jwks.json"),
    ("DATABASE_NAME", "database.name", "legacy", "legacy"),
])
def test_environment_variables(tmp_path: Path, var: str, key: str, raw: str, value: object) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(f"{key.split('.')[0]}: {{{key.split('.')[1]}: from-file}}\n" if KEYS[key].kind == "str" else "")
    cfg = load_config([f], env={var: raw})
    assert (cfg.get(key), cfg.sources[key]) == (value, f"env {var}")


def test_codeai_variable_beats_its_legacy_alias() -> None:
    cfg = load_config([], env={"DATABASE_NAME": "legacy", "CODEAI_DB_NAME": "new"})
    assert cfg.get("database.name") == "new"


def test_deprecated_keys_work_with_a_warning_naming_the_new_key(tmp_path: Path) -> None:
    f = tmp_path / "old.yaml"
    f.write_text("db_host: legacy-host\ndb_port: 5433\ndb_name: legacydb\n")
    cfg = load_config([f], env={})
    assert (cfg.get("database.host"), cfg.get("database.port"), cfg.get("database.name")) == (
        "legacy-host", 5433, "legacydb")
    assert cfg.sources["database.port"] == f"{f} (db_port, deprecated)"
    for old, new in (("db_host", "database.host"), ("db_port", "database.port"), ("db_name", "database.name")):
        assert any(f"'{old}' is deprecated, use '{new}'" in w for w in cfg.warnings)
    assert cfg.get("database.driver") == "postgres"  # a database host means PostgreSQL


def test_nested_key_wins_over_deprecated_one_in_the_same_file(tmp_path: Path) -> None:
    f = tmp_path / "both.yaml"
    f.write_text("db_host: old\ndatabase:\n  host: new\n")
    cfg = load_config([f], env={})
    assert cfg.get("database.host") == "new" and any("nested ones win" in w for w in cfg.warnings)


@pytest.mark.parametrize(("text", "label"), [("database:\n  port: abc\n", "database.port"),
                                             ("db_port: five\n", "db_port"),
                                             ("server: {port: 70000}\n", "server.port"),
                                             ("server: {port: [1]}\n", "server.port")])
def test_invalid_port_names_file_key_and_type(tmp_path: Path, text: str, label: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config([f], env={})
    assert str(info.value).startswith(f"{f}: {label}: expected an integer port number (1-65535), got ")


def test_invalid_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="environment variable CODEAI_DB_PORT: database.port: expected an integer"):
        load_config([], env={"CODEAI_DB_PORT": "fifty"})
    with pytest.raises(ConfigError, match="log.level: expected one of debug, info, warn, error"):
        load_config([], env={"CODEAI_LOG_LEVEL": "loud"})


def test_broken_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text("database: [unclosed\n")
    with pytest.raises(ConfigError, match=f"{f}: invalid YAML"):
        load_config([f], env={})
    f.write_text("- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load_config([f], env={})
    f.write_text("database: sqlite\n")
    with pytest.raises(ConfigError, match="database: expected a mapping"):
        load_config([f], env={})


def test_unknown_keys_in_known_sections_warn(tmp_path: Path) -> None:
    f = tmp_path / "typo.yaml"
    f.write_text("database: {hots: x}\nsomething_else: {kept: true}\n")
    cfg = load_config([f], env={})
    assert cfg.warnings == [f"{f}: unknown key 'database.hots' ignored"]


def test_driver_and_target_selection(tmp_path: Path) -> None:
    assert target_from_config(load_config([], env={})).sqlite_path == "./codeai.db"
    pg = target_from_config(load_config([], env={"CODEAI_DB_HOST": "h", "CODEAI_DB_PASSWORD": "pw"}))
    assert pg.driver == "postgres" and pg.params["host"] == "h" and pg.params["password"] == "pw"
    assert "pw" not in pg.describe()
    url = load_config([], env={"CODEAI_DB_HOST": "override"},
                      flags={"database.url": ("postgresql://u:pw@h:1/d", "--database-url")})
    assert target_from_config(url).conninfo == "postgresql://u:pw@h:1/d"
    assert target_from_config(url).params == {}  # the flag outranks the environment
    lite = load_config([], env={}, flags={"database.url": ("sqlite:///tmp/x.db", "--database-url")})
    assert target_from_config(lite).sqlite_path == "/tmp/x.db"
    f = tmp_path / "c.yaml"
    f.write_text("database: {driver: sqlite, host: ignored, path: app.db}\n")
    assert target_from_config(load_config([f], env={})).sqlite_path == "app.db"
    flag_wins = load_config([f], env={}, flags={"database.url": ("postgresql://h/d", "--database-url")})
    assert target_from_config(flag_wins).driver == "postgres"
    assert flag_wins.sources["database.driver"] == "derived from database.url (flag --database-url)"


def test_config_show_json_has_sources_and_masks_secrets(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("database:\n  password: hunter2\n  url: postgresql://app:topsecret@db:5432/codeai\n"
                 "auth:\n  jwt_secret: jwt-secret-value\n")
    result = invoke("config", "show", "--output", "json", config=f,
                    env={"CODEAI_DB_PORT": "6000", "CODEAI_REDIS_URL": "redis://:redispw@cache:6379"})
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["config"]["database"]["password"] == "****"
    assert doc["config"]["database"]["url"] == "postgresql://app:****@db:5432/codeai"
    assert doc["config"]["auth"]["jwt_secret"] == "****"
    assert doc["config"]["redis"]["url"] == "redis://:****@cache:6379"
    assert doc["config"]["database"]["port"] == 6000
    assert doc["sources"]["database.port"] == "env CODEAI_DB_PORT"
    assert doc["sources"]["database.password"] == str(f)
    assert doc["sources"]["server.port"] == "default"
    assert doc["files"] == [str(f)]
    for secret in ("hunter2", "topsecret", "jwt-secret-value", "redispw"):
        assert secret not in result.stdout + result.stderr
    text = invoke("config", "show", config=f)
    assert text.exit_code == 0 and "hunter2" not in text.stdout
    assert any(line.startswith("database.password") and "****" in line and f"({f})" in line
               for line in text.stdout.splitlines())


def test_config_show_reads_home_and_working_directory(tmp_path: Path) -> None:
    """The real search, in a subprocess with HOME and the working directory pointing into tmp."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / ".cai.yaml").write_text("database: {name: from_home, user: home_user}\n")
    (work / "config.yaml").write_text("database: {name: from_cwd}\n")
    env = {k: v for k, v in os.environ.items() if k not in isolated_env()}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), CODEAI_DB_USER="env_user")
    proc = subprocess.run([sys.executable, "-m", "codeai_lang.cli", "config", "show", "-o", "json"], cwd=work,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["config"]["database"]["name"] == "from_cwd"
    assert doc["sources"]["database.name"] == str(work / "config.yaml")
    assert doc["config"]["database"]["user"] == "env_user"


def test_config_show_invalid_port_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("server:\n  port: eighty\n")
    result = invoke("config", "show", config=f)
    assert result.exit_code == 2
    assert f"{f}: server.port: expected an integer port number (1-65535), got 'eighty'" in result.stderr


OLD_LAYOUT = """\
# Production settings for codeai
app_name: billing   # not ours: must survive
# connection
db_host: db.prod.internal  # primary
db_port: 6432
# the database name
db_name: billing
plugins:
  - audit   # keep me
server:
  port: 9000
# end of file
"""


def test_migrate_config_text_keeps_comments_and_unrelated_keys() -> None:
    new = migrate_config_text(OLD_LAYOUT)
    for kept in ("# Production settings for codeai", "app_name: billing   # not ours: must survive",
                 "# connection", "# primary", "# the database name", "- audit   # keep me",
                 "# end of file", "port: 9000"):
        assert kept in new
    assert "db_host" not in new and "db_port" not in new and "db_name" not in new
    assert "database:\n  host: db.prod.internal" in new


def test_migrated_config_loads_the_same_values_without_warnings(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(OLD_LAYOUT)
    new.write_text(migrate_config_text(OLD_LAYOUT))
    before, after = load_config([old], env={}), load_config([new], env={})
    assert before.values == after.values
    assert before.warnings and not after.warnings
    import yaml

    assert yaml.safe_load(new.read_text())["plugins"] == ["audit"]


def test_migrate_config_existing_database_section_wins() -> None:
    result = migrate_config("database:\n  host: new  # keep\ndb_host: old\ndb_name: x\n")
    assert result.text == "database:\n  host: new  # keep\n  name: x\n"
    assert "db_host dropped: database.host is already set and wins" in result.notes


def test_migrate_config_without_old_keys_is_unchanged() -> None:
    text = "# nothing old\ndatabase: {host: h}\n"
    assert migrate_config(text).changed is False and migrate_config_text(text) == text


def test_config_migrate_command(tmp_path: Path) -> None:
    old = tmp_path / "config.yaml"
    old.write_text(OLD_LAYOUT)
    old.chmod(0o640)
    to_stdout = invoke("config", "migrate", str(old), "-")
    assert to_stdout.exit_code == 0 and "database:" in to_stdout.stdout and old.read_text() == OLD_LAYOUT
    separate = invoke("config", "migrate", str(old), str(tmp_path / "new.yaml"))
    assert separate.exit_code == 0 and (tmp_path / "new.yaml").read_text() == migrate_config_text(OLD_LAYOUT)
    in_place = invoke("config", "migrate", str(old))
    assert in_place.exit_code == 0 and "db_host -> database.host" in in_place.stderr
    assert old.read_text() == migrate_config_text(OLD_LAYOUT) and old.stat().st_mode & 0o777 == 0o640
    missing = invoke("config", "migrate", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
