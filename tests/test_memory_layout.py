"""The compact AST representations (issue 13's memory bar) keep their contracts.

- Leaves built from one token compute `end` from their spelling and keep the spelling in
  the `end` slot (two slots, not three); the constructor and the incremental document's
  shifting (assigning start and end alike) still work.
- Declarations without decorators and entries without a value share one empty list, so
  nothing may mutate an AST list: every tool runs over the corpus, then the list must
  still be empty.
"""

from __future__ import annotations

import copy
import pickle
import sys
from dataclasses import fields
from pathlib import Path

from codeai_lang.analysis.validator import validate
from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.format.api import format_text
from codeai_lang.syntax import ast_builder
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.versioned_parse import parse_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_leaves_compute_their_end_and_shift_like_other_nodes() -> None:
    ident = n.Ident(3, 6, "abc")
    assert (ident.start, ident.end) == (3, 6)
    ident.start += 10
    ident.end += 10  # what shifting code does to every node: the end follows the start
    assert (ident.start, ident.end) == (13, 16)
    for clone in (pickle.loads(pickle.dumps(ident)), copy.deepcopy(ident)):
        assert (clone.start, clone.end, clone.name) == (13, 16, "abc")
    assert ident.to_json() == {"kind": "Ident", "name": "abc", "range": [13, 16]}
    triple = n.TripleStringLit(0, 9, '"""a\nb"""')
    assert (triple.end, triple.value) == (9, "a\nb")


LEAVES = (n.Ident, n.StringLit, n.TripleStringLit, n.NumberLit, n.DurationLit, n.PathLit, n.Operator)


def test_leaves_are_two_slots() -> None:
    """~190k leaves on a 100k-line file: a third slot costs 16 bytes each (~3 MB)."""
    for cls in LEAVES:
        assert cls.__slots__ == () and cls.__basicsize__ == n.Node.__basicsize__, cls
        leaf = cls(70_000, 70_003, "abc")
        assert sys.getsizeof(leaf) <= 48 and not hasattr(leaf, "__dict__")
        assert (leaf.start, leaf.end) == (70_000, 70_003)
        assert [f.name for f in fields(leaf)][:2] == ["start", "end"]
    ident = n.Ident(0, 1, "a")
    ident.name = "abcd"  # the spelling is writable; the end follows it
    assert (ident.name, ident.end) == ("abcd", 4)
    assert n.Node(1, 5).end == 5 and n.Entry(0, 9, ident, False, [], None).end == 9


def test_parsed_leaves_end_where_their_text_ends() -> None:
    text = 'entity User { id: uuid, primary }\nworkflow w { timeout "30s" retries 3 }\n'
    doc = parse_document(text)
    leaves = [x for s in doc.statements for x in s.walk()
              if isinstance(x, n.Ident | n.StringLit | n.NumberLit)]
    assert leaves
    for leaf in leaves:
        spelled = leaf.name if isinstance(leaf, n.Ident) else \
            leaf.raw if isinstance(leaf, n.StringLit) else leaf.text
        assert text[leaf.start:leaf.end] == spelled


def test_no_tool_mutates_the_shared_empty_list() -> None:
    files = sorted(CORPUS.glob("**/*.cai"))
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        result = validate(text)
        for stmt in result.document.statements:
            stmt.to_json()
        if result.valid:
            format_text(text, verify=False)
        migrate_text(text)
    assert ast_builder.NO_NODES == []


def test_nodes_share_one_repr_that_prints_every_field() -> None:
    """Node classes do not generate a repr each (start-up); the shared one prints what the
    generated one did: the class and every field in order, leaves and subclasses included."""
    call = n.Call(0, 6, n.Ident(0, 3, "abc"), [n.NumberLit(4, 5, "1")])
    assert repr(call) == ("Call(start=0, end=6, callee=Ident(start=0, end=3, name='abc'), "
                          "args=[NumberLit(start=4, end=5, text='1')])")
    local = n.LocalVar(0, 9, n.Ident(0, 3, "var"), False, [], None, n.Ident(4, 5, "x"))
    assert repr(local) == ("LocalVar(start=0, end=9, key=Ident(start=0, end=3, name='var'), colon=False, "
                           "value=[], body=None, name=Ident(start=4, end=5, name='x'))")
    for cls in vars(n).values():
        if isinstance(cls, type) and issubclass(cls, n.Node):
            assert cls.__repr__ is n.Node.__repr__, cls  # none generated its own
            assert not (cls.__doc__ or "").startswith(f"{cls.__name__}("), cls  # documented
