"""The CodeAI language server (pygls 2): document sync, debounced diagnostics, code actions,
navigation, completion, outline, folding and semantic tokens.

Concurrency model: every handler runs on the server's event loop, so document state is never
touched by two handlers at once. Edits are applied to the text when they arrive (cheaply, see
`edits.PendingText`) and folded into one edit, which the analysis takes when something needs
it: the debounced diagnostics task, or a request such as hover. A burst of edits is therefore
analysed once, on the newest text.
A diagnostics task for a version that an edit has superseded is cancelled, and a result is
only published if it is still for the document's current version.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from codeai_lang import __version__ as core_version
from codeai_lang.analysis.incremental import IncrementalDocument
from codeai_lang.diagnostics.model import Applicability, Diagnostic, Related
from codeai_lang.diagnostics.positions import UTF16, LineIndex
from codeai_lang.files.project import PROJECT_FILE, ProjectConfig
from codeai_lang.syntax.registry import Registry, default_registry
from codeai_lsp import features
from codeai_lsp import formatting as fmt
from codeai_lsp.convert import SETTING_SEVERITY, encoding_name, to_lsp_diagnostic, to_range
from codeai_lsp.edits import PendingText
from codeai_lsp.projects import LspProject, Projects, result_id, uri_to_path

log = logging.getLogger("codeai_lsp")
F = TypeVar("F", bound=Callable[..., Any])
MIGRATE_KIND = "source.migrate"
DEFAULT_DEBOUNCE_MS = 100
# Diagnostics after an edit wait at least this long, whatever the debounce setting: a burst of
# edits (a macro, a fast typist) is already queued in the pipe, and reading the next one takes
# the event loop a moment — without a floor, a debounce of 0 would analyse every edit in turn
# (each analysis delaying the next read), instead of once after the burst.
MIN_EDIT_DELAY_MS = 20
GC_YOUNG_THRESHOLD = 10_000


class RequestFailed(JsonRpcException):
    """LSP `RequestFailed`: a valid request the server refuses (e.g. rename to a keyword)."""

    CODE = -32803


@dataclass
class Settings:
    """`codeai.*` settings (workspace/configuration, or initializationOptions)."""

    default_dsl_version: str | None = None
    deprecation_severity: t.DiagnosticSeverity | None = None
    debounce_ms: int = DEFAULT_DEBOUNCE_MS

    def update(self, raw: Any, reg: Registry) -> None:
        if not isinstance(raw, dict):
            return
        version = raw.get("defaultDslVersion")
        if version is not None:
            self.default_dsl_version = version if version in reg.versions else None
        severity = raw.get("deprecationSeverity")
        if isinstance(severity, str):
            self.deprecation_severity = SETTING_SEVERITY.get(severity.lower())
        delay = raw.get("diagnosticsDelayMs")
        if isinstance(delay, int | float) and delay >= 0:
            self.debounce_ms = int(delay)


@dataclass
class DocState:
    uri: str
    version: int
    doc: IncrementalDocument
    live: PendingText
    task: asyncio.Task[None] | None = None
    snapshot: features.Snapshot | None = None
    analyses: int = field(default=0)  # how many times edits were analysed (tests count them)
    project: LspProject | None = None

    @property
    def text(self) -> str:
        return self.live.text


class CodeAIProtocol(LanguageServerProtocol):
    """pygls's protocol without its own copy of each open document: pygls would apply every
    `didChange` to a second copy of the text (splitting a 20,000-line file into lines each
    keystroke), while the server keeps the text itself (`DocState.live`) and never reads
    pygls's. The notifications go straight to the server's handlers."""

    # (generator functions, as pygls's own: it runs the handler they yield)
    @lsp_method(t.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: t.DidOpenTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(t.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(t.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: t.DidChangeTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(t.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(t.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: t.DidCloseTextDocumentParams) -> Iterator[Any]:
        yield from self._user_handler(t.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> Iterator[Any]:
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None


class CodeAIServer(LanguageServer):
    def __init__(self, debounce_ms: int | None = None) -> None:
        super().__init__("codeai-lsp", core_version, protocol_cls=CodeAIProtocol)
        self.reg = default_registry()
        self.settings = Settings()
        if debounce_ms is None:
            debounce_ms = int(os.environ.get("CODEAI_LSP_DEBOUNCE_MS", DEFAULT_DEBOUNCE_MS))
        self.settings.debounce_ms = debounce_ms
        self.docs: dict[str, DocState] = {}
        self.shutdown_requested = False
        self.exit_code: int | None = None  # set by `exit`: 1 unless `shutdown` came first
        self.encoding = UTF16  # set at initialize to what pygls negotiated with the client
        self.projects = Projects(self.reg)
        self.projects.on_load = self.publish_config
        # A client that pulls diagnostics (textDocument/diagnostic) gets no pushed ones: it
        # would show both. It is asked to pull again when another file's names change.
        self.pull_mode = False
        self.refresh_support = False

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A body that is not JSON gets the JSON-RPC parse error response (id null), not a
        pop-up; the connection goes on with the next message."""
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
            log.warning("ignored a message that is not valid JSON: %s", error)
            self.protocol._send_data({"jsonrpc": "2.0", "id": None,  # noqa: SLF001 (no public API)
                                      "error": {"code": -32700, "message": f"Parse error: {error}"}})
            return
        super().report_server_error(error, source)

    # -- documents -------------------------------------------------------------------------------
    def open(self, uri: str, version: int, text: str) -> DocState:
        project = self.projects.project_for(uri, lambda: {**self.open_texts(), uri: text})
        default = project.config.dsl_version or self.settings.default_dsl_version
        doc = IncrementalDocument(text, default_version=default, registry=self.reg)
        state = DocState(uri, version, doc, PendingText(text), project=project)
        self.docs[uri] = state
        # The analysis of a large file is hundreds of thousands of long-lived objects: keep
        # them out of the cyclic collector, whose full passes would stall later edits
        # (collect first, so that no garbage is frozen with them). The checks' results and
        # caches are long-lived too: analyse now, so that they are frozen with the tree.
        doc.result  # noqa: B018 (computed for the freeze; the first publish reuses it)
        gc.collect()
        gc.freeze()
        # An edit's analysis keeps thousands of small objects alive for a moment; at the
        # default threshold (700) that is a dozen young collections per keystroke.
        gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
        return state

    def change(self, state: DocState, version: int, changes: list[t.TextDocumentContentChangeEvent]) -> None:
        """Apply edits to the text only; the analysis catches up once, when it is needed."""
        live = state.live
        for change in changes:
            if isinstance(change, t.TextDocumentContentChangePartial):
                start = live.offset(change.range.start.line, change.range.start.character, self.encoding)
                end = live.offset(change.range.end.line, change.range.end.character, self.encoding)
                live.edit(start, end, change.text)
            else:
                live.replace_all(change.text)
        state.version = version
        state.snapshot = None

    def snapshot(self, state: DocState, *, settled: bool = True) -> features.Snapshot:
        """The analysis of the document's current text (its pending edits folded into one).
        `settled=False` (publishing diagnostics) leaves the offsets of the tokens and nodes an
        edit only moved to be brought up to date by the next request that reads the tree."""
        if state.snapshot is None:
            edit = state.live.take()
            if edit is not None:
                state.analyses += 1
                start, end, text = edit
                if start < 0:
                    state.doc.set_text(text)
                else:
                    state.doc.apply_edit(start, end, text)
            if state.doc.text != state.text:  # cannot happen; never serve a wrong analysis
                state.doc.set_text(state.text)
            project = state.project
            if project is not None:
                state.doc.set_external(*project.external(state.uri))
            result = state.doc.result
            if project is not None:
                self._dependents_changed(state, project.set_open(state.uri, result))
            state.snapshot = features.Snapshot(state.uri, state.version, state.text, result,
                                               self.reg, self.encoding, project, self.lines_of,
                                               list(state.live.starts))
        if settled:
            state.doc.settle()
        return state.snapshot

    def _dependents_changed(self, origin: DocState, uris: frozenset[str]) -> None:
        """Declared names changed in `origin`: re-analyse and re-publish the open files of
        its project that use or declare them (no save needed)."""
        for uri in uris:
            other = self.docs.get(uri)
            if other is not None and other is not origin:
                other.snapshot = None
                self.schedule(other, 0)
        self.refresh_pulls(uris)

    def refresh_pulls(self, uris: Iterable[str]) -> None:
        """Pull mode: ask the client to pull again (other files' diagnostics changed)."""
        if self.pull_mode and self.refresh_support and any(True for _ in uris):
            self.workspace_diagnostic_refresh(None)

    def open_texts(self) -> dict[str, str]:
        return {uri: state.text for uri, state in self.docs.items()}

    def publish_config(self, root: Path, config: ProjectConfig) -> None:
        """A project's codeai.yaml problems (unknown keys, wrong types, bad YAML) as the
        diagnostics of that file, or none to clear earlier ones (push, even in pull mode:
        pulls cover only .cai files)."""
        uri = (root / PROJECT_FILE).as_uri()
        lines = LineIndex(config.text)
        diags = [to_lsp_diagnostic(d, lines, None, self.encoding) for d in config.diagnostics]
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=diags))

    def lines_of(self, uri: str) -> LineIndex | None:
        """The line index of any file the server knows: open, or a project file on disk."""
        state = self.docs.get(uri)
        if state is not None:
            snap = state.snapshot
            return snap.lines if snap is not None and snap.text == state.text else LineIndex(state.text)
        for project in self.projects.all():
            closed = project.closed.get(uri)
            if closed is not None:
                return closed.line_index()
        return None

    def locate(self, rel: Related) -> t.Location | None:
        lines = self.lines_of(rel.path)
        if lines is None:
            return None
        return t.Location(uri=rel.path, range=to_range(lines, rel.start, rel.end, self.encoding))

    def reanalyze_all(self) -> None:
        """Settings changed: analyse every open document afresh and publish."""
        for state in list(self.docs.values()):
            default = (state.project.config.dsl_version if state.project else None) or \
                self.settings.default_dsl_version
            state.doc = IncrementalDocument(state.text, default_version=default, registry=self.reg)
            state.live.rebase()
            state.snapshot = None
            self.schedule(state, 0)

    # -- diagnostics -----------------------------------------------------------------------------
    def schedule(self, state: DocState, delay_ms: int | None = None) -> None:
        """(Re)start the debounced diagnostics task; a pending one is superseded."""
        if state.task is not None and not state.task.done():
            state.task.cancel()
        delay = self.settings.debounce_ms if delay_ms is None else delay_ms
        state.task = asyncio.get_running_loop().create_task(self._publish_later(state, state.version, delay))

    async def _publish_later(self, state: DocState, version: int, delay_ms: int) -> None:
        try:
            await asyncio.sleep(delay_ms / 1000)
            if self.docs.get(state.uri) is not state or state.version != version:
                return  # superseded or closed
            snap = self.snapshot(state, settled=False)
            if snap.version != version:
                return
            self.publish(snap)
        except asyncio.CancelledError:
            return
        except Exception:  # never let analysis errors reach the client
            log.error("analysis failed for %s:\n%s", state.uri, traceback.format_exc())

    def lsp_diagnostics(self, uri: str, lines: LineIndex, diags: list[Diagnostic]) -> list[t.Diagnostic]:
        severity = self.settings.deprecation_severity
        return [to_lsp_diagnostic(d, lines, severity, self.encoding, self.locate) for d in diags]

    def publish(self, snap: features.Snapshot) -> None:
        if self.pull_mode:
            return
        diags = self.lsp_diagnostics(snap.uri, snap.lines, snap.diagnostics)
        self.text_document_publish_diagnostics(
            t.PublishDiagnosticsParams(uri=snap.uri, version=snap.version, diagnostics=diags))

    def close(self, uri: str) -> None:
        state = self.docs.pop(uri, None)
        if state is not None and state.task is not None:
            state.task.cancel()
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        if state is not None and state.project is not None:
            self.refresh_from_disk(state.project, uri)  # the file on disk is what counts now

    def refresh_from_disk(self, project: LspProject, uri: str) -> None:
        """A file of `project` changed on disk (or was closed): re-read it, or drop it if it
        is gone or not the project's; re-publish the open files that depend on its names."""
        if uri in self.docs:
            return  # the editor's text wins while the file is open
        old = project.index.tables[uri].keys() if uri in project.index.tables else frozenset()
        path = uri_to_path(uri)
        if path is not None and path.is_file() and project.contains(path):
            project.read_closed(uri, path)
        else:
            project.drop(uri)
            if project.root is None:
                self.projects.standalone.pop(uri, None)
        new = project.index.tables[uri].keys() if uri in project.index.tables else frozenset()
        if old != new:
            self._dependents_changed_all(project, project.index.dependents(uri, old, new))

    def _dependents_changed_all(self, project: LspProject, uris: set[str]) -> None:
        for uri in uris:
            state = self.docs.get(uri)
            if state is not None:
                state.snapshot = None
                self.schedule(state, 0)
        self.refresh_pulls(uris)


