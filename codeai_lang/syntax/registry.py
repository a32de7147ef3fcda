"""Versioned grammar registry: reads `grammar/versions.toml` and compiles each grammar lazily.

Versions are data. Each entry of the manifest names its grammar file, parent, additions,
deprecations, removals and the rewrite rules that lead to it; nothing else in the toolchain
compares version strings by hand. Lark computes the LALR tables; `codeai_lang.syntax.parser` runs
them with its own driver (contextual keywords, significant newlines, error recovery).
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

from codeai_grammar import GRAMMAR_DIR

from codeai_lang.syntax.lexer import DRIVER_TERMINALS, OPERATOR_TERMINALS, TOKEN_KINDS

SHIFT = 0
REDUCE = 1
_TABLES_FORMAT = 4  # bump when Tables/Rule or the cache file change shape (old pickles ignored)

_DECLARE = re.compile(r"^%declare\s+(.+)$", re.MULTILINE)


def declared_terminals(grammar_text: str) -> list[str]:
    """The terminals a grammar `%declare`s, in order (our lexer and driver produce them all)."""
    return [t for line in _DECLARE.findall(grammar_text) for t in line.split()]


def keyword_terminals(grammar_text: str) -> dict[str, str]:
    """Spelling → terminal of the grammar's keywords, derived from its declarations: every
    declared terminal the lexer does not produce (and the driver does not derive) is a
    contextual keyword spelled as its name in lower case (`SELECT` ↔ `select`)."""
    return {t.lower(): t for t in declared_terminals(grammar_text)
            if t not in TOKEN_KINDS and t not in DRIVER_TERMINALS}


# How the driver reduces a rule (decided once, when the grammar is compiled).
PASS = 0  # `?rule` with one child: the child is the value
LIST_START = 1  # helper list rule `__x: item`: start a list
LIST_EXTEND = 2  # helper list rule `__x: __x item…`: extend the list in place
SPLICE = 3  # other helper rules: children splice into the parent
BUILD = 4  # a named rule: call its AST builder


@dataclass(frozen=True, slots=True)
class Rule:
    """A grammar production as the driver needs it."""

    size: int
    origin: str
    name: str  # alias if any, else origin
    mode: int
    has_helpers: bool  # some child is a helper rule, so children need splicing
    expand1: bool


@dataclass(slots=True)
class Tables:
    """Compiled LALR tables of one grammar: state → {terminal or rule name: (action, arg)}."""

    states: list[dict[str, tuple[int, Any]]]
    start: int
    end: int
    keywords: dict[str, str]
    terminals: frozenset[str]
    operators: dict[str, str] = field(default_factory=dict)  # OP spelling → declared terminal
    has_key: bool = False  # the grammar declares KEY (a NAME directly followed by ':')
    # Keywords that continue the previous line's construct when they start a line (a query's
    # `from`/`where`, `else`): from the manifest, set by `Registry.tables`.
    continuations: frozenset[str] = frozenset()
    # Keywords taken only when the two tokens after them fit too (`update Order set …` is a
    # query; `update existing rows` stays a phrase): from the manifest, like continuations.
    lookahead: frozenset[str] = frozenset()
    # Filled while parsing: (state below, top state, terminal) → (top state, action) after the
    # chain of one-child `?rule` reductions the terminal triggers (2.1's expression levels).
    pass_chains: dict[tuple[int, int, str], tuple[int, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Addition:
    """A construct new in a version: a `terminal` the older grammar rejects (explains
    CAI403 after a syntax error) and/or a `feature` the checks ask about (`has_feature`)."""

    description: str
    terminal: str = ""
    after: str = ""
    feature: str = ""


@dataclass(frozen=True, slots=True)
class Deprecation:
    """A deprecated form (manifest `deprecations`): the version that deprecates and removes it."""

    id: str
    form: str
    replacement: str
    automatic: bool
    since: str
    removed_in: str


@dataclass(slots=True)
class Version:
    """One DSL version of the manifest: its grammar, parent and what it adds, deprecates and removes."""

    name: str
    grammar_file: str
    parent: str
    adds: list[Addition] = field(default_factory=list)
    deprecates: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)
    continuations: list[str] = field(default_factory=list)
    lookahead: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.name)


@cache
def version_key(name: str) -> tuple[int, ...]:
    """`"1.10"` → `(1, 10)`: versions compare numerically (cached: checks call it per site)."""
    return tuple(int(p) for p in name.split("."))


class Registry:
    """All known DSL versions, their grammars and deprecations."""

    def __init__(self, grammar_dir: Path = GRAMMAR_DIR) -> None:
        self.grammar_dir = grammar_dir
        data = _manifest((grammar_dir / "versions.toml").read_text(encoding="utf-8"))
        self.versions: dict[str, Version] = {}
        for name, entry in data["versions"].items():
            self.versions[name] = Version(
                name=name,
                grammar_file=entry["grammar"],
                parent=entry.get("parent", ""),
                adds=[Addition(**a) for a in entry.get("adds", [])],
                deprecates=list(entry.get("deprecates", [])),
                removes=list(entry.get("removes", [])),
                rewrites=list(entry.get("rewrites", [])),
                continuations=list(entry.get("continuations", [])),
                lookahead=list(entry.get("lookahead", [])),
            )
        self.latest: str = data.get("latest") or max(self.versions, key=version_key)
        self.deprecations = self._read_deprecations(data.get("deprecations", {}))
        self._tables: dict[str, Tables] = {}
        self._features: dict[tuple[str, str], bool] = {}

    def _read_deprecations(self, raw: dict[str, dict[str, Any]]) -> dict[str, Deprecation]:
        since = {d: v.name for v in self.ordered for d in v.deprecates}
        removed = {d: v.name for v in self.ordered for d in v.removes}
        # `removed_in` may name a version the registry does not have yet (2.1's D7/D8 go in 3.0).
        return {
            dep_id: Deprecation(dep_id, d["form"], d["replacement"], bool(d.get("automatic")),
                                since.get(dep_id, ""), removed.get(dep_id, d.get("removed_in", "")))
            for dep_id, d in raw.items()
        }

    def since(self, feature: str) -> str:
        """The version whose `adds` introduce `feature` ("" if none does)."""
        return next((v.name for v in self.ordered for a in v.adds if a.feature == feature), "")

    def has_feature(self, version: str, feature: str) -> bool:
        """Does `version` have `feature` (added by it or an older version)? Checks ask this
        instead of comparing version numbers (per declaration: the answers are kept)."""
        known = self._features.get((version, feature))
        if known is None:
            since = self.since(feature)
            known = self._features[(version, feature)] = bool(since) and version_key(since) <= version_key(version)
        return known

    def inherited_continuations(self, name: str) -> frozenset[str]:
        """A version's continuation keywords: its own, else its parent's (recursively)."""
        return self._inherited(name, "continuations")

    def inherited_lookahead(self, name: str) -> frozenset[str]:
        """A version's two-token-lookahead keywords: its own, else its parent's."""
        return self._inherited(name, "lookahead")

    def _inherited(self, name: str, attr: str) -> frozenset[str]:
        version = self.versions.get(name)
        while version is not None and not getattr(version, attr) and version.parent:
            version = self.versions.get(version.parent)
        return frozenset(getattr(version, attr)) if version is not None else frozenset()

    @cached_property
    def ordered(self) -> list[Version]:
        """Versions oldest first."""
        return sorted(self.versions.values(), key=lambda v: v.key)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.ordered]

    def get(self, name: str) -> Version | None:
        return self.versions.get(name)

    def newer_than(self, name: str) -> list[Version]:
        key = version_key(name)
        return [v for v in self.ordered if v.key > key]

    def chain(self, source: str, target: str) -> list[Version]:
        """Versions stepped through from `source` (exclusive) to `target` (inclusive)."""
        lo, hi = version_key(source), version_key(target)
        return [v for v in self.ordered if lo < v.key <= hi]

    def is_deprecated(self, dep_id: str, version: str) -> bool:
        """Deprecated (warned) but not yet removed in `version`."""
        dep = self.deprecations[dep_id]
        key = version_key(version)
        return bool(dep.since) and version_key(dep.since) <= key and not self.is_removed(dep_id, version)

    def is_removed(self, dep_id: str, version: str) -> bool:
        dep = self.deprecations[dep_id]
        return bool(dep.removed_in) and version_key(dep.removed_in) <= version_key(version)

    def removed_rules(self, version: str) -> tuple[str, ...]:
        """The deprecation ids `version` removed (CAI302), in manifest order."""
        return tuple(r for r in self.deprecations if self.is_removed(r, version))

    def reported_rules(self, version: str) -> tuple[str, ...]:
        """The deprecation ids whose sites the validator reports under `version` (removed or
        deprecated there): the only sites a validation needs to look for."""
        return tuple(r for r in self.deprecations
                     if self.is_removed(r, version) or self.is_deprecated(r, version))

    def grammar_text(self, name: str) -> str:
        return (self.grammar_dir / self.versions[name].grammar_file).read_text("utf-8")

    def keywords(self, name: str) -> dict[str, str]:
        """Spelling → terminal of the keywords of version `name`, from its grammar's
        declarations (no compile needed)."""
        return keyword_terminals(self.grammar_text(name))

    def tables(self, name: str) -> Tables:
        """The compiled parse tables of version `name` (compiled once, cached on disk)."""
        tables = self._tables.get(name)
        if tables is None:
            tables = _load_cached(self.grammar_text(name))
            tables.continuations = self.inherited_continuations(name) & tables.terminals
            tables.lookahead = self.inherited_lookahead(name) & tables.terminals
            self._tables[name] = tables
        return tables


def _lark_stamp() -> str:
    """Identifies the installed Lark without importing it (start-up): its file's path, size, mtime."""
    spec = importlib.util.find_spec("lark")
    origin = (spec.origin if spec else None) or ""
    try:
        stat = os.stat(origin)
    except OSError:
        return origin
    return f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"


