"""LALR driver: runs a version's Lark tables over our tokens and builds the AST directly.

Why our own driver rather than `Lark.parse`: tokens stay light (no `lark.Token` per token),
reductions build typed nodes with positions taken from tokens, keywords are contextual (a NAME
becomes a keyword only where the grammar accepts one), newlines are significant only where the
grammar expects them (declarative bodies), and error recovery is ours, smallest repair first:
delete a stray token (or a stray bracketed group), insert a missing `)`, `]` or `,`, close
unclosed brackets at end of input, or skip to the next point the parser can resume at (never
inside a skipped group; a `}` that closes an enclosing block is kept).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.ast_builder import BUILDERS
from codeai_lang.syntax.lexer import OPERATOR_TERMINALS, Token
from codeai_lang.syntax.registry import LIST_EXTEND, LIST_START, PASS, SHIFT, SPLICE, Rule, Tables
from codeai_lang.syntax.tokens import Splice

MAX_SYNTAX_ERRORS = 100
_BLOCK_COMMENT = re.compile(r"/\*[\s\S]*?(?:\*/|\Z)")
_CLOSERS = ("RBRACE", "RPAR", "RSQB")
_GROUP_SCAN = 4096  # how far recovery looks for the end of a stray group (bounds junk input)
_OPENERS = ("LBRACE", "LPAR", "LSQB")
_NAMEISH_NEXT = frozenset({"EQUAL", "LPAR"})  # `config = 1`, `event(x)`: a name, not a keyword


@dataclass(slots=True)
class Unit:
    """One top-level statement: its token range, its node (None if unparsable), its errors."""

    first: int
    last: int  # exclusive token index
    node: n.Node | None
    errors: list[Diagnostic] = field(default_factory=list)
    # How far recovery looked ahead while parsing it (exclusive token index; 0: not past the
    # unit): a stray group's closer may lie in a later unit, and an edit there changes this one.
    reach: int = 0


@dataclass(slots=True)
class ParseOutput:
    statements: list[n.Node]
    units: list[Unit]
    diagnostics: list[Diagnostic]


def parse_tokens(tokens: list[Token], tables: Tables, text: str, *,
                 unclosed_reported: bool = False, eof: int | None = None,
                 resets: list[int] | None = None) -> ParseOutput:
    """Parse a token list (one program, or a slice of one) of `text` with `tables`.

    `eof` is where end of input is reported (default: end of text; a slice passes its end).
    `resets` are the offsets where the lexer closed unclosed brackets (`Lexed.resets`, each
    the start of a token): the tokens before each are parsed as a program of their own, its
    open constructs closed as at end of file (the lexer reported the brackets), so a missing
    `}` costs the statement it is in, not the rest of the file.
    """
    if not resets:
        return _Driver(tokens, tables, text, unclosed_reported, eof).run()
    out = ParseOutput([], [], [])
    lo = 0
    for at in [*resets, None]:
        hi = len(tokens) if at is None else bisect_left(tokens, at, key=_start)
        if at is None:
            part = _Driver(tokens[lo:hi], tables, text, unclosed_reported, eof).run()
        else:
            end = tokens[hi - 1].end if hi > lo else at
            part = _Driver(tokens[lo:hi], tables, text, True, end, _BEFORE_NEXT).run()
        out.statements.extend(part.statements)
        out.diagnostics.extend(part.diagnostics)
        for unit in part.units:
            unit.first += lo
            unit.last += lo
        out.units.extend(part.units)
        lo = hi
    return out


_BEFORE_NEXT = "end of input before the next top-level statement"


def _start(tok: Token) -> int:
    return tok.start


def _describe(kind: str, text: str = "") -> str:
    if kind == "$END":
        return text or "end of file"
    if kind == "NL":
        return "end of line"
    if text and kind not in ("STRING", "SHELL"):
        return f"'{text}'"
    return _TERMINAL_NAMES.get(kind, kind.lower())


_TERMINAL_NAMES = {
    "NAME": "a name", "STRING": "a string", "NUMBER": "a number", "DURATION": "a duration",
    "PATH": "a path", "OP": "an operator", "SHELL": "shell text", "LBRACE": "'{'",
    "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','",
    "COLON": "':'", "EQUAL": "'='", "DOT": "'.'", "AT": "'@'", "ERROR": "an invalid character",
    "KEY": "a key ('name:')", "HNAME": "a hyphenated key", "TSTRING": "a triple-quoted string",
    "QMARK": "'?'", "PERCENT": "'%'", **{t: f"'{op}'" for op, t in OPERATOR_TERMINALS.items()},
}


def expected_terminals(tables: Tables, state: int,
                       accepts: Callable[[str], bool] | None = None) -> list[str]:
    """Human names of what the grammar accepts in `state`, for 'expected …' messages.

    An LALR state merges lookaheads from every context it serves (after `f(a, 2` the state
    of `2` also lists `]`); `accepts` (the parser's would-it-shift check) keeps only the
    terminals that can really come next.
    """
    kws = {v: k for k, v in tables.keywords.items()}
    names = set()
    for sym in tables.states[state]:
        if not sym.isupper() or sym == "$END" or (accepts is not None and not accepts(sym)):
            continue
        names.add(f"'{kws[sym]}'" if sym in kws else _TERMINAL_NAMES.get(sym, sym.lower()))
    if "$END" in tables.states[state] and (accepts is None or accepts("$END")):
        names.add("end of file")
    return sorted(names)


class _Driver:
    def __init__(self, tokens: list[Token], tables: Tables, text: str,
                 unclosed_reported: bool, eof: int | None, ending: str = "") -> None:
        self.tokens = tokens
        self.text = text
        eof = len(text) if eof is None else eof
        self.tables = tables
        self.states = tables.states
        self.eof = Token("$END", "", eof, eof)
        self.ending = ending  # what the end of input is, when it is not the end of file
        self.unclosed_reported = unclosed_reported
        self.diags: list[Diagnostic] = []
        self.units: list[Unit] = []
        # The state after the program's statement list: "at top level" means exactly here.
        start_actions = tables.states[tables.start]
        self.program_list_state = next(
            (arg for sym, (act, arg) in start_actions.items()
             if act == SHIFT and sym.startswith("__program")), -1)
        self.unit_first = -1
        self.unit_errors: list[Diagnostic] = []
        self.reach = 0  # see Unit.reach: the furthest token read by recovery in this unit
        # Closers whose opener recovery deleted: the mistake is reported once, at the opener.
        self.orphan_closers: set[int] = set()

    # -- main loop -------------------------------------------------------------------------
    def run(self) -> ParseOutput:
        """Shift/reduce until end of input. Hot path: keep it flat, locals only."""
        states, tokens = self.states, self.tokens
        keywords = self.tables.keywords
        operators = self.tables.operators
        has_key = self.tables.has_key
        continuations = self.tables.continuations
        lookahead = self.tables.lookahead
        pass_chains = self.tables.pass_chains
        sstack: list[int] = [self.tables.start]
        vstack: list[Any] = []
        self.sstack, self.vstack = sstack, vstack
        reduce = self._reduce
        ntok = len(tokens)
        eof = self.eof
        i = 0
        while True:
            tok = tokens[i] if i < ntok else eof
            kind = tok.kind
            actions = states[sstack[-1]]
            if kind == "NAME":
                nxt = tokens[i + 1] if i + 1 < ntok else None
                if has_key and nxt is not None and nxt.kind == "COLON" \
                        and nxt.start == tok.start + len(tok.text) and "KEY" in actions:
                    kind = "KEY"  # `key: value` (2.1+): a key wherever the grammar takes one
                else:
                    kw = keywords.get(tok.text)
                    if kw is not None and kw in actions and (
                        "NAME" not in actions or nxt is None or self._keyword_fits(kw, nxt)
                    ) and not (kw in lookahead and "NAME" in actions and self._name_fits_better(kw, i)):
                        kind = kw
            elif kind == "OP" and operators:
                kind = operators.get(tok.text, kind)
            elif kind == "NL" and continuations and i + 1 < ntok and \
                    keywords.get(tokens[i + 1].text) in continuations and \
                    self._accepts(keywords[tokens[i + 1].text]):
                i += 1  # `from`/`where`/`else` at the start of a line continue the construct
                continue
            action = actions.get(kind)
            # Chains of `?rule` reductions with one child (2.1's expression levels) only swap
            # the top state, so a chain is walked once per (below, top, terminal), then looked up.
            if action is not None and action[0] != SHIFT and action[1].mode == PASS:
                chain_key = (sstack[-2], sstack[-1], kind)
                chain = pass_chains.get(chain_key)
                if chain is None:
                    chain = pass_chains[chain_key] = self._pass_chain(chain_key, action)
                sstack[-1], action = chain
            if action is None:
                if kind == "NL" and actions is states[sstack[-1]]:  # a newline the grammar ignores
                    i += 1
                    continue
                if actions is not states[sstack[-1]]:
                    continue  # reduced, then stuck: classify the token again in the new state
                self.pos = i
                i = self._recover(i, tok, kind)
                continue
            if action[0] == SHIFT:
                if len(sstack) <= 2 and self._at_top():
                    self._start_unit(i)
                sstack.append(action[1])
                vstack.append(tok)
                i += 1
                continue
            self.pos = i  # the lookahead, where a statement reduced now ends its unit
            value = reduce(action[1])
            if kind == "$END" and sstack[-1] == self.tables.end:
                return self._finish(value, ntok)

    def _pass_chain(self, key: tuple[int, int, str], action: Any) -> tuple[int, Any]:
        below, top, kind = key
        states = self.states
        while action is not None and action[0] != SHIFT and action[1].mode == PASS:
            top = states[below][action[1].origin][1]
            action = states[top].get(kind)
        return top, action

    def _reduce(self, rule: Rule) -> Any:
        sstack, vstack = self.sstack, self.vstack
        mode, size = rule.mode, rule.size
        if mode == PASS:
            del sstack[-1]
            sstack.append(self.states[sstack[-1]][rule.origin][1])
            return vstack[-1]
        if mode == LIST_EXTEND:
            lst = vstack[-size]
            lst.extend(vstack[-size + 1:])
            del vstack[-size + 1:]
            del sstack[-size:]
            sstack.append(self.states[sstack[-1]][rule.origin][1])
            return lst
        if mode == LIST_START:
            value: Any = Splice((vstack[-1],))
            vstack[-1] = value
            del sstack[-1]
            sstack.append(self.states[sstack[-1]][rule.origin][1])
            return value
        if size:
            children = vstack[-size:]
            del vstack[-size:]
            del sstack[-size:]
        else:
            children = []
        if rule.has_helpers:
            flat: list[Any] = []
            for c in children:
                if type(c) is Splice:
                    flat.extend(c)
                else:
                    flat.append(c)
            children = flat
        if mode == SPLICE:
            value = Splice(children)
        elif rule.expand1 and len(children) == 1:
            value = children[0]
        else:
            name = rule.name
            value = BUILDERS[name](children)
            if name in _STATEMENT_RULES and len(sstack) <= 2 and self._at_top():
                self._end_unit(value)
        sstack.append(self.states[sstack[-1]][rule.origin][1])
        vstack.append(value)
        return value

    def _keyword_fits(self, kw: str, nxt: Token) -> bool:
        """Where a word may be a name or a keyword, it is a name when the next token says so:
        `config = 1`, `event(x)`, and — before the end of a line or a closer — when the keyword
        could not be followed by it (`mode: update` ends a line; `update Order …` is a query)."""
        kind = nxt.kind
        if kind in _NAMEISH_NEXT:
            # A name unless no name can go here: the tables' NAME lookahead may come from a
            # merged LALR state (`if not done and (…)`: `and` is the operator).
            return not self._shift_on(list(self.sstack), "NAME")
        if kind not in _CHECK_NEXT:
            return True
        st = list(self.sstack)
        return self._shift_on(st, kw) and any(self._shift_on(list(st), k) for k in self._kinds(nxt))

    def _name_fits_better(self, kw: str, i: int) -> bool:
        """For a manifest `lookahead` keyword at token i: True when the two tokens after it do
        not fit the keyword's construct but do fit after a name (`update existing rows`)."""
        follow = self.tokens[i + 1:i + 3]
        return not self._fits([kw], follow) and self._fits(["NAME"], follow)

    def _fits(self, first: list[str], follow: list[Token]) -> bool:
        alternatives = [tuple(first), *(self._kinds(t, key=self._is_key(t)) for t in follow)]
        return self._fits_from(list(self.sstack), alternatives)

    def _fits_from(self, st: list[int], alternatives: list[tuple[str, ...]]) -> bool:
        """Can the tokens (each one of its alternative terminals) be shifted in turn from `st`?
        A small search: at most three tokens, at most three readings each."""
        if not alternatives:
            return True
        kinds, rest = alternatives[0], alternatives[1:]
        if kinds == ("NL",) and not self._shift_on(list(st), "NL"):
            return self._fits_from(st, rest)  # a newline the grammar ignores here
        for kind in kinds:
            branch = list(st)
            if self._shift_on(branch, kind) and self._fits_from(branch, rest):
                return True
        return False

    def _at_top(self) -> bool:
        """True when the stack holds only the program level (start state [+ statement list])."""
        s = self.sstack
        if len(s) == 1:
            return True
        return len(s) == 2 and s[1] == self.program_list_state

    def _finish(self, value: Any, ntok: int) -> ParseOutput:
        self._close_unit(ntok)
        program = value if isinstance(value, n.Program) else None
        statements = list(program.statements) if program is not None else []
        return ParseOutput(statements, self.units, self.diags)

    # -- top-level units ------------------------------------------------------------------
    def _start_unit(self, i: int) -> None:
        if self.unit_first < 0:
            self.unit_first = i

    def _end_unit(self, node: n.Node) -> None:
        # The unit ends at the lookahead token, so tokens dropped by recovery stay inside it.
        nxt = self.pos if self.unit_errors else self._index_after_node(node.end)
        self.units.append(Unit(self.unit_first, nxt, node, self.unit_errors, self.reach))
        self.unit_first, self.unit_errors, self.reach = -1, [], 0

    def _close_unit(self, i: int) -> None:
        """Close a unit that recovery abandoned (its node is lost)."""
        if self.unit_first >= 0 and self.unit_errors:
            self.units.append(Unit(self.unit_first, i, None, self.unit_errors, self.reach))
        elif self.unit_errors and self.units:
            self.units[-1].errors.extend(self.unit_errors)
            self.units[-1].reach = max(self.units[-1].reach, self.reach)
        self.unit_first, self.unit_errors, self.reach = -1, [], 0

    def _index_after_node(self, offset: int) -> int:
        """`_token_index_after(offset)` for a node that just reduced: almost always the
        lookahead (checked in O(1): the first token starting at or after `offset`)."""
        tokens, pos = self.tokens, self.pos
        if (pos >= len(tokens) or tokens[pos].start >= offset) and \
                (pos == 0 or tokens[pos - 1].start < offset):
            return pos
        return self._token_index_after(offset)

    def _token_index_after(self, offset: int) -> int:
        tokens = self.tokens
        lo, hi = 0, len(tokens)
        while lo < hi:
            mid = (lo + hi) // 2
            if tokens[mid].start < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # -- error recovery ------------------------------------------------------------------
    def _accepts(self, kind: str, depth: int | None = None) -> bool:
        """Would the parser shift `kind` from the current stack (cut to `depth`)?"""
        st = self.sstack[:depth] if depth is not None else list(self.sstack)
        return self._shift_on(st, kind)

    def _shift_on(self, st: list[int], kind: str) -> bool:
        """Run `kind`'s reductions and shift on the state stack `st` (a copy); False if it errs."""
        states = self.states
        while True:
            action = states[st[-1]].get(kind)
            if action is None:
                return False
            if action[0] == SHIFT:
                st.append(action[1])
                return True
            rule: Rule = action[1]
            if rule.size:
                del st[-rule.size:]
            goto = states[st[-1]].get(rule.origin)
            if goto is None:
                return False
            st.append(goto[1])
            if kind == "$END" and st[-1] == self.tables.end:
                return True

    def _kinds(self, tok: Token, *, key: bool = True) -> tuple[str, ...]:
        """The terminals `tok` may be, as the driver refines it (name, keyword, key, operator);
        `key=False` when `tok` is known not to be followed by its `:`."""
        if tok.kind == "OP":
            return (self.tables.operators.get(tok.text, "OP"),)
        if tok.kind != "NAME":
            return (tok.kind,)
        kw = self.tables.keywords.get(tok.text)
        kinds = ("NAME", kw) if kw else ("NAME",)
        return (*kinds, "KEY") if key and self.tables.has_key else kinds

    def _is_key(self, tok: Token) -> bool:
        """Is `tok` directly followed by ':' (what makes a NAME a KEY)?"""
        j = self._token_index_after(tok.start) + 1
        nxt = self.tokens[j] if j < len(self.tokens) else None
        return nxt is not None and nxt.kind == "COLON" and nxt.start == tok.end

    def _error(self, tok: Token, kind: str) -> None:
        if len(self.diags) >= MAX_SYNTAX_ERRORS:
            return
        expected = expected_terminals(self.tables, self.sstack[-1], self._accepts)
        shown = ", ".join(expected[:8]) + (", …" if len(expected) > 8 else "")
        what = _describe(kind, self.ending if kind == "$END" else tok.text)
        message = f"unexpected {what}; expected {shown}" if shown else f"unexpected {what}"
        end = tok.end if tok.end > tok.start else tok.start
        diag = Diagnostic("CAI001", Severity.ERROR, message, tok.start, end)
        self.diags.append(diag)
        self.unit_errors.append(diag)
        if self.unit_first < 0 and self._at_top():
            self.unit_first = self._token_index_after(tok.start)

    def _recover(self, i: int, tok: Token, kind: str) -> int:
        """Report the error at token i and return where to continue (-1 to stop)."""
        if kind == "$END":
            return self._recover_at_end(i, tok)
        # Invalid characters were reported by the lexer, an orphan closer at its opener.
        if kind != "ERROR" and i not in self.orphan_closers:
            self._error(tok, kind)
        elif self.unit_first < 0 and self._at_top():
            self.unit_first = i
        if kind in _CLOSERS and self._resume_depth(tok, i):
            return self._panic(i)  # `{ log(x) var }`: abandon the partial statement, keep the `}`
        # Smallest repair first: drop a stray token — or a stray `( … )` group whole — if what
        # follows it parses (`log("a" b)`, `fetch , (id)`).
        group_end = self._group_end(i) if kind in _OPENERS else i
        for last in dict.fromkeys((group_end, i)):
            if self._continues(last + 1) and not self._restarts(last + 1):
                if last < group_end:  # `x = ( 1 )`: the opener alone went, so will its closer
                    self.orphan_closers.add(group_end)
                if kind != "ERROR" and self._at_top():
                    # Between statements the stray is a unit of its own, so the statement after
                    # it is judged alone (and re-parsed alone under other DSL versions).
                    self._close_unit(last + 1)
                return last + 1
        if kind != "ERROR" and self._supply_missing(i, tok):
            return i  # a missing ')', ']' or ',' was supplied: `tok` is parsed next
        # An unexpected opener starts a group the parser cannot place: skip it whole.
        return self._panic(i + 1, nesting=1 if kind in _OPENERS else 0)

    def _continues(self, j: int) -> bool:
        """Would parsing go on at token j? Newlines the grammar ignores here are looked past."""
        tokens = self.tokens
        while j < len(tokens) and tokens[j].kind == "NL":
            if self._accepts("NL"):
                return True
            j += 1
        self.reach = max(self.reach, j + 1)
        nxt = tokens[j] if j < len(tokens) else self.eof
        return any(self._accepts(k) for k in self._kinds(nxt))

    def _restarts(self, j: int) -> bool:
        """Does token j start a new statement rather than continue this one? A word starting a
        line that is a statement keyword at an enclosing level, but only a name here: after
        `log = ( … )` + newline + `job j {`, dropping the `(` group would make `job` the value
        and flag `{` (the next statement) too; recovery resyncs at `job` instead."""
        if j >= len(self.tokens):
            return False
        tok = self.tokens[j]
        kw = self.tables.keywords.get(tok.text) if tok.kind == "NAME" else None
        if kw is None or not self._starts_line(tok, j) or self._accepts(kw):
            return False
        return any(self._accepts(kw, depth) for depth in range(len(self.sstack) - 1, 0, -1))

    def _group_end(self, i: int) -> int:
        """Index of the closer matching the opener at token i (i itself if none is near)."""
        tokens, depth = self.tokens, 0
        stop = min(len(tokens), i + _GROUP_SCAN)
        for j in range(i, stop):
            kind = tokens[j].kind
            if kind in _OPENERS:
                depth += 1
            elif kind in _CLOSERS:
                depth -= 1
                if depth == 0:
                    self.reach = max(self.reach, j + 1)
                    return j
        self.reach = max(self.reach, stop + 1)  # (+1: the scan also learnt where tokens end)
        return i

    def _supply_missing(self, i: int, tok: Token) -> bool:
        """Insert a missing `)`, `]` or `,` before token i when that lets `tok` parse.

        `f(a {`, `log(x` followed by a new statement, `log("a" b)` are each one mistake;
        without this, recovery would skip ahead and resume inside the open list, reporting the
        next tokens as errors too. A token that starts a line more likely starts a new
        statement (closer first); one inside a line more likely continues the list (comma
        first). The inserted token is zero-width at the end of the previous token.
        """
        order = ("RPAR", "RSQB", "COMMA") if self._starts_line(tok, i) else ("COMMA", "RPAR", "RSQB")
        for missing in order:
            st = list(self.sstack)
            if self._shift_on(st, missing) and any(self._shift_on(list(st), k) for k in self._kinds(tok)):
                self._feed_virtual(missing, self.tokens[i - 1].end if i else tok.start)
                return True
        return False

    def _recover_at_end(self, i: int, tok: Token) -> int:
        """At end of input, close what is open with zero-width closers; else drop the partial."""
        for _ in range(10_000):
            if self._accepts("$END"):
                return i
            closer = next((c for c in _CLOSERS if self._accepts(c)), None)
            if closer is None:
                break
            if not self.unclosed_reported:
                self._error(tok, "$END")
                self.unclosed_reported = True
            self._feed_virtual(closer, tok.start)
        if not self._accepts("$END"):
            if not self.unit_errors:
                self._error(tok, "$END")
            self._discard_to_top()
            self._close_unit(len(self.tokens))
        if not self._accepts("$END"):  # never loop: an empty program always ends
            del self.sstack[1:]
            self.vstack.clear()
        return i

    def _feed_virtual(self, kind: str, at: int) -> None:
        tok = Token(kind, "", at, at)
        while True:
            action = self.states[self.sstack[-1]][kind]
            if action[0] == SHIFT:
                self.sstack.append(action[1])
                self.vstack.append(tok)
                return
            self._reduce(action[1])

    def _panic(self, j: int, nesting: int = 0) -> int:
        """Skip tokens until one the parser can resume with, popping the stack to fit it.

        `nesting` counts brackets opened while skipping (including an unexpected opener the
        caller dropped): resyncing inside a skipped group would parse its contents out of
        context, yielding bogus errors and statements that swallow the next real one.
        """
        tokens = self.tokens
        while j < len(tokens):
            tok = tokens[j]
            kind = tok.kind
            if nesting <= 0 and (kind in _SYNC_KINDS or kind == "NAME"):
                depth = self._resume_depth(tok, j)
                if depth:
                    self._pop_to(depth, j)
                    return j
            if kind in _OPENERS:
                nesting += 1
            elif kind in _CLOSERS:
                nesting -= 1
            j += 1
        self._discard_to_top()
        self._close_unit(j)
        return j

    def _resume_depth(self, tok: Token, idx: int) -> int:
        """The deepest stack depth at which `tok` (token idx) can resume parsing (0 if none).

        Names, keywords and `@` resume only at the start of a line, where statements start.
        """
        if tok.kind in ("NAME", "AT", "EXEC") and not self._starts_line(tok, idx):
            return 0
        # A word that can be a keyword resumes as one where some level accepts it
        # (`var` after a broken `var 7 = 1` starts a new statement, it is not a name).
        for kinds in (self._kinds(tok)[1:], self._kinds(tok)[:1]):
            for depth in range(len(self.sstack), 0, -1):
                if any(self._accepts(k, depth) for k in kinds):
                    return depth
        return 0

    def _starts_line(self, tok: Token, idx: int) -> bool:
        """True if only whitespace/comments precede `tok` (token idx) on its line (a likely new
        start). Called for every name panic mode skips, so it must not search the tokens."""
        if idx == 0:
            return True
        prev = self.tokens[idx - 1]
        if prev.kind == "NL":
            return True
        gap = self.text[prev.end:tok.start]
        return "\n" in gap and "\n" in _BLOCK_COMMENT.sub(" ", gap)  # a newline inside /* */ does not count

    def _pop_to(self, depth: int, j: int) -> None:
        if depth < len(self.sstack):
            del self.sstack[depth:]
            del self.vstack[depth - 1:]
        if self._at_top():
            self._close_unit(j)

    def _discard_to_top(self) -> None:
        """Drop partial values so the stack is at program level (keeping finished statements)."""
        keep = 2 if len(self.sstack) >= 2 and self.sstack[1] == self.program_list_state else 1
        del self.sstack[keep:]
        del self.vstack[keep - 1:]


# Before these, a word that may be a keyword or a name is checked (see `_keyword_fits`).
_CHECK_NEXT = frozenset({"NL", "RBRACE", "RPAR", "RSQB", "COMMA"})
_SYNC_KINDS = frozenset({"RBRACE", "NL", "AT", "EXEC"})
_STATEMENT_RULES = frozenset({
    "var_decl", "assignment", "if_stmt", "for_stmt", "function_decl", "exec_block", "call_stmt",
    "declaration", "on_handler",
})
