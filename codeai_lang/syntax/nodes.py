"""The shared, typed AST: one set of node types for every DSL version.

Every node records `start`/`end` character offsets into the source (converted at the edges).
Declarative bodies are uniform (`Entry` lines holding a key, a value phrase and an optional
nested `Body`); `codeai_lang.analysis.schema` gives each declaration kind its meaning. New versions add
node types; nothing forks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar


@dataclass(slots=True, eq=False)
class Node:
    start: int
    end: int

    def children(self) -> Iterator[Node]:
        """Direct child nodes, in source order."""
        names = _FIELD_NAMES.get(type(self))
        if names is None:
            names = _FIELD_NAMES[type(self)] = tuple(
                f.name for f in fields(self) if f.name not in ("start", "end"))
        for name in names:
            value = getattr(self, name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, Node):
                        yield v

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, pre-order, without recursion."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict: node kind, its fields, and its range (offsets)."""
        out: dict[str, Any] = {"kind": type(self).__name__}
        for f in fields(self):
            if f.name in ("start", "end"):
                continue
            out[f.name] = _json_value(getattr(self, f.name))
        out["range"] = [self.start, self.end]
        return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def name_text(node: Node | None) -> str:
    """The name a node spells: an identifier, a dotted name or a string's value ("" if none)."""
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, DottedName):
        return node.dotted
    if isinstance(node, StringLit):
        return node.value
    return ""


def iter_statements(statements: list[Node]) -> Iterator[Node]:
    """Every statement, including those nested in blocks (not descending into expressions)."""
    stack = list(reversed(statements))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, IfStmt):
            nested = list(stmt.then.statements)
            if isinstance(stmt.orelse, Block):
                nested += stmt.orelse.statements
            elif stmt.orelse is not None:
                nested.append(stmt.orelse)
            stack.extend(reversed(nested))
        elif isinstance(stmt, ForStmt | FunctionDecl):
            stack.extend(reversed(stmt.body.statements))


def _json_value(value: Any) -> Any:
    if isinstance(value, Node):
        return value.to_json()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


# ---- leaves and expressions -----------------------------------------------------


_Leaf = TypeVar("_Leaf", bound=type[Node])


def _spelled_leaf(attr: str) -> Callable[[_Leaf], _Leaf]:
    """For a leaf built from one token: `end` is computed from its spelling (`attr`), and the
    spelling is stored in the `end` slot every node has — no int object for the end (~4 MB on
    a 100k-line file) and two slots, not three (48 bytes instead of 64: ~3 MB more, ~190k
    leaves). The leaf class declares `__slots__ = ()` and stays a dataclass (its fields, repr
    and JSON are unchanged); `attr` reads and writes Node's `end` slot at C speed. The
    constructor keeps its (start, end, spelling) signature; assigning `end` is accepted and
    ignored (it follows `start`, as a token's does), so code that shifts every node's start
    and end alike keeps working. Leaves pickle and copy by their constructor."""
    def apply(cls: _Leaf) -> _Leaf:
        if cls.__dict__.get("__slots__") != ():
            raise TypeError(f"{cls.__name__}: a spelled leaf declares `__slots__ = ()`")
        get, put = _SPELLING.__get__, _SPELLING.__set__

        def __init__(self: Any, start: int, end: int, spelling: Any) -> None:
            self.start = start
            put(self, spelling)

        def get_end(self: Any) -> int:
            start: int = self.start
            return start + len(get(self))

        def set_end(self: Any, value: int) -> None:
            pass

        def __reduce__(self: Any) -> tuple[type, tuple[int, int, Any]]:
            return (type(self), (self.start, self.end, get(self)))

        setattr(cls, attr, _SPELLING)
        cls.__init__ = __init__  # type: ignore[assignment]
        cls.end = property(get_end, set_end)  # type: ignore[assignment,misc]
        cls.__reduce__ = __reduce__  # type: ignore[method-assign]
        return cls
    return apply


_SPELLING = Node.__dict__["end"]  # Node's `end` slot: a spelled leaf's spelling


