"""Reduction callbacks: grammar rule name → typed AST node, built straight from tokens.

No intermediate parse tree is made; positions come from the first and last child.
Children are tokens (`lexer.Token`) and nodes, in source order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import Token

Child = Any  # Token | n.Node


_NEW = object.__new__
_PUT_SPELLING = n.SPELLING.__set__


def _leaf(cls: Any, start: Any, spelling: str) -> Any:
    """A spelled leaf (`nodes._spelled_leaf`: `start`, and the spelling in the `end` slot), made
    without its Python `__init__`: ~200k leaves on a 100k-line file, and from compiled code
    the constructor's frame was most of their cost. The parity and memory-layout tests check
    the leaves equal those the constructor makes."""
    leaf = _NEW(cls)
    leaf.start = start
    _PUT_SPELLING(leaf, spelling)
    return leaf


def _ident(tok: Any) -> n.Ident:
    # `tok` is typed Any, not Token: compiled (mypyc), an `int`-typed start would be unboxed
    # and boxed again, a new int object per node instead of the token's own (memory).
    ident: n.Ident = _leaf(n.Ident, tok.start, tok.text)
    return ident


# The one empty list of every declaration without decorators and entry without a value (a
# fifth of all entries): nothing mutates the AST after parsing (tests/test_memory_layout.py
# checks it stays empty). Memory: ~1 MB on a 100k-line file.
NO_NODES: list[Any] = []


def _exact(items: list[Any]) -> list[Any]:
    """`items` without the spare capacity a comprehension leaves (a copy; [] stays shared)."""
    return items[:] if items else NO_NODES


def _nodes(children: list[Child]) -> list[n.Node]:
    return _exact([c for c in children if isinstance(c, n.Node)])


def _span(children: list[Child]) -> tuple[int, int]:
    return children[0].start, _end(children)


def _end(children: list[Child]) -> int:
    """End offset of the last child; a child may be a list (`select_items`, `set_clause`)."""
    last = children[-1]
    while isinstance(last, list):
        last = last[-1]
    return int(last.end)


def program(c: list[Child]) -> n.Node:
    start, end = _span(c) if c else (0, 0)
    return n.Program(start, end, _nodes(c))


def var_decl(c: list[Child]) -> n.Node:
    return n.VarDecl(c[0].start, c[-1].end, _ident(c[1]), c[3])


def assignment(c: list[Child]) -> n.Node:
    return n.Assignment(c[0].start, c[-1].end, _ident(c[0]), c[2])


def if_stmt(c: list[Child]) -> n.Node:
    orelse = c[4] if len(c) > 4 else None
    return n.IfStmt(c[0].start, c[-1].end, c[1], c[2], orelse)


def for_stmt(c: list[Child]) -> n.Node:
    return n.ForStmt(c[0].start, c[-1].end, _ident(c[1]), c[3], c[4])


def function_decl(c: list[Child]) -> n.Node:
    params = c[3] if isinstance(c[3], list) else []
    return n.FunctionDecl(c[0].start, c[-1].end, _ident(c[1]), params, c[-1])


def params(c: list[Child]) -> list[n.Ident]:
    return [_ident(t) for t in c if isinstance(t, Token) and t.kind == "NAME"]


def exec_block(c: list[Child]) -> n.Node:
    shell: Token = c[2]
    return n.ExecBlock(c[0].start, c[-1].end, shell.text, shell.start)


def call_stmt(c: list[Child]) -> n.Node:
    return n.CallStmt(c[0].start, c[0].end, c[0])


def block(c: list[Child]) -> n.Node:
    return n.Block(c[0].start, c[-1].end, _nodes(c))


def string(c: list[Child]) -> n.Node:
    tok = c[0]
    leaf: n.Node = _leaf(n.TripleStringLit if tok.kind == "TSTRING" else n.StringLit, tok.start, tok.text)
    return leaf


def number(c: list[Child]) -> n.Node:
    leaf: n.Node = _leaf(n.NumberLit, c[0].start, c[0].text)
    return leaf


def boolean(c: list[Child]) -> n.Node:
    return n.BoolLit(c[0].start, c[0].end, c[0].text == "true")


def name(c: list[Child]) -> n.Node:
    return _ident(c[0])


def duration(c: list[Child]) -> n.Node:
    leaf: n.Node = _leaf(n.DurationLit, c[0].start, c[0].text)
    return leaf


def path(c: list[Child]) -> n.Node:
    leaf: n.Node = _leaf(n.PathLit, c[0].start, c[0].text)
    return leaf


def operator(c: list[Child]) -> n.Node:
    leaf: n.Node = _leaf(n.Operator, c[0].start, c[0].text)
    return leaf


def dotted(c: list[Child]) -> n.Node:
    return n.DottedName(c[0].start, c[-1].end, [t.text for t in c if t.kind == "NAME"])


def array(c: list[Child]) -> n.Node:
    return n.ArrayLit(c[0].start, c[-1].end, _nodes(c))


def call(c: list[Child]) -> n.Node:
    return n.Call(c[0].start, c[-1].end, _ident(c[0]), _nodes(c))


def decl_keyword(c: list[Child]) -> n.Node:
    return _ident(c[0])


def decorator(c: list[Child]) -> n.Node:
    return n.Decorator(c[0].start, c[-1].end, _ident(c[1]), _nodes(c))


def declaration(c: list[Child]) -> n.Node:
    decorators = _exact([x for x in c if isinstance(x, n.Decorator)])
    rest = c[len(decorators):]
    keyword, head, body = rest[0], rest[1:-1], rest[-1]
    return n.Declaration(c[0].start, c[-1].end, keyword, head, body, decorators)


def on_handler(c: list[Child]) -> n.Node:
    event = string(c[1:2])
    assert isinstance(event, n.StringLit)
    if isinstance(c[2], n.Body):
        return n.OnHandler(c[0].start, c[-1].end, event, None, None, False, c[2])
    target = string(c[4:5])
    assert isinstance(target, n.StringLit)
    return n.OnHandler(c[0].start, c[-1].end, event, _ident(c[3]), target, len(c) > 5, None)


def body(c: list[Child]) -> n.Node:
    return n.Body(c[0].start, c[-1].end, _exact([x for x in c if isinstance(x, n.Entry)]))


def entry(c: list[Child]) -> n.Node:
    key = _ident(c[0]) if isinstance(c[0], Token) else c[0]  # `key:` / `Content-Type:` (2.1)
    colon = len(c) > 1 and isinstance(c[1], Token) and c[1].kind == "COLON"
    rest = c[2:] if colon else c[1:]
    sub = rest[-1] if rest and isinstance(rest[-1], n.Body) else None
    value = (rest[:-1] if sub is not None else rest) or NO_NODES
    return n.Entry(c[0].start, c[-1].end, key, colon, value, sub)


# ---- 2.1: expressions, queries, statements in bodies ------------------------------------


def ternary(c: list[Child]) -> n.Node:
    return n.Ternary(c[0].start, c[-1].end, c[0], c[2], c[4])


def binop(c: list[Child]) -> n.Node:
    return n.BinaryOp(c[0].start, c[-1].end, c[0], c[1].text, c[2])


def unary(c: list[Child]) -> n.Node:
    return n.UnaryOp(c[0].start, c[-1].end, c[0].text, c[1])


def member(c: list[Child]) -> n.Node:
    obj, attr = c[0], c[2]
    if isinstance(obj, n.Ident):  # `a.b.c` stays a dotted name, as in 1.x phrases
        return n.DottedName(obj.start, attr.end, [obj.name, attr.text])
    if isinstance(obj, n.DottedName):
        return n.DottedName(obj.start, attr.end, [*obj.parts, attr.text])
    return n.Member(obj.start, attr.end, obj, _ident(attr))


def method_call(c: list[Child]) -> n.Node:
    return n.MethodCall(c[0].start, c[-1].end, c[0], _ident(c[2]), _nodes(c[3:]))


def index(c: list[Child]) -> n.Node:
    return n.Index(c[0].start, c[-1].end, c[0], c[2])


def paren(c: list[Child]) -> n.Node:
    return n.Paren(c[0].start, c[-1].end, c[1])


def named_arg(c: list[Child]) -> n.Node:
    return n.NamedArg(c[0].start, c[-1].end, _ident(c[0]), c[2])


def star(c: list[Child]) -> n.Node:
    return n.StarArg(c[0].start, c[0].end)


def separator(c: list[Child]) -> Child:
    return c[0]  # a ',' or newline between object fields: kept out of the AST


def obj_field(c: list[Child]) -> n.Node:
    return n.ObjField(c[0].start, c[-1].end, c[0], c[2])


def object(c: list[Child]) -> n.Node:  # noqa: A001 - the grammar rule's name
    return n.ObjectLit(c[0].start, c[-1].end, _nodes(c[1:-1]))


def record(c: list[Child]) -> n.Node:
    return n.Record(c[0].start, c[-1].end, _ident(c[0]), c[1])


def _is_word(child: Child, word: str) -> bool:
    """Is `child` the keyword `word`? Tokens keep the lexer's kind (NAME/OP), so compare text."""
    return isinstance(child, Token) and child.text == word


