"""Language features over one analysed text. Pure functions of a `Snapshot`, so they are
easy to test and cannot disturb the server's state."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from lsprotocol import types as t

from codeai_lang.analysis import schema, semantic
from codeai_lang.analysis.semantic import Decl, Occurrence
from codeai_lang.analysis.validator import Result
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.diagnostics.positions import UTF16, LineIndex
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import Token
from codeai_lang.syntax.registry import Registry
from codeai_lsp import expressions, keywords
from codeai_lsp.convert import to_offset, to_range
from codeai_lsp.projects import LspProject

node_name = n.name_text

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EVENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
TOKEN_TYPES = ["keyword", "variable", "function", "type", "string", "number", "comment", "property",
               "parameter", "operator", "macro", "decorator"]
TOKEN_MODIFIERS = ["declaration", "deprecated"]
_TT = {name: i for i, name in enumerate(TOKEN_TYPES)}
_ALL_KEYWORDS = keywords.all_keywords()  # from the grammars' declarations


@dataclass
class Snapshot:
    """One version of a document and its analysis."""

    uri: str
    version: int
    text: str
    result: Result
    reg: Registry
    encoding: str = UTF16  # the negotiated position encoding
    project: LspProject | None = None  # the document's project (its index has this file)
    lines_of: Callable[[str], LineIndex | None] | None = None  # another file's line index
    line_starts: list[int] | None = None  # the text's line starts, if known (saves a scan)

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text, self.line_starts)

    @cached_property
    def diagnostics(self) -> list[Diagnostic]:
        """The document's diagnostics in its project (its own checks, names resolved
        against every file of the project, the project's rules applied)."""
        if self.project is None:
            return self.result.diagnostics
        return self.project.diagnostics(self.uri, self.result.local)

    @property
    def table(self) -> semantic.FileTable:
        return self.result.table

    @cached_property
    def names(self) -> semantic.ProjectIndex:
        """The project's index (this file alone when it has no project)."""
        if self.project is not None and self.uri in self.project.index.tables:
            return self.project.index
        alone = semantic.ProjectIndex()
        alone.set_file(self.uri, self.table)
        return alone

    def range_location(self, start: int, end: int) -> t.Location:
        return t.Location(uri=self.uri, range=self.range(start, end))

    def location(self, uri: str, start: int, end: int) -> t.Location | None:
        """A location in this document or in another file of the project."""
        if uri == self.uri:
            return t.Location(uri=uri, range=self.range(start, end))
        lines = self.lines_of(uri) if self.lines_of is not None else None
        if lines is None:
            return None
        return t.Location(uri=uri, range=to_range(lines, start, end, self.encoding))

    @property
    def tokens(self) -> list[Token]:
        return self.result.document.lexed.tokens

    @property
    def statements(self) -> list[n.Node]:
        return self.result.document.statements

    def offset(self, pos: t.Position) -> int:
        return to_offset(self.lines, pos, self.encoding)

    def range(self, start: int, end: int) -> t.Range:
        return to_range(self.lines, start, end, self.encoding)

    def token_at(self, offset: int) -> Token | None:
        toks = self.tokens
        i = bisect_right(toks, offset, key=lambda tk: tk.start) - 1
        for j in (i, i - 1):
            if 0 <= j < len(toks) and toks[j].start <= offset <= toks[j].end and toks[j].end > toks[j].start:
                return toks[j]
        return None


# -- hover ----------------------------------------------------------------------------------------