@_spelled_leaf("name")
@dataclass(eq=False)
class Ident(Node):
    __slots__ = ()
    name: str


@_spelled_leaf("raw")
@dataclass(eq=False)
class StringLit(Node):
    __slots__ = ()
    raw: str  # with quotes and escapes, exactly as written

    @property
    def value(self) -> str:
        body = self.raw[1:-1] if len(self.raw) >= 2 and self.raw.endswith('"') else self.raw[1:]
        return _unescape(body)


@_spelled_leaf("text")
@dataclass(eq=False)
class NumberLit(Node):
    __slots__ = ()
    text: str


@dataclass(slots=True, eq=False)
class BoolLit(Node):
    value: bool


@_spelled_leaf("text")
@dataclass(eq=False)
class DurationLit(Node):
    __slots__ = ()
    text: str


@_spelled_leaf("text")
@dataclass(eq=False)
class PathLit(Node):
    __slots__ = ()
    text: str


@_spelled_leaf("text")
@dataclass(eq=False)
class Operator(Node):
    __slots__ = ()
    text: str


@dataclass(slots=True, eq=False)
class DottedName(Node):
    parts: list[str]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(slots=True, eq=False)
class ArrayLit(Node):
    items: list[Node]


@dataclass(slots=True, eq=False)
class Call(Node):
    callee: Ident
    args: list[Node]


# ---- 2.1 expressions and queries (spec §8) --------------------------------------


@_spelled_leaf("raw")
@dataclass(eq=False)
class TripleStringLit(StringLit):
    """A triple-quoted string: raw text over several lines, no escapes (GraphQL, templates)."""

    __slots__ = ()

    @property
    def value(self) -> str:
        raw = self.raw
        return raw[3:-3] if len(raw) >= 6 and raw.endswith('"""') else raw[3:]


