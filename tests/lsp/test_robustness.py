"""The server never fails the client: garbage, half-typed text, huge files, unknown requests;
settings through workspace/configuration; superseded versions never get diagnostics."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
import pytest_lsp
from codeai_lsp.server import CodeAIServer
from codeai_testing.generate import program_1_1
from lsp_helpers import (
    CAPS,
    SERVER,
    attach_recorder,
    change,
    doc_id,
    open_doc,
    pos,
    wait_diagnostics,
    wait_published,
)
from lsprotocol import types as t
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def configured(lsp_client: LanguageClient) -> Any:
    attach_recorder(lsp_client)
    lsp_client.set_configuration({"deprecationSeverity": "error", "defaultDslVersion": "1.0",
                                  "diagnosticsDelayMs": 120}, section="codeai")
    await lsp_client.initialize_session(t.InitializeParams(capabilities=CAPS))  # standalone documents
    # The server fetches the settings after `initialized` and re-publishes open documents when
    # they change: wait until a probe without a directive is checked as 1.0 (CAI403 for
    # `entity`), i.e. until the settings are in effect, instead of sleeping.
    probe = open_doc(lsp_client, "entity Probe {\n    id: uuid\n}\n", "settings_probe")
    await wait_published(lsp_client, lambda p: p.uri == probe and any(d.code == "CAI403" for d in p.diagnostics),
                         what="the server never applied the workspace settings")
    yield
    await lsp_client.shutdown_session()


async def _all_requests(client: LanguageClient, uri: str, line: int, ch: int) -> None:
    p = pos(line, ch)
    await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=p))
    await client.text_document_completion_async(t.CompletionParams(text_document=doc_id(uri), position=p))
    await client.text_document_definition_async(t.DefinitionParams(text_document=doc_id(uri), position=p))
    await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc_id(uri)))
    await client.text_document_folding_range_async(t.FoldingRangeParams(text_document=doc_id(uri)))
    await client.text_document_semantic_tokens_full_async(t.SemanticTokensParams(text_document=doc_id(uri)))
    await client.text_document_code_action_async(t.CodeActionParams(
        text_document=doc_id(uri), range=t.Range(start=p, end=p), context=t.CodeActionContext(diagnostics=[])))


async def test_random_bytes_and_half_typed_text(client: LanguageClient) -> None:
    rng = random.Random(7)
    texts = [bytes(rng.randrange(256) for _ in range(2000)).decode("utf-8", "replace"),
             "entity User {\n    id: uuid,\n", "function f(a, {", 'var x = "unterminated\n/* open',
             "#version 9.9\n#version 1.0\nconfig {{{{ ]]] )))", "\x00\ufeff" * 50, "{" * 300]
    for text in texts:
        uri = open_doc(client, text, "garbage")
        params = await wait_diagnostics(client, uri, 1)
        assert params.diagnostics or text.strip() == ""
        await _all_requests(client, uri, 0, 3)
        await _all_requests(client, uri, 99, 99)  # past the end


async def test_fifty_thousand_lines(client: LanguageClient) -> None:
    text = program_1_1(50_000)
    uri = open_doc(client, text, "huge")
    params = await wait_diagnostics(client, uri, 1, timeout=120)
    assert len(params.diagnostics) > 0  # deprecations
    change(client, uri, 2, (30_000, 0), (30_000, 0), "x")
    await wait_diagnostics(client, uri, 2, timeout=60)


async def test_unknown_request_gets_method_not_found(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcMethodNotFound):
        await client.protocol.send_request_async("codeai/noSuchMethod", {"x": 1})
    uri = open_doc(client, "var a = 1\n")
    assert list((await wait_diagnostics(client, uri, 1)).diagnostics) == []  # still alive


async def test_settings_from_workspace_configuration(configured: LanguageClient) -> None:
    uri = open_doc(configured, "database postgres {\n    model U {\n        id: uuid, primary_key\n    }\n}\n")
    params = await wait_diagnostics(configured, uri, 1)
    assert [d.code for d in params.diagnostics] == []  # checked as 1.0: nothing deprecated yet
    uri11 = open_doc(configured, "#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n")
    params = await wait_diagnostics(configured, uri11, 1)
    dep = [d for d in params.diagnostics if d.code == "CAI301"]
    assert dep and all(d.severity == t.DiagnosticSeverity.Error for d in dep)
    uri_new = open_doc(configured, "entity U {\n    id: uuid\n}\n")  # no directive: 1.0 is used
    params = await wait_diagnostics(configured, uri_new, 1)
    assert "CAI403" in [d.code for d in params.diagnostics]


async def test_edits_over_the_wire_end_with_the_latest_version(configured: LanguageClient) -> None:
    """Over stdio the client cannot know when the server reads each edit, so only what holds
    whatever the timing is asserted here (the debounce itself: the in-process test below)."""
    uri = open_doc(configured, "var a = 1\n")
    await wait_diagnostics(configured, uri, 1)
    for version in range(2, 6):
        change(configured, uri, version, (0, 9), (0, 9), "0")
    params = await wait_diagnostics(configured, uri, 5)
    versions = [p.version for p in configured.published if p.uri == uri]  # type: ignore[attr-defined]
    assert versions == sorted(set(versions)) and versions[0] == 1 and versions[-1] == 5
    assert list(params.diagnostics) == []


async def test_superseded_versions_get_no_diagnostics() -> None:
    """In process, the four edits are applied in one turn of the event loop, so they land
    inside the 120 ms debounce whatever the machine's load; and once version 5 is published,
    every earlier (shorter-deadline) timer has fired, so a stale publish would be recorded."""
    server = CodeAIServer(debounce_ms=120)
    published: list[t.PublishDiagnosticsParams] = []
    latest = asyncio.Event()

    def record(params: t.PublishDiagnosticsParams) -> None:
        published.append(params)
        if params.version == 5:
            latest.set()

    server.text_document_publish_diagnostics = record  # type: ignore[method-assign]
    state = server.open("file:///debounce.cai", 1, "var a = 1\n")
    server.schedule(state, 0)
    while not published:
        await asyncio.sleep(0)
    for version in range(2, 6):  # no await in between: no timer can fire
        server.change(state, version, [t.TextDocumentContentChangePartial(
            range=t.Range(start=pos(0, 9), end=pos(0, 9)), text="0")])
        server.schedule(state)
    await asyncio.wait_for(latest.wait(), timeout=30)
    assert [p.version for p in published] == [1, 5]
    assert published[-1].diagnostics == []
