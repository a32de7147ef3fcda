"""`codeai rules [--output json]` and `codeai explain CODE`, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeai_lang.diagnostics.codes import CODES

ROOT = Path(__file__).resolve().parent.parent


def test_rules_lists_every_code_with_severity_and_since(codeai: Any) -> None:
    proc = codeai("rules")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(CODES)
    cai206 = next(line for line in lines if line.startswith("CAI206"))
    assert "warning" in cai206 and "since 0.1.0" in cai206 and "Unknown property" in cai206


def test_rules_json_is_the_registry(codeai: Any) -> None:
    proc = codeai("rules", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["code"] for r in doc] == sorted(CODES)
    by_code = {r["code"]: r for r in doc}
    assert by_code["CAI301"]["fix"] == "sometimes" and by_code["CAI301"]["severity"] == "warning"
    assert by_code["CAI102"]["help_uri"].endswith("#cai102")
    assert by_code["CAI102"]["documentation"] == CODES["CAI102"].doc
    assert by_code["CAI301"]["dsl_since"] == "1.1" and by_code["CAI102"]["dsl_since"] is None


def test_explain_prints_the_same_text_as_the_docs(codeai: Any) -> None:
    proc = codeai("explain", "cai203")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# CAI203\n")
    docs = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    section = docs.split("### CAI203\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    assert proc.stdout.removeprefix("# CAI203\n").strip() == section.strip()


def test_explain_a_deprecation_id(codeai: Any) -> None:
    proc = codeai("explain", "D4")
    assert proc.returncode == 0, proc.stderr
    assert "| D4 |" in proc.stdout and "| D5 |" not in proc.stdout


def test_explain_unknown_code_exits_2(codeai: Any) -> None:
    proc = codeai("explain", "CAI999")
    assert proc.returncode == 2
    assert proc.stdout == "" and "unknown code 'CAI999'" in proc.stderr
