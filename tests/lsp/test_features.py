"""Every language feature over a real stdio connection."""

from __future__ import annotations

import pytest
from lsp_helpers import doc_id, open_doc, pos, wait_diagnostics
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRAM = """#version 1.1
// users and orders
entity User {
    id: uuid, primary
    email: string, required, unique
}

entity Order {
    id: uuid, primary
    buyer: ref(User)
}

event order.paid {
    payload {
        id: uuid
    }
}

on "order.paid" { workflow "fulfil" async }

workflow fulfil {
    trigger manual
    steps { ship { activity "ship" } }
}

/* a multi-line
   comment */
var items = [1, 2]
function total(a, b) {
    var sum = a
    for item in items {
        sum = item
    }
}
total(1, 2)
"""


async def _open(client: LanguageClient, text: str = PROGRAM) -> str:
    uri = open_doc(client, text)
    await wait_diagnostics(client, uri, 1)
    return uri


async def test_hover_keyword_and_symbol(client: LanguageClient) -> None:
    uri = await _open(client)
    kw = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(2, 2)))
    assert kw is not None and "entity Name" in kw.contents.value  # type: ignore[union-attr]
    sym = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(9, 16)))
    assert sym is not None and "**entity** `User`" in sym.contents.value  # type: ignore[union-attr]
    assert "line 3" in sym.contents.value  # type: ignore[union-attr]
    fn = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(34, 1)))
    assert fn is not None and "total(a, b)" in fn.contents.value  # type: ignore[union-attr]
    none = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(1, 5)))
    assert none is None


async def test_definition_and_references(client: LanguageClient) -> None:
    uri = await _open(client)
    defs = await client.text_document_definition_async(
        t.DefinitionParams(text_document=doc_id(uri), position=pos(9, 16)))
    assert isinstance(defs, list) and defs[0].range.start == t.Position(line=2, character=7)
    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc_id(uri), position=pos(2, 8), context=t.ReferenceContext(include_declaration=True)))
    assert refs is not None and [r.range.start.line for r in refs] == [2, 9]
    event_refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc_id(uri), position=pos(12, 8), context=t.ReferenceContext(include_declaration=False)))
    assert event_refs is not None and [r.range.start.line for r in event_refs] == [18]
    sum_refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc_id(uri), position=pos(29, 9), context=t.ReferenceContext(include_declaration=False)))
    assert sum_refs is not None and [(r.range.start.line, r.range.start.character) for r in sum_refs] == [(31, 8)]


async def test_rename_and_refusals(client: LanguageClient) -> None:
    uri = await _open(client)
    prep = await client.text_document_prepare_rename_async(
        t.PrepareRenameParams(text_document=doc_id(uri), position=pos(28, 11)))
    assert prep is not None
    edit = await client.text_document_rename_async(
        t.RenameParams(text_document=doc_id(uri), position=pos(28, 11), new_name="grand_total"))
    assert edit is not None and edit.changes is not None
    assert sorted(e.range.start.line for e in edit.changes[uri]) == [28, 34]
    for bad in ("2x", "entity", "has space", ""):
        with pytest.raises(JsonRpcException) as info:
            await client.text_document_rename_async(
                t.RenameParams(text_document=doc_id(uri), position=pos(28, 11), new_name=bad))
        assert "keyword" in str(info.value) or "not a valid" in str(info.value)


async def test_completion_is_version_and_position_aware(client: LanguageClient) -> None:
    uri10 = await _open(client, "#version 1.0\n\n")
    uri11 = await _open(client, "#version 1.1\n\n")

    async def labels(uri: str, line: int, ch: int) -> set[str]:
        res = await client.text_document_completion_async(
            t.CompletionParams(text_document=doc_id(uri), position=pos(line, ch)))
        assert isinstance(res, t.CompletionList)
        return {i.label for i in res.items}

    assert "entity" not in await labels(uri10, 1, 0)
    assert {"entity", "var", "function"} <= await labels(uri11, 1, 0)
    uri = await _open(client)
    assert {"uuid", "string", "User", "Order"} <= await labels(uri, 4, 11)  # after 'email: '
    mods = await labels(uri, 4, 20)  # after 'email: string, '
    assert {"required", "unique", "primary"} <= mods and "uuid" not in mods
    in_body = await labels(uri, 31, 8)  # inside the for body
    assert {"sum", "item", "a", "b", "items", "total", "log"} <= in_body
    assert "trigger" in await labels(uri, 21, 4)  # workflow property keys


