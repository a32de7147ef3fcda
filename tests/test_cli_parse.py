"""`codeai parse` and `codeai version` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    assert doc["dsl_versions"] == ["1.0", "1.1", "2.0", "2.1"] and doc["latest_dsl"] == "2.1"
    assert doc["version"].count(".") >= 2


def _strip_ranges(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_ranges(v) for k, v in node.items() if k not in ("range", "shell_start")}
    if isinstance(node, list):
        return [_strip_ranges(v) for v in node]
    return node


def test_parse_shape_of_the_scripting_core() -> None:
    text = ("function f(a) { if a { log(a) } else if a { } else { } }\n"
            "for i in [1, \"s\", true] { f(i) }\nvar v = 1\nv = 2\n")
    result = run_codeai("parse", "-", input=text)
    assert result.returncode == 0, result.stdout
    fn, loop, var, assign = (_strip_ranges(s) for s in json.loads(result.stdout)["ast"]["statements"])
    assert fn["kind"] == "FunctionDecl" and [p["name"] for p in fn["params"]] == ["a"]
    branch = fn["body"]["statements"][0]
    assert branch["kind"] == "IfStmt" and branch["orelse"]["kind"] == "IfStmt"
    assert branch["then"]["statements"][0]["call"]["callee"]["name"] == "log"
    assert loop["kind"] == "ForStmt" and loop["var"]["name"] == "i"
    assert [item["kind"] for item in loop["iterable"]["items"]] == ["NumberLit", "StringLit", "BoolLit"]
    assert var == {"kind": "VarDecl", "name": {"kind": "Ident", "name": "v"},
                   "value": {"kind": "NumberLit", "text": "1"}}
    assert assign["kind"] == "Assignment" and assign["target"]["name"] == "v"


def test_non_ascii_gives_byte_offsets_and_code_point_columns() -> None:
    """An astral character is 1 column, 4 bytes (and 2 UTF-16 units, which JSON must not use)."""
    text = 'var s = "😀é" // ü\nexec { echo $s }\n'
    result = run_codeai("parse", "-", input=text)
    assert result.returncode == 0, result.stdout
    var, shell = json.loads(result.stdout)["ast"]["statements"]
    assert var["value"]["range"] == {"start": {"line": 1, "column": 9, "offset": 8},
                                     "end": {"line": 1, "column": 13, "offset": 16}}
    line2 = len('var s = "😀é" // ü\n'.encode())
    assert shell["range"]["start"] == {"line": 2, "column": 1, "offset": line2}
    assert shell["shell_start"] == {"line": 2, "column": 7, "offset": line2 + 6}


def test_validate_json_offsets_are_bytes_after_non_ascii() -> None:
    result = run_codeai("validate", "--output", "json", "-", input='var u = "日本" // ü\nvar x = nope\n')
    diag = json.loads(result.stdout)["files"][0]["diagnostics"][0]
    assert diag["code"] == "CAI102"
    assert diag["range"]["start"] == {"line": 2, "column": 9, "offset": len('var u = "日本" // ü\nvar x = '.encode())}
