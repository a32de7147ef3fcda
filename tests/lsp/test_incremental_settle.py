"""After edits to a large document the server publishes diagnostics without bringing the
offsets of moved tokens and nodes up to date (`IncrementalDocument.settle`); every request
that reads the tree must still see exact offsets. Compared with a server that opened the
final text afresh (in-process: the server's own methods, no transport)."""

from __future__ import annotations

import gc

from codeai_lsp import features
from codeai_lsp.server import create_server
from codeai_testing.generate import program_2_1
from lsprotocol import types as t

URI = "file:///tmp/settle.cai"


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
