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


@dataclass(slots=True, eq=False, repr=False)
class Node:
    """Every node: its `start` and `end` character offsets into the source."""

    start: int
    end: int

    def children(self) -> Iterator[Node]:
        """Direct child nodes, in source order."""
        for name in _field_names(type(self))[2:]:
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
        for name in _field_names(type(self))[2:]:
            out[name] = _json_value(getattr(self, name))
        out["range"] = [self.start, self.end]
        return out

    def __repr__(self) -> str:
        # One repr for every node class, as the generated one would print it: generating one
        # per class costs start-up (48 classes; see docs/decisions.md, "Start-up").
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in _field_names(type(self)))
        return f"{type(self).__qualname__}({values})"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type[Node]) -> tuple[str, ...]:
    """A node class's field names in order, `start` and `end` first (computed once)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def name_text(node: Node | None) -> str:
    """The name a node spells: an identifier, a dotted name or a string's value ("" if none)."""
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, DottedName):
        return node.dotted
    if isinstance(node, StringLit):
        return node.value
    return ""


def iter_statements(statements: list[Node]) -> list[Node]:
    """Every statement, including those nested in blocks (not descending into expressions),
    in source order (a list: the checks that walk it are compiled, and resuming a generator
    per statement cost them more than the walk)."""
    out: list[Node] = []
    stack = list(reversed(statements))
    while stack:
        stmt = stack.pop()
        out.append(stmt)
        if isinstance(stmt, IfStmt):
            nested = list(stmt.then.statements)
            if isinstance(stmt.orelse, Block):
                nested += stmt.orelse.statements
            elif stmt.orelse is not None:
                nested.append(stmt.orelse)
            stack.extend(reversed(nested))
        elif isinstance(stmt, ForStmt | FunctionDecl):
            stack.extend(reversed(stmt.body.statements))
    return out


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
        get, put = SPELLING.__get__, SPELLING.__set__

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

        setattr(cls, attr, SPELLING)
        cls.__init__ = __init__  # type: ignore[assignment]
        cls.end = property(get_end, set_end)  # type: ignore[assignment,misc]
        cls.__reduce__ = __reduce__  # type: ignore[method-assign]
        return cls
    return apply


# Node's `end` slot: a spelled leaf's spelling (the AST builder fills it directly: `ast_builder._leaf`)
SPELLING = Node.__dict__["end"]


@_spelled_leaf("name")
@dataclass(eq=False, repr=False)
class Ident(Node):
    """A name: `user`, `order_id`."""

    __slots__ = ()
    name: str


@_spelled_leaf("raw")
@dataclass(eq=False, repr=False)
class StringLit(Node):
    """A double-quoted string, kept as written (`value` is the unescaped text)."""

    __slots__ = ()
    raw: str  # with quotes and escapes, exactly as written

    @property
    def value(self) -> str:
        body = self.raw[1:-1] if len(self.raw) >= 2 and self.raw.endswith('"') else self.raw[1:]
        return _unescape(body)


@_spelled_leaf("text")
@dataclass(eq=False, repr=False)
class NumberLit(Node):
    """A number, kept as written."""

    __slots__ = ()
    text: str


@dataclass(slots=True, eq=False, repr=False)
class BoolLit(Node):
    """`true` or `false`."""

    value: bool


@_spelled_leaf("text")
@dataclass(eq=False, repr=False)
class DurationLit(Node):
    """A duration such as `30s` or `5m`, kept as written."""

    __slots__ = ()
    text: str


@_spelled_leaf("text")
@dataclass(eq=False, repr=False)
class PathLit(Node):
    """A URL path such as `/users/:id`, kept as written."""

    __slots__ = ()
    text: str


@_spelled_leaf("text")
@dataclass(eq=False, repr=False)
class Operator(Node):
    """An operator word or symbol inside a value phrase (`>=`, `in`)."""

    __slots__ = ()
    text: str


