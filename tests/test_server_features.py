"""Feature flags: stable bucketing, hot reload, `codeai features`, the HTTP endpoint, the dsl_2_1 gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from server_proc import auth, clean_env, migrate_up, running_server, write_config

from codeai_lang.platform.server import configs
from codeai_lang.platform.server.errors import ApiError
from codeai_lang.platform.server.features import FeatureFlags, Flag, bucket, parse_flags
from codeai_lang.syntax.registry import default_registry

FLAGS = """features:
  dsl_2_1:
    enabled: true
    rollout_percentage: 10
    allowed_users: ["alice", "bob"]
  async_execution:
    enabled: false
"""
USERS = [f"user-{i}" for i in range(5000)]


def test_bucket_is_a_fixed_function_of_flag_and_user() -> None:
    # Pinned values: a change of hash would silently move users between cohorts on upgrade.
    assert (bucket("dsl_2_1", "alice"), bucket("dsl_2_1", "bob"), bucket("async_execution", "alice")) == \
        (5624, 2355, 1284)
    code = "from codeai_lang.platform.server.features import bucket; print(bucket('dsl_2_1', 'carol'))"
    other = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")]
    assert other == [str(bucket("dsl_2_1", "carol"))] * 2


def test_rollout_share_and_raising_it_keeps_the_first_cohort() -> None:
    ten = {u for u in USERS if Flag("f", True, 10).is_enabled(u)}
    twenty = {u for u in USERS if Flag("f", True, 20).is_enabled(u)}
    assert ten < twenty
    assert 0.08 < len(ten) / len(USERS) < 0.12 and 0.17 < len(twenty) / len(USERS) < 0.23
    other_flag = {u for u in USERS if Flag("g", True, 10).is_enabled(u)}
    assert other_flag != ten  # bucketing is per flag, not one global cohort


def test_allowed_users_disabled_and_unknown_flags() -> None:
    flags = parse_flags(FLAGS, "features.yaml")
    assert flags["dsl_2_1"].is_enabled("alice") and flags["dsl_2_1"].is_enabled("bob")
    assert not flags["async_execution"].is_enabled("alice")
    assert not flags["dsl_2_1"].is_enabled(None)
    assert Flag("all", True).is_enabled("anyone") and not Flag("none", True, 0).is_enabled("anyone")


def test_malformed_files_name_the_key() -> None:
    for text, where in (("features: [1]", "expected a mapping"),
                        ("features:\n  x:\n    enabled: maybe\n", "features.x.enabled"),
                        ("features:\n  x:\n    enabled: true\n    rollout_percentage: 120\n",
                         "features.x.rollout_percentage"),
                        ("features: {x: {enabled: true", "invalid YAML")):
        with pytest.raises(ValueError, match=where.replace(".", r"\.").replace("[", r"\[")):
            parse_flags(text, "f.yaml")


def test_hot_reload_keeps_the_last_good_flags_on_a_bad_edit(tmp_path: Path) -> None:
    path = tmp_path / "features.yaml"
    path.write_text(FLAGS)
    flags = FeatureFlags(path, interval=0)
    assert not flags.is_enabled("async_execution", "zed")
    path.write_text(FLAGS.replace("enabled: false", "enabled: true"))
    assert flags.is_enabled("async_execution", "zed")
    path.write_text("features: {broken")
    assert flags.is_enabled("async_execution", "zed") and "invalid YAML" in (flags.error or "")
    path.unlink()
    assert flags.current() == {}  # the file was removed on purpose: no flags


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeai_lang.cli", "features", *args], capture_output=True,
                          text=True, env=clean_env(), timeout=120)


def test_features_cli(tmp_path: Path) -> None:
    path = tmp_path / "features.yaml"
    path.write_text(FLAGS)
    listed = _cli("list", "--file", str(path), "--user", "alice", "--output", "json")
    assert listed.returncode == 0
    doc = json.loads(listed.stdout)
    assert doc["features"]["dsl_2_1"] == {"enabled": True, "rollout_percentage": 10.0,
                                          "allowed_users": ["alice", "bob"], "value": True}
    text = _cli("list", "--file", str(path))
    assert text.returncode == 0 and "dsl_2_1" in text.stdout and "rollout 10%" in text.stdout
    assert _cli("check", "dsl_2_1", "--user", "alice", "--file", str(path)).returncode == 0
    off = _cli("check", "async_execution", "--user", "alice", "--file", str(path))
    assert off.returncode == 1 and "off for alice" in off.stdout
    assert _cli("check", "nope", "--user", "alice", "--file", str(path)).returncode == 1
    path.write_text("features: [oops]")
    bad = _cli("list", "--file", str(path))
    assert bad.returncode == 2 and "expected a mapping" in bad.stderr


def test_features_endpoint_hot_reloads(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'f.db'}"
    migrate_up(url)
    (tmp_path / "features.yaml").write_text(FLAGS)
    with running_server(write_config(tmp_path, url)) as proc:
        got = httpx.get(proc.url + "/api/v1/features", params={"user": "alice"}, headers=auth(), timeout=30)
        assert got.json()["flags"] == {"async_execution": False, "dsl_2_1": True}
        (tmp_path / "features.yaml").write_text(FLAGS.replace("enabled: false", "enabled: true"))
        deadline = time.monotonic() + 30
        while httpx.get(proc.url + "/api/v1/features", params={"user": "alice"}, headers=auth(),
                        timeout=30).json()["flags"]["async_execution"] is not True:
            assert time.monotonic() < deadline, "the flags file change was not picked up"
            time.sleep(0.1)  # polling interval against a deadline
        (tmp_path / "features.yaml").write_text("features: {broken")
        proc.wait_for(lambda e: e.get("msg", "").startswith("feature flags file is malformed"))
        still = httpx.get(proc.url + "/api/v1/features", params={"user": "alice"}, headers=auth(), timeout=30)
        assert still.json()["flags"]["async_execution"] is True


class _FakeDoc:
    def __init__(self, version: str, source: str) -> None:
        self.version, self.version_source = version, source


def test_dsl_2_1_gate_logic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The gate reads the resolved DSL version (declared 2.1 → 422 naming the flag; inferred 2.1 →
    validated as 2.0). With 2.1 not on this branch yet, the validator is stood in for."""
    path = tmp_path / "features.yaml"
    path.write_text(FLAGS.replace("rollout_percentage: 10", "rollout_percentage: 0"))
    flags = FeatureFlags(path)
    calls: list[str | None] = []

    def fake_validate(text: str, *, version: str | None = None) -> object:
        calls.append(version)
        from codeai_lang.analysis.validator import validate

        real = validate("#version 2.0\nconfig {\n    app_name: \"x\"\n}\n")
        real.document.version = version or ("2.1" if "#version 2.1" in text or "inferred" in text else "2.0")
        real.document.version_source = "directive" if "#version" in text else "inferred"
        return real

    monkeypatch.setattr(configs, "validate", fake_validate)
    with pytest.raises(ApiError) as err:
        configs.check_config("c", "#version 2.1\n", "carol", flags)
    assert err.value.status == 422 and err.value.code == "feature_disabled"
    assert err.value.details == {"flag": "dsl_2_1", "dsl_version": "2.1"}
    assert configs.check_config("c", "#version 2.1\n", "alice", flags).dsl_version == "2.1"
    calls.clear()
    assert configs.check_config("c", "inferred", "carol", flags).dsl_version == "2.0"
    assert calls == [None, "2.0"]


