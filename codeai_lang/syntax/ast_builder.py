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


def _ident(tok: Token) -> n.Ident:
    return n.Ident(tok.start, tok.end, tok.text)


def _nodes(children: list[Child]) -> list[n.Node]:
    return [c for c in children if isinstance(c, n.Node)]


def _span(children: list[Child]) -> tuple[int, int]:
    return children[0].start, children[-1].end


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
    return n.StringLit(c[0].start, c[0].end, c[0].text)


def number(c: list[Child]) -> n.Node:
    return n.NumberLit(c[0].start, c[0].end, c[0].text)


def boolean(c: list[Child]) -> n.Node:
    return n.BoolLit(c[0].start, c[0].end, c[0].text == "true")


def name(c: list[Child]) -> n.Node:
    return _ident(c[0])


def duration(c: list[Child]) -> n.Node:
    return n.DurationLit(c[0].start, c[0].end, c[0].text)


def path(c: list[Child]) -> n.Node:
    return n.PathLit(c[0].start, c[0].end, c[0].text)


def operator(c: list[Child]) -> n.Node:
    return n.Operator(c[0].start, c[0].end, c[0].text)


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
    decorators = [x for x in c if isinstance(x, n.Decorator)]
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
    return n.Body(c[0].start, c[-1].end, [x for x in c if isinstance(x, n.Entry)])


def entry(c: list[Child]) -> n.Node:
    key = c[0]
    colon = len(c) > 1 and isinstance(c[1], Token) and c[1].kind == "COLON"
    rest = c[2:] if colon else c[1:]
    sub = rest[-1] if rest and isinstance(rest[-1], n.Body) else None
    value = rest[:-1] if sub is not None else rest
    return n.Entry(c[0].start, c[-1].end, key, colon, value, sub)


BUILDERS: dict[str, Callable[[list[Child]], Any]] = {
    f.__name__: f
    for f in (program, var_decl, assignment, if_stmt, for_stmt, function_decl, params,
              exec_block, call_stmt, block, string, number, boolean, name, duration, path,
              operator, dotted, array, call, decl_keyword, decorator, declaration, on_handler,
              body, entry)
}
