"""The language server over a project (projects.md §4): cross-file navigation, rename over
unopened files, diagnostics that follow other files without a save, workspace symbols, pull
diagnostics and file changes made outside the editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import CAPS, SERVER, attach_recorder, change, doc_id, pos
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="function")

FILES = {
    "codeai.yaml": "# one project\n",
    "model/users.cai": "#version 1.1\nentity User {\n    id: uuid, primary\n}\n",
    "model/orders.cai": "#version 1.1\nentity Order {\n    id: uuid, primary\n    buyer: ref(User)\n}\n",
    "events.cai": "#version 1.1\nevent order.paid {\n    payload {\n        id: uuid\n    }\n}\n",
    "handlers.cai": '#version 1.1\non "order.paid" { workflow "ship" async }\nworkflow ship {\n    trigger manual\n}\n',
    "more_handlers.cai": '#version 1.1\nworkflow audit {\n    trigger: order.paid\n}\n',
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, project: Path) -> Any:
    attach_recorder(lsp_client)
    folder = t.WorkspaceFolder(uri=project.as_uri(), name="shop")
    await lsp_client.initialize_session(t.InitializeParams(capabilities=CAPS, workspace_folders=[folder]))
    lsp_client.root = project  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def uri_of(client: LanguageClient, name: str) -> str:
    return (client.root / name).as_uri()  # type: ignore[attr-defined]


def open_file(client: LanguageClient, name: str) -> str:
    uri = uri_of(client, name)
    text = (client.root / name).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="codeai", version=1, text=text)))
    return uri


async def latest(client: LanguageClient, uri: str, predicate: Any, timeout: float = 20) -> t.PublishDiagnosticsParams:
    """Wait for a publishDiagnostics of `uri` that satisfies `predicate`."""
    import asyncio
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        mine = [p for p in client.published if p.uri == uri]  # type: ignore[attr-defined]
        if mine and predicate(mine[-1]):
            return mine[-1]
        await asyncio.sleep(0.01)
    raise TimeoutError(f"no matching diagnostics for {uri}")


def codes(p: t.PublishDiagnosticsParams) -> list[str]:
    return [str(d.code) for d in p.diagnostics]


async def test_definition_and_references_cross_files_opened_or_not(client: LanguageClient) -> None:
    orders = open_file(client, "model/orders.cai")
    assert codes(await latest(client, orders, lambda p: True)) == []  # User resolves in users.cai
    found = await client.text_document_definition_async(
        t.DefinitionParams(text_document=doc_id(orders), position=pos(3, 16)))
    assert isinstance(found, list) and len(found) == 1
    assert found[0].uri == uri_of(client, "model/users.cai") and found[0].range.start == pos(1, 7)
    users = open_file(client, "model/users.cai")
    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc_id(users), position=pos(1, 8), context=t.ReferenceContext(include_declaration=True)))
    assert refs is not None
    assert sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs) == [("orders.cai", 3), ("users.cai", 1)]
    hover = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(orders), position=pos(3, 16)))
    assert hover is not None and "users.cai" in hover.contents.value  # type: ignore[union-attr]


async def test_rename_spans_unopened_files_and_refuses_collisions(client: LanguageClient) -> None:
    events = open_file(client, "events.cai")
    await latest(client, events, lambda p: True)
    edit = await client.text_document_rename_async(
        t.RenameParams(text_document=doc_id(events), position=pos(1, 9), new_name="order.settled"))
    assert edit is not None and edit.changes is not None
    got = {uri.rsplit("/", 1)[-1]: [(e.range.start.line, e.range.start.character, e.new_text) for e in edits]
           for uri, edits in edit.changes.items()}
    assert got == {"events.cai": [(1, 6, "order.settled")], "handlers.cai": [(1, 4, "order.settled")],
                   "more_handlers.cai": [(2, 13, "order.settled")]}
    handlers = open_file(client, "handlers.cai")
    await latest(client, handlers, lambda p: True)
    with pytest.raises(JsonRpcException) as info:  # `ship` → `audit`: another file declares it
        await client.text_document_rename_async(
            t.RenameParams(text_document=doc_id(handlers), position=pos(2, 10), new_name="audit"))
    assert "already declared" in str(info.value)


async def test_diagnostics_of_dependent_open_files_follow_an_edit_without_save(client: LanguageClient) -> None:
    events = open_file(client, "events.cai")
    handlers = open_file(client, "handlers.cai")
    await latest(client, events, lambda p: True)
    assert codes(await latest(client, handlers, lambda p: True)) == []
    change(client, events, 2, (1, 12), (1, 16), "settled")  # event order.paid → order.settled
    broken = await latest(client, handlers, lambda p: codes(p) == ["CAI202"])
    assert "order.paid" in broken.diagnostics[0].message
    change(client, events, 3, (1, 12), (1, 19), "paid")
    await latest(client, handlers, lambda p: codes(p) == [])


async def test_duplicate_points_at_the_other_file(client: LanguageClient) -> None:
    uri = uri_of(client, "zz_dup.cai")
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="codeai", version=1, text="#version 1.1\nentity User {\n    id: uuid\n}\n")))
    p = await latest(client, uri, lambda p: codes(p) == ["CAI101"])
    [rel] = p.diagnostics[0].related_information or []
    assert rel.location.uri == uri_of(client, "model/users.cai") and rel.location.range.start == pos(1, 7)


async def test_workspace_symbol_is_fuzzy_over_the_project(client: LanguageClient) -> None:
    open_file(client, "events.cai")
    found = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="ordpaid"))
    assert found is not None
    names = [(s.name, s.location.uri.rsplit("/", 1)[-1]) for s in found]  # type: ignore[union-attr]
    assert names == [("order.paid", "events.cai")]
    every = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query=""))
    assert {s.name for s in every or []} >= {"User", "Order", "order.paid", "ship", "audit"}


async def test_pull_diagnostics_with_result_ids(client: LanguageClient) -> None:
    (client.root / "bad.cai").write_text('#version 1.1\non "order.payd" { workflow "ship" async }\n')  # type: ignore[attr-defined]
    handlers = open_file(client, "handlers.cai")
    await latest(client, handlers, lambda p: True)
    # bad.cai was created after the project loaded: tell the server, as an editor's watcher would
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=uri_of(client, "bad.cai"), type=t.FileChangeType.Created)]))
    first = await client.text_document_diagnostic_async(t.DocumentDiagnosticParams(text_document=doc_id(handlers)))
    assert isinstance(first, t.RelatedFullDocumentDiagnosticReport) and list(first.items) == [] and first.result_id
    again = await client.text_document_diagnostic_async(t.DocumentDiagnosticParams(
        text_document=doc_id(handlers), previous_result_id=first.result_id))
    assert isinstance(again, t.RelatedUnchangedDocumentDiagnosticReport)
    report = await client.workspace_diagnostic_async(t.WorkspaceDiagnosticParams(previous_result_ids=[]))
    by_name = {i.uri.rsplit("/", 1)[-1]: i for i in report.items}
    assert set(by_name) >= {"handlers.cai", "users.cai", "bad.cai"}
    bad = by_name["bad.cai"]
    assert isinstance(bad, t.WorkspaceFullDocumentDiagnosticReport)
    assert [str(d.code) for d in bad.items] == ["CAI202"] and "order.paid" in bad.items[0].message
    ids = [t.PreviousResultId(uri=i.uri, value=i.result_id) for i in report.items if i.result_id]
    report2 = await client.workspace_diagnostic_async(t.WorkspaceDiagnosticParams(previous_result_ids=ids))
    assert all(isinstance(i, t.WorkspaceUnchangedDocumentDiagnosticReport) for i in report2.items)


async def test_files_changed_outside_the_editor_update_the_project(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    uri = uri_of(client, "uses.cai")
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="codeai", version=1, text="#version 1.1\nentity Ship {\n    to: ref(Address)\n}\n")))
    await latest(client, uri, lambda p: codes(p) == ["CAI202"])
    (root / "address.cai").write_text("#version 1.1\nentity Address {\n    id: uuid\n}\n")
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=uri_of(client, "address.cai"), type=t.FileChangeType.Created)]))
    await latest(client, uri, lambda p: codes(p) == [])
    (root / "address.cai").unlink()  # e.g. a git checkout
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=uri_of(client, "address.cai"), type=t.FileChangeType.Deleted)]))
    await latest(client, uri, lambda p: codes(p) == ["CAI202"])


async def test_2_1_queries_resolve_entities_and_fields_of_other_files(client: LanguageClient) -> None:
    """A 2.1 job querying an entity of another file: clean; renaming one of the entity's
    fields in its (open, unsaved) file re-publishes the job with the field's CAI202."""
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "model" / "delivery.cai").write_text(
        "#version 2.1\nentity Delivery {\n    id: uuid, primary\n    status: string\n}\n", encoding="utf-8")
    (root / "retry.cai").write_text(
        "#version 2.1\njob retry {\n    steps {\n        s {\n"
        "            a: update Delivery set status = \"x\" where id = 1\n        }\n    }\n}\n", encoding="utf-8")
    model = open_file(client, "model/delivery.cai")
    job = open_file(client, "retry.cai")
    await latest(client, model, lambda p: True)
    assert codes(await latest(client, job, lambda p: True)) == []
    change(client, model, 2, (3, 4), (3, 10), "state")  # status → state: Delivery keeps its name
    broken = await latest(client, job, lambda p: codes(p) == ["CAI202"])
    assert "'status' is not a field of entity 'Delivery'; did you mean 'state'?" in broken.diagnostics[0].message