def test_default_migration_target_stays_below_the_gate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With 2.1 the newest version, a gated user's migrate-without-`to` targets 2.0, not a 422."""
    path = tmp_path / "features.yaml"
    path.write_text(FLAGS.replace("rollout_percentage: 10", "rollout_percentage: 0"))
    flags = FeatureFlags(path)
    targets: list[str | None] = []

    class Registry:
        latest = "2.1"

    def fake_migrate(text: str, target: str | None = None) -> object:
        targets.append(target)
        from codeai_lang.fixes.rewrite import migrate_text

        return migrate_text(text, "2.0")

    monkeypatch.setattr(configs, "default_registry", lambda: Registry())
    monkeypatch.setattr(configs, "migrate_text", fake_migrate)
    configs.migrate_config("c", "#version 2.0\n", None, "carol", flags)
    configs.migrate_config("c", "#version 2.0\n", None, "alice", flags)
    assert targets == ["2.0", None]  # alice has the flag: the newest version


@pytest.mark.skipif("2.1" not in default_registry().versions, reason="DSL 2.1 is not on this branch yet")
def test_dsl_2_1_gate_for_real(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'g.db'}"
    migrate_up(url)
    (tmp_path / "features.yaml").write_text(FLAGS.replace("rollout_percentage: 10", "rollout_percentage: 0"))
    content = "#version 2.1\nconfig {\n    app_name: \"shop\"\n}\n"
    with running_server(write_config(tmp_path, url)) as proc:
        denied = httpx.post(proc.url + "/api/v1/configs", json={"name": "n", "content": content},
                            headers=auth("carol"), timeout=30)
        assert denied.status_code == 422 and denied.json()["error"]["details"]["flag"] == "dsl_2_1"
        allowed = httpx.post(proc.url + "/api/v1/configs", json={"name": "n", "content": content},
                             headers=auth("alice"), timeout=30)
        assert allowed.status_code == 201 and allowed.json()["dsl_version"] == "2.1"
