"""The per-statement check caches of the incremental document (analysis/check_cache.py).

Each cache must (1) give exactly what the plain checks give — diagnostics and the semantic
table (declarations, references, occurrences) — after edits that change what *other*
statements depend on (an entity's fields, a script global, a function's arity), and (2)
actually reuse work: an edit inside one statement re-checks that statement only.
"""

from __future__ import annotations

from codeai_testing.generate import program_1_0, program_2_0, program_2_1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeai_lang.analysis.incremental import IncrementalDocument
from codeai_lang.analysis.validator import Result, validate

NAMED = ["Order", "status", "statux", "total", "OrderShipped", "discount", "params", " x",
         "var discount = 1\n", "function log2(a) { }\n", "var y = x\n", "x = [1]\n",
         "status: string\n", "entity Order {\n", "}", "{", "\n", "q: select total from Order\n",
         "r: OrderShipped { order_id: 1 }\n", "var z = discount + input\n", "1", "(", ")"]


def _table(result: Result) -> tuple[object, ...]:
    table = result.table
    decls = [(d.kind, d.name, d.start, d.end, d.quoted, d.detail) for d in table.decls]
    refs = [(r.namespace, r.name, r.start, r.end, r.name_start, r.name_end, r.code, r.message)
            for r in table.refs]
    occs = [(o.start, o.end, o.key, o.is_decl, o.loose) for o in table.occurrences]
    return decls, refs, occs, sorted(table.script_names.items())


def _same(doc: IncrementalDocument) -> None:
    caches = (doc._expression_checks, doc._script_checks, doc._decl_checks)
    full = validate(doc.text)
    inc = doc.result
    key = [(d.code, d.severity, d.message, d.start, d.end, d.fix) for d in inc.diagnostics]
    assert key == [(d.code, d.severity, d.message, d.start, d.end, d.fix) for d in full.diagnostics]
    assert [(d.code, d.start, d.end, d.message) for d in inc.local] == \
        [(d.code, d.start, d.end, d.message) for d in full.local]
    assert _table(inc) == _table(full)
    assert [c.fallbacks for c in caches] == [0, 0, 0]  # no cache gave up on the checks' internals


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.integers(0, 2), seed=st.integers(0, 40),
       steps=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 4), st.sampled_from(NAMED + [""])),
                      min_size=1, max_size=10))
def test_caches_equal_full_analysis_after_name_changing_edits(
        kind: int, seed: int, steps: list[tuple[float, int, str]]) -> None:
    text = (program_1_0, program_2_0, program_2_1)[kind](60, seed=seed)
    doc = IncrementalDocument(text, min_incremental=0)
    for where, length, piece in steps:
        start = int(where * len(doc.text))
        doc.apply_edit(start, start + length, piece)
        _same(doc)
    assert doc.stats.internal_errors == 0


def _edit(doc: IncrementalDocument, old: str, new: str, nth: int = 0) -> None:
    at = -1
    for _ in range(nth + 1):
        at = doc.text.index(old, at + 1)
    doc.apply_edit(at, at + len(old), new)


def test_an_edit_inside_one_statement_rechecks_only_its_window() -> None:
    doc = IncrementalDocument(program_2_1(1500, seed=2), min_incremental=0)
    statements = len(doc.result.document.statements)
    _edit(doc, "status: 201", "status: 202", nth=5)  # inside one endpoint's `do` body
    _same(doc)
    assert doc.stats.incremental == 1
    # the window: the edited statement and the untouched one on each side, re-parsed
    assert doc._expression_checks.rechecked <= 3 < statements
    assert doc._script_checks.rechecked == 0


def test_renaming_a_field_rechecks_nothing_but_its_window() -> None:
    doc = IncrementalDocument(program_2_1(600, seed=4), min_incremental=0)
    before = doc.result
    assert not any(d.code == "CAI202" for d in before.diagnostics)
    statements = len(before.document.statements)
    _edit(doc, "    status: string, required", "    statux: string, required")
    _same(doc)  # every `where status = …` on Order is now a CAI202 with a did-you-mean
    assert any(d.code == "CAI202" and "status" in d.message for d in doc.result.diagnostics)
    # the queries' references are resolved in the table: their checks are not redone
    assert doc._expression_checks.rechecked <= 3 < statements