def hover(snap: Snapshot, pos: t.Position) -> t.Hover | None:
    offset = snap.offset(pos)
    directive = next((d for d in snap.result.document.lexed.directives if d.start <= offset <= d.end), None)
    if directive is not None:
        doc = snap.result.document
        text = f"{keywords.DOCS['#version']}\n\nThis file is checked as DSL {doc.version} ({doc.version_source})."
        return _hover(snap, text, directive.start, directive.end)
    found = expressions.hover(snap.statements, offset)  # 2.1 records and queries
    if found is not None:
        return _hover(snap, *found)
    occ = snap.table.at(offset)
    if occ is not None:
        text = _describe(snap, occ)
        if text:
            return _hover(snap, text, occ.start, occ.end)
    tok = snap.token_at(offset)
    if tok is None or tok.kind not in ("NAME", "EXEC"):
        return None
    word = tok.text
    if word in keywords.DOCS and _is_keyword_use(snap, tok):
        return _hover(snap, keywords.DOCS[word], tok.start, tok.end)
    if word in keywords.MODIFIER_DOCS:
        return _hover(snap, f"field modifier `{word}` — {keywords.MODIFIER_DOCS[word]}", tok.start, tok.end)
    if word in schema.FIELD_TYPES:
        return _hover(snap, f"field type `{word}`", tok.start, tok.end)
    if word in _builtins():
        return _hover(snap, f"builtin function `{word}`", tok.start, tok.end)
    return None


def _builtins() -> frozenset[str]:
    from codeai_lang.analysis.script_checks import BUILTINS
    return frozenset(BUILTINS)


def _is_keyword_use(snap: Snapshot, tok: Token) -> bool:
    """`var type = 1`: keywords are contextual, so only a keyword at its keyword place counts."""
    if tok.text in ("model", "collection"):
        return True
    toks = snap.tokens
    i = bisect_right(toks, tok.start, key=lambda tk: tk.start) - 1
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    return not (nxt is not None and nxt.kind in ("EQUAL", "COLON", "LPAR"))


def _hover(snap: Snapshot, markdown: str, start: int, end: int) -> t.Hover:
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=markdown),
                   range=snap.range(start, end))


def _local_decl(snap: Snapshot, occ: Occurrence) -> Occurrence | None:
    """The declaring occurrence of a local scripting symbol (same file)."""
    return next((o for o in snap.table.occurrences if o.is_decl and o.local is occ.local), None)


def _local_uses(snap: Snapshot, occ: Occurrence) -> list[Occurrence]:
    return [o for o in snap.table.occurrences if o.key is None and o.local is occ.local]


def _describe(snap: Snapshot, occ: Occurrence) -> str:
    if occ.key is None:
        decl = _local_decl(snap, occ)
        kind = getattr(occ.local, "kind", "variable")
        name = getattr(occ.local, "name", "")
        if decl is None:
            return ""
        refs = len(_local_uses(snap, occ)) - 1
        where = f"declared at line {snap.lines.line_of(decl.start) + 1}"
        return f"**{kind}** `{name}`\n\n{where} · {refs} reference{'s' if refs != 1 else ''}"
    target = snap.names.target(occ)
    if target is None:
        return ""
    shown = f'"{target.name}"' if target.quoted else target.name
    if target.kind == "function" and target.detail:
        shown = target.detail
    refs = sum(1 for _, o in snap.names.references(target) if not o.is_decl)
    return f"**{target.kind}** `{shown}`\n\n{_where(snap, target)} · {refs} reference{'s' if refs != 1 else ''}"


def _where(snap: Snapshot, decl: Decl) -> str:
    loc = snap.location(decl.path, decl.start, decl.end)
    line = loc.range.start.line + 1 if loc is not None else 0
    if decl.path == snap.uri:
        return f"declared at line {line}"
    return f"declared in `{decl.path.rsplit('/', 1)[-1]}` at line {line}"


# -- definition, references, rename -------------------------------------------------------------


def _spans(snap: Snapshot, occ: Occurrence) -> list[tuple[str, Occurrence]]:
    """Every occurrence of what `occ` denotes, across the project, in path then file order."""
    if occ.key is None:
        return [(snap.uri, o) for o in _local_uses(snap, occ)]
    target = snap.names.target(occ)
    return list(snap.names.references(target)) if target is not None else []


def definition(snap: Snapshot, pos: t.Position) -> list[t.Location]:
    occ = snap.table.at(snap.offset(pos))
    if occ is None:
        return []
    if occ.key is None:
        decl = _local_decl(snap, occ)
        return [snap.range_location(decl.start, decl.end)] if decl is not None else []
    target = snap.names.target(occ)
    loc = snap.location(target.path, target.start, target.end) if target is not None else None
    return [loc] if loc is not None else []