@dataclass(slots=True, eq=False, repr=False)
class DottedName(Node):
    """`a.b.c`: a name qualified by dots."""

    parts: list[str]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(slots=True, eq=False, repr=False)
class ArrayLit(Node):
    """`[a, b, c]`."""

    items: list[Node]


@dataclass(slots=True, eq=False, repr=False)
class Call(Node):
    """`name(args…)`."""

    callee: Ident
    args: list[Node]


# ---- 2.1 expressions and queries (spec §8) --------------------------------------


@_spelled_leaf("raw")
@dataclass(eq=False, repr=False)
class TripleStringLit(StringLit):
    """A triple-quoted string: raw text over several lines, no escapes (GraphQL, templates)."""

    __slots__ = ()

    @property
    def value(self) -> str:
        raw = self.raw
        return raw[3:-3] if len(raw) >= 6 and raw.endswith('"""') else raw[3:]


@dataclass(slots=True, eq=False, repr=False)
class UnaryOp(Node):
    """`-x` or `not x`."""

    op: str  # "-" or "not"
    operand: Node


@dataclass(slots=True, eq=False, repr=False)
class BinaryOp(Node):
    """`left op right`."""

    left: Node
    op: str  # + - * / % == != < <= > >= = and or  (`=` compares in conditions/queries)
    right: Node


@dataclass(slots=True, eq=False, repr=False)
class Ternary(Node):
    """`condition ? then : orelse`."""

    condition: Node
    then: Node
    orelse: Node


@dataclass(slots=True, eq=False, repr=False)
class Member(Node):
    """`x.name` where `x` is not a plain (dotted) name: `rates[0].id`, `f().x`."""

    obj: Node
    name: Ident


@dataclass(slots=True, eq=False, repr=False)
class MethodCall(Node):
    """`github.starred(first: 10)`: a call of a member (an integration's operation, a
    runtime action on a value). Like other calls in values, not checked for a declaration."""

    obj: Node
    method: Ident
    args: list[Node]


@dataclass(slots=True, eq=False, repr=False)
class Index(Node):
    """`obj[index]`."""

    obj: Node
    index: Node


@dataclass(slots=True, eq=False, repr=False)
class Paren(Node):
    """`(expr)`: kept so that positions and formatting see the parentheses."""

    expr: Node


@dataclass(slots=True, eq=False, repr=False)
class NamedArg(Node):
    """`retry(max: 3)`: a named call argument."""

    name: Ident
    value: Node


@dataclass(slots=True, eq=False, repr=False)
class StarArg(Node):
    """`count(*)`, `select *`."""


@dataclass(slots=True, eq=False, repr=False)
class ObjField(Node):
    """`key: value` inside an object literal."""

    key: Node  # Ident (hyphens allowed) or StringLit
    value: Node

    @property
    def key_name(self) -> str:
        return name_text(self.key)


@dataclass(slots=True, eq=False, repr=False)
class ObjectLit(Node):
    """`{ a: 1, b: x }` (commas or newlines between fields; a bare expression is allowed)."""

    items: list[Node]

    @property
    def fields(self) -> list[ObjField]:
        return [i for i in self.items if isinstance(i, ObjField)]


@dataclass(slots=True, eq=False, repr=False)
class Record(Node):
    """`OrderShipped { order_id: order.id }`: a value of a declared event or entity."""

    name: Ident
    obj: ObjectLit


@dataclass(slots=True, eq=False, repr=False)
class SelectItem(Node):
    """One item of a select list: `expr [as alias]`."""

    expr: Node
    alias: Ident | None


@dataclass(slots=True, eq=False, repr=False)
class OrderItem(Node):
    """One `order by` item: `expr [asc|desc]`."""

    expr: Node
    descending: bool


@dataclass(slots=True, eq=False, repr=False)
class SelectQuery(Node):
    """`select items [from source] [where …] [group by …] [order by …] [limit …]`."""

    items: list[Node]  # SelectItem or StarArg
    source: Ident | None
    where: Node | None
    group_by: list[Node]
    order_by: list[OrderItem]
    limit: Node | None


