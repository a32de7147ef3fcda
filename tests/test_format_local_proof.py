"""The local layout proof (`verify.verify_local`): re-lex only the segments that changed.

It may decline (the whole-file proof then runs), but it must never accept an output whose
tokens differ from the input's. Fault injection: real layouts broken by small edits (a space
removed or added, lines joined or split, a character of a comment changed), with the cut
hints the layout gave (shifted as a printer making the edit would report them, and not);
whenever the local proof accepts, the whole-file proof must accept too, and every edit the
whole-file proof refuses makes `fmt` refuse to write.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from codeai_testing import generate
from hypothesis import given, settings
from hypothesis import strategies as st
from test_format_properties import GENERATORS, perturb, sprinkle_comments
from test_format_verify import RIGHT, WRONG

from codeai_lang.cli import fmt_cmd
from codeai_lang.format import api, format_text
from codeai_lang.format.layout import layout, layout_with_cuts
from codeai_lang.format.verify import FormatError, verify_layout, verify_local
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.versioned_parse import Document, parse_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def proven_whole(doc: Document, out: str) -> bool:
    try:
        verify_layout(doc, out)
    except FormatError:
        return False
    return True


def messy(gen: Any, seed: int, lines: int = 80) -> str:
    rng = random.Random(seed)
    return str(sprinkle_comments(perturb(format_text(gen(lines, seed=seed)).text, rng), rng))


def test_the_layout_names_cuts_and_the_local_proof_accepts_a_real_layout() -> None:
    for gen in GENERATORS:
        doc = parse_document(messy(gen, 7))
        out, starts, offsets = layout_with_cuts(doc)
        assert out == layout(doc) != doc.text
        assert len(starts) == len(offsets) > 5
        assert verify_local(doc, out, starts, offsets)


def test_an_unchanged_segment_is_not_lexed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from codeai_lang.format import verify

    text = generate.program_2_0(400, seed=1)
    text = format_text(text).text.replace("\n}\n", "\n}\n\n\n", 1)  # one change: a blank line
    doc = parse_document(text)
    out, starts, offsets = layout_with_cuts(doc)
    lexed: list[int] = []
    real = verify.lex

    def spy(piece: str, **kwargs: bool) -> object:
        lexed.append(len(piece))
        return real(piece, **kwargs)

    monkeypatch.setattr(verify, "lex", spy)
    assert verify_local(doc, out, starts, offsets)
    assert len(lexed) == 1 and lexed[0] < len(out) // 20


@pytest.mark.parametrize(("text", "wrong"), WRONG)
def test_a_wrong_layout_is_never_accepted_locally(text: str, wrong: str) -> None:
    doc = parse_document(text)
    _, starts, offsets = layout_with_cuts(doc)
    assert not verify_local(doc, wrong, starts, offsets)
    assert not verify_local(doc, wrong, [], [])


@pytest.mark.parametrize(("text", "right"), RIGHT)
def test_a_right_layout_is_accepted_locally(text: str, right: str) -> None:
    """Moved newlines and `key:` gluing: the segment's statements are parsed again."""
    assert verify_local(parse_document(text), right, [], [])


@pytest.mark.parametrize(("text", "wrong"), [
    # `/` `/` glued into a comment opener; `a - b :` into the name `a-b:` (HNAME); `5⏎m` into
    # the duration `5m`; a path after an HTTP method split
    ("#version 2.1\n\nvar a = 4 / /* c */ 2\nvar b = 1\n", "#version 2.1\n\nvar a = 4 //* c */ 2\nvar b = 1\n"),
    ("#version 2.1\n\nvar x = c ? a - b : d\nvar y = 1\n", "#version 2.1\n\nvar x = c ? a-b: d\nvar y = 1\n"),
    ("var a = 5\nm = 2\nvar c = 1\n", "var a = 5m = 2\nvar c = 1\n"),
    ("#version 2.0\n\nendpoint GET /a/b {\n    response User status 200\n}\n",
     "#version 2.0\n\nendpoint GET /a /b {\n    response User status 200\n}\n"),
])
def test_token_changes_at_junctions_are_refused(text: str, wrong: str) -> None:
    doc = parse_document(text)
    assert not [d for d in doc.diagnostics if d.severity.value == "error"]
    _, starts, offsets = layout_with_cuts(doc)
    assert not proven_whole(doc, wrong)
    for hint in ((starts, offsets), ([], [])):
        assert not verify_local(doc, wrong, *hint)


