"""The negotiated position encoding is honoured everywhere (a real bug: pygls adopts the
client's first preference, Neovim offers utf-8 first, and the server counted UTF-16).

Each client offers one encoding; with `é` (2 UTF-8 bytes, 1 UTF-16 unit) and `𝄞` (4 bytes,
2 units, 1 code point) before the cursor, a diagnostic's range, an edit's range and a
definition request must all be counted in that encoding. Under a wrong count the edit lands
inside the string and the server's copy of the document diverges from the editor's.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import CAPS, SERVER, attach_recorder, change, doc_id, open_doc, pos, wait_diagnostics
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="function")

PREFIX = 'print("é𝄞", '  # the name after it sits behind two non-ASCII characters
TEXT = f"var tag = 1\n{PREFIX}bad)\n"


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["utf-8", "utf-16", "utf-32"])
async def client(lsp_client: LanguageClient, request: Any) -> Any:
    attach_recorder(lsp_client)
    caps = t.ClientCapabilities(
        general=t.GeneralClientCapabilities(position_encodings=[request.param]),
        text_document=CAPS.text_document, workspace=CAPS.workspace)
    result = await lsp_client.initialize_session(t.InitializeParams(capabilities=caps))
    lsp_client.encoding = request.param  # type: ignore[attr-defined]
    lsp_client.announced = result.capabilities.position_encoding  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_edit_after_non_ascii_lands_in_place(client: LanguageClient) -> None:
    enc = client.encoding  # type: ignore[attr-defined]
    assert client.announced == enc  # type: ignore[attr-defined]
    uri = open_doc(client, TEXT, "encoding")
    first = await wait_diagnostics(client, uri, 1)
    col = units(PREFIX, enc)
    assert [(d.code, d.range.start.line, d.range.start.character, d.range.end.character)
            for d in first.diagnostics] == [("CAI102", 1, col, col + 3)]

    # Replace `bad` by `tag`: only an edit at the right place leaves a clean program.
    change(client, uri, 2, (1, col), (1, col + 3), "tag")
    second = await wait_diagnostics(client, uri, 2)
    assert list(second.diagnostics) == []

    # Insert right after `𝄞` (inside the string): the server's text must match ours.
    after = units('print("é𝄞', enc)
    change(client, uri, 3, (1, after), (1, after), "é")
    await wait_diagnostics(client, uri, 3)
    found = await client.text_document_definition_async(
        t.DefinitionParams(text_document=doc_id(uri), position=pos(1, units('print("é𝄞é", t', enc))))
    assert found and found[0].range.start == pos(0, 4)  # type: ignore[index,union-attr]
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=doc_id(uri), position=pos(1, units('print("é𝄞é", ta', enc))))
    assert hover is not None and hover.range is not None
    assert (hover.range.start.character, hover.range.end.character) == \
        (units('print("é𝄞é", ', enc), units('print("é𝄞é", tag', enc))