def test_a_new_global_silences_the_body_scope_check_without_rechecking() -> None:
    other = "endpoint GET /{} {{\n    do {{\n        var z = 2\n    }}\n}}\n"
    text = ("#version 2.1\n" "endpoint GET /a {\n    do {\n        var y = missing + 1\n    }\n}\n"
            + "".join(other.format(c) for c in "bcde"))
    doc = IncrementalDocument(text, min_incremental=0)
    assert [d.code for d in doc.result.diagnostics] == ["CAI102"]
    first = doc.result.document.statements[0]
    entry = doc._expression_checks.entries[id(first)]
    _edit(doc, "endpoint GET /e", "var missing = 1\nendpoint GET /e")
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == []
    assert doc.result.document.statements[0] is first
    assert doc._expression_checks.entries[id(first)] is entry  # filtered by the globals, not redone


def test_script_statements_replay_their_effects_on_the_file_scope() -> None:
    text = "var items = [1, 2]\nfunction f(a) {\n    log(a)\n}\nf(1)\nitems = 3\nfor i in items {\n    f(i)\n}\n"
    doc = IncrementalDocument(text, min_incremental=0)
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI106"]  # `items` became a number
    _edit(doc, "function f(a)", "function f(a, b)")  # arity changes: both calls now fail
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI105", "CAI106", "CAI105"]
    _edit(doc, "items = 3", "items = [3]")  # the assignment's effect on a global changes
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI105", "CAI105"]
    _edit(doc, "var items = [1, 2]\n", "")  # what read `items` now finds nothing
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI105", "CAI102", "CAI102", "CAI105"]


def _names(result: Result) -> tuple[object, ...]:
    """What publishing diagnostics reads: no tokens or nodes (those settle when read)."""
    table = result.table
    return ([(d.code, d.start, d.end, d.message) for d in result.local],
            [(d.kind, d.name, d.start, d.end) for d in table.decls],
            [(r.namespace, r.name, r.start, r.end, r.name_start, r.name_end) for r in table.refs])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.integers(0, 2), seed=st.integers(0, 40),
       steps=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(NAMED + [""])),
                      min_size=2, max_size=12))
def test_offsets_lag_across_edits_until_read(kind: int, seed: int,
                                              steps: list[tuple[float, int, str]]) -> None:
    """Several edits in a row without reading the tree (as the language server publishes):
    what is read in between is exact, and so is the tree when it is finally read."""
    text = (program_1_0, program_2_0, program_2_1)[kind](60, seed=seed)
    doc = IncrementalDocument(text, min_incremental=0)
    for where, length, piece in steps:
        start = int(where * len(doc.text))
        doc.apply_edit(start, start + length, piece)
        assert _names(doc.result) == _names(validate(doc.text))
    _same(doc)  # reads the document and the occurrences: everything settles
    full = validate(doc.text).document
    assert [(type(s).__name__, s.start, s.end) for s in doc.result.document.statements] == \
        [(type(s).__name__, s.start, s.end) for s in full.statements]
    assert [(t.kind, t.start, t.end) for t in doc.result.document.lexed.tokens] == \
        [(t.kind, t.start, t.end) for t in full.lexed.tokens]


def test_a_reset_at_the_window_start_is_kept() -> None:
    """Regression (found by the property above): a `{` left open is closed at the next
    top-level statement (a reset); a window starting at that statement must keep the reset,
    so that a stray `}` typed later in the file (which closes the `{` in the whole text, no
    reset) is seen to reach back before the window."""
    doc = IncrementalDocument(program_2_0(60, seed=10), min_incremental=0)
    for where, length, piece in [(0.0, 0, "Order"), (0.5, 0, "{"), (1.0, 0, "Order"),
                                 (0.7646103479491269, 1, "Order")]:
        start = int(where * len(doc.text))
        doc.apply_edit(start, start + length, piece)
        assert _names(doc.result) == _names(validate(doc.text))


# -- the unchanged prefix and suffix (check_cache.common_ends, _Stream) ----------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.integers(0, 2), seed=st.integers(0, 40),
       rounds=st.lists(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 4), st.sampled_from(NAMED + [""])),
                                min_size=1, max_size=4), min_size=1, max_size=5))