def guarded(default: Any = None) -> Callable[[F], F]:
    """A handler that never fails the client: errors are logged and `default` is returned
    (JSON-RPC errors the handler raises on purpose still go to the client)."""

    def wrap(fn: F) -> F:
        if asyncio.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args: Any) -> Any:
                try:
                    return await fn(*args)
                except JsonRpcException:
                    raise
                except Exception:
                    log.error("%s failed:\n%s", fn.__name__, traceback.format_exc())
                    return default
            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            try:
                return fn(*args)
            except JsonRpcException:
                raise
            except Exception:
                log.error("%s failed:\n%s", fn.__name__, traceback.format_exc())
                return default
        return run  # type: ignore[return-value]

    return wrap


def create_server(debounce_ms: int | None = None) -> CodeAIServer:
    server = CodeAIServer(debounce_ms)
    _register_sync(server)
    _register_workspace(server)
    _register_settings(server)
    _register_navigation(server)
    _register_editing(server)
    _register_views(server)
    _register_formatting(server)
    return server


def _state(ls: CodeAIServer, uri: str) -> DocState | None:
    return ls.docs.get(uri)


def _register_sync(server: CodeAIServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls: CodeAIServer, params: t.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        state = ls.open(doc.uri, doc.version, doc.text)
        ls.schedule(state, 0)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls: CodeAIServer, params: t.DidChangeTextDocumentParams) -> None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return
        ls.change(state, params.text_document.version, list(params.content_changes))
        ls.schedule(state, max(ls.settings.debounce_ms, MIN_EDIT_DELAY_MS))

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls: CodeAIServer, params: t.DidCloseTextDocumentParams) -> None:
        ls.close(params.text_document.uri)

    @server.feature(t.SHUTDOWN)
    @guarded()
    def shutdown(ls: CodeAIServer, params: Any) -> None:
        ls.shutdown_requested = True

    @server.feature(t.EXIT)
    @guarded()
    def exit_(ls: CodeAIServer, params: Any) -> None:
        # The LSP specification: exit code 0 after `shutdown`, 1 otherwise. pygls computes it
        # too, but its stdio loop swallows the SystemExit, so `serve` applies it.
        ls.exit_code = 0 if ls.shutdown_requested else 1

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    @guarded()
    def did_save(ls: CodeAIServer, params: t.DidSaveTextDocumentParams) -> None:
        return None


