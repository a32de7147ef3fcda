"""Diagnostics over a real stdio connection: on open, after incremental edits, on close."""

from __future__ import annotations

import pytest
from lsp_helpers import change, open_doc, wait_diagnostics
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from codeai_lang.analysis.validator import validate

pytestmark = pytest.mark.asyncio(loop_scope="module")

D1 = """#version 1.1
database postgres {
    model User {
        id: uuid, primary_key
        email: string
    }
}
"""


async def test_open_publishes_cli_codes_and_severities(client: LanguageClient) -> None:
    uri = open_doc(client, D1)
    params = await wait_diagnostics(client, uri, 1)
    expected = validate(D1).diagnostics
    assert [d.code for d in params.diagnostics] == [d.code for d in expected]
    by_code = {d.code: d for d in params.diagnostics}
    assert by_code["CAI301"].severity == t.DiagnosticSeverity.Warning
    assert list(by_code["CAI301"].tags or []) == [t.DiagnosticTag.Deprecated]
    assert by_code["CAI301"].source == "codeai"
    # The registry links the docs; the deprecation id travels as data, not only in the message.
    assert by_code["CAI301"].code_description is not None
    assert by_code["CAI301"].code_description.href.endswith("diagnostics.md#cai301")
    assert {(d.data or {}).get("rule_id") for d in params.diagnostics} == {"D1", "D5"}


async def test_incremental_edits_update_diagnostics_for_that_version(client: LanguageClient) -> None:
    uri = open_doc(client, "var a = 1\nlog(a)\n")
    assert list((await wait_diagnostics(client, uri, 1)).diagnostics) == []
    change(client, uri, 2, (1, 4), (1, 5), "b")  # log(b): undefined
    params = await wait_diagnostics(client, uri, 2)
    assert [d.code for d in params.diagnostics] == ["CAI102"]
    assert params.diagnostics[0].range.start == t.Position(line=1, character=4)
    change(client, uri, 3, (1, 4), (1, 5), "a")
    assert list((await wait_diagnostics(client, uri, 3)).diagnostics) == []


async def test_utf16_positions(client: LanguageClient) -> None:
    uri = open_doc(client, 'var s = "😀😀"\nlog(zz)\nvar t = "é" log(qq)\n')
    params = await wait_diagnostics(client, uri, 1)
    ranges = {(d.range.start.line, d.range.start.character) for d in params.diagnostics}
    assert (1, 4) in ranges
    assert (2, 16) in ranges  # 'é' is one UTF-16 unit


async def test_close_clears_diagnostics(client: LanguageClient) -> None:
    uri = open_doc(client, "log(nope)\n")
    await wait_diagnostics(client, uri, 1)
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=uri)))
    for _ in range(400):
        if list(client.diagnostics.get(uri, [None])) == []:
            break
        import asyncio
        await asyncio.sleep(0.01)
    assert list(client.diagnostics[uri]) == []
