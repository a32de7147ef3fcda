"""A real LSP client (pytest-lsp) talking to `python -m codeai_lang.cli lsp` over stdio."""

from __future__ import annotations

from typing import Any

import pytest_lsp
from lsp_helpers import CAPS, SERVER, attach_recorder
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient) -> Any:
    attach_recorder(lsp_client)
    # No workspace folder: the documents these tests open are standalone files (a folder would
    # make the repository one project, and its corpus would share their namespace).
    result = await lsp_client.initialize_session(t.InitializeParams(capabilities=CAPS))
    lsp_client.server_caps = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


