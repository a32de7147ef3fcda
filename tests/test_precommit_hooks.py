"""The pre-commit hooks (`.pre-commit-hooks.yaml`), run by the real `pre-commit`.

A temporary git repository's `.pre-commit-config.yaml` points at a clone of this repository
at HEAD (so the hooks as committed are what runs); pre-commit installs the package into its
own environment and runs the hooks once on failing files and once on passing ones. Slow (a
pip install); the fast test checks the hook definitions against the CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOK_IDS = {"codeai-validate", "codeai-fmt", "codeai-migrate-dsl-check", "codeai-migrate-lint"}
VALID = "entity User {\n    id: uuid, primary\n}\n"  # no #version: inferred, already the newest
INVALID = "entity User {\n    id: uuid, primary\n    owner: ref(Nobody)\n}\n"
DEPRECATED = "#version 1.1\nentity User {\n    id: uuid, primary_key\n}\n"


def _hooks() -> dict[str, dict[str, Any]]:
    return {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def test_hooks_are_defined_with_the_spec_commands() -> None:
    hooks = _hooks()
    assert set(hooks) == HOOK_IDS
    assert all(h["language"] == "python" for h in hooks.values())
    commands = {k: " ".join([h["entry"], *h.get("args", [])]) for k, h in hooks.items()}
    assert commands == {"codeai-validate": "codeai validate", "codeai-fmt": "codeai fmt --check",
                        "codeai-migrate-dsl-check": "codeai migrate-dsl --check",
                        "codeai-migrate-lint": "codeai migrate lint --dir migrations"}
    assert hooks["codeai-migrate-lint"]["pass_filenames"] is False
    assert all(h["files"] == r"\.cai$" for k, h in hooks.items() if k != "codeai-migrate-lint")


def test_hook_commands_exist_in_the_cli(codeai: Any) -> None:
    for entry in ("validate", "migrate-dsl"):
        proc = codeai(*entry.split(), "--help")
        assert proc.returncode == 0, proc.stderr
    assert "--check" in codeai("migrate-dsl", "--help").stdout


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never",
           "GIT_CONFIG_NOSYSTEM": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_real_pre_commit_runs_the_hooks(tmp_path: Path) -> None:
    hooks_repo = tmp_path / "codeai-lang"
    _git("clone", "--quiet", "--no-hardlinks", str(ROOT), str(hooks_repo), cwd=tmp_path)
    rev = _git("rev-parse", "HEAD", cwd=ROOT).strip()
    project = tmp_path / "project"
    project.mkdir()
    _git("init", "--quiet", cwd=project)
    config = {"repos": [{"repo": str(hooks_repo), "rev": rev,
                         "hooks": [{"id": "codeai-validate"}, {"id": "codeai-migrate-dsl-check"}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (project / "app.cai").write_text(INVALID, encoding="utf-8")
    (project / "old.cai").write_text(DEPRECATED, encoding="utf-8")
    _git("add", ".", cwd=project)
    home = tmp_path / "pre-commit-home"

    failing = _pre_commit(project, home, "--all-files")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    out = failing.stdout
    assert "codeai validate" in out and "codeai migrate-dsl --check" in out
    assert "app.cai:3:16: error[CAI202]" in out  # validate's own message, through pre-commit
    assert "old.cai" in out and out.count("Failed") == 2

    (project / "app.cai").write_text(VALID, encoding="utf-8")
    # Migrated by hand, without a #version directive: the newest version, whatever it is.
    (project / "old.cai").write_text(DEPRECATED.replace("#version 1.1\n", "").replace("primary_key", "primary"),
                                     encoding="utf-8")
    _git("add", ".", cwd=project)
    passing = _pre_commit(project, home, "--all-files")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert passing.stdout.count("Passed") == 2
