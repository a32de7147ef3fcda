"""Issue 12 items 10–11: edit bursts, `exit` without `shutdown`, malformed JSON bodies.

The burst goes through a real client (pytest-lsp) and, to count analyses, through the server
object in process; the protocol probes write raw bytes to a stdio subprocess (with a timeout).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from codeai_lsp.server import CodeAIServer, create_server
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "codeai_lang.cli", "lsp", "--stdio", "--debounce-ms", "0"]
BURST = 1000
# Many syntax errors: each re-analysis is expensive, so analysing every queued edit in turn hurts.
BROKEN = "".join(f"var v{i} = (1 +\nfunction f{i}( {{ @@ ]]\n" for i in range(300))
NAME = "typed" + "x" * (BURST - 5)


def _typing_burst(send: Any, uri: str) -> None:
    """Type NAME one character at a time after `var ` on line 0 (versions 2 … BURST + 1)."""
    for i, ch in enumerate(NAME):
        at = t.Position(line=0, character=4 + i)
        send(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
            content_changes=[t.TextDocumentContentChangePartial(range=t.Range(start=at, end=at), text=ch)]))


def test_burst_is_analysed_once_on_the_newest_text() -> None:
    server: CodeAIServer = create_server(0)
    uri = "file:///burst.cai"
    state = server.open(uri, 1, "var  = 1\n" + BROKEN)
    calls: list[tuple[int, int, str]] = []
    real = state.doc.apply_edit

    def counting(start: int, end: int, text: str) -> Any:
        calls.append((start, end, text))
        return real(start, end, text)

    state.doc.apply_edit = counting  # type: ignore[method-assign]
    _typing_burst(lambda p: server.change(server.docs[uri], p.text_document.version,
                                          list(p.content_changes)), uri)
    snap = server.snapshot(state)
    assert calls == [(4, 4, NAME)]  # one folded edit, not a thousand analyses
    assert snap.version == BURST + 1 and snap.text == f"var {NAME} = 1\n" + BROKEN
    assert snap.text == state.doc.text


def test_folded_edits_match_full_analysis() -> None:
    """Scattered edits, deletions and newlines fold into one edit with the same analysis."""
    server = create_server(0)
    text = "var a = 1\nvar b = a\nfunction f(x) {\n    log(x)\n}\n"
    state = server.open("file:///fold.cai", 1, text)
    edits = [((0, 4), (0, 5), "alpha"), ((1, 8), (1, 9), "alpha"), ((3, 8), (3, 9), "y\n    log(x"),
             ((2, 11), (2, 12), "x, y"), ((0, 0), (0, 0), "// head\n")]
    for version, (start, end, new) in enumerate(edits, start=2):
        rng = t.Range(start=t.Position(line=start[0], character=start[1]),
                      end=t.Position(line=end[0], character=end[1]))
        server.change(state, version, [t.TextDocumentContentChangePartial(range=rng, text=new)])
    snap = server.snapshot(state)
    fresh = create_server(0).open("file:///fresh.cai", 1, snap.text)
    expected = [(d.code, d.start, d.message) for d in fresh.doc.result.diagnostics]
    assert [(d.code, d.start, d.message) for d in snap.result.diagnostics] == expected
    assert snap.text.startswith("// head\nvar alpha = 1\nvar b = alpha\n")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient) -> Any:
    await lsp_client.initialize_session(t.InitializeParams(capabilities=t.ClientCapabilities(),
                                                           root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_hover_after_a_burst_answers_from_the_newest_text(client: LanguageClient) -> None:
    uri = (ROOT / "tests" / "hardening" / "burst.cai").as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="codeai", version=1, text="var  = 1\n" + BROKEN)))
    _typing_burst(client.text_document_did_change, uri)
    hover = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=0, character=6)))
    assert hover is not None and NAME in str(hover.contents)
    assert hover.range is not None and hover.range.end.character == 4 + len(NAME)


# -- the protocol, byte for byte ----------------------------------------------------------------

def _frame(message: dict[str, Any] | None = None, raw: bytes | None = None) -> bytes:
    body = raw if raw is not None else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _session(*middle: bytes) -> subprocess.CompletedProcess[bytes]:
    start = [_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
             _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})]
    return subprocess.run(SERVER, input=b"".join([*start, *middle]), capture_output=True, timeout=60)


def _messages(stdout: bytes) -> list[dict[str, Any]]:
    out, rest = [], stdout
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        out.append(json.loads(rest[:length]))
        rest = rest[length:]
    return out


def test_exit_without_shutdown_exits_1() -> None:
    proc = _session(_frame({"jsonrpc": "2.0", "method": "exit"}))
    assert proc.returncode == 1, proc.stderr.decode()


def test_exit_after_shutdown_exits_0() -> None:
    proc = _session(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
                    _frame({"jsonrpc": "2.0", "method": "exit"}))
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.mark.parametrize("body", [b'{"jsonrpc": "2.0", "id": 2, "method": ', b'{"text": "caf\xe9"}'],
                         ids=["truncated", "not-utf8"])
def test_malformed_json_body_gets_a_parse_error_response(body: bytes) -> None:
    proc = _session(_frame(raw=body),
                    _frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}),
                    _frame({"jsonrpc": "2.0", "method": "exit"}))
    messages = _messages(proc.stdout)
    errors = [m for m in messages if "error" in m]
    assert len(errors) == 1 and errors[0]["id"] is None and errors[0]["error"]["code"] == -32700
    assert not [m for m in messages if m.get("method") == "window/showMessage"]  # no pop-up
    assert {"id": 3, "jsonrpc": "2.0", "result": None} in messages  # the server carried on
    assert proc.returncode == 0
