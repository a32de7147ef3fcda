"""The `codeai` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import gc
import sys

import typer

app = typer.Typer(
    name="codeai",
    help="Toolchain for the CodeAI DSL: validate, migrate and serve .cai files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# The commands of `language_cmds` (version, parse, validate) are always registered; every other
# command group lives in the module named here and is imported only when its command is invoked
# (or for help and unknown commands), so `codeai validate` never pays for the database, YAML
# round-trip, server or language-server stacks. tests/test_startup.py checks the table is complete.
CORE_COMMANDS = frozenset({"version", "parse", "validate"})
LAZY_COMMANDS: dict[str, str] = {
    "migrate-dsl": "migrate_dsl_cmd",
    "fmt": "fmt_cmd",
    "migrate": "migrate_cmds",
    "config": "migrate_cmds",
    "lsp": "lsp_cmd",
    "server": "server_cmds",
    "features": "server_cmds",
    "init": "project_cmds",
    "symbols": "project_cmds",
    "rules": "rules_cmds",
    "explain": "rules_cmds",
}


def _register(argv: list[str] | None = None) -> None:
    """Import the command modules `argv` needs; each adds its commands to `app` when imported."""
    import importlib

    from codeai_lang.cli import language_cmds  # noqa: F401

    command = argv[1] if argv and len(argv) > 1 else ""
    if command in CORE_COMMANDS:
        return
    wanted = [LAZY_COMMANDS[command]] if command in LAZY_COMMANDS else sorted(set(LAZY_COMMANDS.values()))
    for module in wanted:
        importlib.import_module(f"codeai_lang.cli.{module}")


def main() -> None:
    """Console-script entry point."""
    # Deeply nested input is bounded by the lexer; give the AST walkers room for it.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    # What is imported lives as long as the process: the cyclic collector need not scan it
    # again and again while importing (disabled), nor ever after (frozen).
    gc.disable()
    try:
        _register(sys.argv)
    finally:
        gc.freeze()
        gc.enable()
    try:
        app()
    finally:
        # Exiting, CPython collects once more over every object: nothing is left to collect.
        gc.freeze()
