"""Issue 12 items 1–2: unsupported database URLs are refused; every password form is masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_codeai

from codeai_lang.platform.config import MASK, load_config, mask_any_url, mask_secrets
from codeai_lang.platform.dbmigrate.target import target_from_config

SECRET = "S3cr3t-pw"
# (form, value): every way a password reaches us. 127.0.0.1:1 refuses at once, so connecting fails fast.
PASSWORD_FORMS = [
    ("userinfo", f"postgresql://alice:{SECRET}@127.0.0.1:1/db?connect_timeout=2"),
    ("query", f"postgresql://127.0.0.1:1/db?user=alice&password={SECRET}&connect_timeout=2"),
    ("keyvalue", f"host=127.0.0.1 port=1 user=alice password={SECRET} connect_timeout=2"),
    ("keyvalue-quoted", f"host=127.0.0.1 port=1 password='{SECRET} with space' connect_timeout=2"),
]


@pytest.mark.parametrize("url", ["mysql://u:pw@host/db", "mssql://host/db", "redis://h:6379/0",
                                 "codeai.db", "http://example.com/db"])
def test_unsupported_url_is_refused_and_nothing_is_created(tmp_path: Path, url: str) -> None:
    proc = run_codeai("migrate", "up", "--database-url", url, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "unsupported database URL" in proc.stderr
    for form in ("postgresql://", "key=value", "sqlite:"):
        assert form in proc.stderr  # the message names the supported forms
    assert ":pw@" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no ./codeai.db migrated instead


def test_unsupported_url_from_environment_is_refused(tmp_path: Path) -> None:
    proc = run_codeai("migrate", "status", cwd=tmp_path, env={"DATABASE_URL": "mysql://u:pw@h/db"}, timeout=60)
    assert proc.returncode == 2 and "environment variable DATABASE_URL" in proc.stderr
    assert not (tmp_path / "codeai.db").exists()


def test_malformed_keyvalue_string_is_refused_without_leaking(tmp_path: Path) -> None:
    # libpq would say 'missing "=" after "ret"', quoting half of the password.
    proc = run_codeai("migrate", "up", "--database-url", "host=h password=Sec4 R3t", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "malformed key=value" in proc.stderr
    assert "Sec4" not in proc.stderr and "R3t" not in proc.stderr
    assert not (tmp_path / "codeai.db").exists()


def test_keyvalue_string_selects_postgres_with_that_conninfo() -> None:
    cfg = load_config([], env={}, flags={"database.url": ("host=db port=6543 dbname=app", "--database-url")})
    target = target_from_config(cfg)
    assert cfg.get("database.driver") == "postgres"
    assert target.driver == "postgres" and target.conninfo == "host=db port=6543 dbname=app"


@pytest.mark.parametrize(("form", "url"), PASSWORD_FORMS)
def test_mask_helpers_hide_every_form(form: str, url: str) -> None:
    assert SECRET not in mask_secrets(url) and MASK in mask_secrets(url)
    assert SECRET not in mask_any_url(url) and MASK in mask_any_url(url)
    assert SECRET not in mask_secrets(f"error while connecting to {url}: refused")


def test_mask_keeps_the_rest_of_a_url_readable() -> None:
    masked = mask_any_url("postgresql://u:pw1@h/db?user=u&password=xyz&sslmode=require")
    assert masked == f"postgresql://u:{MASK}@h/db?user=u&password={MASK}&sslmode=require"


@pytest.mark.parametrize(("form", "url"), PASSWORD_FORMS)
def test_config_show_masks_every_form(tmp_path: Path, form: str, url: str) -> None:
    env = {"CODEAI_DB_PASSWORD": "pw-from-env", "HOME": str(tmp_path)}
    text = run_codeai("config", "show", "--database-url", url, cwd=tmp_path, env=env, timeout=60)
    as_json = run_codeai("config", "show", "-o", "json", "--database-url", url, cwd=tmp_path, env=env, timeout=60)
    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr
    for out in (text.stdout + text.stderr, as_json.stdout + as_json.stderr):
        assert SECRET not in out and "pw-from-env" not in out
    assert MASK in json.loads(as_json.stdout)["config"]["database"]["url"]


@pytest.mark.postgres
@pytest.mark.parametrize(("form", "url"), PASSWORD_FORMS)
def test_connection_errors_mask_every_form(tmp_path: Path, form: str, url: str) -> None:
    for args in (["migrate", "up"], ["migrate", "status", "--output", "json"], ["migrate", "up", "--verbose"]):
        proc = run_codeai(*args, "--database-url", url, cwd=tmp_path, env={"HOME": str(tmp_path)}, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "cannot connect" in proc.stderr
        assert SECRET not in proc.stdout + proc.stderr


def test_config_file_with_bad_url_names_file_and_masks(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(f"database:\n  url: 'mysql://root:{SECRET}@db/app'\n")
    proc = run_codeai("config", "show", "--config", str(f), cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and str(f) in proc.stderr and SECRET not in proc.stderr


@pytest.mark.parametrize(("form", "url"), PASSWORD_FORMS)
def test_target_description_masks_every_form(form: str, url: str) -> None:
    """The label `migrate status` prints (text and JSON) and every connection error uses."""
    cfg = load_config([], env={"CODEAI_DB_PASSWORD": "pw-from-env"},
                      flags={"database.url": (url, "--database-url")})
    described = target_from_config(cfg).describe()
    assert described.startswith("PostgreSQL ") and SECRET not in described and "pw-from-env" not in described


@pytest.mark.postgres
def test_keyvalue_string_migrates_a_real_postgres(tmp_path: Path) -> None:
    from pg_server import get_server
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    url = get_server().create_database()
    keyvalue = make_conninfo("", **{k: str(v) for k, v in conninfo_to_dict(url).items()})
    assert "://" not in keyvalue and "dbname=" in keyvalue
    env = {"HOME": str(tmp_path)}
    up = run_codeai("migrate", "up", "--database-url", keyvalue, cwd=tmp_path, env=env, timeout=120)
    assert up.returncode == 0, up.stderr
    status = run_codeai("migrate", "status", "--database-url", url, cwd=tmp_path, env=env, timeout=120)
    assert status.returncode == 0 and "pending" not in status.stdout and "applied" in status.stdout
    assert not (tmp_path / "codeai.db").exists()
