"""Deprecation rules D1–D8: find each deprecated form in the AST and say how to rewrite it.

One implementation per rule serves three callers: the validator (CAI301/CAI302 with the fix
attached), the language server (quick fixes) and the rewrite engine (`migrate-dsl`). A rule
returns `Site`s; a site's fix is a list of edits against the original text, so every byte a
rule does not touch stays as it was. A site without a fix needs a human (`manual` says why).

Layout conventions the fixes follow (so migrated files look hand-written):
- a line is ended the way the file ends it (`\\r\\n` stays `\\r\\n`); new lines copy it;
- deleting a construct that is alone on its line deletes the whole line; otherwise only the
  construct and the blanks next to it go, and comments on that line stay;
- re-indenting (D1/D2) removes one level from each line, never touches whitespace-only lines
  or the inside of `/* … */` comments (comment text is never changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from codeai_lang.diagnostics.model import Edit, Fix
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import Token, lex

DURATION_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_D4_KEYS = frozenset({"timeout", "initial_interval"})
_D4_KINDS = frozenset({"workflow", "webhook", "integration", "job"})
_D5_REPLACEMENTS = {"primary_key": "primary", "not_null": "required"}
_FIELD_CONTAINERS = frozenset({"model", "collection", "entity", "embedded"})
_D3_KEYS = {"db_host": "host", "db_port": "port", "db_name": "name", "db_user": "user"}
_BLANK = " \t\r\f\v"
_TRIGGER_WORDS = frozenset({"database_type", *_D3_KEYS, *_D5_REPLACEMENTS})
_DATABASE_ENGINES = frozenset({"postgres", "mongodb"})
_D7_D8_WORDS = frozenset({"auth", "role", "middleware", "webhook", "integration", "schema"})


@dataclass(frozen=True, slots=True)
class Site:
    """One use of a deprecated form: where it is, and its fix (None: a human must decide)."""

    rule: str
    start: int
    end: int
    fix: Fix | None
    manual: str = ""


RuleFn = Callable[[list[n.Node], str], Iterator[Site]]


class _Tree:
    """What the rules look at, gathered in one pass over the statements: the declarations by
    kind and the `on` handlers (each rule used to walk every statement again)."""

    __slots__ = ("by_kind", "handlers", "decls")

    def __init__(self, statements: list[n.Node]) -> None:
        self.decls: list[n.Declaration] = []
        self.by_kind: dict[str, list[n.Declaration]] = {}
        self.handlers: list[n.OnHandler] = []
        for stmt in n.iter_statements(statements):
            if isinstance(stmt, n.Declaration):
                self.decls.append(stmt)
                self.by_kind.setdefault(stmt.kind, []).append(stmt)
            elif isinstance(stmt, n.OnHandler):
                self.handlers.append(stmt)

    def of_kinds(self, kinds: Iterable[str]) -> list[n.Declaration]:
        """Declarations of the given kinds, in source order."""
        found = [d for k in kinds for d in self.by_kind.get(k, ())]
        found.sort(key=lambda d: d.start)
        return found


_TreeRule = Callable[[_Tree, str], Iterator[Site]]


def find_sites(statements: list[n.Node], text: str, rules: tuple[str, ...] | None = None) -> list[Site]:
    """Every deprecated form in the statements (only `rules` if given), in source order."""
    chosen = list(RULES) if rules is None else [r for r in rules if r in RULES]
    if not chosen:
        return []
    tree = _Tree(statements)
    sites: list[Site] = []
    for rule_id in chosen:
        fn = RULES[rule_id]
        impl = _IMPLS.get(rule_id)
        # The shared pass, unless a rule was replaced (RULES is the registry of record).
        sites += impl(tree, text) if impl is not None and fn is _DEFAULT[rule_id] else fn(statements, text)
    sites.sort(key=lambda s: (s.start, s.rule))
    return sites


def may_have_sites(tokens: Sequence[Token]) -> bool:
    """A cheap, conservative pre-check on the tokens: False means no rule can find a site.

    Each rule needs a telltale token sequence (D1/D2 `database postgres|mongodb`, D3 a flat
    key, D4 `timeout`/`initial_interval` before a string, D5 an old modifier, D6 `on "e" do`,
    D7 an auth/role/middleware/webhook/integration declaration, D8 `schema`),
    so a file without any skips parsing for sites (the `--check` fast path on migrated trees).
    Keep it in step with the rules below.
    """
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        word = tok.text
        if word in _TRIGGER_WORDS or word in _D7_D8_WORDS:  # D7/D8: a clause-style kind, `schema`
            return True
        if word == "database" and i < last and tokens[i + 1].text in _DATABASE_ENGINES:
            return True
        if word in _D4_KEYS and i < last and tokens[i + 1].kind == "STRING":
            return True
        if word == "do" and i >= 2 and tokens[i - 1].kind == "STRING" and tokens[i - 2].text == "on":
            return True
    return False


# -- text helpers ---------------------------------------------------------------------------


def newline_of(text: str, offset: int = -1) -> str:
    """The line ending to copy: that of the line holding `offset`, else the file's first one."""
    i = text.find("\n", max(offset, 0)) if offset >= 0 else -1
    if i < 0:
        i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def _line_start(text: str, offset: int) -> int:
    """Start of the line holding `offset`; the first line starts after a BOM (kept)."""
    start = text.rfind("\n", 0, offset) + 1
    return 1 if start == 0 and offset > 0 and text.startswith("\ufeff") else start