def _register_settings(server: CodeAIServer) -> None:
    @server.feature(t.INITIALIZE)
    @guarded()
    def initialize(ls: CodeAIServer, params: t.InitializeParams) -> None:
        # pygls has chosen the encoding (the client's first supported preference) and will
        # announce it in the result; every conversion must count columns in it.
        ls.encoding = encoding_name(ls.workspace.position_encoding)
        ls.settings.update(params.initialization_options, ls.reg)
        text_caps = params.capabilities.text_document
        ls.pull_mode = text_caps is not None and text_caps.diagnostic is not None
        ws_caps = params.capabilities.workspace
        ls.refresh_support = bool(ws_caps and ws_caps.diagnostics and ws_caps.diagnostics.refresh_support)
        folders = [f.uri for f in params.workspace_folders or []] or ([params.root_uri] if params.root_uri else [])
        ls.projects.folders = [p for p in map(uri_to_path, folders) if p is not None]

    @server.feature(t.INITIALIZED)
    @guarded()
    async def initialized(ls: CodeAIServer, params: t.InitializedParams) -> None:
        await _watch_files(ls)
        await _fetch_settings(ls)

    @server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded()
    async def did_change_configuration(ls: CodeAIServer, params: t.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("codeai"), dict):
            ls.settings.update(settings["codeai"], ls.reg)
        else:
            await _fetch_settings(ls)
        ls.reanalyze_all()


