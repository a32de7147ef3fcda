"""textDocument/formatting, rangeFormatting and onTypeFormatting over a real stdio connection.

The edits are applied here as a client would; they must give the formatter's text, touch
only changed lines (not one whole-file replacement) and, for a range, only lines inside it.
"""

from __future__ import annotations

import pytest
from lsp_helpers import MESSY, doc_id, open_doc, wait_diagnostics
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from codeai_lang.format import format_text

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPTIONS = t.FormattingOptions(tab_size=2, insert_spaces=False)  # ignored: one layout


def apply(text: str, edits: list[t.TextEdit]) -> str:
    """Apply LSP edits (ASCII text: characters are columns), last first."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def off(p: t.Position) -> int:
        return min(starts[p.line] + p.character, len(text)) if p.line < len(lines) else len(text)

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:off(e.range.start)] + e.new_text + text[off(e.range.end):]
    return text


async def _open(client: LanguageClient, text: str) -> str:
    uri = open_doc(client, text, "fmt")
    await wait_diagnostics(client, uri, 1)
    return uri


async def test_server_advertises_formatting(client: LanguageClient) -> None:
    caps = client.server_caps  # type: ignore[attr-defined]
    assert caps.document_formatting_provider and caps.document_range_formatting_provider
    assert caps.document_on_type_formatting_provider.first_trigger_character == "}"
    assert "\n" in (caps.document_on_type_formatting_provider.more_trigger_character or [])


async def test_formatting_returns_minimal_edits(client: LanguageClient) -> None:
    uri = await _open(client, MESSY)
    edits = await client.text_document_formatting_async(
        t.DocumentFormattingParams(text_document=doc_id(uri), options=OPTIONS))
    assert edits
    assert apply(MESSY, edits) == format_text(MESSY).text
    assert len(edits) > 1  # a diff, not one whole-file replacement
    untouched = {8, 9}  # the comment and the role line are already formatted
    for e in edits:
        assert not (e.range.start.line <= 8 < e.range.end.line or e.range.start.line == 9 and e.range.end.line > 9)
    assert all(e.range.start.line not in untouched or e.range.end.line == e.range.start.line for e in edits)


async def test_formatting_a_formatted_or_broken_document_changes_nothing(client: LanguageClient) -> None:
    clean = format_text(MESSY).text
    for text in (clean, "var a = (\n"):
        uri = await _open(client, text)
        edits = await client.text_document_formatting_async(
            t.DocumentFormattingParams(text_document=doc_id(uri), options=OPTIONS))
        assert not edits


async def test_range_formatting_changes_only_lines_in_range(client: LanguageClient) -> None:
    uri = await _open(client, MESSY)
    rng = t.Range(start=t.Position(line=2, character=0), end=t.Position(line=7, character=1))
    edits = await client.text_document_range_formatting_async(
        t.DocumentRangeFormattingParams(text_document=doc_id(uri), range=rng, options=OPTIONS))
    assert edits
    out = apply(MESSY, edits).split("\n")
    old = MESSY.split("\n")
    assert out[:2] == old[:2] and out[8:] == old[8:]  # `var   a=[1 ,2]` and `var b   =  3` stay
    assert out[2:8] == ["function f(x) {", "    log(x)", "    if x {", "        log(a)", "    }", "}"]


async def test_on_type_reindents_the_current_line(client: LanguageClient) -> None:
    text = "entity A {\n    id: uuid\n        }\n"
    uri = await _open(client, text)
    edits = await client.text_document_on_type_formatting_async(t.DocumentOnTypeFormattingParams(
        text_document=doc_id(uri), position=t.Position(line=2, character=9), ch="}", options=OPTIONS))
    assert apply(text, edits) == "entity A {\n    id: uuid\n}\n"
    # newline inside an unfinished body (the document does not parse): indent one level
    typing = "config {\n    db: postgres {\n\n"
    uri = await _open(client, typing)
    edits = await client.text_document_on_type_formatting_async(t.DocumentOnTypeFormattingParams(
        text_document=doc_id(uri), position=t.Position(line=2, character=0), ch="\n", options=OPTIONS))
    assert apply(typing, edits) == "config {\n    db: postgres {\n        \n"
    # shell text of an exec block is never re-indented
    shell = "exec {\n  ls\n"
    uri = await _open(client, shell)
    edits = await client.text_document_on_type_formatting_async(t.DocumentOnTypeFormattingParams(
        text_document=doc_id(uri), position=t.Position(line=1, character=4), ch="\n", options=OPTIONS))
    assert not edits