def _cache_path(prefix: str, key: str) -> Path:
    # A checksum names the file; the full key stored inside decides (`_cached`), so two
    # keys sharing a name only cost a recompile. Not hashlib: importing it loads OpenSSL,
    # ~4 MB of resident memory in every process that parses (issue 13's memory bar).
    data = key.encode()
    digest = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "codeai" / f"{prefix}-{digest}.pickle"


_T = TypeVar("_T")


def _cached(prefix: str, key: str, kind: type[_T], compute: Callable[[], _T]) -> _T:
    """`compute()`, cached on disk under the full `key` (a pickle of `kind`)."""
    path = _cache_path(prefix, key)
    try:
        with path.open("rb") as fh:
            cached_key, cached = pickle.load(fh)
        if cached_key == key and isinstance(cached, kind):
            return cached
    except Exception:  # a missing, stale or corrupt cache only costs a recompile
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump((key, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the cache
    return value


def _load_cached(grammar_text: str) -> Tables:
    """Compile with Lark, caching the tables on disk: loading them is ~20× faster than analysis."""
    key = f"{_TABLES_FORMAT}\0{_lark_stamp()}\0{grammar_text}"
    return _cached("tables", key, Tables, lambda: compile_grammar(grammar_text))


def _manifest(text: str) -> dict[str, Any]:
    """The parsed `versions.toml`, cached beside the tables: every command that parses reads
    it, and importing and running the TOML parser is ~3 ms of a ~100 ms start-up."""
    def parse() -> dict[str, Any]:
        import tomllib

        return tomllib.loads(text)

    return _cached("manifest", f"manifest-1\0{text}", dict, parse)


def compile_grammar(grammar_text: str) -> Tables:
    """Run Lark's LALR analysis on a grammar whose terminals are all `%declare`d."""
    from lark import Lark
    from lark.lexer import Lexer
    from lark.parsers.lalr_analysis import Shift

    class _NoLexer(Lexer):  # our own lexer feeds the tables
        def __init__(self, conf: Any) -> None:
            pass

        def lex(self, *args: Any) -> Any:
            return iter(())

    lark = Lark(grammar_text, parser="lalr", lexer=_NoLexer, start="program")
    parse_table = lark.parser.parser._parse_table
    n_states = max(parse_table.states) + 1
    states: list[dict[str, tuple[int, Any]]] = [{} for _ in range(n_states)]
    rules: dict[int, Rule] = {}
    for state, actions in parse_table.states.items():
        for lark_sym, (action, arg) in actions.items():
            sym = str(lark_sym)  # Lark names are `lark.Token`s, whose __eq__ is slow
            if action is Shift:
                states[state][sym] = (SHIFT, arg)
            else:
                rule = rules.get(id(arg))
                if rule is None:
                    rule = _make_rule(arg)
                    rules[id(arg)] = rule
                states[state][sym] = (REDUCE, rule)
    terminals = frozenset(sym for acts in states for sym in acts if sym.isupper())
    keywords = {kw: t for kw, t in keyword_terminals(grammar_text).items() if t in terminals}
    operators = {op: t for op, t in OPERATOR_TERMINALS.items() if t in terminals}
    return Tables(states, parse_table.start_states["program"], parse_table.end_states["program"],
                  keywords, terminals, operators, "KEY" in terminals)


def _make_rule(lark_rule: Any) -> Rule:
    origin = str(lark_rule.origin.name)
    name = str(lark_rule.alias) if lark_rule.alias else origin
    expansion = [str(sym.name) for sym in lark_rule.expansion]
    helpers = [sym.startswith("_") for sym in expansion]
    expand1 = bool(lark_rule.options.expand1) and not lark_rule.alias
    if origin.startswith("_") and not lark_rule.alias:
        if expansion and expansion[0] == origin and not any(helpers[1:]):
            mode = LIST_EXTEND
        elif len(expansion) == 1 and not helpers[0]:
            mode = LIST_START
        else:
            mode = SPLICE
    elif expand1 and len(expansion) == 1 and not lark_rule.alias and not helpers[0]:
        mode = PASS
    else:
        mode = BUILD
    return Rule(len(expansion), origin, name, mode, any(helpers), expand1)


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The registry of the grammars shipped with the package (created once per process)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry()
    return _DEFAULT