def test_exec_as_a_name_falls_back_to_the_whole_file_proof() -> None:
    text = "var exec = 1\nvar b   = exec\n"
    doc = parse_document(text)
    out, starts, offsets = layout_with_cuts(doc)
    assert out != text and not verify_local(doc, out, starts, offsets)
    assert format_text(text).text == out  # the whole-file proof accepts it


def test_hints_that_are_not_cuts_are_refused() -> None:
    text = "#version 2.0\n\nentity A {\n  id: uuid\n  name: string\n}\nentity B {\n  id: uuid\n}\n"
    doc = parse_document(text)
    out, starts, offsets = layout_with_cuts(doc)
    inner = text.index("name")  # inside a statement: not a top-level start
    assert not verify_local(doc, out, [inner], [out.index("name")])
    assert not verify_local(doc, out, starts, [o + 1 for o in offsets])  # not line starts
    assert not verify_local(doc, out, starts[::-1], offsets[::-1])


def mutations(out: str, rng: random.Random, count: int) -> list[tuple[str, int, int]]:
    """Small edits of `out` as (text, where, length change): what a layout bug could do."""
    found: list[tuple[str, int, int]] = []
    for _ in range(count):
        kind = rng.randrange(6)
        at = rng.randrange(len(out))
        if kind == 0 and (k := out.find(" ", at)) > 0:  # a space dropped
            found.append((out[:k] + out[k + 1:], k, -1))
        elif kind == 1 and (k := out.find("\n", at)) > 0:  # two lines joined
            end = k + 1
            while end < len(out) and out[end] == " ":
                end += 1
            found.append((out[:k] + " " + out[end:], k, 1 - (end - k)))
        elif kind == 2 and (k := out.find(" ", at)) > 0:  # a line split
            found.append((out[:k] + "\n" + out[k + 1:], k, 0))
        elif kind == 3:  # a space put anywhere (inside a token, a string, a comment)
            found.append((out[:at] + " " + out[at:], at, 1))
        elif kind == 4 and (k := out.find("\n", at)) > 0:  # a newline dropped
            found.append((out[:k] + out[k + 1:], k, -1))
        elif kind == 5 and (k := out.find("/", at)) > 0:  # a character of a comment or path
            found.append((out[:k + 1] + "x" + out[k + 1:], k, 1))
    return found


def check_mutations(text: str, seed: int, count: int = 12) -> tuple[int, int]:
    """(refused by the whole-file proof, accepted locally) over `count` broken layouts."""
    doc = parse_document(text)
    if any(d.severity.value == "error" for d in doc.diagnostics):
        return 0, 0
    out, starts, offsets = layout_with_cuts(doc)
    refused = accepted = 0
    for broken, where, delta in mutations(out, random.Random(seed), count):
        shifted = [o + delta if o > where else o for o in offsets]
        local = [verify_local(doc, broken, starts, hint) for hint in (shifted, offsets)]
        whole = proven_whole(doc, broken)
        if not whole:
            refused += 1
            assert local == [False, False], f"local proof accepted a changed program at {where}"
        accepted += local[0]
    return refused, accepted


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(GENERATORS), st.integers(0, 10_000))
def test_fault_injection_generated_programs(gen: Any, seed: int) -> None:
    check_mutations(messy(gen, seed), seed)


def test_fault_injection_finds_refusals_and_local_acceptances() -> None:
    """The harness is not vacuous: many broken layouts are refused, and harmless edits
    elsewhere are accepted locally (so the local path is what ran)."""
    refused = accepted = 0
    for k, gen in enumerate(GENERATORS):
        r, a = check_mutations(messy(gen, k, 150), k, 60)
        refused, accepted = refused + r, accepted + a
    assert refused >= 40 and accepted >= 10


@pytest.mark.parametrize("path", sorted(CORPUS.rglob("*.cai"))[::3], ids=lambda p: p.name)
def test_fault_injection_corpus(path: Path) -> None:
    check_mutations(path.read_bytes().decode("utf-8"), len(path.name))