async def _fetch_settings(ls: CodeAIServer) -> None:
    caps = ls.client_capabilities.workspace
    if caps is None or not caps.configuration:
        return
    before = (ls.settings.default_dsl_version, ls.settings.deprecation_severity)
    result = await ls.workspace_configuration_async(
        t.ConfigurationParams(items=[t.ConfigurationItem(section="codeai")]))
    if result:
        ls.settings.update(result[0], ls.reg)
    if (ls.settings.default_dsl_version, ls.settings.deprecation_severity) != before:
        ls.reanalyze_all()


async def _watch_files(ls: CodeAIServer) -> None:
    """Ask the client to report .cai and codeai.yaml changes made outside the editor."""
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    options = t.DidChangeWatchedFilesRegistrationOptions(watchers=[
        t.FileSystemWatcher(glob_pattern="**/*.cai"), t.FileSystemWatcher(glob_pattern="**/codeai.yaml")])
    await ls.client_register_capability_async(t.RegistrationParams(registrations=[t.Registration(
        id="codeai-watched-files", method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))


def _register_workspace(server: CodeAIServer) -> None:
    @server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded()
    def did_change_watched_files(ls: CodeAIServer, params: t.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path is None:
                continue
            if path.name == "codeai.yaml":
                _reload_project(ls, path.parent)
                continue
            for project in ls.projects.all():
                if change.uri in project.index.tables or project.contains(path):
                    ls.refresh_from_disk(project, change.uri)

    @server.feature(t.WORKSPACE_SYMBOL)
    @guarded([])
    def workspace_symbol(ls: CodeAIServer, params: t.WorkspaceSymbolParams) -> list[t.SymbolInformation]:
        out: list[t.SymbolInformation] = []
        for project in ls.projects.all():
            decls = project.index.symbol_search(params.query)
            out += features.workspace_symbols(decls, lambda d: _decl_location(ls, d))
        return out

    @server.feature(t.TEXT_DOCUMENT_DIAGNOSTIC,
                    t.DiagnosticOptions(inter_file_dependencies=True, workspace_diagnostics=True,
                                        identifier="codeai"))
    @guarded()
    def document_diagnostic(ls: CodeAIServer, params: t.DocumentDiagnosticParams) -> t.DocumentDiagnosticReport:
        report = _file_report(ls, params.text_document.uri, params.previous_result_id)
        if report is None:
            return t.RelatedFullDocumentDiagnosticReport(items=[])
        return report

    @server.feature(t.WORKSPACE_DIAGNOSTIC)
    @guarded()
    def workspace_diagnostic(ls: CodeAIServer, params: t.WorkspaceDiagnosticParams) -> t.WorkspaceDiagnosticReport:
        previous = {p.uri: p.value for p in params.previous_result_ids}
        items: list[t.WorkspaceFullDocumentDiagnosticReport | t.WorkspaceUnchangedDocumentDiagnosticReport] = []
        for project in ls.projects.all():
            for uri in sorted(project.index.tables):
                report = _file_report(ls, uri, previous.get(uri))
                version = ls.docs[uri].version if uri in ls.docs else None
                if isinstance(report, t.RelatedUnchangedDocumentDiagnosticReport):
                    items.append(t.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, result_id=report.result_id, version=version))
                elif report is not None:
                    items.append(t.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, items=report.items, result_id=report.result_id, version=version))
        return t.WorkspaceDiagnosticReport(items=items)


def _reload_project(ls: CodeAIServer, root: Any) -> None:
    """codeai.yaml changed: rebuild the project and move its open documents over."""
    ls.projects.forget(root)
    ls.publish_config(root, ls.projects.config_at(root))
    for state in list(ls.docs.values()):
        if state.project is not None and (state.project.root == root or state.project.root is None):
            state.project = ls.projects.project_for(state.uri, ls.open_texts)
            state.snapshot = None
            ls.schedule(state, 0)


def _decl_location(ls: CodeAIServer, d: Any) -> t.Location | None:
    lines = ls.lines_of(d.path)
    return t.Location(uri=d.path, range=to_range(lines, d.start, d.end, ls.encoding)) if lines else None


def _file_report(ls: CodeAIServer, uri: str, previous: str | None) -> \
        t.RelatedFullDocumentDiagnosticReport | t.RelatedUnchangedDocumentDiagnosticReport | None:
    """A pull report for one file: open (its live analysis) or a project file on disk; an
    unchanged report when the client already has this result."""
    state = ls.docs.get(uri)
    if state is not None:
        snap = ls.snapshot(state)
        lines, diags = snap.lines, snap.diagnostics
    else:
        found = next(((p, p.closed[uri]) for p in ls.projects.all() if uri in p.closed), None)
        if found is None:
            return None
        project, closed = found
        lines, diags = closed.line_index(), project.diagnostics(uri, closed.local)
    items = ls.lsp_diagnostics(uri, lines, diags)
    rid = result_id((d.code, d.range, d.message, d.severity, d.related_information) for d in items)
    if previous == rid:
        return t.RelatedUnchangedDocumentDiagnosticReport(result_id=rid)
    return t.RelatedFullDocumentDiagnosticReport(items=items, result_id=rid)


def _register_navigation(server: CodeAIServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_HOVER)
    @guarded()
    def hover(ls: CodeAIServer, params: t.HoverParams) -> t.Hover | None:
        state = _state(ls, params.text_document.uri)
        return features.hover(ls.snapshot(state), params.position) if state else None

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    @guarded([])
    def definition(ls: CodeAIServer, params: t.DefinitionParams) -> list[t.Location]:
        state = _state(ls, params.text_document.uri)
        return features.definition(ls.snapshot(state), params.position) if state else []

    @server.feature(t.TEXT_DOCUMENT_REFERENCES)
    @guarded([])
    def references(ls: CodeAIServer, params: t.ReferenceParams) -> list[t.Location]:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return []
        return features.references(ls.snapshot(state), params.position, params.context.include_declaration)

    @server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
    @guarded()
    def prepare_rename(ls: CodeAIServer, params: t.PrepareRenameParams) -> t.PrepareRenamePlaceholder | None:
        state = _state(ls, params.text_document.uri)
        return features.prepare_rename(ls.snapshot(state), params.position) if state else None

    @server.feature(t.TEXT_DOCUMENT_RENAME)
    @guarded()
    def rename(ls: CodeAIServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return None
        try:
            return features.rename(ls.snapshot(state), params.position, params.new_name)
        except features.RenameError as exc:
            raise RequestFailed(str(exc)) from None


def _register_editing(server: CodeAIServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[":", ","]))
    @guarded(t.CompletionList(is_incomplete=False, items=[]))
    def completion(ls: CodeAIServer, params: t.CompletionParams) -> t.CompletionList:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return t.CompletionList(is_incomplete=False, items=[])
        return features.completion(ls.snapshot(state), params.position)

    kinds = [t.CodeActionKind.QuickFix, t.CodeActionKind.Source, MIGRATE_KIND]
    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                    t.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True))
    @guarded([])
    def code_action(ls: CodeAIServer, params: t.CodeActionParams) -> list[t.CodeAction]:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return []
        snap = ls.snapshot(state)
        only = params.context.only
        actions: list[t.CodeAction] = []
        if _wanted(only, t.CodeActionKind.QuickFix):
            actions += _quick_fixes(ls, snap, params.range)
        if _wanted(only, MIGRATE_KIND):
            actions += _migrations(ls, snap)
        return actions

    @server.feature(t.CODE_ACTION_RESOLVE)
    @guarded()
    def resolve(ls: CodeAIServer, action: t.CodeAction) -> t.CodeAction:
        return _resolve_migration(ls, action)