def _line_end(text: str, offset: int) -> int:
    """Offset just past the newline ending the line containing `offset` (or end of text)."""
    i = text.find("\n", offset)
    return len(text) if i < 0 else i + 1


def _content_end(text: str, offset: int) -> int:
    """Offset of the line ending (`\\r\\n` or `\\n`) of the line holding `offset`."""
    i = text.find("\n", offset)
    if i < 0:
        return len(text)
    return i - 1 if i > 0 and text[i - 1] == "\r" else i


def _indent_of(text: str, offset: int) -> str:
    start = _line_start(text, offset)
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _is_comment(rest: str) -> bool:
    """True if `rest` (the remainder of a line) is blanks then one comment closed on this line."""
    s = rest.strip(_BLANK)
    if s.startswith("//"):
        return True
    return s.startswith("/*") and s.endswith("*/") and s.find("*/") == len(s) - 2


def _delete_line(text: str, start: int, end: int) -> Edit:
    """Delete the whole line(s) spanning [start, end). On a last line without a newline, the
    newline before it goes instead, so a file without a final newline stays that way."""
    ls, le = _line_start(text, start), _line_end(text, end)
    if le == len(text) and not text.endswith("\n") and ls > 0:
        ls -= 2 if ls >= 2 and text[ls - 2] == "\r" else 1
    return Edit(ls, le, "")


def _delete_construct(text: str, start: int, end: int) -> Edit:
    """Delete text[start:end]: the whole line when nothing else is on it; otherwise the span
    and the blanks after it (before it, when only blanks or a comment follow)."""
    ls = _line_start(text, start)
    ce = _content_end(text, end)
    before, after = text[ls:start], text[end:ce]
    if not before.strip(_BLANK) and not after.strip(_BLANK):
        return _delete_line(text, start, end)
    if not after.strip(_BLANK):
        return Edit(ls + len(before.rstrip(_BLANK)), end, "")
    return Edit(start, end + len(after) - len(after.lstrip(_BLANK)), "")


# -- D1 / D2: the `database` wrapper --------------------------------------------------------


