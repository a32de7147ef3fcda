"""`codeai parse` and `codeai version` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_codeai


def test_parse_prints_the_ast_with_ranges(tmp_path: Path) -> None:
    path = tmp_path / "a.cai"
    path.write_text('#version 1.1\nvar cafe = "é"\nentity User {\n    id: uuid, primary\n}\n', encoding="utf-8")
    result = run_codeai("parse", str(path))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["dsl_version"], doc["version_source"]) == ("1.1", "directive")
    program = doc["ast"]
    assert program["kind"] == "Program"
    var, entity = program["statements"]
    assert var["kind"] == "VarDecl" and var["name"]["name"] == "cafe"
    assert var["value"] == {"kind": "StringLit", "raw": '"é"', "range": {
        "start": {"line": 2, "column": 12, "offset": 24},
        "end": {"line": 2, "column": 15, "offset": 28}}}
    assert entity["kind"] == "Declaration" and entity["keyword"]["name"] == "entity"
    field = entity["body"]["entries"][0]
    assert field["kind"] == "Entry" and field["colon"] is True
    assert [p.get("name") for p in field["value"]] == ["uuid", None, "primary"]
    assert entity["range"]["start"] == {"line": 3, "column": 1, "offset": 29}


def test_parse_reports_syntax_errors_and_exits_1() -> None:
    result = run_codeai("parse", "-", input="var x = \n")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert [d["code"] for d in doc["diagnostics"]] == ["CAI001"]


def test_parse_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = run_codeai("parse", str(tmp_path / "none.cai"))
    assert result.returncode == 2
    assert "no such file" in result.stderr.lower() or "No such file" in result.stderr


def test_version_json() -> None:
    result = run_codeai("version", "--output", "json")
    doc = json.loads(result.stdout)
    assert doc["dsl_versions"] == ["1.0", "1.1", "2.0"] and doc["latest_dsl"] == "2.0"
    assert doc["version"].count(".") >= 2
