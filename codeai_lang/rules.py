"""Deprecation rules D1–D6: find each deprecated form in the AST and say how to rewrite it.

One implementation per rule serves three callers: the validator (CAI301/CAI302 with the fix
attached), the language server (quick fixes) and the rewrite engine (`migrate-dsl`). A rule
returns `Site`s; a site's fix is a list of edits against the original text, so every byte a
rule does not touch stays as it was. A site without a fix needs a human (`manual` says why).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from codeai_lang import nodes as n
from codeai_lang.diagnostics import Edit, Fix

DURATION_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d)")
_D4_KEYS = frozenset({"timeout", "initial_interval"})
_D4_KINDS = frozenset({"workflow", "webhook", "integration", "job"})
_D5_REPLACEMENTS = {"primary_key": "primary", "not_null": "required"}
_FIELD_CONTAINERS = frozenset({"model", "collection", "entity", "embedded"})
_D3_KEYS = {"db_host": "host", "db_port": "port", "db_name": "name", "db_user": "user"}


@dataclass(frozen=True, slots=True)
class Site:
    """One use of a deprecated form: where it is, and its fix (None: a human must decide)."""

    rule: str
    start: int
    end: int
    fix: Fix | None
    manual: str = ""


RuleFn = Callable[[list[n.Node], str], Iterator[Site]]


def find_sites(statements: list[n.Node], text: str) -> list[Site]:
    """Every deprecated form in the statements, in source order."""
    sites = [site for fn in RULES.values() for site in fn(statements, text)]
    sites.sort(key=lambda s: (s.start, s.rule))
    return sites


def _declarations(statements: list[n.Node]) -> Iterator[n.Declaration]:
    for stmt in n.iter_statements(statements):
        if isinstance(stmt, n.Declaration):
            yield stmt


# -- text helpers ---------------------------------------------------------------------------


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    """Offset just past the newline ending the line containing `offset` (or end of text)."""
    i = text.find("\n", offset)
    return len(text) if i < 0 else i + 1


def _indent_of(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _delete_line_or_span(text: str, start: int, end: int) -> Edit:
    """Delete text[start:end]; the whole line(s) when nothing else is on them."""
    ls, le = _line_start(text, start), _line_end(text, end)
    before, after = text[ls:start], text[end:le]
    if not before.strip() and not after.strip():
        return Edit(ls, le, "")
    return Edit(start, end, "")


# -- D1 / D2: the `database` wrapper --------------------------------------------------------


def _database_wrapper(statements: list[n.Node], text: str, rule: str, engine: str,
                      inner: str, keyword: str) -> Iterator[Site]:
    for stmt in statements:
        if not (isinstance(stmt, n.Declaration) and stmt.kind == "database"):
            continue
        head = stmt.head[0] if stmt.head else None
        if not (isinstance(head, n.Ident) and head.name == engine):
            continue
        end = head.end
        blocks = [e for e in stmt.body.entries if e.key_name == inner and e.body is not None]
        others = [e for e in stmt.body.entries if e not in blocks]
        if others:
            yield Site(rule, stmt.start, end, None,
                       f"the `database {engine}` block holds entries other than `{inner}` blocks")
            continue
        yield Site(rule, stmt.start, end, Fix(
            f"move each `{inner}` out of `database {engine}` as a top-level `{keyword}`",
            tuple(_unwrap_edits(text, stmt, blocks, keyword))))


def _unwrap_edits(text: str, decl: n.Declaration, blocks: list[n.Entry],
                  keyword: str) -> Iterator[Edit]:
    body = decl.body
    yield _delete_line_or_span(text, decl.start, body.start + 1)
    outer = _indent_of(text, decl.start)
    unit = _indent_unit(text, blocks, outer)
    # Remove one indentation level from every line strictly inside the wrapper's braces.
    pos = _line_end(text, body.start)
    close_line = _line_start(text, body.end - 1)
    while pos < close_line:
        if text.startswith(outer + unit, pos) and unit:
            yield Edit(pos + len(outer), pos + len(outer) + len(unit), "")
        pos = _line_end(text, pos)
    for block in blocks:
        if block.key_name != keyword:
            yield Edit(block.key.start, block.key.end, keyword)
    yield _delete_line_or_span(text, body.end - 1, body.end)


def _indent_unit(text: str, blocks: list[n.Entry], outer: str) -> str:
    if not blocks:
        return ""
    inner = _indent_of(text, blocks[0].start)
    return inner[len(outer):] if inner.startswith(outer) else ""


def rule_d1(statements: list[n.Node], text: str) -> Iterator[Site]:
    return _database_wrapper(statements, text, "D1", "postgres", "model", "entity")


def rule_d2(statements: list[n.Node], text: str) -> Iterator[Site]:
    return _database_wrapper(statements, text, "D2", "mongodb", "collection", "collection")


# -- D3: flat database keys in config -------------------------------------------------------


def rule_d3(statements: list[n.Node], text: str) -> Iterator[Site]:
    for decl in _declarations(statements):
        if decl.kind != "config":
            continue
        flat = [e for e in decl.body.entries
                if e.colon and (e.key_name in _D3_KEYS or e.key_name == "database_type")]
        if not flat:
            continue
        first = flat[0]
        if any(e.key_name == "database" for e in decl.body.entries):
            yield Site("D3", first.key.start, first.key.end, None,
                       "the config already has a `database` key; merge the flat keys by hand")
            continue
        yield Site("D3", first.key.start, first.key.end,
                   Fix("group the flat database keys into one nested `database` value",
                       tuple(_d3_edits(text, first, flat))))


def _d3_edits(text: str, first: n.Entry, flat: list[n.Entry]) -> Iterator[Edit]:
    kind = "postgres"
    pairs: list[tuple[str, str]] = []
    for e in flat:
        value = text[e.value[0].start:e.value[-1].end] if e.value else '""'
        if e.key_name == "database_type":
            kind = value.strip('"') or "postgres"
        else:
            pairs.append((_D3_KEYS[e.key_name], value))
    indent = _indent_of(text, first.start)
    step = "    " if not indent.startswith("\t") else "\t"
    lines = [f"database: {kind} {{"] + [f"{indent}{step}{k}: {v}" for k, v in pairs] + [f"{indent}}}"]
    yield Edit(first.start, first.end, "\n".join(lines))
    for e in flat[1:]:
        yield _delete_line_or_span(text, e.start, e.end)


# -- D4: duration strings ------------------------------------------------------------------


def rule_d4(statements: list[n.Node], text: str) -> Iterator[Site]:
    for decl in _declarations(statements):
        if decl.kind not in _D4_KINDS:
            continue
        for entry in _entries(decl.body):
            yield from _d4_in_entry(entry)


def _entries(body: n.Body) -> Iterator[n.Entry]:
    for entry in body.entries:
        yield entry
        if entry.body is not None:
            yield from _entries(entry.body)


def _d4_in_entry(entry: n.Entry) -> Iterator[Site]:
    seq: list[n.Node] = [entry.key, *entry.value]
    for key, value in zip(seq, seq[1:], strict=False):
        if isinstance(key, n.Ident) and key.name in _D4_KEYS and isinstance(value, n.StringLit):
            literal = value.value
            if DURATION_TEXT.fullmatch(literal):
                fix = Fix(f"write the duration as a literal: {literal}",
                          (Edit(value.start, value.end, literal),))
                yield Site("D4", value.start, value.end, fix)
            else:
                yield Site("D4", value.start, value.end, None,
                           f"{value.raw} is not a valid duration (e.g. 30s, 10m); a human must fix it")


# -- D5: old field modifiers ---------------------------------------------------------------


def rule_d5(statements: list[n.Node], text: str) -> Iterator[Site]:
    for decl in _declarations(statements):
        yield from _d5_in_body(decl.body, decl.kind in ("entity", "collection"))


def _d5_in_body(body: n.Body, fields_here: bool) -> Iterator[Site]:
    for entry in body.entries:
        if fields_here and entry.colon:
            for part in entry.value:
                if isinstance(part, n.Ident) and part.name in _D5_REPLACEMENTS:
                    new = _D5_REPLACEMENTS[part.name]
                    yield Site("D5", part.start, part.end,
                               Fix(f"replace `{part.name}` with `{new}`",
                                   (Edit(part.start, part.end, new),)))
        if entry.body is not None:
            yield from _d5_in_body(entry.body, entry.key_name in _FIELD_CONTAINERS or
                                   any(isinstance(p, n.Ident) and p.name == "embedded"
                                       for p in entry.value))


# -- D6: `on "e" do action "target" async` --------------------------------------------------


def rule_d6(statements: list[n.Node], text: str) -> Iterator[Site]:
    for stmt in statements:
        if not (isinstance(stmt, n.OnHandler) and stmt.action is not None):
            continue
        do = text.find("do", stmt.event.end, stmt.action.start)
        if do < 0:
            continue
        fix = Fix("use the block form `on \"event\" { … }`",
                  (Edit(do, do + 2, "{"), Edit(stmt.end, stmt.end, " }")))
        yield Site("D6", do, stmt.end, fix)


RULES: dict[str, RuleFn] = {
    "D1": rule_d1, "D2": rule_d2, "D3": rule_d3, "D4": rule_d4, "D5": rule_d5, "D6": rule_d6,
}