@dataclass(slots=True, eq=False, repr=False)
class SetClause(Node):
    """`field = value` in an update query."""

    field: Ident
    value: Node


@dataclass(slots=True, eq=False, repr=False)
class UpdateQuery(Node):
    """`update Entity set … [where …]`."""

    entity: Ident
    sets: list[SetClause]
    where: Node | None


@dataclass(slots=True, eq=False, repr=False)
class DeleteQuery(Node):
    """`delete [from] Entity [where …]`."""

    entity: Ident
    where: Node | None


QUERY_TYPES = (SelectQuery, UpdateQuery, DeleteQuery)


# ---- scripting core ---------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class Block(Node):
    """`{ statements }` of the scripting core."""

    statements: list[Node]


@dataclass(slots=True, eq=False, repr=False)
class VarDecl(Node):
    """`var name = value`."""

    name: Ident
    value: Node


@dataclass(slots=True, eq=False, repr=False)
class Assignment(Node):
    """`name = value`."""

    target: Ident
    value: Node


@dataclass(slots=True, eq=False, repr=False)
class IfStmt(Node):
    """`if condition { … } [else …]`; `orelse` is a block or a chained `if`."""

    condition: Node
    then: Block
    orelse: Block | IfStmt | None


@dataclass(slots=True, eq=False, repr=False)
class ForStmt(Node):
    """`for var in iterable { … }`."""

    var: Ident
    iterable: Node
    body: Block


@dataclass(slots=True, eq=False, repr=False)
class FunctionDecl(Node):
    """`function name(params) { … }`."""

    name: Ident
    params: list[Ident]
    body: Block


@dataclass(slots=True, eq=False, repr=False)
class ExecBlock(Node):
    """`exec { shell text }`: the shell text and where it starts."""

    shell: str
    shell_start: int


@dataclass(slots=True, eq=False, repr=False)
class CallStmt(Node):
    """A call used as a statement."""

    call: Call


# ---- declarations -------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
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


@dataclass(slots=True, eq=False, repr=False)
class LocalVar(Entry):
    """`var x = expr` inside a step/job/endpoint body (2.1). `value` is `[init]`."""

    name: Ident

    @property
    def init(self) -> Node:
        return self.value[0]


@dataclass(slots=True, eq=False, repr=False)
class IfEntry(Entry):
    """`if cond { … } else { … }` inside a body (2.1). `value` is `[condition]`, `body` the
    then-branch (None only for the 1.0 step clause `if "cond"`, built as a plain Entry)."""

    orelse: Body | IfEntry | None

    @property
    def condition(self) -> Node:
        return self.value[0]


@dataclass(slots=True, eq=False, repr=False)
class ForEntry(Entry):
    """`for x in expr { … }` inside a body (2.1). `value` is `[iterable]`."""

    var: Ident

    @property
    def iterable(self) -> Node:
        return self.value[0]


@dataclass(slots=True, eq=False, repr=False)
class Body(Node):
    """The `{ … }` of a declaration or entry: its entries."""

    entries: list[Entry]


@dataclass(slots=True, eq=False, repr=False)
class Decorator(Node):
    """`@name(args…)` before a declaration."""

    name: Ident
    args: list[Node]


@dataclass(slots=True, eq=False, repr=False)
class Declaration(Node):
    """`[@decorators] keyword head… { body }` — config, database, entity, endpoint, …"""

    keyword: Ident
    head: list[Node]
    body: Body
    decorators: list[Decorator] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.keyword.name


@dataclass(slots=True, eq=False, repr=False)
class OnHandler(Node):
    """`on "event" do action "target" [async]` (1.x) or `on "event" { … }` (1.1+)."""

    event: StringLit
    action: Ident | None
    target: StringLit | None
    is_async: bool
    body: Body | None


@dataclass(slots=True, eq=False, repr=False)
class Program(Node):
    """A whole file: its top-level statements."""

    statements: list[Node]


@dataclass(slots=True, eq=False, repr=False)
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