def references(snap: Snapshot, pos: t.Position, include_declaration: bool) -> list[t.Location]:
    occ = snap.table.at(snap.offset(pos))
    if occ is None:
        return []
    out = []
    for uri, o in _spans(snap, occ):
        if o.is_decl and not include_declaration:
            continue
        loc = snap.location(uri, o.start, o.end)
        if loc is not None:
            out.append(loc)
    return out


def prepare_rename(snap: Snapshot, pos: t.Position) -> t.PrepareRenamePlaceholder | None:
    occ = snap.table.at(snap.offset(pos))
    if occ is None or not _spans(snap, occ):
        return None
    name = occ.key[1] if occ.key is not None else getattr(occ.local, "name", "")
    return t.PrepareRenamePlaceholder(range=snap.range(occ.start, occ.end), placeholder=name)


class RenameError(ValueError):
    """A rename the server refuses (shown to the user by the client)."""


def rename(snap: Snapshot, pos: t.Position, new_name: str) -> t.WorkspaceEdit | None:
    """Every occurrence across the project's files, open or not; refused when the new name
    is not a name, is a keyword, or is already declared in the same namespace."""
    occ = snap.table.at(snap.offset(pos))
    spans = _spans(snap, occ) if occ is not None else []
    if occ is None or not spans:
        raise RenameError("nothing to rename here: place the cursor on a declared name")
    target = snap.names.target(occ) if occ.key is not None else None
    kind = target.kind if target is not None else getattr(occ.local, "kind", "variable")
    pattern = EVENT_NAME if kind == "event" else IDENTIFIER
    if not pattern.fullmatch(new_name):
        raise RenameError(f"'{new_name}' is not a valid {'event name' if kind == 'event' else 'identifier'}")
    if new_name in _ALL_KEYWORDS or new_name in ("model", "collection"):
        raise RenameError(f"'{new_name}' is a keyword of the CodeAI DSL")
    if target is not None and new_name != target.name:
        clash = snap.names.lookup(target.namespace, new_name)
        if clash is not None:
            raise RenameError(f"'{new_name}' is already declared ({clash.kind} in "
                              f"{clash.path.rsplit('/', 1)[-1]}); renaming would make a duplicate")
    changes: dict[str, list[t.TextEdit]] = {}
    for uri, o in spans:
        loc = snap.location(uri, o.start, o.end)
        if loc is not None:
            changes.setdefault(uri, []).append(t.TextEdit(range=loc.range, new_text=new_name))
    return t.WorkspaceEdit(changes=changes)


# -- workspace symbols --------------------------------------------------------------------------


def workspace_symbols(decls: list[Decl], location: Callable[[Decl], t.Location | None]) -> list[t.SymbolInformation]:
    out = []
    for d in decls:
        loc = location(d)
        if loc is not None:
            out.append(t.SymbolInformation(name=d.name, kind=_DECL_KINDS.get(d.kind, _SCRIPT_KINDS.get(d.kind, t.SymbolKind.Object)),
                                           location=loc, container_name=d.kind))
    return out


_SCRIPT_KINDS = {"function": t.SymbolKind.Function, "variable": t.SymbolKind.Variable}


# -- completion ----------------------------------------------------------------------------------