def _wanted(only: Sequence[str] | None, kind: str) -> bool:
    """LSP `only` is hierarchical: `source` asks for `source.migrate` too."""
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _quick_fixes(ls: CodeAIServer, snap: features.Snapshot, rng: t.Range) -> list[t.CodeAction]:
    lo, hi = snap.offset(rng.start), snap.offset(rng.end)
    out = []
    for d in snap.diagnostics:
        if d.fix is None or d.fix.applicability is Applicability.DISPLAY or d.end < lo or d.start > hi:
            continue  # a display-only fix is a suggestion for people, never an edit
        out.append(_fix_action(ls, snap, d))
    return out


def _fix_action(ls: CodeAIServer, snap: features.Snapshot, d: Diagnostic) -> t.CodeAction:
    assert d.fix is not None
    edits = [t.TextEdit(range=snap.range(e.start, e.end), new_text=e.new_text) for e in d.fix.edits]
    lsp_diag = to_lsp_diagnostic(d, snap.lines, ls.settings.deprecation_severity, snap.encoding, ls.locate)
    safe = d.fix.applicability is Applicability.SAFE
    title = f"{d.fix.description} ({d.code})" if safe else f"{d.fix.description} ({d.code}, unsafe)"
    # Only a safe fix is preferred: editors apply preferred fixes on "fix all" / save.
    return t.CodeAction(title=title, kind=t.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diag], is_preferred=safe,
                        edit=t.WorkspaceEdit(changes={snap.uri: edits}))


