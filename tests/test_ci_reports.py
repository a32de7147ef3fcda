"""`--output gitlab` (GitLab Code Quality) and `--output junit` (JUnit XML, one case per file).

GitLab's report is checked against a JSON Schema of the fields GitLab's Code Quality widget
reads (docs.gitlab.com, "Code Quality report format"); JUnit XML is read back with junitparser,
as CI test-report tools read it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
from junitparser import Failure, JUnitXml

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.output.ci_reports import render_gitlab, render_junit
from codeai_lang.output.formats import FileReport

GITLAB_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "not": {"pattern": "^(/|\\./|\\.\\./)"}},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1},
                                             "end": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}

BAD = "#version 1.1\nentity U {\n    id: uuid, primary_key\n    c: ref(X)\n}\n"
WARN_ONLY = "#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n"
CLEAN = "#version 2.0\nentity U {\n    id: uuid, primary\n}\n"


def _report(path: str, text: str) -> FileReport:
    result = validate(text)
    return FileReport(path, text, result.diagnostics, result.document.version, result.document.version_source)


def _reports() -> list[FileReport]:
    return [_report("src/bad.cai", BAD), _report("src/warn.cai", WARN_ONLY), _report("src/clean.cai", CLEAN)]


# -- GitLab -----------------------------------------------------------------------------------


def test_gitlab_report_matches_the_code_quality_format(tmp_path: Path) -> None:
    issues = json.loads(render_gitlab(_reports(), root=None))
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in issues] == [("CAI301", "minor", "src/bad.cai", 3), ("CAI202", "major", "src/bad.cai", 4),
                                 ("CAI301", "minor", "src/warn.cai", 3)]
    assert len({i["fingerprint"] for i in issues}) == 3  # unique in the report, even for equal lines


def test_gitlab_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    report = _report(str(tmp_path / "src" / "bad.cai"), BAD)
    issues = json.loads(render_gitlab([report], root=str(tmp_path)))
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert {i["location"]["path"] for i in issues} == {"src/bad.cai"}


def test_gitlab_fingerprints_survive_unrelated_line_moves() -> None:
    before = [i["fingerprint"] for i in json.loads(render_gitlab([_report("a.cai", BAD)]))]
    moved = BAD.replace("#version 1.1\n", "#version 1.1\n// note\n\nvar z = 1\n")
    after = json.loads(render_gitlab([_report("a.cai", moved)]))
    assert [i["fingerprint"] for i in after] == before
    assert after[0]["location"]["lines"]["begin"] == 6


def test_cli_gitlab(tmp_path: Path, codeai: Any) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.cai").write_text(BAD, encoding="utf-8")
    proc = codeai("validate", "--output", "gitlab", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    issues = json.loads(proc.stdout)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert {i["location"]["path"] for i in issues} == {"src/bad.cai"}


# -- JUnit ------------------------------------------------------------------------------------


def _cases(xml: str) -> dict[str, Any]:
    suites = JUnitXml.fromstring(xml)
    return {case.name: case for suite in suites for case in suite}


def test_junit_one_testcase_per_file() -> None:
    xml = render_junit(_reports())
    root = ET.fromstring(xml)
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1"
    cases = _cases(xml)
    assert list(cases) == ["src/bad.cai", "src/warn.cai", "src/clean.cai"]
    (failure,) = cases["src/bad.cai"].result
    assert isinstance(failure, Failure) and failure.type == "CAI202"
    assert "src/bad.cai:4:" in (failure.text or "") and "CAI301" in (failure.text or "")
    assert cases["src/warn.cai"].is_passed and "CAI301" in (cases["src/warn.cai"].system_out or "")
    assert cases["src/clean.cai"].is_passed and not cases["src/clean.cai"].system_out


def test_junit_strict_fails_files_with_warnings() -> None:
    cases = _cases(render_junit(_reports(), strict=True))
    assert [name for name, case in cases.items() if not case.is_passed] == ["src/bad.cai", "src/warn.cai"]


def test_junit_survives_characters_xml_cannot_carry() -> None:
    text = "print(y)\n"
    diag = Diagnostic("CAI001", Severity.ERROR, "unexpected character '\x01' & <tag>", 0, 1)
    xml = render_junit([FileReport("odd\x02<name>.cai", text, [diag], "2.0", "inferred")])
    case = next(iter(_cases(xml).values()))
    assert "&" in case.result[0].message and "<tag>" in case.result[0].message
    assert "\x01" not in xml and "\x02" not in xml


def test_cli_junit(tmp_path: Path, codeai: Any) -> None:
    (tmp_path / "ok.cai").write_text(CLEAN, encoding="utf-8")
    proc = codeai("validate", "--output", "junit", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    cases = _cases(proc.stdout)
    assert len(cases) == 1 and next(iter(cases.values())).is_passed