def test_several_edits_between_analyses_equal_full_analysis(
        kind: int, seed: int, rounds: list[list[tuple[float, int, str]]]) -> None:
    """Edits far apart before the next analysis: the statements between them are the same
    objects but sit between changed ones (re-checked, not taken from the kept outputs)."""
    text = (program_1_0, program_2_0, program_2_1)[kind](80, seed=seed)
    doc = IncrementalDocument(text, min_incremental=0)
    doc.result  # noqa: B018
    for steps in rounds:
        for where, length, piece in steps:
            start = int(where * len(doc.text))
            doc.apply_edit(start, start + length, piece)
        _same(doc)


def test_findings_before_and_after_an_edit_keep_their_places() -> None:
    """Kept findings of the prefix stay, those of the suffix move with the text, and a
    statement whose number of findings changes shifts the kept outputs after it."""
    body = "function f{n}(a) {{\n    log(a)\n}}\nf{n}(1)\n"
    text = "".join(body.format(n=i) for i in range(30))
    doc = IncrementalDocument(text, min_incremental=0)
    _same(doc)
    _edit(doc, "f3(1)", "f3(1, 2)")  # a finding in statement 7
    _same(doc)
    _edit(doc, "f20(1)", "f20()")  # another one, later
    _same(doc)
    _edit(doc, "function f1(a)", "var extra = 1\n\nfunction f1(a)")  # earlier: both move
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI105", "CAI105"]
    _edit(doc, "f3(1, 2)", "f3(1)")  # the first goes, the second stays where it is
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI105"]
    assert doc._script_checks.rechecked <= 6  # the window, not the 60 statements


def test_an_unchanged_statement_after_the_edit_sees_a_changed_name() -> None:
    """The kept suffix is not taken blindly: a later, untouched statement that reads a name
    whose state the edit changed is checked again (a stale reuse would keep its old result)."""
    def filler(k: int) -> str:
        return "".join(f"var v{k}_{i} = {i}\n" for i in range(40))
    text = (f"var items = [1, 2]\n{filler(0)}items = [3]\n{filler(1)}for i in items {{\n    log(i)\n}}\n"
            f"{filler(2)}")
    doc = IncrementalDocument(text, min_incremental=0)
    _same(doc)
    assert doc.result.diagnostics == []
    _edit(doc, "items = [3]", "items = 3")  # `for i in items` (untouched) now loops over a number
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI106"]
    assert doc._script_checks.rechecked <= 8  # the window and the loop, not the 120 statements
    _edit(doc, "items = 3", "items = [4]")
    _same(doc)
    assert doc.result.diagnostics == []
    _edit(doc, "var items = [1, 2]\n", "var itemz = [1, 2]\n")  # undeclared: both uses fail
    _same(doc)
    assert [d.code for d in doc.result.diagnostics] == ["CAI102", "CAI102"]


def test_a_renamed_declaration_updates_references_in_untouched_statements() -> None:
    """References of unchanged statements are resolved again in the table after an edit
    renames what they refer to (the kept references are reused, their resolution is not)."""
    doc = IncrementalDocument(program_2_1(600, seed=4), min_incremental=0)
    _same(doc)
    _edit(doc, "entity Order {", "entity Ordex {")
    _same(doc)
    assert any(d.code == "CAI202" and "Order" in d.message for d in doc.result.diagnostics)
    _edit(doc, "entity Ordex {", "entity Order {")
    _same(doc)
    assert not any(d.code == "CAI202" for d in doc.result.diagnostics)


def test_common_ends() -> None:
    from codeai_lang.analysis.reuse import common_ends
    a, b, c, d, e = (object() for _ in range(5))
    assert common_ends([a, b, c], [a, b, c]) == (3, 0)
    assert common_ends([a, b, c], [a, d, c]) == (1, 1)
    assert common_ends([a, b, c], [a, c]) == (1, 1)
    assert common_ends([a, c], [a, b, c]) == (1, 1)
    assert common_ends([a, a], [a, a, a]) == (2, 0)  # never overlapping
    assert common_ends([], [d, e]) == (0, 0)
    assert common_ends([a, b], [d, e]) == (0, 0)
