"""The missing-component policy: skip with a summary line locally, fail under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import ROOT
from codeai_testing.components import require_component


def test_require_component_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"COMPONENT MISSING \[thing\]"):
        require_component("thing", "not installed")


def test_require_component_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"COMPONENT MISSING \[thing\].*CI=true"):
        require_component("thing", "not installed")


def _run_inner(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """A tiny pytest run with our conftest whose only test needs a missing component."""
    (tmp_path / "test_inner.py").write_text(
        "from codeai_testing.components import require_component\n"
        "def test_needs_it():\n    require_component('widget', 'no widget here')\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_ADDOPTS"}}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT / "tests")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                           "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
                          capture_output=True, text=True, env=env, timeout=120)


def test_local_run_skips_with_a_summary_line(tmp_path: Path) -> None:
    result = _run_inner(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "SKIPPED COMPONENTS: widget (1 tests)" in result.stdout


def test_ci_run_fails_for_a_missing_component(tmp_path: Path) -> None:
    result = _run_inner(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert "COMPONENT MISSING [widget]" in result.stdout


# Each script with the variable that names the only place it looks (an empty or missing one is
# "not installed", without touching apt) and a fake binary's file name and version line.
SCRIPTS = {
    "postgres": ("ensure-postgres.sh", "CODEAI_PG_BINDIR", "initdb", "initdb (PostgreSQL) 15", True),
    "redis": ("ensure-redis.sh", "CODEAI_REDIS_SERVER", "redis-server", "Redis server v=7.0.15", False),
}


def _script(name: str, tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    script, var, binary, _, names_dir = SCRIPTS[name]
    env = {"PATH": os.environ["PATH"], var: str(tmp_path if names_dir else tmp_path / binary)}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(["sh", str(ROOT / "scripts" / script)], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_ensure_script_fails_under_ci_without_its_component(name: str, tmp_path: Path) -> None:
    result = _script(name, tmp_path, "true")
    assert result.returncode == 1
    assert "ERROR" in result.stderr and "CI=true" in result.stderr


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_ensure_script_only_warns_locally_without_its_component(name: str, tmp_path: Path) -> None:
    result = _script(name, tmp_path, None)
    assert result.returncode == 0
    assert "WILL BE SKIPPED" in result.stderr


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_ensure_script_accepts_a_working_binary(name: str, tmp_path: Path) -> None:
    _, _, binary, version, _ = SCRIPTS[name]
    fake = tmp_path / binary
    fake.write_text(f"#!/bin/sh\necho '{version}'\n", encoding="utf-8")
    fake.chmod(0o755)
    result = _script(name, tmp_path, "true")
    assert result.returncode == 0 and result.stderr == ""


def test_make_test_ensures_every_server_component() -> None:
    """`make test` (which CI runs through .ci/run) installs PostgreSQL and Redis before pytest."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "./scripts/ensure-postgres.sh" in recipe and "./scripts/ensure-redis.sh" in recipe
    assert recipe.index("ensure-redis") < recipe.index("pytest")
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
