"""The corpus: every `corpus/v*/**/*.cai` gets exactly the diagnostics its `.expected` lists.

`.expected` holds one `LINE:COL CODE` per diagnostic (1-based, in reported order); a file
without one must produce no diagnostics at all. The real CLI is run once per directory
(`validate --output json DIR`), as CI would run it. `corpus/migrations` is not a
validation corpus and is left out.

Files under a `known_gaps/` directory state what the language contract requires where the
toolchain does not do it yet: they are strict xfails, so a fix makes them fail loudly and
the file can move to its ordinary directory.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cli_runner import CORPUS, run_codeai

from codeai_lang.syntax.registry import default_registry

FILES = sorted(p for p in [*CORPUS.glob("v*/**/*.cai"), *CORPUS.glob("projects/**/*.cai")]
               if p.relative_to(CORPUS).parts[0] != "migrations" and "fixtures" not in p.parts)
PROJECTS = sorted(p.parent for p in CORPUS.glob("projects/*/*/codeai.yaml"))
DIRECTORIES = sorted({p.parent for p in FILES})
KNOWN_GAPS = "known_gaps"
_EXPECTED_LINE = re.compile(r"^(\d+):(\d+) (CAI\d{3})$")
_DIRECTIVE = re.compile(r"^#version\s*(\S+)", re.MULTILINE)


def _rel(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _is_gap(path: Path) -> bool:
    return KNOWN_GAPS in path.relative_to(CORPUS).parts


@cache
def run_directory(directory: Path) -> tuple[int, dict[str, Any]]:
    """One CLI run per directory (it recurses, so a parent's report includes subdirectories)."""
    result = run_codeai("validate", "--output", "json", str(directory))
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def entry_for(path: Path) -> dict[str, Any]:
    _, report = run_directory(path.parent)
    matches = [f for f in report["files"] if Path(f["path"]).resolve() == path.resolve()]
    assert len(matches) == 1, f"{_rel(path)} reported {len(matches)} times"
    return matches[0]


def expected_for(path: Path) -> list[str]:
    exp = path.with_suffix(".expected")
    if not exp.exists():
        return []
    lines = [line.strip() for line in exp.read_text().splitlines() if line.strip()]
    bad = [line for line in lines if not _EXPECTED_LINE.match(line)]
    assert not bad, f"{_rel(exp)}: lines not of the form 'LINE:COL CODE': {bad}"
    return lines


def reported_for(path: Path) -> list[str]:
    return [f'{d["range"]["start"]["line"]}:{d["range"]["start"]["column"]} {d["code"]}'
            for d in entry_for(path)["diagnostics"]]


def _file_param(path: Path) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason="known toolchain gap; see the file's comment")] \
        if _is_gap(path) else []
    return pytest.param(path, id=_rel(path), marks=marks)


@pytest.mark.parametrize("path", [_file_param(p) for p in FILES])
def test_file_gets_exactly_its_expected_diagnostics(path: Path) -> None:
    assert reported_for(path) == expected_for(path)


def _directive_is_right(path: Path) -> bool:
    exp = path.with_suffix(".expected")
    return not (exp.exists() and re.search(r"CAI40[12]", exp.read_text()))


@pytest.mark.parametrize("path", [pytest.param(p, id=_rel(p)) for p in FILES
                                  if not _is_gap(p) and _directive_is_right(p)
                                  and p.relative_to(CORPUS).parts[0] != "projects"])
def test_declared_version_is_the_one_used(path: Path) -> None:
    """A file that declares `#version X.Y` is checked as X.Y — also when it sits in another
    version's folder (`v1.1/invalid/declared_1_0_uses_1_1.cai` is checked as 1.0, which is
    why its 1.1 constructs are CAI403); a file without a directive gets an inferred version."""
    directives = _DIRECTIVE.findall(path.read_text(encoding="utf-8"))
    entry = entry_for(path)
    if directives:
        assert (entry["dsl_version"], entry["version_source"]) == (directives[0], "directive")
    else:
        assert entry["version_source"] == "inferred"
        assert entry["dsl_version"] in default_registry().names


@pytest.mark.parametrize("directory", [pytest.param(d, id=_rel(d)) for d in DIRECTORIES])
def test_directory_exit_code(directory: Path) -> None:
    code, report = run_directory(directory)
    summary = report["summary"]
    assert code == (1 if summary["errors"] > 0 else 0), summary
    mine = [f for f in report["files"] if Path(f["path"]).resolve().parent == directory.resolve()]
    if directory.name == "valid":
        assert all(f["valid"] for f in mine), "files in valid/ must have no errors"
    if directory.name in ("invalid", KNOWN_GAPS):
        assert not [f["path"] for f in mine if f["valid"]], "every invalid/ file has errors"


def test_every_expected_file_has_its_source() -> None:
    orphans = [p for p in CORPUS.glob("v*/**/*.expected") if not p.with_suffix(".cai").exists()]
    assert orphans == []


def test_corpus_is_substantial() -> None:
    for version, minimum in (("v1.0", 40), ("v1.1", 20), ("v2.0", 10)):
        assert len(list(CORPUS.glob(f"{version}/**/*.cai"))) >= minimum, version


def test_v1_0_corpus_covers_every_diagnostic_code_it_can_produce() -> None:
    codes = {line.split()[1] for p in CORPUS.glob("v1.0/**/*.expected") if not _is_gap(p)
             for line in expected_for(p.with_suffix(".cai"))}
    wanted = {"CAI001", "CAI002", "CAI003", "CAI004", "CAI101", "CAI102", "CAI103", "CAI104",
              "CAI105", "CAI106", "CAI107", "CAI108", "CAI201", "CAI202", "CAI203", "CAI206",
              "CAI401", "CAI402", "CAI403"}
    assert wanted - codes == set()


