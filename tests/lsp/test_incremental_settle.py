"""After edits to a large document the server publishes diagnostics without bringing the
offsets of moved tokens and nodes up to date (`IncrementalDocument.settle`); every request
that reads the tree must still see exact offsets. Compared with a server that opened the
final text afresh (in-process: the server's own methods, no transport)."""

from __future__ import annotations

import gc

from codeai_lsp import features
from codeai_lsp.projects import LspProject
from codeai_lsp.server import create_server
from codeai_testing.generate import program_2_1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as t

from codeai_lang.analysis import semantic
from codeai_lang.analysis.incremental import IncrementalDocument
from codeai_lang.analysis.validator import validate
from codeai_lang.files.project import ProjectConfig
from codeai_lang.syntax.registry import default_registry

URI = "file:///tmp/settle.cai"
_PIECES = ["entity Order {\n    id: int\n}\n", "event Extra {\n}\n", "Order", "Extra", "x", "", "\n", "status",
           "var total = 2\n", "}", "entity Other {\n    n: int\n}\n"]


def _requests(snap: features.Snapshot) -> tuple[object, ...]:
    hover_at = t.Position(line=60, character=8)
    return (features.semantic_tokens(snap).data, features.document_symbols(snap),
            features.folding_ranges(snap), features.hover(snap, hover_at),
            features.definition(snap, hover_at))


def test_requests_after_unsettled_edits_match_a_fresh_analysis() -> None:
    threshold = gc.get_threshold()
    try:
        ls = create_server(0)
        state = ls.open(URI, 1, program_2_1(900, seed=3))
        assert len(state.text) > state.doc.min_incremental  # the incremental path
        ls.snapshot(state, settled=False)
        for version, line in enumerate((5, 40, 2, 300, 0), start=2):  # early lines: much moves
            at = t.Position(line=line, character=0)
            ls.change(state, version, [t.TextDocumentContentChangePartial(
                range=t.Range(start=at, end=at), text="// note\n")])
            ls.snapshot(state, settled=False)  # what publishing diagnostics does
        assert state.doc.stats.incremental == 5 and state.doc._lagging
        fresh = create_server(0)
        expected = _requests(fresh.snapshot(fresh.open(URI, 1, state.text)))
        assert _requests(ls.snapshot(state)) == expected
    finally:
        gc.set_threshold(*threshold)


def test_project_index_reuses_unchanged_declaration_records() -> None:
    """An edit that declares nothing anew keeps the table's declaration records (the same
    objects), so the project index is not rebuilt; renaming a declaration still tells the
    files that use the name, and their diagnostics follow."""
    reg = default_registry()
    project = LspProject(None, ProjectConfig(), reg)
    doc = IncrementalDocument(program_2_1(600, seed=5), min_incremental=0)
    assert "entity Order {" in doc.text
    other = validate("#version 2.1\njob nightly {\n    steps {\n        s {\n"
                     "            q: select total from Order\n        }\n    }\n}\n")
    project.index.set_file("file:///other.cai", other.table)
    assert project.set_open("file:///big.cai", doc.result) == {"file:///other.cai"}  # new names
    generation = project.index.generation
    at = doc.text.index("status: 201")
    doc.apply_edit(at, at + len("status: 201"), "status: 202")  # inside a `do` body
    assert project.set_open("file:///big.cai", doc.result) == frozenset()
    assert project.index.generation == generation  # nothing derived from names was dropped
    assert project.diagnostics("file:///other.cai", other.local) == []
    at = doc.text.index("entity Order {")
    doc.apply_edit(at, at + len("entity Order {"), "entity Orders {")
    assert project.set_open("file:///big.cai", doc.result) == {"file:///other.cai"}
    assert [d.code for d in project.diagnostics("file:///other.cai", other.local)] == ["CAI202"]


def test_document_sync_skips_pyglss_copy_of_the_text() -> None:
    """didOpen/didChange/didClose go straight to the server's handlers: pygls keeps no second
    copy of the text (its workspace is not even set up before `initialize`, so touching it
    would raise), and the server's own text follows the edits."""
    threshold = gc.get_threshold()
    try:
        ls = create_server(0)
        proto = ls.protocol
        opened = t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
            uri=URI, language_id="codeai", version=1, text="var a = 1\n"))
        at = t.Position(line=0, character=9)
        changed = t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[t.TextDocumentContentChangePartial(range=t.Range(start=at, end=at), text="2")])
        for method, params in ((proto.lsp_text_document__did_open, opened),
                               (proto.lsp_text_document__did_change, changed)):
            [(handler, args, _)] = list(method(params))
            assert handler is ls.protocol.fm.features[method.method_name]
        ls.open(URI, 1, "var a = 1\n")
        ls.change(ls.docs[URI], 2, list(changed.content_changes))
        assert ls.docs[URI].text == "var a = 12\n"
    finally:
        gc.set_threshold(*threshold)


def _merged(index: semantic.ProjectIndex) -> dict[tuple[str, str], list[tuple[str, int, int]]]:
    return {key: [(d.path, d.start, d.end) for d in decls] for key, decls in index.decls.items()}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 30),
       steps=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(_PIECES)),
                      min_size=1, max_size=8))
