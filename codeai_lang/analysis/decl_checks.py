"""Semantic checks of declarations: duplicates, field types, references, values, unknown keys.

Declarations are global and order-free: a reference may point at a declaration later in the
file. Codes: CAI101 (duplicates), CAI201 (field types/modifiers), CAI202 (references),
CAI203 (invalid values), CAI206 (unknown keys), CAI403 (nested config before 1.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from codeai_lang.analysis import schema, semantic
from codeai_lang.analysis.semantic import TYPES, Ref
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.deprecations import DURATION_TEXT
from codeai_lang.syntax.lexer import HTTP_METHODS
from codeai_lang.syntax.registry import Registry

_CRON_ATOM = r"(?:[0-9]+|[A-Za-z]{3})"
_CRON_ITEM = rf"(?:\*|{_CRON_ATOM}(?:-{_CRON_ATOM})?)(?:/[0-9]+)?"
_CRON_FIELD = re.compile(rf"{_CRON_ITEM}(?:,{_CRON_ITEM})*|\?|L|[0-9]+W|[0-9]+#[0-9]")
_CRON_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                          "@hourly"})
# (name, min, max) per cron field; a 6-field expression starts with seconds.
_CRON_BOUNDS = (("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31),
                ("month", 1, 12), ("day-of-week", 0, 7))
_PATH_PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_declarations(statements: list[n.Node], version: str, registry: Registry) -> list[Diagnostic]:
    """The declaration checks of one file on its own: local checks, then its names resolved
    against its own declarations (a standalone file)."""
    diags, refs = check_declarations_local(statements, version, registry)
    index = semantic.ProjectIndex()
    index.set_file("", semantic.build_table(statements, refs, []))
    return diags + semantic.resolve_file(index, "", script_duplicates=False)


def check_declarations_local(statements: list[n.Node], version: str,
                             registry: Registry) -> tuple[list[Diagnostic], list[Ref]]:
    """Checks that need no other declaration, and the references the file requires
    (resolved, with duplicates, by `semantic.resolve_file` against the project)."""
    checker = _DeclChecker(version, registry)
    for decl in statements:
        if isinstance(decl, n.Declaration | n.OnHandler):
            checker.check(decl)
    return checker.diags, checker.refs


_name_of = n.name_text


def entry_key(entry: n.Entry) -> str:
    """`entry.key_name`, as the compiled checks read it: without a Python property call (the
    checks ask ~150k times on a 100k-line file)."""
    key = entry.key
    if isinstance(key, n.Ident):
        return key.name
    return key.value if isinstance(key, n.StringLit) else ""


def _type_blocks(decl: n.Declaration, kind: str) -> Iterator[tuple[str, n.Node, n.Body]]:
    """(name, name node, body) of every data type the declaration (of `kind`) defines."""
    if kind in schema.TYPE_DECLARING_KINDS and decl.head:
        yield _name_of(decl.head[0]), decl.head[0], decl.body
    elif kind == "database":
        for entry in decl.body.entries:
            if entry_key(entry) in ("model", "collection") and entry.value and entry.body:
                yield _name_of(entry.value[0]), entry.value[0], entry.body


class _DeclChecker:
    def __init__(self, version: str, registry: Registry) -> None:
        self.version = version
        self.registry = registry
        self.diags: list[Diagnostic] = []
        self.refs: list[Ref] = []
        self.property_style = registry.has_feature(version, "property_style")

    def report(self, code: str, message: str, node: n.Node, severity: Severity = Severity.ERROR) -> None:
        self.diags.append(Diagnostic(code, severity, message, node.start, node.end))

    def refer(self, namespace: str, node: n.Node, message: str, code: str = "CAI202") -> None:
        """`node` must name a declaration of `namespace` (checked against the project)."""
        name = _name_of(node)
        if not name:
            return
        start, end = semantic.name_span(node)
        self.refs.append(Ref(namespace, name, node.start, node.end, start, end, code, message))

    # -- pass 2: check each declaration ------------------------------------------------------
    def check(self, decl: n.Declaration | n.OnHandler) -> None:
        if isinstance(decl, n.OnHandler):
            self._check_on(decl)
            return
        kind = decl.kind  # a property: asked once per declaration, not once per check
        self._known_keys(kind, decl.body)
        for _, _, body in _type_blocks(decl, kind):
            self._fields(body)
        if kind in schema.FIELD_BLOCK_KINDS:
            for body in _field_blocks(decl):
                self._fields(body, container=True)
        if kind in schema.PROPERTY_STYLE_KINDS and not self.property_style:
            self._property_style(decl)
        if kind == "config":
            self._config(decl)
        if kind == "endpoint":
            self._endpoint(decl)
        if kind in ("workflow", "webhook", "integration", "job", "endpoint"):
            self._values(decl.body)

    def _known_keys(self, kind: str, body: n.Body) -> None:
        known = schema.KNOWN_KEYS.get(kind)
        if known is None:
            return
        for entry in body.entries:
            name = entry_key(entry)
            if name and name not in known:
                self.report("CAI206", f"unknown property '{name}' for {kind} "
                            f"(expected one of: {', '.join(sorted(known))})", entry.key,
                            Severity.WARNING)
            if entry.body is not None and name in schema.NESTED_KEYS:
                self._nested_keys(name, entry.body)

    def _nested_keys(self, name: str, body: n.Body) -> None:
        known = schema.NESTED_KEYS[name]
        for entry in body.entries:
            key = entry_key(entry)
            if key and key not in known:
                self.report("CAI206", f"unknown property '{key}' in {name} "
                            f"(expected one of: {', '.join(sorted(known))})", entry.key,
                            Severity.WARNING)

    # -- fields ----------------------------------------------------------------------------
    def _fields(self, body: n.Body, *, container: bool = False) -> None:
        """Fields of an entity/model/collection, or of a payload/body/query/returns block.

        In those blocks (`container`) a clause without a colon (`id string`, 1.0 schema
        style) is a field too, so its type is checked as well.
        """
        seen: dict[str, n.Node] = {}
        for entry in body.entries:
            name = entry_key(entry)
            if name in schema.NON_FIELD_KEYS or not (entry.colon or container):
                continue
            if name in seen:
                self.report("CAI101", f"duplicate field '{name}'", entry.key)
            seen[name] = entry
            self._field(entry)
            if entry.body is not None:
                self._fields(entry.body, container=container)

    def _field(self, entry: n.Entry) -> None:
        parts = entry.value
        if not parts:
            return
        type_node = parts[0]
        self._field_type(type_node)
        self._modifier_commas(parts)
        for part in parts[1:]:
            if isinstance(part, n.Operator) and part.text == ",":
                continue
            modifier = part.callee if isinstance(part, n.Call) else part
            if isinstance(modifier, n.Ident) and modifier.name not in schema.FIELD_MODIFIERS:
                self.report("CAI201", f"unknown field modifier '{modifier.name}'", modifier)
            elif isinstance(part, n.Call) and part.callee.name == "default":
                self._enum_default(type_node, part)

    def _modifier_commas(self, parts: list[n.Node]) -> None:
        """`string,, required` or `string,` parse as a phrase; as a field they are a slip."""
        for prev, part in zip(parts, [*parts[1:], None], strict=False):
            is_comma = isinstance(prev, n.Operator) and prev.text == ","
            if is_comma and (part is None or isinstance(part, n.Operator) and part.text == ","):
                self.report("CAI001", "expected a field modifier after ','", prev)
                return

    def _enum_default(self, type_node: n.Node, default: n.Call) -> None:
        """`enum(a, b), default(c)`: the default must be one of the values (CAI203)."""
        if not (isinstance(type_node, n.Call) and type_node.callee.name == "enum"):
            return
        allowed = {_name_of(a) for a in type_node.args}
        for arg in default.args:
            if _name_of(arg) and _name_of(arg) not in allowed:
                self.report("CAI203", f"default '{_name_of(arg)}' is not one of the enum values "
                            f"({', '.join(sorted(allowed))})", arg)

    def _field_type(self, node: n.Node) -> None:
        name_node = node.callee if isinstance(node, n.Call) else node
        if not isinstance(name_node, n.Ident):
            return
        type_name = name_node.name
        if type_name not in schema.FIELD_TYPES:
            # a field typed by an entity (`author: User`); capitalised, it is meant as one
            if type_name[:1].isupper():
                self.refer(TYPES, name_node, f"reference to undeclared entity '{type_name}'")
            else:
                self.refer(TYPES, name_node, f"unknown field type '{type_name}'", "CAI201")
            return
        if isinstance(node, n.Call) and type_name == "ref":
            for arg in node.args:
                self.refer(TYPES, arg, f"reference to undeclared entity '{_name_of(arg)}'")
        if isinstance(node, n.Call) and type_name in ("list", "array"):
            for arg in node.args:
                self._field_type(arg)
        if isinstance(node, n.Call):
            self._type_arguments(type_name, node)

    def _type_arguments(self, type_name: str, node: n.Call) -> None:
        """Arity and shape of `decimal(p, s)`, `list(T)`, `ref(E)`, `enum(a, …)` (CAI201)."""
        args = node.args
        problem = ""
        if type_name == "decimal":
            nums = [a.text for a in args if isinstance(a, n.NumberLit) and a.text.isdigit()]
            if not 1 <= len(args) <= 2 or len(nums) != len(args):
                problem = "decimal takes a precision and an optional scale: decimal(10, 2)"
            elif len(nums) == 2 and int(nums[1]) > int(nums[0]):
                problem = f"decimal scale {nums[1]} is larger than its precision {nums[0]}"
        elif type_name in ("list", "array", "ref") and len(args) != 1:
            problem = f"{type_name} takes exactly one type: {type_name}(T)"
        elif type_name == "enum" and (not args or not all(_name_of(a) for a in args)):
            problem = "enum takes one or more names: enum(a, b)"
        if problem:
            self.report("CAI201", f"invalid field type '{type_name}(…)': {problem}", node)

    # -- config, endpoints, values --------------------------------------------------------
    def _config(self, decl: n.Declaration) -> None:
        if self.registry.has_feature(self.version, "nested_config"):
            return
        for entry in decl.body.entries:
            if entry.body is not None:
                self.report("CAI403", "nested config values require DSL "
                            f"{self.registry.since('nested_config')}, but the file declares "
                            f"{self.version}", entry.key)

    def _endpoint(self, decl: n.Declaration) -> None:
        if decl.head and _name_of(decl.head[0]) not in HTTP_METHODS:
            self.report("CAI203", f"unknown HTTP method '{_name_of(decl.head[0])}' (expected one "
                        f"of {', '.join(sorted(HTTP_METHODS))})", decl.head[0])
        params = self._path_params(decl)
        for entry in decl.body.entries:
            key = entry_key(entry)
            values = entry.value
            if key == "middleware":
                for v in _flatten(values):
                    self._ref("middleware", v)
            elif key in ("require_role", "roles"):
                for v in _flatten(values):
                    self._ref("role", v)
            elif key == "status" and entry.colon:
                self._status([entry.key, *values])
            elif key in ("body", "query", "returns") and entry.colon and values:
                self._field_type(values[0])
            elif key in ("request", "response") and values:
                self._type_ref(values[0])
                if key == "response":
                    self._status(values)
                if key == "request" and params is not None and _from_path(values) and not params:
                    self.report("CAI203", "path parameter mismatch: the request is read from the "
                                "path, but the path has no parameters", entry)
            elif key in ("params", "path") and entry.body is not None and params is not None:
                declared = {entry_key(e) for e in entry.body.entries}
                if declared != set(params):
                    self.report("CAI203", f"path parameter mismatch: path has "
                                f"{sorted(params) or 'none'}, {key} declares {sorted(declared)}",
                                entry.key)

    def _path_params(self, decl: n.Declaration) -> list[str] | None:
        if len(decl.head) < 2:
            return None
        path = _path_text(decl.head[1])
        names = [a or b for a, b in _PATH_PARAM.findall(path)]
        dupes = {x for x in names if names.count(x) > 1}
        if dupes:
            self.report("CAI203", f"path parameter mismatch: {', '.join(sorted(dupes))} appears "
                        "more than once in the path", decl.head[1])
        if not path.startswith("/"):
            self.report("CAI203", f"endpoint path '{path}' must start with '/'", decl.head[1])
        return names

    def _status(self, values: list[n.Node]) -> None:
        for key, value in zip(values, values[1:], strict=False):
            if isinstance(key, n.Ident) and key.name == "status" and isinstance(value, n.NumberLit):
                code = float(value.text)
                if not (100 <= code <= 599 and code.is_integer()):
                    self.report("CAI203", f"HTTP status {value.text} is outside 100–599", value)

    def _type_ref(self, node: n.Node) -> None:
        name = _name_of(node)
        if isinstance(node, n.Ident) and name not in schema.PRIMITIVE_TYPES:
            self.refer(TYPES, node, f"reference to undeclared entity or model '{name}'")

    def _ref(self, kind: str, node: n.Node) -> None:
        if isinstance(node, n.Operator):
            return
        self.refer(kind, node, f"reference to undeclared {kind} '{_name_of(node)}'")

    def _values(self, body: n.Body) -> None:
        for entry in _walk_entries(body):
            key_name = entry_key(entry)
            if entry.colon and key_name in schema.DURATION_KEYS:
                self._duration_property(entry)
            if entry.colon and key_name in ("trigger", "event", "emit"):
                self._trigger(entry)
            seq = [entry.key, *entry.value]
            for key, value in zip(seq, seq[1:], strict=False):
                if not isinstance(key, n.Ident):
                    continue
                if key.name == "schedule" and isinstance(value, n.StringLit):
                    self._cron(value)
                elif key.name in ("timeout", "initial_interval", "interval") and \
                        isinstance(value, n.StringLit) and not DURATION_TEXT.fullmatch(value.value):
                    self.report("CAI203", f"malformed duration {value.raw} (expected e.g. "
                                "\"30s\", \"10m\", \"24h\")", value)
                elif key.name == "event" and isinstance(value, n.StringLit) and \
                        key_name in ("trigger", "event"):
                    self._ref("event", value)

    def _duration_property(self, entry: n.Entry) -> None:
        """`timeout: 30s`: a property-style duration is one literal (or a duration string)."""
        values = entry.value
        if len(values) == 1 and isinstance(values[0], n.DurationLit | n.StringLit | n.Call):
            return  # strings are checked (and migrated, D4) elsewhere; calls are computed
        if not values:
            return
        shown = "".join((" " if a is not None and a.end < b.start else "") + _source_text(b)
                        for a, b in zip([None, *values], values, strict=False))
        self.report("CAI203", f"malformed duration '{shown}' for {entry_key(entry)} (expected a "
                    "duration literal such as 30s, 10m, 24h)", _span(values))

    def _trigger(self, entry: n.Entry) -> None:
        """`trigger: order.placed` / `event: order.placed` name an event (CAI202)."""
        values = entry.value
        if len(values) == 1 and isinstance(values[0], n.Ident | n.DottedName | n.StringLit) and \
                _name_of(values[0]) not in schema.TRIGGER_WORDS:
            self._ref("event", values[0])
        elif len(values) == 2 and _name_of(values[0]) == "event" and \
                isinstance(values[1], n.Ident | n.DottedName):
            self._ref("event", values[1])

    def _property_style(self, decl: n.Declaration) -> None:
        """CAI403: `key: value` properties in event/integration/job/workflow/endpoint are 1.1
        (called for those kinds when the version lacks them)."""
        first = next((e for e in decl.body.entries if e.colon or entry_key(e) in ("payload",
                                                                                  "operation")),
                     None)
        if first is not None:
            self.report("CAI403", f"property-style {decl.kind} bodies (`{entry_key(first)}: …`) "
                        f"require DSL {self.registry.since('property_style')}, but the file "
                        f"declares {self.version}", first.key)

    def _cron(self, value: n.StringLit) -> None:
        text = value.value.strip()
        if text in _CRON_MACROS:
            return
        fields = text.split()
        if len(fields) not in (5, 6) or not all(_CRON_FIELD.fullmatch(f) for f in fields):
            self.report("CAI203", f"malformed cron expression {value.raw} (expected 5 fields: "
                        "minute hour day-of-month month day-of-week)", value)
            return
        bounds = _CRON_BOUNDS[-len(fields):]
        for field_text, (name, lo, hi) in zip(fields, bounds, strict=True):
            bad = [x for x in re.findall(r"(?<![/#])\b[0-9]+\b", field_text) if not lo <= int(x) <= hi]
            if bad:
                self.report("CAI203", f"malformed cron expression {value.raw}: {name} {bad[0]} is "
                            f"outside {lo}–{hi}", value)
                return

    def _check_on(self, on: n.OnHandler) -> None:
        self._ref("event", on.event)
        if on.action is not None and on.target is not None:
            kind = {"workflow": "workflow", "integration": "integration", "emit": "event",
                    "webhook": "webhook"}.get(on.action.name)
            if kind is None:
                self.report("CAI203", f"unknown action '{on.action.name}' (expected workflow, "
                            "integration, emit or webhook)", on.action)
            else:
                self._ref(kind, on.target)
        if on.body is not None:
            for entry in on.body.entries:
                kind = {"workflow": "workflow", "integration": "integration", "emit": "event",
                        "webhook": "webhook"}.get(entry_key(entry))
                if kind and entry.value:
                    self._ref(kind, entry.value[0])


def _field_blocks(decl: n.Declaration) -> Iterator[n.Body]:
    """`payload`/`body`/`query`/`returns`/`params` blocks (in a declaration whose kind has
    them, `schema.FIELD_BLOCK_KINDS`): their lines are fields."""
    for entry in _walk_entries(decl.body):
        if entry.body is not None and entry_key(entry) in schema.FIELD_BLOCKS:
            yield entry.body


def _flatten(values: list[n.Node]) -> Iterator[n.Node]:
    for v in values:
        if isinstance(v, n.ArrayLit):
            yield from v.items
        else:
            yield v


def _source_text(node: n.Node) -> str:
    for attr in ("raw", "text", "name"):
        value = getattr(node, attr, None)
        if isinstance(value, str):
            return value
    return _name_of(node) or "…"


def _span(nodes: list[n.Node]) -> n.Node:
    return n.Node(nodes[0].start, nodes[-1].end)


def _walk_entries(body: n.Body) -> Iterator[n.Entry]:
    for entry in body.entries:
        yield entry
        if entry.body is not None:
            yield from _walk_entries(entry.body)


def _path_text(node: n.Node) -> str:
    if isinstance(node, n.PathLit):
        return node.text
    if isinstance(node, n.StringLit):
        return node.value
    return _name_of(node)


def _from_path(values: list[n.Node]) -> bool:
    return any(isinstance(a, n.Ident) and a.name == "from" and isinstance(b, n.Ident) and b.name == "path"
               for a, b in zip(values, values[1:], strict=False))
