"""The corpus: every `corpus/v*/**/*.cai` gets exactly the diagnostics its `.expected` lists.

`.expected` holds one `LINE:COL CODE` per diagnostic (1-based, in reported order); a file
without one must produce no diagnostics at all. The real CLI is run once per directory
(`validate --output json`), as CI would run it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cli_runner import CORPUS, run_codeai

FILES = sorted(p for p in CORPUS.glob("v*/**/*.cai"))
DIRECTORIES = sorted({p.parent for p in FILES})


@cache
def run_directory(directory: Path) -> tuple[int, dict[str, Any]]:
    result = run_codeai("validate", "--output", "json", str(directory))
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def expected_for(path: Path) -> list[str]:
    exp = path.with_suffix(".expected")
    if not exp.exists():
        return []
    return [line.strip() for line in exp.read_text().splitlines() if line.strip()]


def reported_for(path: Path) -> list[str]:
    _, report = run_directory(path.parent)
    entry = next(f for f in report["files"] if Path(f["path"]).resolve() == path.resolve())
    return [f'{d["range"]["start"]["line"]}:{d["range"]["start"]["column"]} {d["code"]}'
            for d in entry["diagnostics"]]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_file_gets_exactly_its_expected_diagnostics(path: Path) -> None:
    assert reported_for(path) == expected_for(path)


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_directory_exit_code(directory: Path) -> None:
    code, report = run_directory(directory)
    has_errors = report["summary"]["errors"] > 0
    assert code == (1 if has_errors else 0)
    if directory.name == "valid":
        assert not has_errors, "files in valid/ must have no errors"
    if directory.name == "invalid":
        assert report["summary"]["invalid"] == report["summary"]["files"], "every invalid/ file has errors"


def test_every_expected_file_has_its_source() -> None:
    orphans = [p for p in CORPUS.glob("v*/**/*.expected") if not p.with_suffix(".cai").exists()]
    assert orphans == []


def test_corpus_is_substantial() -> None:
    for version, minimum in (("v1.0", 40), ("v1.1", 20), ("v2.0", 10)):
        assert len(list(CORPUS.glob(f"{version}/**/*.cai"))) >= minimum, version


def test_json_report_has_the_specified_shape() -> None:
    _, report = run_directory(CORPUS / "v1.0" / "invalid")
    assert report["tool"] == "codeai" and isinstance(report["tool_version"], str)
    assert set(report["summary"]) == {"files", "valid", "invalid", "errors", "warnings"}
    entry = report["files"][0]
    assert set(entry) == {"path", "valid", "dsl_version", "version_source", "diagnostics"}
    diag = next(f for f in report["files"] if f["diagnostics"])["diagnostics"][0]
    assert set(diag) == {"code", "severity", "message", "range", "fix"}
    assert set(diag["range"]) == {"start", "end"}
    assert set(diag["range"]["start"]) == {"line", "column", "offset"}