def _migrations(ls: CodeAIServer, snap: features.Snapshot) -> list[t.CodeAction]:
    """One source action per newer DSL version; edits are computed on resolve (it is costly)."""
    try:
        import codeai_lang.fixes.rewrite  # noqa: F401
    except ImportError:
        return []
    current = ls.reg.versions[snap.result.document.version]
    return [t.CodeAction(title=f"Migrate file to DSL {v.name}", kind=MIGRATE_KIND,
                         data={"uri": snap.uri, "version": snap.version, "target": v.name})
            for v in ls.reg.ordered if v.key > current.key]


def _resolve_migration(ls: CodeAIServer, action: t.CodeAction) -> t.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    state = _state(ls, str(data.get("uri", "")))
    if state is None or action.kind != MIGRATE_KIND:
        return action
    snap = ls.snapshot(state)
    from codeai_lang.fixes.rewrite import migrate_text
    result = migrate_text(snap.text, str(data.get("target")), registry=ls.reg)
    if not result.ok:
        action.disabled = t.CodeActionDisabled(reason=result.error or "migration failed")
        return action
    edits = [t.TextEdit(range=snap.range(e.start, e.end), new_text=e.new_text) for e in result.edits]
    action.edit = t.WorkspaceEdit(document_changes=[t.TextDocumentEdit(
        text_document=t.OptionalVersionedTextDocumentIdentifier(uri=snap.uri, version=snap.version),
        edits=edits)])
    return action


