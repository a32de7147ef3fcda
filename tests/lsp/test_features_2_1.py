"""Language-server features for the DSL 2.1 constructs, over a real stdio connection."""

from __future__ import annotations

import re

import pytest
from lsp_helpers import doc_id, open_doc, pos, wait_diagnostics
from lsprotocol import types as t
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRAM = """#version 2.1
entity Order {
    id: uuid, primary
    status: string
    total: decimal
}
event OrderShipped {
    payload {
        order_id: uuid
    }
}
job report {
    steps {
        s {
            var limit_rows = 10
            q: select count(*) as orders
                from Order
                where status = "paid" and total > 1
            u: update Order set status = "done" where id = 1
            e: emit(OrderShipped { order_id: trigger.id })
            r: retry(max: 3)
            g: \"\"\"
  raw
\"\"\"
            pick: a ? b % 2 : c
        }
    }
}
webhook w {
    headers { Content-Type: "application/json" }
}
var dir = "/tmp"
exec { for f in $dir/*.log; do gzip "$f"; done }
"""
LINES = PROGRAM.split("\n")


def _at(word: str, nth: int = 0) -> t.Position:
    """Position of the `nth` occurrence of `word` (0-based line/character)."""
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])")
    found = [(i, m.start()) for i, line in enumerate(LINES) for m in pattern.finditer(line)]
    line_no, col = found[nth]
    return pos(line_no, col + 1)


async def _open(client: LanguageClient, text: str = PROGRAM) -> str:
    uri = open_doc(client, text)
    await wait_diagnostics(client, uri, 1)
    return uri


async def _hover(client: LanguageClient, uri: str, at: t.Position) -> str:
    result = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=at))
    assert result is not None
    return result.contents.value  # type: ignore[union-attr]


async def test_2_1_file_has_no_diagnostics(client: LanguageClient) -> None:
    uri = open_doc(client, PROGRAM)
    published = await wait_diagnostics(client, uri, 1)
    assert [d.code for d in published.diagnostics] == []


async def test_hover_on_query_entity_field_record_and_keyword(client: LanguageClient) -> None:
    uri = await _open(client)
    assert "**entity** `Order` — fields: id, status, total" in await _hover(client, uri, _at("Order", 1))
    assert "**field** `status` of entity `Order`" in await _hover(client, uri, _at("status", 1))
    assert "**record** of event `OrderShipped`" in await _hover(client, uri, _at("OrderShipped", 1))
    assert "`select expr" in await _hover(client, uri, _at("select"))
    assert "`update Entity set" in await _hover(client, uri, _at("update"))


async def test_completion_after_query_words(client: LanguageClient) -> None:
    text = PROGRAM.replace('u: update Order set status = "done" where id = 1',
                           "u: update Order set st")
    uri = await _open(client, text)
    lines = text.split("\n")
    line = next(i for i, x in enumerate(lines) if "update Order set st" in x)
    items = await client.text_document_completion_async(t.CompletionParams(
        text_document=doc_id(uri), position=t.Position(line=line, character=len(lines[line]))))
    assert items is not None
    assert [i.label for i in items.items] == ["id", "status", "total"]  # type: ignore[union-attr]
    text2 = PROGRAM.replace("                from Order\n", "                from \n")
    uri2 = await _open(client, text2)
    lines2 = text2.split("\n")
    line2 = next(i for i, x in enumerate(lines2) if x.strip() == "from")
    items2 = await client.text_document_completion_async(t.CompletionParams(
        text_document=doc_id(uri2), position=t.Position(line=line2, character=len(lines2[line2]))))
    assert items2 is not None and [i.label for i in items2.items] == ["Order"]  # type: ignore[union-attr]


async def test_semantic_tokens_for_2_1(client: LanguageClient) -> None:
    uri = await _open(client)
    legend = client.server_caps.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    tokens = await client.text_document_semantic_tokens_full_async(
        t.SemanticTokensParams(text_document=doc_id(uri)))
    assert tokens is not None
    decoded: dict[tuple[int, str], str] = {}
    line = ch = 0
    for i in range(0, len(tokens.data), 5):
        dl, dc, length, typ, _ = tokens.data[i:i + 5]
        line, ch = line + dl, (ch + dc if dl == 0 else dc)
        decoded.setdefault((line, LINES[line][ch:ch + length]), legend.token_types[typ])

    def kind(word: str, nth: int = 0) -> str:
        p = _at(word, nth)
        return decoded[(p.line, word)]

    assert kind("select") == "keyword" and kind("from") == "keyword" and kind("where") == "keyword"
    assert kind("Order", 1) == "type" and kind("OrderShipped", 1) == "type"
    assert kind("var") == "keyword" and kind("limit_rows") == "variable"
    assert kind("orders") == "variable" and kind("max") == "parameter"
    assert kind("order_id", 1) == "property" and kind("Content-Type") == "property"
    assert kind("?") == "operator" and kind("%") == "operator"
    assert decoded[(_at('"""').line, '"""')] == "string"


async def test_completion_offers_body_statements_in_2_1_steps(client: LanguageClient) -> None:
    text = PROGRAM.replace("            var limit_rows = 10\n", "            var limit_rows = 10\n            \n")
    uri = await _open(client, text)
    lines = text.split("\n")
    line = lines.index("            ")
    items = await client.text_document_completion_async(t.CompletionParams(
        text_document=doc_id(uri), position=t.Position(line=line, character=12)))
    assert items is not None
    labels = {i.label for i in items.items}  # type: ignore[union-attr]
    assert {"var", "if", "for"} <= labels
    old = text.replace("#version 2.1", "#version 2.0", 1)
    uri2 = await _open(client, old)
    items2 = await client.text_document_completion_async(t.CompletionParams(
        text_document=doc_id(uri2), position=t.Position(line=line, character=12)))
    assert items2 is not None and "var" not in {i.label for i in items2.items}  # type: ignore[union-attr]


async def test_semantic_tokens_mark_exec_interpolations(client: LanguageClient) -> None:
    uri = await _open(client)
    legend = client.server_caps.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    tokens = await client.text_document_semantic_tokens_full_async(
        t.SemanticTokensParams(text_document=doc_id(uri)))
    assert tokens is not None
    line = ch = 0
    found = []
    for i in range(0, len(tokens.data), 5):
        dl, dc, length, typ, _ = tokens.data[i:i + 5]
        line, ch = line + dl, (ch + dc if dl == 0 else dc)
        found.append((LINES[line][ch:ch + length], legend.token_types[typ]))
    assert ("$dir", "variable") in found
    assert ("for", "keyword") in found and ("done", "keyword") in found
    assert ("gzip", "function") in found and ('"$f"', "string") in found


async def test_definition_of_query_entity_and_record_name(client: LanguageClient) -> None:
    uri = await _open(client)
    for word, nth, decl_line in (("Order", 1, 1), ("OrderShipped", 1, 6)):
        result = await client.text_document_definition_async(t.DefinitionParams(
            text_document=doc_id(uri), position=_at(word, nth)))
        assert isinstance(result, list) and result, word
        assert result[0].range.start.line == decl_line, (word, result)  # type: ignore[union-attr]
