"""The VS Code extension: its manifest is consistent, and it builds to a .vsix (with
`@vscode/vsce@3.9.2`) that holds the grammar, language configuration, manifest and client."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from codeai_testing.components import require_component

EXT = Path(__file__).resolve().parent.parent / "editors" / "vscode"


def test_manifest_contributes_language_grammar_and_settings() -> None:
    manifest = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    assert manifest["activationEvents"] == ["onLanguage:codeai"]
    (lang,) = manifest["contributes"]["languages"]
    assert lang["id"] == "codeai" and lang["extensions"] == [".cai"]
    (grammar,) = manifest["contributes"]["grammars"]
    assert (EXT / grammar["path"]).exists() and (EXT / lang["configuration"]).exists()
    props = manifest["contributes"]["configuration"]["properties"]
    assert {"codeai.defaultDslVersion", "codeai.deprecationSeverity"} <= set(props)
    assert "vscode-languageclient" in manifest["dependencies"]
    tm = json.loads((EXT / "syntaxes" / "codeai.tmLanguage.json").read_text(encoding="utf-8"))
    assert tm["scopeName"] == "source.codeai"
    assert {"comments", "strings", "numbers", "durations", "directive", "decorators", "keywords"} <= set(tm["repository"])
    conf = json.loads((EXT / "language-configuration.json").read_text(encoding="utf-8"))
    assert conf["comments"] == {"lineComment": "//", "blockComment": ["/*", "*/"]}


@pytest.mark.slow
def test_builds_vsix_with_grammar_and_client(tmp_path: Path) -> None:
    if shutil.which("npx") is None or shutil.which("npm") is None:
        require_component("node", "npm/npx not on PATH: cannot build the VS Code extension")
    work = tmp_path / "vscode"
    shutil.copytree(EXT, work, ignore=shutil.ignore_patterns("node_modules", "*.vsix"))
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=work, check=True,
                   capture_output=True, timeout=300)
    out = tmp_path / "codeai.vsix"
    subprocess.run(["npx", "--yes", "@vscode/vsce@3.9.2", "package", "--out", str(out)], cwd=work,
                   check=True, capture_output=True, timeout=300)
    names = set(zipfile.ZipFile(out).namelist())
    for required in ("extension/package.json", "extension/extension.js",
                     "extension/language-configuration.json", "extension/syntaxes/codeai.tmLanguage.json",
                     "extension/node_modules/vscode-languageclient/package.json"):
        assert required in names, required