def _clauses(c: list[Child]) -> dict[str, list[Child]]:
    """Split a select's children at its keywords: {keyword: the children after it}. The
    grammar puts a NAME (not a keyword) after `from` and `as`, so those are never split on."""
    out: dict[str, list[Child]] = {}
    current = out.setdefault("", [])
    for i, child in enumerate(c):
        after_name_word = i > 0 and isinstance(c[i - 1], Token) and c[i - 1].text in ("from", "as")
        if isinstance(child, Token) and child.text in _SELECT_WORDS and not after_name_word:
            key = child.text if child.text != "by" else ("group by" if "order" not in out else "order by")
            current = out.setdefault(key, [])
        elif isinstance(child, list):
            current.extend(child)
        elif not _is_word(child, ","):
            current.append(child)
    return out


_SELECT_WORDS = frozenset({"select", "from", "where", "group", "by", "order", "limit"})


def select_q(c: list[Child]) -> n.Node:
    parts = _clauses(c)
    source = parts.get("from")
    where = parts.get("where")
    limit = parts.get("limit")
    return n.SelectQuery(c[0].start, _end(c), _nodes(parts.get("select", [])),
                         _ident(source[0]) if source else None, where[0] if where else None,
                         _nodes(parts.get("group by", [])),
                         [o for o in parts.get("order by", []) if isinstance(o, n.OrderItem)],
                         limit[0] if limit else None)