@dataclass(slots=True, eq=False)
class UnaryOp(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(slots=True, eq=False)
class BinaryOp(Node):
    left: Node
    op: str  # + - * / % == != < <= > >= = and or  (`=` compares in conditions/queries)
    right: Node


@dataclass(slots=True, eq=False)
class Ternary(Node):
    condition: Node
    then: Node
    orelse: Node


@dataclass(slots=True, eq=False)
class Member(Node):
    """`x.name` where `x` is not a plain (dotted) name: `rates[0].id`, `f().x`."""

    obj: Node
    name: Ident


@dataclass(slots=True, eq=False)
class MethodCall(Node):
    """`github.starred(first: 10)`: a call of a member (an integration's operation, a
    runtime action on a value). Like other calls in values, not checked for a declaration."""

    obj: Node
    method: Ident
    args: list[Node]


@dataclass(slots=True, eq=False)
class Index(Node):
    obj: Node
    index: Node


@dataclass(slots=True, eq=False)
class Paren(Node):
    expr: Node


@dataclass(slots=True, eq=False)
class NamedArg(Node):
    """`retry(max: 3)`: a named call argument."""

    name: Ident
    value: Node


@dataclass(slots=True, eq=False)
class StarArg(Node):
    """`count(*)`, `select *`."""


@dataclass(slots=True, eq=False)
class ObjField(Node):
    key: Node  # Ident (hyphens allowed) or StringLit
    value: Node

    @property
    def key_name(self) -> str:
        return name_text(self.key)


@dataclass(slots=True, eq=False)
class ObjectLit(Node):
    """`{ a: 1, b: x }` (commas or newlines between fields; a bare expression is allowed)."""

    items: list[Node]

    @property
    def fields(self) -> list[ObjField]:
        return [i for i in self.items if isinstance(i, ObjField)]


@dataclass(slots=True, eq=False)
class Record(Node):
    """`OrderShipped { order_id: order.id }`: a value of a declared event or entity."""

    name: Ident
    obj: ObjectLit


@dataclass(slots=True, eq=False)
class SelectItem(Node):
    expr: Node
    alias: Ident | None


@dataclass(slots=True, eq=False)
class OrderItem(Node):
    expr: Node
    descending: bool


@dataclass(slots=True, eq=False)
class SelectQuery(Node):
    items: list[Node]  # SelectItem or StarArg
    source: Ident | None
    where: Node | None
    group_by: list[Node]
    order_by: list[OrderItem]
    limit: Node | None


@dataclass(slots=True, eq=False)
class SetClause(Node):
    field: Ident
    value: Node


@dataclass(slots=True, eq=False)
class UpdateQuery(Node):
    entity: Ident
    sets: list[SetClause]
    where: Node | None


@dataclass(slots=True, eq=False)
class DeleteQuery(Node):
    entity: Ident
    where: Node | None


QUERY_TYPES = (SelectQuery, UpdateQuery, DeleteQuery)


# ---- scripting core ---------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Block(Node):
    statements: list[Node]


@dataclass(slots=True, eq=False)
class VarDecl(Node):
    name: Ident
    value: Node


@dataclass(slots=True, eq=False)
class Assignment(Node):
    target: Ident
    value: Node


@dataclass(slots=True, eq=False)
class IfStmt(Node):
    condition: Node
    then: Block
    orelse: Block | IfStmt | None


@dataclass(slots=True, eq=False)
class ForStmt(Node):
    var: Ident
    iterable: Node
    body: Block


@dataclass(slots=True, eq=False)
class FunctionDecl(Node):
    name: Ident
    params: list[Ident]
    body: Block


@dataclass(slots=True, eq=False)
class ExecBlock(Node):
    shell: str
    shell_start: int


@dataclass(slots=True, eq=False)
class CallStmt(Node):
    call: Call


# ---- declarations -------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Entry(Node):
    """One line of a declarative body: `key[:] part… [{ body }]`.

    `colon` tells a property/field (`key: value`) from a clause (`method jwt`, `model X {…}`).
    """

    key: Node  # Ident or StringLit
    colon: bool
    value: list[Node]
    body: Body | None

    @property
    def key_name(self) -> str:
        key = self.key
        return key.name if isinstance(key, Ident) else key.value if isinstance(key, StringLit) else ""


@dataclass(slots=True, eq=False)
class LocalVar(Entry):
    """`var x = expr` inside a step/job/endpoint body (2.1). `value` is `[init]`."""

    name: Ident

    @property
    def init(self) -> Node:
        return self.value[0]


@dataclass(slots=True, eq=False)
class IfEntry(Entry):
    """`if cond { … } else { … }` inside a body (2.1). `value` is `[condition]`, `body` the
    then-branch (None only for the 1.0 step clause `if "cond"`, built as a plain Entry)."""

    orelse: Body | IfEntry | None

    @property
    def condition(self) -> Node:
        return self.value[0]


@dataclass(slots=True, eq=False)
class ForEntry(Entry):
    """`for x in expr { … }` inside a body (2.1). `value` is `[iterable]`."""

    var: Ident

    @property
    def iterable(self) -> Node:
        return self.value[0]


@dataclass(slots=True, eq=False)
class Body(Node):
    entries: list[Entry]


@dataclass(slots=True, eq=False)
class Decorator(Node):
    name: Ident
    args: list[Node]


@dataclass(slots=True, eq=False)
class Declaration(Node):
    """`[@decorators] keyword head… { body }` — config, database, entity, endpoint, …"""

    keyword: Ident
    head: list[Node]
    body: Body
    decorators: list[Decorator] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.keyword.name


@dataclass(slots=True, eq=False)
class OnHandler(Node):
    """`on "event" do action "target" [async]` (1.x) or `on "event" { … }` (1.1+)."""

    event: StringLit
    action: Ident | None
    target: StringLit | None
    is_async: bool
    body: Body | None


@dataclass(slots=True, eq=False)
class Program(Node):
    statements: list[Node]


@dataclass(slots=True, eq=False)
class ErrorNode(Node):
    """A region the parser skipped while recovering from a syntax error."""


STATEMENT_TYPES = (VarDecl, Assignment, IfStmt, ForStmt, FunctionDecl, ExecBlock, CallStmt,
                   Declaration, OnHandler)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "0": "\0"}


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