def _database_wrapper(tree: _Tree, text: str, rule: str, engine: str,
                      inner: str, keyword: str) -> Iterator[Site]:
    for decl in tree.by_kind.get("database", ()):
        head = decl.head[0] if decl.head else None
        if not (isinstance(head, n.Ident) and head.name == engine):
            continue
        end = head.end
        blocks = [e for e in decl.body.entries if e.key_name == inner and e.body is not None]
        if len(blocks) != len(decl.body.entries) or len(decl.head) != 1:
            yield Site(rule, decl.start, end, None,
                       f"the `database {engine}` block holds entries other than `{inner}` blocks")
            continue
        if _header_comment_problem(text, decl):
            yield Site(rule, decl.start, end, None,
                       "a `//` comment inside the `database` header; move it out by hand")
            continue
        yield Site(rule, decl.start, end, Fix(
            f"move each `{inner}` out of `database {engine}` as a top-level `{keyword}`",
            tuple(_unwrap_edits(text, decl, blocks, keyword))))


def _header_comment_problem(text: str, decl: n.Declaration) -> bool:
    """A line comment in `database … {` followed by code on the same line cannot be kept
    in place of the header without commenting that code out."""
    header = text[decl.start:decl.body.start + 1]
    if "//" not in header:
        return False
    after = text[decl.body.start + 1:_line_end(text, decl.body.start)]
    return any(c.text.startswith("//") for c in lex(header).comments) and bool(after.strip())


def _delete_header(text: str, start: int, end: int) -> Edit:
    """Delete the wrapper's header, keeping any comment written inside it."""
    comments = [c.text for c in lex(text[start:end]).comments] if "/" in text[start:end] else []
    if not comments:
        return _delete_construct(text, start, end)
    while end < len(text) and text[end] in " \t":  # or a line comment would absorb them
        end += 1
    return Edit(start, end, " ".join(comments))


def _unwrap_edits(text: str, decl: n.Declaration, blocks: list[n.Entry],
                  keyword: str) -> Iterator[Edit]:
    """Delete the wrapper's opener and closer, de-indent what was inside, rename the blocks."""
    body = decl.body
    close = body.end - 1
    yield _delete_header(text, decl.start, body.start + 1)
    outer = _indent_of(text, decl.start)
    unit = _indent_unit(text, blocks, outer)
    lo = _line_end(text, body.start)
    hi = _line_start(text, close)
    if text[hi:close].strip(_BLANK):  # something precedes the closer on its line: de-indent it
        hi = _line_end(text, close)
    if unit and lo < hi:
        protected = _comment_interiors(text, body.start, body.end)
        yield from _dedent_lines(text, lo, hi, outer, unit, protected)
    for block in blocks:
        if block.key_name != keyword:
            yield Edit(block.key.start, block.key.end, keyword)
    yield _delete_construct(text, close, body.end)


def _indent_unit(text: str, blocks: list[n.Entry], outer: str) -> str:
    if not blocks:
        return ""
    inner = _indent_of(text, blocks[0].start)
    if _line_start(text, blocks[0].start) + len(inner) != blocks[0].start:
        return ""  # the first block shares a line with the opener: nothing to de-indent
    return inner[len(outer):] if inner.startswith(outer) else ""


def _comment_interiors(text: str, start: int, end: int) -> set[int]:
    """Line starts in text[start:end] that lie inside a multi-line block comment."""
    if "/*" not in text[start:end]:
        return set()
    out: set[int] = set()
    for c in lex(text[start:end]).comments:
        if c.text.startswith("/*"):
            pos = text.find("\n", start + c.start, start + c.end)
            while 0 <= pos < start + c.end - 1:
                out.add(pos + 1)
                pos = text.find("\n", pos + 1, start + c.end)
    return out


def _dedent_lines(text: str, lo: int, hi: int, outer: str, unit: str,
                  protected: set[int]) -> Iterator[Edit]:
    """Remove one indentation `unit` after `outer` from each line starting in [lo, hi)."""
    width = len(unit) if unit.strip(" ") == "" else 4
    pos = lo
    while pos < hi:
        end = _line_end(text, pos)
        line = text[pos:end]
        if pos not in protected and line.strip(_BLANK + "\n") and line.startswith(outer):
            at = pos + len(outer)
            rest = line[len(outer):]
            if rest.startswith(unit):
                yield Edit(at, at + len(unit), "")
            elif rest.startswith("\t"):
                yield Edit(at, at + 1, "")
            elif rest.startswith(" "):
                spaces = len(rest) - len(rest.lstrip(" "))
                yield Edit(at, at + min(spaces, width), "")
        pos = end


