"""The `codeai` command line. Each command group lives in its own module and registers here."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="codeai",
    help="Toolchain for the CodeAI DSL: validate, migrate and serve .cai files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    from codeai_lang.cli import (
        language_cmds,  # noqa: F401
        lsp_cmd,  # noqa: F401
        migrate_cmds,  # noqa: F401
        migrate_dsl_cmd,  # noqa: F401
    )


def main() -> None:
    """Console-script entry point."""
    # Deeply nested input is bounded by the lexer; give the AST walkers room for it.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    _register()
    app()