async def test_document_symbols_are_hierarchical(client: LanguageClient) -> None:
    uri = await _open(client)
    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc_id(uri)))
    assert symbols is not None
    by_name = {s.name: s for s in symbols}  # type: ignore[union-attr]
    user = by_name["entity User"]
    assert user.kind == t.SymbolKind.Class  # type: ignore[union-attr]
    assert [c.name for c in user.children or []] == ["id", "email"]  # type: ignore[union-attr]
    assert by_name["total"].kind == t.SymbolKind.Function  # type: ignore[union-attr]
    assert "event order.paid" in by_name


async def test_folding_ranges(client: LanguageClient) -> None:
    uri = await _open(client)
    ranges = await client.text_document_folding_range_async(t.FoldingRangeParams(text_document=doc_id(uri)))
    assert ranges is not None
    spans = {(r.start_line, r.end_line, r.kind) for r in ranges}
    assert (2, 4, None) in spans  # entity User body
    assert (25, 26, t.FoldingRangeKind.Comment) in spans


async def test_semantic_tokens(client: LanguageClient) -> None:
    uri = await _open(client)
    legend = client.server_caps.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    tokens = await client.text_document_semantic_tokens_full_async(
        t.SemanticTokensParams(text_document=doc_id(uri)))
    assert tokens is not None and len(tokens.data) % 5 == 0
    decoded, line, ch = [], 0, 0
    lines = PROGRAM.split("\n")
    for i in range(0, len(tokens.data), 5):
        dl, dc, length, typ, _ = tokens.data[i:i + 5]
        line, ch = line + dl, (ch + dc if dl == 0 else dc)
        decoded.append((lines[line][ch:ch + length], legend.token_types[typ]))
    kinds: dict[str, str] = {}
    for word, kind in decoded:
        kinds.setdefault(word, kind)  # first occurrence
    assert kinds["entity"] == "keyword" and kinds["User"] == "type" and kinds["email"] == "property"
    assert kinds['"ship"'] == "string" and kinds["1"] == "number" and kinds["total"] == "function"
    assert kinds["// users and orders"] == "comment" and kinds["#version 1.1"] == "macro"
    assert kinds["sum"] == "variable" and kinds["a"] == "parameter"


async def test_quick_fix_and_migrate_source_action(client: LanguageClient) -> None:
    text = "#version 1.1\nentity U {\n    id: uuid, primary_key\n}\n"
    uri = await _open(client, text)
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=doc_id(uri), range=t.Range(start=pos(2, 14), end=pos(2, 14)),
        context=t.CodeActionContext(diagnostics=[])))
    assert actions is not None
    fixes = [a for a in actions if isinstance(a, t.CodeAction) and a.kind == t.CodeActionKind.QuickFix]
    assert fixes and fixes[0].edit is not None
    assert fixes[0].is_preferred is True  # a safe fix
    edit = fixes[0].edit.changes[uri][0]  # type: ignore[index]
    assert edit.new_text == "primary" and edit.range.start == t.Position(line=2, character=14)
    migrate = [a for a in actions if isinstance(a, t.CodeAction) and a.kind == "source.migrate"]
    # One action per newer version in the manifest: 2.1 appeared without touching the server.
    assert [a.title for a in migrate] == ["Migrate file to DSL 2.0", "Migrate file to DSL 2.1"]
    for action in migrate:
        resolved = await client.code_action_resolve_async(action)
        assert resolved.edit is not None and resolved.edit.document_changes
    change = resolved.edit.document_changes[0]
    assert isinstance(change, t.TextDocumentEdit)
    assert any("2.1" in e.new_text for e in change.edits)
    only = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=doc_id(uri), range=t.Range(start=pos(0, 0), end=pos(0, 0)),
        context=t.CodeActionContext(diagnostics=[], only=[t.CodeActionKind.Source])))
    assert only is not None
    # `only: [source]` keeps the migrate action and drops the quick fixes (not: "nothing at all").
    assert [(a.kind, a.title) for a in only] == [  # type: ignore[union-attr]
        ("source.migrate", "Migrate file to DSL 2.0"), ("source.migrate", "Migrate file to DSL 2.1")]