def completion(snap: Snapshot, pos: t.Position) -> t.CompletionList:
    offset = snap.offset(pos)
    query = expressions.completion(snap.statements, snap.tokens, offset)  # 2.1 queries
    if query is not None:
        kind = t.CompletionItemKind.Class if query[0] == "entity" else t.CompletionItemKind.Field
        return t.CompletionList(is_incomplete=False, items=_items(query[1], kind, query[0]))
    ctx = _context(snap, offset)
    items: list[t.CompletionItem] = []
    if ctx.kind == "field_type":
        items += _items(sorted(schema.FIELD_TYPES), t.CompletionItemKind.TypeParameter, "field type")
        items += _items(_type_names(snap), t.CompletionItemKind.Class, "entity")
    elif ctx.kind == "modifier":
        mods = sorted(schema.FIELD_MODIFIERS - {"primary_key", "not_null"})
        items += _items(mods, t.CompletionItemKind.EnumMember, "field modifier")
    elif ctx.kind == "property":
        known = schema.KNOWN_KEYS.get(ctx.owner) or schema.NESTED_KEYS.get(ctx.owner) or frozenset()
        items += _items(sorted(known), t.CompletionItemKind.Property, f"{ctx.owner} property")
        if ctx.owner not in schema.FIELD_CONTAINERS:  # steps, `do` blocks: not field lists
            version = snap.result.document.version
            items += _items(expressions.body_keywords(snap.reg, version),
                            t.CompletionItemKind.Keyword, f"keyword (DSL {version})")
        if ctx.owner in ("database",):
            items += _items(["model", "collection"], t.CompletionItemKind.Keyword, "keyword")
    elif ctx.kind == "statement":
        version = snap.result.document.version
        items += _items(keywords.statement_keywords(snap.reg, version), t.CompletionItemKind.Keyword,
                        f"keyword (DSL {version})")
        items += _names_in_scope(snap, offset)
    else:
        items += _names_in_scope(snap, offset)
        items += _items(["true", "false"], t.CompletionItemKind.Keyword, "boolean")
    return t.CompletionList(is_incomplete=False, items=items)


def _items(names: object, kind: t.CompletionItemKind, detail: str) -> list[t.CompletionItem]:
    return [t.CompletionItem(label=name, kind=kind, detail=detail) for name in names]  # type: ignore[attr-defined]


@dataclass
class _Ctx:
    kind: str  # statement | property | field_type | modifier | expression
    owner: str = ""


def _context(snap: Snapshot, offset: int) -> _Ctx:
    """What may be typed at `offset`, from the tokens before it on its line and the block
    that encloses it (found by scanning back over the enclosing top-level statement)."""
    text = snap.text
    line_start = text.rfind("\n", 0, offset) + 1
    toks = snap.tokens
    i = bisect_right(toks, offset - 1, key=lambda tk: tk.start)  # tokens starting before offset
    before = [tk for tk in toks[max(0, i - 64):i] if tk.start >= line_start and tk.kind != "NL"]
    if before and before[-1].end == offset and before[-1].kind == "NAME":
        before = before[:-1]  # the word being typed
    owner = _enclosing_owner(toks, i)
    if owner in ("", "if", "else", "for", "function"):
        if not before or (len(before) == 1 and before[0].kind == "RBRACE"):
            return _Ctx("statement")
        return _Ctx("expression")
    if not before:
        return _Ctx("property", owner)
    if before[0].kind == "NAME" and len(before) >= 2 and before[1].kind == "COLON" and \
            owner in schema.FIELD_CONTAINERS:
        return _Ctx("modifier" if any(tk.text == "," for tk in before[2:]) else "field_type", owner)
    return _Ctx("expression", owner)


def _enclosing_owner(toks: list[Token], i: int) -> str:
    """The word that opened the innermost `{` before token i ('' at top level)."""
    depth = 0
    j = i - 1
    limit = max(0, i - 20000)
    while j >= limit:
        kind = toks[j].kind
        if kind == "RBRACE":
            depth += 1
        elif kind == "LBRACE":
            if depth == 0:
                return _owner_word(toks, j)
            depth -= 1
        j -= 1
    return ""


def _owner_word(toks: list[Token], brace: int) -> str:
    """`entity User {` → entity, `model User {` → model, `steps {` → steps, `if x {` → if."""
    j = brace - 1
    words: list[Token] = []
    while j >= 0 and toks[j].kind not in ("NL", "LBRACE", "RBRACE") and len(words) < 12:
        words.append(toks[j])
        j -= 1
    words.reverse()
    names = [w for w in words if w.kind in ("NAME", "EXEC")]
    if not names:
        return ""
    first = names[0].text
    if first in ("if", "else", "for", "function", "exec"):
        return first
    if len(names) >= 2 and names[0].text in ("model", "collection") and words[0] is names[0]:
        return names[0].text
    return first


def _type_names(snap: Snapshot) -> list[str]:
    """Data types declared anywhere in the project (this file alone when standalone)."""
    return sorted({d.name for d in snap.names.declarations(semantic.TYPES)})