# -- the JSON document's shape (toolchain.md, `validate --output json`) ---------------------

_POSITION = {"line", "column", "offset"}


def _check_diagnostic(diag: dict[str, Any]) -> None:
    # `rule_id` (the deprecation id of CAI301/CAI302) is present only where a code groups rules.
    assert set(diag) - {"rule_id"} == {"code", "severity", "message", "range", "fix", "related"}
    if "rule_id" in diag:
        assert diag["code"] in ("CAI301", "CAI302") and re.fullmatch(r"D\d+", diag["rule_id"])
    for rel in diag["related"]:
        assert set(rel) == {"path", "range", "message"} and Path(rel["path"]).exists()
    assert re.fullmatch(r"CAI\d{3}", diag["code"])
    assert diag["severity"] in ("error", "warning", "info")
    assert isinstance(diag["message"], str) and diag["message"]
    assert set(diag["range"]) == {"start", "end"}
    start, end = diag["range"]["start"], diag["range"]["end"]
    for pos in (start, end):
        assert set(pos) == _POSITION
        assert all(isinstance(pos[k], int) and not isinstance(pos[k], bool) for k in _POSITION)
        assert pos["line"] >= 1 and pos["column"] >= 1 and pos["offset"] >= 0
    assert (start["line"], start["column"]) <= (end["line"], end["column"])
    assert start["offset"] <= end["offset"]
    fix = diag["fix"]
    if fix is not None:
        assert isinstance(fix, dict) and isinstance(fix.get("description"), str)
        assert isinstance(fix.get("edits"), list) and fix["edits"]


@pytest.mark.parametrize("directory", [pytest.param(d, id=_rel(d)) for d in DIRECTORIES])
def test_json_report_has_the_specified_shape(directory: Path) -> None:
    _, report = run_directory(directory)
    assert set(report) == {"tool", "tool_version", "summary", "files"}
    assert report["tool"] == "codeai" and isinstance(report["tool_version"], str)
    summary = report["summary"]
    assert set(summary) == {"files", "valid", "invalid", "errors", "warnings"}
    files = report["files"]
    assert summary["files"] == len(files) == summary["valid"] + summary["invalid"]
    all_diags = [d for f in files for d in f["diagnostics"]]
    assert summary["errors"] == sum(d["severity"] == "error" for d in all_diags)
    assert summary["warnings"] == sum(d["severity"] == "warning" for d in all_diags)
    assert summary["valid"] == sum(f["valid"] for f in files)
    for entry in files:
        assert set(entry) == {"path", "project", "valid", "dsl_version", "version_source", "diagnostics"}
        in_project = _rel(directory).startswith("projects/")
        assert (entry["project"] is not None) == in_project
        if entry["path"].endswith("codeai.yaml"):  # a project file's own problems (CAI601)
            assert entry["dsl_version"] is None and not entry["valid"]
            continue
        assert isinstance(entry["path"], str) and entry["path"].endswith(".cai")
        assert re.fullmatch(r"\d+\.\d+", entry["dsl_version"])
        assert entry["version_source"] in ("directive", "inferred", "default", "project")
        assert entry["valid"] is not any(d["severity"] == "error" for d in entry["diagnostics"])
        for diag in entry["diagnostics"]:
            _check_diagnostic(diag)
        positions = [(d["range"]["start"]["line"], d["range"]["start"]["column"])
                     for d in entry["diagnostics"]]
        assert positions == sorted(positions), f"{entry['path']}: not sorted by position"


# -- projects: many files, one namespace (projects.md) -------------------------------------------


def test_corpus_has_multi_file_projects() -> None:
    assert len(PROJECTS) >= 5
    for root in PROJECTS:
        assert len(list(root.rglob("*.cai"))) >= 2, _rel(root)


@pytest.mark.parametrize("root", [pytest.param(r, id=_rel(r)) for r in PROJECTS])
def test_project_files_get_their_expected_diagnostics(root: Path, tmp_path: Path) -> None:
    """Each project's file reports match its `.expected` when checked as a project, and the
    files of a valid project do not all validate on their own: the project resolves them."""
    code, report = run_directory(root)
    by_path = {Path(f["path"]).resolve(): f for f in report["files"]}
    for path in sorted(p for p in root.rglob("*.cai") if "fixtures" not in p.parts):
        entry = by_path[path.resolve()]
        assert entry["project"] is not None
        got = [f'{d["range"]["start"]["line"]}:{d["range"]["start"]["column"]} {d["code"]}'
               for d in entry["diagnostics"]]
        assert got == expected_for(path), _rel(path)
    config = [f for f in report["files"] if f["path"].endswith("codeai.yaml")]
    assert [f'{d["range"]["start"]["line"]}:{d["range"]["start"]["column"]} {d["code"]}'
            for f in config for d in f["diagnostics"]] == expected_for(root / "codeai.yaml")
    assert not [p for p in by_path if "fixtures" in p.parts], "excluded files are not checked"
    kind = root.parent.name
    assert kind in ("valid", "invalid")
    assert code == (0 if kind == "valid" else 1)
    if kind == "valid":
        for path in (p for p in root.rglob("*.cai") if "fixtures" not in p.parts):  # the same files, each alone (no codeai.yaml above)
            (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        alone = run_codeai("validate", "--output", "json", str(tmp_path))
        codes = {d["code"] for f in json.loads(alone.stdout)["files"] for d in f["diagnostics"]}
        assert alone.returncode == 1 and codes & {"CAI202", "CAI102", "CAI103"}, codes