def test_project_index_follows_edits_like_a_fresh_index(seed: int, steps: list[tuple[float, int, str]]) -> None:
    """The open file's declarations are swapped, added and removed in the merged index edit by
    edit (only the changed ones): it stays what a fresh index of the same tables is, with files
    before and after it in path order declaring the same names; and a file using a name the
    edit declares or removes is among the dependents."""
    reg = default_registry()
    project = LspProject(None, ProjectConfig(), reg)
    uses = validate("#version 2.1\nentity Uses {\n    a: Order\n    b: Extra\n}\n")
    for uri, text in (("file:///a.cai", "#version 2.1\nentity Order {\n    id: int\n}\nevent Extra {\n}\n"),
                      ("file:///z.cai", "#version 2.1\nentity Order {\n    id: int\n}\nvar total = 1\n")):
        project.index.set_file(uri, validate(text).table)
    project.index.set_file("file:///u.cai", uses.table)
    doc = IncrementalDocument(program_2_1(80, seed=seed), min_incremental=0)
    project.set_open("file:///m.cai", doc.result)
    project.index.decls  # noqa: B018 (merged: later edits update it in place)
    for where, length, piece in steps:
        at = int(where * len(doc.text))
        doc.apply_edit(at, at + length, piece)
        before = set(project.index.tables["file:///m.cai"].keys())
        dependents = project.set_open("file:///m.cai", doc.result)
        after = set(doc.result.table.keys())
        fresh = semantic.ProjectIndex()
        for uri, table in project.index.tables.items():
            fresh.set_file(uri, table)
        assert _merged(project.index) == _merged(fresh)
        if {("type", "Order"), ("event", "Extra")} & (before ^ after):
            assert "file:///u.cai" in dependents
        assert project.diagnostics("file:///u.cai", uses.local) == \
            fresh_diagnostics(fresh, "file:///u.cai", uses.local)
        # the edited file's name findings, partly reused from the last edit's
        assert semantic.resolve_file(project.index, "file:///m.cai") == \
            semantic.resolve_file(fresh, "file:///m.cai")


def fresh_diagnostics(index: semantic.ProjectIndex, uri: str, local: list[object]) -> list[object]:
    diags = list(local) + semantic.resolve_file(index, uri)
    diags.sort(key=lambda d: d.sort_key())  # type: ignore[attr-defined]
    return diags


def test_name_findings_follow_a_renamed_field_in_untouched_queries() -> None:
    """The records an edit did not touch keep their lookups only while names and fields are
    the same: renaming an entity's field makes the untouched queries' `where status` fail."""
    project = LspProject(None, ProjectConfig(), default_registry())
    doc = IncrementalDocument(program_2_1(600, seed=4), min_incremental=0)
    project.set_open("file:///m.cai", doc.result)
    assert semantic.resolve_file(project.index, "file:///m.cai") == []
    for old, new in (("    status: string, required", "    statux: string, required"),
                     ("    statux: string, required", "    status: string, required")):
        at = doc.text.index(old)
        doc.apply_edit(at, at + len(old), new)
        project.set_open("file:///m.cai", doc.result)
        fresh = semantic.ProjectIndex()
        fresh.set_file("file:///m.cai", doc.result.table)
        found = semantic.resolve_file(project.index, "file:///m.cai")
        assert found == semantic.resolve_file(fresh, "file:///m.cai")
        assert bool(found) == (new.strip().startswith("statux"))


def test_name_findings_follow_a_renamed_declaration_in_untouched_statements() -> None:
    """A declaration's name comes or goes in one statement: the untouched statements that
    use it (and the other declarations of it) are looked up again."""
    project = LspProject(None, ProjectConfig(), default_registry())
    project.index.set_file("file:///a.cai", validate("entity Thing {\n    id: int\n}\n").table)
    filler = "".join(f"entity Filler{i} {{\n    id: int\n}}\n" for i in range(30))
    text = (f"entity Thing {{\n    id: int\n}}\nentity Solo {{\n    id: int\n}}\n{filler}"
            "entity Uses {\n    a: Thing\n    b: Later\n    c: Solo\n}\n")
    doc = IncrementalDocument(text, min_incremental=0)
    project.set_open("file:///m.cai", doc.result)
    assert [d.code for d in semantic.resolve_file(project.index, "file:///m.cai")] == ["CAI101", "CAI202"]
    steps = [("entity Solo {", "entity Solx {", ["CAI101", "CAI202", "CAI202"]),
             ("entity Filler3 {", "entity Later {", ["CAI101", "CAI202"]),
             ("entity Thing {", "entity Thinx {", ["CAI202"]),
             ("entity Solx {", "entity Solo {", []),
             ("entity Later {", "entity Filler3 {", ["CAI202"])]
    for old, new, codes in steps:
        at = doc.text.index(old)
        doc.apply_edit(at, at + len(old), new)
        project.set_open("file:///m.cai", doc.result)
        fresh = semantic.ProjectIndex()
        for uri, table in project.index.tables.items():
            fresh.set_file(uri, table)
        found = semantic.resolve_file(project.index, "file:///m.cai")
        assert found == semantic.resolve_file(fresh, "file:///m.cai")
        assert sorted(d.code for d in found) == codes