def _names_in_scope(snap: Snapshot, offset: int) -> list[t.CompletionItem]:
    """Variables and functions visible at `offset`: top-level ones declared before it, and
    those of the enclosing blocks of the statement holding it; then the builtins."""
    seen: dict[str, t.CompletionItemKind] = {}
    _statement_names(snap.statements, offset, seen)
    for name, (kind, _) in semantic.script_scope_names(snap.names, snap.uri).items():
        seen.setdefault(name, t.CompletionItemKind.Function if kind == "function" else t.CompletionItemKind.Variable)
    for name in sorted(_builtins()):
        seen.setdefault(name, t.CompletionItemKind.Function)
    return [t.CompletionItem(label=k, kind=v, detail="function" if v == t.CompletionItemKind.Function
                             else "variable") for k, v in seen.items()]


def _local_names(stmt: n.Node, offset: int, seen: dict[str, t.CompletionItemKind]) -> None:
    if isinstance(stmt, n.FunctionDecl) and stmt.body.start < offset < stmt.body.end:
        seen.setdefault(stmt.name.name, t.CompletionItemKind.Function)
        for p in stmt.params:
            seen.setdefault(p.name, t.CompletionItemKind.Variable)
        _block_names(stmt.body, offset, seen)
    elif isinstance(stmt, n.ForStmt) and stmt.body.start < offset < stmt.body.end:
        seen.setdefault(stmt.var.name, t.CompletionItemKind.Variable)
        _block_names(stmt.body, offset, seen)
    elif isinstance(stmt, n.IfStmt):
        for block in (stmt.then, stmt.orelse):
            if isinstance(block, n.Block) and block.start < offset < block.end:
                _block_names(block, offset, seen)
            elif isinstance(block, n.IfStmt):
                _local_names(block, offset, seen)


def _block_names(block: n.Block, offset: int, seen: dict[str, t.CompletionItemKind]) -> None:
    _statement_names(block.statements, offset, seen)


def _statement_names(statements: list[n.Node], offset: int,
                     seen: dict[str, t.CompletionItemKind]) -> None:
    """Names declared by `statements` before `offset`, descending into the one holding it."""
    for stmt in statements:
        if stmt.start >= offset:
            break
        if stmt.end >= offset:
            _local_names(stmt, offset, seen)
        elif isinstance(stmt, n.VarDecl):
            seen.setdefault(stmt.name.name, t.CompletionItemKind.Variable)
        elif isinstance(stmt, n.FunctionDecl):
            seen.setdefault(stmt.name.name, t.CompletionItemKind.Function)


# -- document symbols -----------------------------------------------------------------------------

_DECL_KINDS = {
    "entity": t.SymbolKind.Class, "collection": t.SymbolKind.Class, "model": t.SymbolKind.Class,
    "event": t.SymbolKind.Event, "config": t.SymbolKind.Namespace, "database": t.SymbolKind.Module,
    "endpoint": t.SymbolKind.Method, "workflow": t.SymbolKind.Function, "job": t.SymbolKind.Function,
    "integration": t.SymbolKind.Interface, "webhook": t.SymbolKind.Interface,
    "role": t.SymbolKind.Key, "auth": t.SymbolKind.Key, "middleware": t.SymbolKind.Module,
}


def document_symbols(snap: Snapshot) -> list[t.DocumentSymbol]:
    out: list[t.DocumentSymbol] = []
    for stmt in snap.statements:
        sym = _statement_symbol(snap, stmt)
        if sym is not None:
            out.append(sym)
    return out