def _register_formatting(server: CodeAIServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_FORMATTING)
    @guarded([])
    def formatting(ls: CodeAIServer, params: t.DocumentFormattingParams) -> list[t.TextEdit]:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return []
        # The version comes from the file (directive or inference): `defaultDslVersion` is for
        # files without a directive, and layout does not depend on it.
        return fmt.format_document(state.text, None)

    @server.feature(t.TEXT_DOCUMENT_RANGE_FORMATTING)
    @guarded([])
    def range_formatting(ls: CodeAIServer, params: t.DocumentRangeFormattingParams) -> list[t.TextEdit]:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return []
        return fmt.format_range(state.text, params.range, None)

    options = t.DocumentOnTypeFormattingOptions(first_trigger_character=fmt.ON_TYPE_FIRST,
                                                more_trigger_character=fmt.ON_TYPE_MORE)
    @server.feature(t.TEXT_DOCUMENT_ON_TYPE_FORMATTING, options)
    @guarded([])
    def on_type_formatting(ls: CodeAIServer, params: t.DocumentOnTypeFormattingParams) -> list[t.TextEdit]:
        state = _state(ls, params.text_document.uri)
        if state is None:
            return []
        return fmt.format_on_type(state.text, params.position, params.ch)


def _register_views(server: CodeAIServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded([])
    def document_symbol(ls: CodeAIServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
        state = _state(ls, params.text_document.uri)
        return features.document_symbols(ls.snapshot(state)) if state else []

    @server.feature(t.TEXT_DOCUMENT_FOLDING_RANGE)
    @guarded([])
    def folding_range(ls: CodeAIServer, params: t.FoldingRangeParams) -> list[t.FoldingRange]:
        state = _state(ls, params.text_document.uri)
        return features.folding_ranges(ls.snapshot(state)) if state else []

    legend = t.SemanticTokensLegend(token_types=features.TOKEN_TYPES, token_modifiers=features.TOKEN_MODIFIERS)
    @server.feature(t.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, legend)
    @guarded(t.SemanticTokens(data=[]))
    def semantic_tokens(ls: CodeAIServer, params: t.SemanticTokensParams) -> t.SemanticTokens:
        state = _state(ls, params.text_document.uri)
        return features.semantic_tokens(ls.snapshot(state)) if state else t.SemanticTokens(data=[])


def main(argv: list[str] | None = None) -> None:
    """`python -m codeai_lsp [--tcp HOST:PORT]` — stdio by default."""
    import argparse
    parser = argparse.ArgumentParser(prog="codeai-lsp")
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--tcp", metavar="HOST:PORT")
    parser.add_argument("--debounce-ms", type=int)
    args = parser.parse_args(argv)
    serve(args.tcp, args.debounce_ms)


def serve(tcp: str | None = None, debounce_ms: int | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="codeai-lsp: %(message)s")
    server = create_server(debounce_ms)
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    if server.exit_code:
        raise SystemExit(server.exit_code)