def _d1(tree: _Tree, text: str) -> Iterator[Site]:
    return _database_wrapper(tree, text, "D1", "postgres", "model", "entity")


def _d2(tree: _Tree, text: str) -> Iterator[Site]:
    return _database_wrapper(tree, text, "D2", "mongodb", "collection", "collection")


# -- D3: flat database keys in config -------------------------------------------------------


def _d3(tree: _Tree, text: str) -> Iterator[Site]:
    for decl in tree.by_kind.get("config", ()):
        flat = [e for e in decl.body.entries
                if e.colon and (e.key_name in _D3_KEYS or e.key_name == "database_type")]
        if not flat:
            continue
        first = flat[0]
        problem = _d3_problem(decl, flat)
        if problem:
            yield Site("D3", first.key.start, first.key.end, None, problem)
            continue
        yield Site("D3", first.key.start, first.key.end,
                   Fix("group the flat database keys into one nested `database` value",
                       tuple(_d3_edits(text, decl, flat))))


def _d3_problem(decl: n.Declaration, flat: list[n.Entry]) -> str:
    """Why the flat keys cannot be grouped mechanically ('' if they can)."""
    if any(e.key_name == "database" for e in decl.body.entries):
        return "the config already has a `database` key; merge the flat keys by hand"
    names = [e.key_name for e in flat]
    dup = next((k for k in names if names.count(k) > 1), None)
    if dup:
        return f"`{dup}` appears more than once; keep one by hand"
    for e in flat:
        if not e.value or e.body is not None:
            return f"`{e.key_name}` has no plain value"
        if e.key_name == "database_type" and not _d3_kind(e):
            return "`database_type` must be a plain name such as postgres"
    return ""


def _d3_kind(entry: n.Entry) -> str:
    """The database kind named by a `database_type` entry ('' if it is not a plain name)."""
    if len(entry.value) != 1:
        return ""
    v = entry.value[0]
    name = v.name if isinstance(v, n.Ident) else v.value if isinstance(v, n.StringLit) else ""
    return name if _NAME.fullmatch(name) else ""


def _d3_edits(text: str, decl: n.Declaration, flat: list[n.Entry]) -> Iterator[Edit]:
    """The group replaces the first key (and its comment); the other keys' lines go."""
    first = flat[0]
    nl = newline_of(text, first.start)
    indent = _indent_of(text, first.start)
    outer = _indent_of(text, decl.start)
    one_line = _one_line_body(text, decl.body, first)
    if one_line:  # `config { db_host: … }`: the nested value needs the body on its own lines
        indent = outer + ("\t" if "\t" in outer else "    ")
    step = indent[len(outer):] if indent.startswith(outer) and len(indent) > len(outer) else (
        "\t" if "\t" in indent else "    ")
    comments = {id(e): _movable_comment(text, e, e is first) for e in flat}
    above = {id(e): _comment_lines_above(text, e) for e in flat[1:]}
    kind, opener_comment, lines = "postgres", "", []
    for e in flat:
        lines += [f"{indent}{step}{c}" for c in above.get(id(e), ("", []))[1]]
        if e.key_name == "database_type":  # its value becomes the kind; keep its comments
            inside = [c.text for c in lex(text[e.start:e.end]).comments] if "/" in text[e.start:e.end] else []
            kind, opener_comment = _d3_kind(e), "".join(" " + c for c in inside) + comments[id(e)]
        else:
            lines.append(f"{indent}{step}{_D3_KEYS[e.key_name]}{text[e.key.end:e.end]}{comments[id(e)]}")
    group = nl.join([f"database: {kind} {{{opener_comment}", *lines, f"{indent}}}"])
    if one_line:
        yield Edit(decl.body.start + 1, decl.body.end - 1, f"{nl}{indent}{group}{nl}{outer}")
        return
    yield Edit(first.start, first.end + len(comments[id(first)]), group)
    for e in flat[1:]:
        start, moved = above[id(e)]
        alone = not text[_line_start(text, e.start):e.start].strip(_BLANK)  # e.g. no `/* c */` before it
        if alone and (moved or comments[id(e)] or not text[e.end:_content_end(text, e.end)].strip(_BLANK)):
            yield _delete_line(text, start, e.end)
        else:
            yield _delete_construct(text, e.start, e.end)