def test_fmt_refuses_to_write_a_broken_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A layout bug that glues two tokens in the middle of a large file (one line changed,
    hints consistent): the local proof declines, the whole-file proof refuses, the file is
    left alone and fmt exits 1."""
    text = generate.program_2_0(3000, seed=5).replace("\n}\n", "\n}\n\n\n", 1)
    path = tmp_path / "big.cai"
    path.write_text(text)
    real = api.layout_with_cuts
    seen: list[bool] = []

    def broken(doc: Document) -> tuple[str, list[int], list[int]]:
        out, starts, offsets = real(doc)
        k = out.index("id: uuid", len(out) // 2)
        wrong = out[:k] + "id:uuid".replace(":", "") + out[k + len("id: uuid"):]  # `iduuid`
        shift = len(wrong) - len(out)
        hint = [o + shift if o > k else o for o in offsets]
        seen.append(verify_local(doc, wrong, starts, hint))
        return wrong, starts, hint

    monkeypatch.setattr(api, "layout_with_cuts", broken)
    with pytest.raises(FormatError):
        format_text(text)
    (outcome,) = fmt_cmd.run_fmt([str(path)], "write", None, 1, use_cache=False)
    assert outcome.errors and "internal error" in outcome.errors[0]
    assert path.read_text() == text
    assert fmt_cmd.exit_code([outcome], "write") == 1
    assert seen == [False, False]


def segments(doc: Document) -> list[tuple[int, int]]:
    """The input's segments between the cuts the local proof would accept."""
    _, starts, _ = layout_with_cuts(doc)
    text = doc.text
    cuts = [0]
    for start in starts:
        line = text.rfind("\n", 0, start) + 1
        if line > cuts[-1] and not text[line:start].strip(" \t\r\f\v\ufeff"):
            cuts.append(line)
    cuts.append(len(text))
    return list(zip(cuts, cuts[1:], strict=False))


@pytest.mark.parametrize("path", sorted(CORPUS.rglob("*.cai")), ids=lambda p: p.name)
def test_a_segment_lexed_alone_reads_as_in_place(path: Path) -> None:
    """The lemma the local proof rests on, checked on every corpus file: between two cuts,
    the text lexed alone gives the tokens (newline tokens included) and comments it has in
    the whole file. A lexer change that makes a token depend on text across a cut (a new
    look-behind or look-ahead) fails here before it can make the local proof unsound."""
    check_segments(path.read_bytes().decode("utf-8"))


@pytest.mark.parametrize("gen", GENERATORS, ids=lambda g: g.__name__)
def test_a_segment_of_a_generated_program_reads_as_in_place(gen: Any) -> None:
    for seed in range(3):
        check_segments(messy(gen, seed, 200))


def check_segments(text: str) -> None:
    doc = parse_document(text)
    if any(d.severity.value == "error" for d in doc.diagnostics):
        return
    tokens, comments = doc.lexed.tokens, doc.lexed.comments
    for a, b in segments(doc):
        alone = lex(text[a:b], local=False)
        assert [(t.kind, t.text) for t in alone.tokens] == \
            [(t.kind, t.text) for t in tokens if a <= t.start < b]
        assert [c.text for c in alone.comments] == [c.text for c in comments if a <= c.start < b]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a\n", "b\n", "cc\n", "\n"]), min_size=1, max_size=12),
       st.lists(st.integers(0, 3), max_size=12), st.integers(0, 10_000))
def test_changed_segments_are_exactly_the_segments_that_differ(
        lines: list[str], edits: list[int], seed: int) -> None:
    from codeai_lang.format.verify import _changed_segments

    rng = random.Random(seed)
    old, new = "", ""
    ins, outs = [0], [0]
    for k, line in enumerate(lines):
        edit = edits[k] if k < len(edits) else 0
        other = line if edit == 0 else line.replace("\n", " \n") if edit == 1 else \
            line[::-1] if edit == 2 else rng.choice(["x\n", "yy\n", "\n"])
        old, new = old + line, new + other
        ins.append(len(old))
        outs.append(len(new))
    expected = [k for k in range(len(lines))
                if old[ins[k]:ins[k + 1]] != new[outs[k]:outs[k + 1]]]
    assert _changed_segments(old, new, ins, outs) == expected


def test_exec_as_a_name_far_from_the_change_does_not_matter() -> None:
    filler = "".join(f"var v{k} = {k}\n" for k in range(600))  # > 4,096 characters
    text = "var exec = 1\n" + filler + "var   last = 2\n"
    doc = parse_document(text)
    out, starts, offsets = layout_with_cuts(doc)
    assert out == text.replace("var   last", "var last")
    assert verify_local(doc, out, starts, offsets)
    near = parse_document(text.replace("var v3 = 3", "var  v3 = 3"))  # `exec` within reach
    out, starts, offsets = layout_with_cuts(near)
    assert not verify_local(near, out, starts, offsets)
    assert format_text(near.text).text == out
