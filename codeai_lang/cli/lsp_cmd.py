"""`codeai lsp [--stdio | --tcp HOST:PORT]`: run the language server.

pygls is imported only when the command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from codeai_lang.cli import app


@app.command("lsp")
def lsp(
    stdio: Annotated[bool, typer.Option("--stdio", help="Talk LSP over stdin/stdout (the default).")] = False,
    tcp: Annotated[str | None, typer.Option("--tcp", metavar="HOST:PORT", help="Listen on a TCP socket.")] = None,
    debounce_ms: Annotated[int | None, typer.Option(
        "--debounce-ms", help="Delay before diagnostics after an edit (default 100; env CODEAI_LSP_DEBOUNCE_MS).")] = None,
) -> None:
    """Run the CodeAI language server (diagnostics, quick fixes, completion, navigation, …)."""
    if stdio and tcp:
        typer.echo("codeai: error: use either --stdio or --tcp, not both", err=True)
        raise typer.Exit(2)
    if tcp is not None and not tcp.rpartition(":")[2].isdigit():
        typer.echo(f"codeai: error: --tcp expects HOST:PORT, got '{tcp}'", err=True)
        raise typer.Exit(2)
    from codeai_lsp.server import serve
    serve(tcp, debounce_ms)
