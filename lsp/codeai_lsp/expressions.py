"""Language-server support for the DSL 2.1 expression and query language: hover on record
and query names, completion after query words, semantic token classes of the new nodes.

`features.py` calls in here; the functions take the AST and tokens, not the server, so they
are testable alone. Name lookups go through `analysis.expression_checks.local_index` (one
place to re-point at a project-wide index).
"""

from __future__ import annotations

import re
from bisect import bisect_right

from codeai_lang.analysis.expression_checks import LocalIndex, local_index
from codeai_lang.analysis.shell_checks import shell_highlights
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import Token
from codeai_lang.syntax.registry import Registry

# Token kinds the 2.1 lexer adds, and the semantic token type each gets.
TOKEN_CLASSES = {"TSTRING": "string", "HNAME": "property", "QMARK": "operator", "PERCENT": "operator"}
_ENTITY_WORDS = frozenset({"from", "update", "delete"})
_FIELD_WORDS = frozenset({"set", "where", "and", "or", "not", "by", ","})
_SHELL_VAR = re.compile(r"\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")


def shell_spans(tok: Token) -> list[tuple[int, int, str]]:
    """(start, end, semantic token type) inside an exec block's shell text: the shell's own
    keywords, strings, comments, commands (tree-sitter-bash), and `$name` as variables."""
    spans = [(tok.start + a, tok.start + b, cls) for a, b, cls in shell_highlights(tok.text)
             if cls != "variable"]
    spans += [(tok.start + m.start(), tok.start + m.end(), "variable")
              for m in _SHELL_VAR.finditer(tok.text)]
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans):  # semantic tokens may not overlap: a `"$f"` string wins
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def body_keywords(reg: Registry, version: str) -> list[str]:
    """`var`/`if`/`for`, offered inside bodies where the version has them (2.1+)."""
    return ["for", "if", "var"] if reg.has_feature(version, "body_statements") else []


def classify(statements: list[n.Node]) -> dict[int, tuple[str, bool]]:
    """Offset of a name → (semantic token type, is a declaration) for the 2.1 nodes."""
    out: dict[int, tuple[str, bool]] = {}
    for stmt in statements:
        for node in stmt.walk():
            if isinstance(node, n.Record):
                out[node.name.start] = ("type", False)
            elif isinstance(node, n.NamedArg):
                out[node.name.start] = ("parameter", False)
            elif isinstance(node, n.ObjField) and isinstance(node.key, n.Ident):
                out[node.key.start] = ("property", False)
            elif isinstance(node, n.SelectQuery | n.UpdateQuery | n.DeleteQuery):
                _classify_query(node, out)
            elif isinstance(node, n.LocalVar):
                out[node.key.start] = ("keyword", False)
                out[node.name.start] = ("variable", True)
            elif isinstance(node, n.ForEntry):
                out[node.key.start] = ("keyword", False)
                out[node.var.start] = ("variable", True)
            elif isinstance(node, n.IfEntry):
                out[node.key.start] = ("keyword", False)
            elif isinstance(node, n.MethodCall):
                out[node.method.start] = ("function", False)
    return out


def _classify_query(node: n.Node, out: dict[int, tuple[str, bool]]) -> None:
    entity = node.source if isinstance(node, n.SelectQuery) else getattr(node, "entity", None)
    if isinstance(entity, n.Ident):
        out[entity.start] = ("type", False)
    if isinstance(node, n.UpdateQuery):
        for clause in node.sets:
            out[clause.field.start] = ("property", False)
    if isinstance(node, n.SelectQuery):
        for item in node.items:
            if isinstance(item, n.SelectItem) and item.alias is not None:
                out[item.alias.start] = ("variable", True)


def hover(statements: list[n.Node], offset: int) -> tuple[str, int, int] | None:
    """Markdown and range for a record name, a query's entity or a `set`/`where` field."""
    index = _LazyIndex(statements)  # (built only for a record or query under the cursor)
    for stmt in statements:
        if not stmt.start <= offset <= stmt.end:
            continue
        for node in stmt.walk():
            found = _hover_node(node, offset, index)
            if found is not None:
                return found
    return None


class _LazyIndex:
    """`local_index(statements)`, made when first needed: it walks every statement."""

    def __init__(self, statements: list[n.Node]) -> None:
        self.statements = statements
        self._index: LocalIndex | None = None

    def get(self) -> LocalIndex:
        if self._index is None:
            self._index = local_index(self.statements)
        return self._index


def _hover_node(node: n.Node, offset: int, lazy: _LazyIndex) -> tuple[str, int, int] | None:
    if isinstance(node, n.Record) and _inside(node.name, offset):
        name = node.name.name
        index = lazy.get()
        what = "event" if index.is_event(name) else "entity" if index.is_entity(name) else "undeclared"
        return f"**record** of {what} `{name}`", node.name.start, node.name.end
    entity = _query_entity(node)
    if entity is None:
        return None
    if _inside(entity, offset):
        fields = lazy.get().fields(entity.name)
        shown = ", ".join(sorted(fields)) if fields else "not declared"
        return f"**entity** `{entity.name}` — fields: {shown}", entity.start, entity.end
    for ident in _field_idents(node):
        if _inside(ident, offset):
            return (f"**field** `{ident.name}` of entity `{entity.name}`", ident.start, ident.end)
    return None


def _query_entity(node: n.Node) -> n.Ident | None:
    if isinstance(node, n.SelectQuery):
        return node.source
    if isinstance(node, n.UpdateQuery | n.DeleteQuery):
        return node.entity
    return None


def _field_idents(node: n.Node) -> list[n.Ident]:
    out = [c.field for c in node.sets] if isinstance(node, n.UpdateQuery) else []
    where = getattr(node, "where", None)
    if isinstance(where, n.Node):
        out += [x for x in where.walk() if isinstance(x, n.Ident)]
    return out


def _inside(node: n.Node, offset: int) -> bool:
    return node.start <= offset <= node.end


def completion(statements: list[n.Node], tokens: list[Token], offset: int
               ) -> tuple[str, list[str]] | None:
    """(detail, names) to offer after a query word: entities after `from`/`update`/`delete`,
    the query entity's fields after `set`/`where`/`and`/`or`/`by`; None elsewhere."""
    # Tokens do not overlap, so those ending by `offset` are a prefix of the list.
    ended = bisect_right(tokens, offset, key=lambda tk: tk.end)
    before = tokens[max(0, ended - 40):ended]
    if before and before[-1].end == offset and before[-1].kind == "NAME":
        before = before[:-1]  # the word being typed
    if not before:
        return None
    last = before[-1].text
    if last in _ENTITY_WORDS:
        return "entity", sorted(local_index(statements).entities)
    if last in _FIELD_WORDS:
        entity = _entity_before(before)
        fields = local_index(statements).fields(entity) if entity else None
        if fields is not None:
            return f"field of {entity}", sorted(fields)
    return None


def _entity_before(before: list[Token]) -> str:
    """The entity named after the nearest `from`/`update`/`delete` on the tokens before."""
    for i in range(len(before) - 2, -1, -1):
        tok = before[i]
        if tok.kind == "COLON" or tok.kind == "LBRACE":
            break
        if tok.text in _ENTITY_WORDS and before[i + 1].kind == "NAME":
            return before[i + 1].text if before[i + 1].text != "from" else (
                before[i + 2].text if i + 2 < len(before) else "")
    return ""