def _one_line_body(text: str, body: n.Body, only: n.Entry) -> bool:
    """A body written on one line holding just `only` and blanks: `{ db_host: "h" }`."""
    inside = text[body.start + 1:body.end - 1]
    around = text[body.start + 1:only.start] + text[only.end:body.end - 1]
    return "\n" not in inside and not around.strip(_BLANK) and len(body.entries) == 1


def _comment_lines_above(text: str, entry: n.Entry) -> tuple[int, list[str]]:
    """Comment-only lines right above an entry alone on its line (no blank line between):
    they describe it and move with it. Returns where they start and their stripped text."""
    start = _line_start(text, entry.start)
    if text[start:entry.start].strip(_BLANK):
        return entry.start, []
    lines: list[str] = []
    while start > 0:
        prev = _line_start(text, start - 1)
        line = text[prev:start].strip(_BLANK + "\n")
        if not line or not _is_comment(line):
            break
        lines.insert(0, line)
        start = prev
    return start, lines


def _movable_comment(text: str, entry: n.Entry, first: bool) -> str:
    """The blanks and comment after an entry on its line, moved with it into the group ('' if
    none, or if the entry shares its line with something else and is not the first key)."""
    rest = text[entry.end:_content_end(text, entry.end)]
    if not _is_comment(rest):
        return ""
    if not first and text[_line_start(text, entry.start):entry.start].strip(_BLANK):
        return ""
    return rest.rstrip(_BLANK)


# -- D4: duration strings ------------------------------------------------------------------


def _d4(tree: _Tree, text: str) -> Iterator[Site]:
    for decl in tree.of_kinds(_D4_KINDS):
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
            if DURATION_TEXT.fullmatch(literal) and value.raw == f'"{literal}"':
                fix = Fix(f"write the duration as a literal: {literal}",
                          (Edit(value.start, value.end, literal),))
                yield Site("D4", value.start, value.end, fix)
            else:
                yield Site("D4", value.start, value.end, None,
                           f"{value.raw} is not a valid duration (e.g. 30s, 10m); a human must fix it")


# -- D5: old field modifiers ---------------------------------------------------------------


def _d5(tree: _Tree, text: str) -> Iterator[Site]:
    for decl in tree.decls:
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


def _d6(tree: _Tree, text: str) -> Iterator[Site]:
    for stmt in tree.handlers:
        if stmt.action is None:
            continue
        do = _keyword_between(text, "do", stmt.event.end, stmt.action.start)
        if do < 0:
            continue
        # A handler written over several lines gets its `}` on a line of its own (the
        # formatter's layout), at the handler's indentation.
        close = (" }" if "\n" not in text[do:stmt.end]
                 else f"{newline_of(text, do)}{_indent_of(text, stmt.start)}}}")
        fix = Fix("use the block form `on \"event\" { … }`",
                  (Edit(do, do + 2, "{"), Edit(stmt.end, stmt.end, close)))
        yield Site("D6", do, stmt.end, fix)


def _keyword_between(text: str, word: str, start: int, end: int) -> int:
    """Offset of the token `word` in text[start:end], skipping comments (-1 if absent)."""
    for tok in lex(text[start:end]).tokens:
        if tok.text == word:
            return start + tok.start
    return -1


# -- D7: space-separated clauses in auth/role/middleware/webhook/integration (2.1) ----------


_D7_KINDS = frozenset({"auth", "role", "middleware", "webhook", "integration"})


def _d7(tree: _Tree, text: str) -> Iterator[Site]:
    for decl in tree.of_kinds(_D7_KINDS):
        yield from _d7_in_body(decl.body, text)


