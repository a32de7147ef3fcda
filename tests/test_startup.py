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


_GC_PROBE = """
import gc, json, sys
import codeai_lang.cli as cli
seen, kept = {}, []
class App:  # the real app (commands register on it); running it only records the collector
    def __getattr__(self, name):
        return getattr(real, name)
    def __call__(self):
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count(),
                    command_module="codeai_lang.cli.language_cmds" in sys.modules)
        kept.extend([] for _ in range(1000))  # what the command leaves when it exits
        raise SystemExit(0)
real, cli.app = cli.app, App()
sys.argv = ["codeai", "validate", "x.cai"]
before = gc.get_freeze_count()
try:
    cli.main()
except SystemExit:
    pass
print(json.dumps({**seen, "before": before, "at_exit": gc.get_freeze_count(), "after_enabled": gc.isenabled()}))
"""


def test_imported_objects_are_frozen_and_the_collector_runs_for_the_command() -> None:
    """`main` keeps the cyclic collector off while importing the command modules and freezes
    what was imported (the collector would scan it again and again, and once more at exit:
    ~12 ms of a cold start); the command itself runs with the collector on."""
    proc = subprocess.run([sys.executable, "-c", _GC_PROBE], capture_output=True, text=True, timeout=120,
                          check=True)
    seen = json.loads(proc.stdout)
    assert seen["before"] == 0
    assert seen["command_module"] and seen["frozen"] > 10_000  # the imports, frozen before the command
    assert seen["enabled"] and seen["after_enabled"]
    assert seen["at_exit"] >= seen["frozen"] + 1000  # what the command left: frozen on the way out