def select_items(c: list[Child]) -> list[n.Node]:
    if _is_word(c[0], "*"):
        return [n.StarArg(c[0].start, c[0].end)]
    return _nodes(c)


def select_item(c: list[Child]) -> n.Node:
    alias = _ident(c[2]) if len(c) > 2 else None
    return n.SelectItem(c[0].start, c[-1].end, c[0], alias)


def order_item(c: list[Child]) -> n.Node:
    return n.OrderItem(c[0].start, c[-1].end, c[0], len(c) > 1 and _is_word(c[1], "desc"))


def _where(c: list[Child]) -> n.Node | None:
    """The condition after the query's (last) `where`: always the last child when present."""
    return c[-1] if len(c) > 2 and _is_word(c[-2], "where") and isinstance(c[-1], n.Node) else None


def update_q(c: list[Child]) -> n.Node:
    sets: list[n.SetClause] = []
    for child in c:
        if isinstance(child, list):
            sets.extend(child)
    return n.UpdateQuery(c[0].start, _end(c), _ident(c[1]), sets, _where(c))


def set_clause(c: list[Child]) -> list[n.SetClause]:
    # SET NAME EQUAL value (COMMA NAME EQUAL value)*: a NAME token two before each value.
    out = []
    for i in range(3, len(c), 4):
        out.append(n.SetClause(c[i - 2].start, c[i].end, _ident(c[i - 2]), c[i]))
    return out


def delete_q(c: list[Child]) -> n.Node:
    entity = c[2] if len(c) > 2 and _is_word(c[1], "from") and isinstance(c[2], Token) else c[1]
    return n.DeleteQuery(c[0].start, c[-1].end, _ident(entity), _where(c))


def local_var(c: list[Child]) -> n.Node:
    return n.LocalVar(c[0].start, c[-1].end, _ident(c[0]), False, [c[3]], None, _ident(c[1]))


def if_entry(c: list[Child]) -> n.Node:
    key, cond = _ident(c[0]), c[1]
    then = c[2] if len(c) > 2 and isinstance(c[2], n.Body) else None
    orelse = c[-1] if len(c) > 3 or (len(c) > 2 and then is None) else None
    if then is None and orelse is None:  # the 1.0 workflow-step clause `if "condition"`
        return n.Entry(c[0].start, c[-1].end, key, False, [cond], None)
    return n.IfEntry(c[0].start, c[-1].end, key, False, [cond], then, orelse)


def for_entry(c: list[Child]) -> n.Node:
    return n.ForEntry(c[0].start, c[-1].end, _ident(c[0]), False, [c[3]], c[4], _ident(c[1]))


BUILDERS: dict[str, Callable[[list[Child]], Any]] = {
    f.__name__: f
    for f in (program, var_decl, assignment, if_stmt, for_stmt, function_decl, params,
              exec_block, call_stmt, block, string, number, boolean, name, duration, path,
              operator, dotted, array, call, decl_keyword, decorator, declaration, on_handler,
              body, entry, ternary, binop, unary, member, method_call, index, paren, named_arg, star,
              separator, obj_field, object, record, select_q, select_items, select_item,
              order_item, update_q, set_clause, delete_q, local_var, if_entry, for_entry)
}