async def test_closed_files_see_functions_of_other_files_and_of_open_ones(client: LanguageClient) -> None:
    """Files not open are analysed with the project's script names — including those of the
    document being opened (its editor text, not the disk's): no false CAI103 in pull reports."""
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "lib.cai").write_text("#version 1.1\nfunction total(a, b) {\n    print(a)\n}\n", encoding="utf-8")
    (root / "report.cai").write_text("#version 1.1\ntotal(1, 2)\nshout(3)\n", encoding="utf-8")
    uri = uri_of(client, "shout.cai")  # not on disk: only the editor knows `shout`
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="codeai", version=1, text="#version 1.1\nfunction shout(x) {\n    print(x)\n}\n")))
    await latest(client, uri, lambda p: True)
    report = await client.workspace_diagnostic_async(t.WorkspaceDiagnosticParams(previous_result_ids=[]))
    by_name = {i.uri.rsplit("/", 1)[-1]: i for i in report.items}
    closed = by_name["report.cai"]
    assert isinstance(closed, t.WorkspaceFullDocumentDiagnosticReport) and list(closed.items) == []


async def test_codeai_yaml_problems_are_diagnostics_of_that_file(client: LanguageClient) -> None:
    """A broken codeai.yaml shows in the editor with its line, and clears once fixed."""
    root: Path = client.root  # type: ignore[attr-defined]
    (root / "codeai.yaml").write_text("# one project\ndsl_versoin: \"2.0\"\n", encoding="utf-8")
    open_file(client, "events.cai")
    config = (root / "codeai.yaml").as_uri()
    shown = await latest(client, config, lambda p: bool(p.diagnostics))
    assert shown.diagnostics[0].range.start.line == 1 and "dsl_versoin" in shown.diagnostics[0].message
    (root / "codeai.yaml").write_text("# one project\ndsl_version: \"2.0\"\n", encoding="utf-8")
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=config, type=t.FileChangeType.Changed)]))
    await latest(client, config, lambda p: len(p.diagnostics) == 0)