def _statement_symbol(snap: Snapshot, stmt: n.Node) -> t.DocumentSymbol | None:
    if isinstance(stmt, n.Declaration):
        head = " ".join(filter(None, (node_name(h) or getattr(h, "text", "") for h in stmt.head)))
        name_node = stmt.head[0] if stmt.head else stmt.keyword
        children = _entry_symbols(snap, stmt.body, stmt.kind in schema.FIELD_CONTAINERS)
        return _symbol(snap, f"{stmt.kind} {head}".strip(), _DECL_KINDS.get(stmt.kind, t.SymbolKind.Object),
                       stmt, name_node, children, detail=stmt.kind)
    if isinstance(stmt, n.FunctionDecl):
        params = ", ".join(p.name for p in stmt.params)
        children = [c for c in (_statement_symbol(snap, s) for s in stmt.body.statements) if c]
        return _symbol(snap, stmt.name.name, t.SymbolKind.Function, stmt, stmt.name, children,
                       detail=f"({params})")
    if isinstance(stmt, n.VarDecl):
        return _symbol(snap, stmt.name.name, t.SymbolKind.Variable, stmt, stmt.name, [])
    if isinstance(stmt, n.OnHandler):
        return _symbol(snap, f'on "{stmt.event.value}"', t.SymbolKind.Event, stmt, stmt.event, [])
    return None


def _entry_symbols(snap: Snapshot, body: n.Body, fields: bool) -> list[t.DocumentSymbol]:
    out: list[t.DocumentSymbol] = []
    for entry in body.entries:
        key = entry.key_name
        if not key:
            continue
        if entry.body is not None:
            name = f"{key} {node_name(entry.value[0])}".strip() if entry.value else key
            kind = _DECL_KINDS.get(key, t.SymbolKind.Object)
            children = _entry_symbols(snap, entry.body, key in schema.FIELD_CONTAINERS)
            out.append(_symbol(snap, name, kind, entry, entry.key, children))
        elif entry.colon:
            detail = " ".join(filter(None, (node_name(v) or getattr(v, "text", "") for v in entry.value[:1])))
            kind = t.SymbolKind.Field if fields else t.SymbolKind.Property
            out.append(_symbol(snap, key, kind, entry, entry.key, [], detail=detail))
    return out


def _symbol(snap: Snapshot, name: str, kind: t.SymbolKind, node: n.Node, name_node: n.Node,
            children: list[t.DocumentSymbol], detail: str = "") -> t.DocumentSymbol:
    full = snap.range(node.start, node.end)
    sel_start = max(node.start, min(name_node.start, node.end))
    sel = snap.range(sel_start, max(sel_start, min(name_node.end, node.end)))
    return t.DocumentSymbol(name=name or "?", kind=kind, range=full, selection_range=sel,
                            detail=detail or None, children=children or None)


# -- folding ------------------------------------------------------------------------------------------


def folding_ranges(snap: Snapshot) -> list[t.FoldingRange]:
    out: list[t.FoldingRange] = []
    lines = snap.lines
    for stmt in snap.statements:
        for node in stmt.walk():
            if isinstance(node, n.Body | n.Block | n.ArrayLit | n.ExecBlock):
                first = lines.line_of(node.start)
                last = lines.line_of(max(node.start, node.end - 1))
                if last > first:
                    out.append(t.FoldingRange(start_line=first, end_line=last - 1
                                              if snap.text[lines.line_starts[last]:node.end - 1].strip() == ""
                                              else last))
    for c in snap.result.document.lexed.comments:
        first, last = lines.line_of(c.start), lines.line_of(max(c.start, c.end - 1))
        if last > first:
            out.append(t.FoldingRange(start_line=first, end_line=last, kind=t.FoldingRangeKind.Comment))
    return [r for r in out if r.end_line > r.start_line]


# -- semantic tokens -----------------------------------------------------------------------------------


