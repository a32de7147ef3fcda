"""Helpers for the pytest-lsp tests: the server command, client capabilities, waiting for diagnostics."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pytest_lsp import LanguageClient

ROOT = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "codeai_lang.cli", "lsp", "--stdio", "--debounce-ms", "0"]
CAPS = t.ClientCapabilities(
    workspace=t.WorkspaceClientCapabilities(configuration=True),
    text_document=t.TextDocumentClientCapabilities(
        publish_diagnostics=t.PublishDiagnosticsClientCapabilities(
            version_support=True, tag_support=t.ClientDiagnosticsTagOptions(value_set=[t.DiagnosticTag.Deprecated])),
        document_symbol=t.DocumentSymbolClientCapabilities(hierarchical_document_symbol_support=True),
        code_action=t.CodeActionClientCapabilities(
            code_action_literal_support=t.ClientCodeActionLiteralOptions(
                code_action_kind=t.ClientCodeActionKindOptions(value_set=["quickfix", "source"])),
            resolve_support=t.ClientCodeActionResolveOptions(properties=["edit"]),
            data_support=True, is_preferred_support=True),
        rename=t.RenameClientCapabilities(prepare_support=True),
        semantic_tokens=t.SemanticTokensClientCapabilities(
            requests=t.ClientSemanticTokensRequestOptions(full=True), token_types=[], token_modifiers=[],
            formats=[t.TokenFormat.Relative]),
        folding_range=t.FoldingRangeClientCapabilities(line_folding_only=True),
        hover=t.HoverClientCapabilities(content_format=[t.MarkupKind.Markdown]),
    ),
)


def attach_recorder(client: LanguageClient) -> None:
    """Keep every publishDiagnostics (with its version), not just the latest per file."""
    client.published = []  # type: ignore[attr-defined]
    features = client.protocol.fm.features
    original = features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def on_diagnostics(*args: Any) -> None:
        original(*args)
        client.published.append(args[-1])  # type: ignore[attr-defined]

    features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_diagnostics


async def wait_diagnostics(client: LanguageClient, uri: str, version: int | None = None,
                           timeout: float = 20) -> t.PublishDiagnosticsParams:
    """The first publishDiagnostics for `uri` (and `version`, if given)."""
    return await wait_published(client, lambda p: p.uri == uri and (version is None or p.version == version),
                                timeout, f"no diagnostics for {uri} version {version}")


async def wait_published(client: LanguageClient, matches: Callable[[t.PublishDiagnosticsParams], bool],
                         timeout: float = 20, what: str = "no matching diagnostics") -> t.PublishDiagnosticsParams:
    """The first recorded publishDiagnostics that `matches` (an event, polled; the timeout only
    bounds a hang)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for p in client.published:  # type: ignore[attr-defined]
            if matches(p):
                return p
        await asyncio.sleep(0.005)
    raise TimeoutError(what)


_counter = iter(range(1, 1_000_000))


def open_doc(client: LanguageClient, text: str, name: str | None = None) -> str:
    uri = (ROOT / "tests" / "lsp" / f"{name or 'doc'}_{next(_counter)}.cai").as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="codeai", version=1, text=text)))
    return uri


def change(client: LanguageClient, uri: str, version: int, start: tuple[int, int], end: tuple[int, int],
           text: str) -> None:
    rng = t.Range(start=t.Position(line=start[0], character=start[1]),
                  end=t.Position(line=end[0], character=end[1]))
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[t.TextDocumentContentChangePartial(range=rng, text=text)]))


def pos(line: int, character: int) -> t.Position:
    return t.Position(line=line, character=character)


def doc_id(uri: str) -> t.TextDocumentIdentifier:
    return t.TextDocumentIdentifier(uri=uri)


# A text with every kind of layout fix, and lines the formatter keeps (the formatting tests).
MESSY = """#version 1.0
var   a=[1 ,2]
function f(x){
log(x)
  if x {
        log( a )
  }
}
// unchanged comment
role r { permissions ["a"] }
var b   =  3
"""