def _d7_in_body(body: n.Body, text: str) -> Iterator[Site]:
    for entry in body.entries:
        edits = _colon_edits(entry, body, text)
        if edits:
            key = entry.key_name
            yield Site("D7", entry.key.start, entry.key.end,
                       Fix(f"write the clause as a property: `{key}: …`", tuple(edits)))
        if entry.body is not None:
            yield from _d7_in_body(entry.body, text)


def _colon_edits(entry: n.Entry, body: n.Body, text: str) -> list[Edit]:
    """`method jwt` → `method: jwt`; a one-line chain `retry 3 initial_interval 1s backoff 2.0`
    → `retry: 3  initial_interval: 1s  backoff: 2.0` (each later key gets its colon too, so
    the line reads as several `key: value` properties). Token by token, except the blank
    before each later key: it becomes the separator of `codeai fmt` (two spaces in a body
    written on one line, a line break at the entry's indentation in one written over lines),
    so a formatted file stays formatted; a gap holding a comment is kept as it is."""
    # An entry with a body is a named block (`operation charge { … }`, `auth bearer { … }`),
    # not a clause: it stays as it is.
    if entry.colon or type(entry) is not n.Entry or not isinstance(entry.key, n.Ident) \
            or not entry.value or entry.body is not None:
        return []
    edits = [Edit(entry.key.end, entry.key.end, ":")]
    values = entry.value
    pairs = values[1::2]
    if len(values) >= 3 and len(values) % 2 == 1 and all(isinstance(k, n.Ident) for k in pairs) \
            and not any(isinstance(v, n.Operator) for v in values):
        sep = _entry_separator(entry, body, text)
        for before, k in zip(values[0::2], pairs, strict=False):
            if not text[before.end:k.start].strip():
                edits.append(Edit(before.end, k.start, sep))
            edits.append(Edit(k.end, k.end, ":"))
    return edits


def _entry_separator(entry: n.Entry, body: n.Body, text: str) -> str:
    """What separates two properties of `body`: two spaces on one line, else a line break
    (the file's) and the indentation of `entry`'s line."""
    if "\n" not in text[body.start:body.end]:
        return "  "
    line_start = text.rfind("\n", 0, entry.start) + 1
    line = text[line_start:entry.start]
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    eol = "\r\n" if text.find("\r\n", entry.start) == text.find("\n", entry.start) - 1 else "\n"
    return eol + indent


# -- D8: `event e { schema { f type … } }` (2.1) -------------------------------------------


def _d8(tree: _Tree, text: str) -> Iterator[Site]:
    for decl in tree.by_kind.get("event", ()):
        for entry in decl.body.entries:
            if entry.key_name == "schema" and entry.body is not None and not entry.value:
                edits = [Edit(entry.key.start, entry.key.end, "payload")]
                for field_entry in entry.body.entries:
                    edits += _colon_edits(field_entry, entry.body, text)
                yield Site("D8", entry.key.start, entry.key.end,
                           Fix("use `payload { field: type … }`", tuple(edits)))


_IMPLS: dict[str, _TreeRule] = {
    "D1": _d1, "D2": _d2, "D3": _d3, "D4": _d4, "D5": _d5, "D6": _d6, "D7": _d7, "D8": _d8,
}


def _rule(impl: _TreeRule) -> RuleFn:
    def rule(statements: list[n.Node], text: str) -> Iterator[Site]:
        return impl(_Tree(statements), text)
    rule.__doc__ = impl.__doc__
    return rule


# One finder per rule over statements (`find_sites` shares one pass among the rules it runs).
RULES: dict[str, RuleFn] = {rule_id: _rule(impl) for rule_id, impl in _IMPLS.items()}
_DEFAULT = dict(RULES)
rule_d1, rule_d2, rule_d3, rule_d4 = RULES["D1"], RULES["D2"], RULES["D3"], RULES["D4"]
rule_d5, rule_d6, rule_d7, rule_d8 = RULES["D5"], RULES["D6"], RULES["D7"], RULES["D8"]