def semantic_tokens(snap: Snapshot) -> t.SemanticTokens:
    classes = _classify_nodes(snap)
    spans: list[tuple[int, int, int, int]] = []  # start, end, type, modifiers
    for tok in snap.tokens:
        kind = tok.kind
        cls = classes.get(tok.start)
        if cls is not None and kind == "NAME":
            spans.append((tok.start, tok.end, cls[0], cls[1]))
        elif kind == "SHELL":  # the shell text of exec { … }, highlighted as shell
            spans += [(a, b, _TT[cls], 0) for a, b, cls in expressions.shell_spans(tok)]
        elif kind in expressions.TOKEN_CLASSES:
            spans.append((tok.start, tok.end, _TT[expressions.TOKEN_CLASSES[kind]], 0))
        elif kind in ("STRING", "PATH"):
            spans.append((tok.start, tok.end, _TT["string"], 0))
        elif kind in ("NUMBER", "DURATION"):
            spans.append((tok.start, tok.end, _TT["number"], 0))
        elif kind == "OP":
            spans.append((tok.start, tok.end, _TT["operator"], 0))
        elif kind == "EXEC" or (kind == "NAME" and tok.text in _ALL_KEYWORDS):
            spans.append((tok.start, tok.end, _TT["keyword"], 0))
        elif kind == "AT":
            spans.append((tok.start, tok.end, _TT["decorator"], 0))
    lexed = snap.result.document.lexed
    spans += [(c.start, c.end, _TT["comment"], 0) for c in lexed.comments]
    spans += [(d.start, d.end, _TT["macro"], 0) for d in lexed.directives]
    spans.sort()
    return t.SemanticTokens(data=_encode(snap, spans))


def _classify_nodes(snap: Snapshot) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    decl_mod = 1  # "declaration"
    dep_mod = 2  # "deprecated"
    types = set(_type_names(snap))
    for stmt in snap.statements:
        for node in stmt.walk():
            if isinstance(node, n.Declaration):
                out[node.keyword.start] = (_TT["keyword"], 0)
                if node.head and isinstance(node.head[0], n.Ident | n.DottedName):
                    out[node.head[0].start] = (_TT["type"], decl_mod)
            elif isinstance(node, n.Entry) and isinstance(node.key, n.Ident):
                out.setdefault(node.key.start, (_TT["property"], 0))
                for v in node.value:
                    if isinstance(v, n.Ident):
                        if v.name in schema.FIELD_TYPES or v.name in types:
                            out.setdefault(v.start, (_TT["type"], 0))
                        elif v.name in ("primary_key", "not_null"):
                            out.setdefault(v.start, (_TT["keyword"], dep_mod))
                        elif v.name in schema.FIELD_MODIFIERS:
                            out.setdefault(v.start, (_TT["keyword"], 0))
            elif isinstance(node, n.FunctionDecl):
                out[node.name.start] = (_TT["function"], decl_mod)
                for p in node.params:
                    out[p.start] = (_TT["parameter"], decl_mod)
            elif isinstance(node, n.Call):
                out.setdefault(node.callee.start, (_TT["function"], 0))
            elif isinstance(node, n.VarDecl):
                out[node.name.start] = (_TT["variable"], decl_mod)
            elif isinstance(node, n.ForStmt):
                out[node.var.start] = (_TT["variable"], decl_mod)
            elif isinstance(node, n.Decorator):
                out[node.name.start] = (_TT["decorator"], 0)
            elif isinstance(node, n.Ident) and node.name not in _ALL_KEYWORDS:
                out.setdefault(node.start, (_TT["type" if node.name in types else "variable"], 0))
    for start, (typ, declaration) in expressions.classify(snap.statements).items():
        out[start] = (_TT[typ], decl_mod if declaration else 0)
    return out


def _encode(snap: Snapshot, spans: list[tuple[int, int, int, int]]) -> list[int]:
    """LSP relative encoding; multi-line spans (block comments) become one token per line."""
    data: list[int] = []
    prev_line = prev_char = 0
    lines = snap.lines
    text = snap.text
    for start, end, typ, mods in spans:
        pieces: list[tuple[int, int]] = []
        s = start
        while True:
            nl = text.find("\n", s, end)
            if nl < 0:
                pieces.append((s, end))
                break
            pieces.append((s, nl))
            s = nl + 1
        for ps, pe in pieces:
            if pe <= ps:
                continue
            line, char = lines.lsp(ps, snap.encoding)
            _, end_char = lines.lsp(pe, snap.encoding)
            length = end_char - char
            if length <= 0:
                continue
            delta_line = line - prev_line
            delta_char = char - prev_char if delta_line == 0 else char
            if delta_line == 0 and delta_char < 0:
                continue  # overlapping span: keep the first
            data += [delta_line, delta_char, length, typ, mods]
            prev_line, prev_char = line, char
    return data
