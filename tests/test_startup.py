"""Start-up: each command imports only what it uses (timings are in benchmarks/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Stacks that `codeai validate` and `codeai version` must never import (a standalone file has no
# codeai.yaml to read and no project tree to walk: no YAML, no gitignore matching).
FORBIDDEN = ("psycopg", "sqlite3", "ruamel", "pygls", "lsprotocol", "starlette", "uvicorn", "jwt",
             "codeai_lsp", "codeai_lang.platform", "codeai_lang.fixes", "pydantic", "yaml", "pathspec")
# With the grammar tables and the manifest cached, neither Lark (its parser generator included)
# nor the TOML parser is needed.
FORBIDDEN_WARM = ("lark", "tomllib")

_PROBE = """
import json, sys
sys.argv = ["codeai", *json.loads(sys.argv[1])]
from codeai_lang.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _modules_after(args: list[str], cache: Path) -> set[str]:
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True,
                          text=True, env=env, timeout=120)
    line = proc.stderr.rsplit("MODULES ", 1)[-1]
    return set(json.loads(line))


def _offending(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("args", [["validate", "{file}"], ["validate", "--output", "json", "{file}"],
                                  ["version"], ["version", "--output", "json"]])
def test_light_commands_import_only_what_they_use(args: list[str], tmp_path: Path) -> None:
    src = tmp_path / "app.cai"
    src.write_text("#version 1.1\nentity User {\n    id: uuid primary\n}\n")
    argv = [a.replace("{file}", str(src)) for a in args]
    _modules_after(["validate", str(src)], tmp_path / "cache")  # warm the grammar-table cache
    modules = _modules_after(argv, tmp_path / "cache")
    assert "codeai_lang.cli" in modules  # the probe really ran the CLI
    assert _offending(modules, FORBIDDEN + FORBIDDEN_WARM) == []


@pytest.mark.parametrize("args", [["version"], ["version", "--output", "json"]])
def test_version_imports_no_analysis(args: list[str], tmp_path: Path) -> None:
    modules = _modules_after(args, tmp_path / "cache")
    assert "codeai_lang.cli" in modules
    assert _offending(modules, ("codeai_lang.analysis", "codeai_lang.cli.project_load")) == []


def test_the_probe_sees_heavy_imports(tmp_path: Path) -> None:
    modules = _modules_after(["migrate", "--help"], tmp_path / "cache")
    assert _offending(modules, ("codeai_lang.platform",)) != []


def test_every_command_is_in_the_lazy_table() -> None:
    import codeai_lang.cli as cli

    cli._register()  # no argv: every command module
    import typer.main

    group = typer.main.get_group(cli.app)
    registered = set(group.commands)
    assert registered == set(cli.CORE_COMMANDS) | set(cli.LAZY_COMMANDS), (
        "add new commands to LAZY_COMMANDS in codeai_lang/cli/__init__.py")
