"""Versions are data: the grammars, the AST builders, the manifest, the deprecation rule
table and the language server's keyword docs agree. A mismatch used to surface as a run-time
`KeyError` in the parser driver or the validator; here it fails by name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from codeai_lsp import keywords

from codeai_lang.syntax import deprecations, parser
from codeai_lang.syntax.ast_builder import BUILDERS
from codeai_lang.syntax.lexer import DRIVER_TERMINALS, RESET_WORDS, TOKEN_KINDS
from codeai_lang.syntax.registry import BUILD, REDUCE, Registry, declared_terminals, default_registry

REG = default_registry()
VERSIONS = REG.names
ROOT = Path(__file__).resolve().parent.parent


def _built_rules(version: str) -> set[str]:
    """Names of the rules whose reductions call an AST builder in `version`'s tables."""
    tables = REG.tables(version)
    return {rule.name for state in tables.states for action, rule in state.values()
            if action == REDUCE and rule.mode == BUILD and not (rule.expand1 and rule.size == 1)}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_grammar_rule_has_a_builder(version: str) -> None:
    missing = _built_rules(version) - set(BUILDERS)
    assert not missing, f"DSL {version}: rules without an AST builder: {sorted(missing)}"


def test_every_builder_serves_some_grammar() -> None:
    used = set().union(*(_built_rules(v) for v in VERSIONS))
    assert set(BUILDERS) - used == set(), "builders no grammar reduces with"


def test_statement_rules_exist() -> None:
    used = set().union(*(_built_rules(v) for v in VERSIONS))
    assert used >= parser._STATEMENT_RULES


@pytest.mark.parametrize("version", VERSIONS)
def test_grammar_declares_only_terminals_the_toolchain_produces(version: str) -> None:
    """Each declared terminal is a lexer kind, a driver refinement or a keyword (by spelling)."""
    declared = declared_terminals(REG.grammar_text(version))
    keywords_ = set(REG.keywords(version).values())
    unknown = [t for t in declared if t not in TOKEN_KINDS | DRIVER_TERMINALS | keywords_]
    assert unknown == []
    assert all(t.isupper() and t.isidentifier() for t in keywords_)


def test_manifest_agrees_with_the_rule_table() -> None:
    ids = {d for v in REG.ordered for d in (*v.deprecates, *v.removes, *v.rewrites)}
    assert ids <= set(REG.deprecations), "manifest names a deprecation without its entry"
    assert set(REG.deprecations) <= set(deprecations.RULES), "deprecation without a rule"
    assert set(deprecations.RULES) <= set(REG.deprecations), "rule the manifest does not know"
    for dep in REG.deprecations.values():
        assert dep.since, f"{dep.id} is never deprecated by a version"


@pytest.mark.parametrize("version", VERSIONS)
def test_manifest_versions_chain_and_additions_are_declared(version: str) -> None:
    v = REG.versions[version]
    assert (REG.grammar_dir / v.grammar_file).is_file()
    assert v.parent == "" or v.parent in REG.versions
    declared = set(declared_terminals(REG.grammar_text(version)))
    for add in v.adds:
        assert add.terminal or add.feature, add
        if add.terminal:
            assert add.terminal in declared, f"{version} adds {add.terminal}, not declared"
        if add.after:
            assert add.after in TOKEN_KINDS, add
    assert set(REG.inherited_continuations(version)) <= set(REG.keywords(version).values())


def test_features_the_checks_ask_about_are_in_the_manifest() -> None:
    asked = set()
    for path in (ROOT / "codeai_lang").rglob("*.py"):
        asked |= set(re.findall(r"(?:has_feature\([^,]+,|since\()\s*\"([a-z_]+)\"", path.read_text()))
    assert asked, "the checks ask the manifest about features"
    known = {a.feature for v in REG.ordered for a in v.adds if a.feature}
    assert asked <= known, sorted(asked - known)


def test_no_check_compares_version_numbers_by_hand() -> None:
    """Version order lives in the registry; checks ask `has_feature`/`is_removed`."""
    offenders = []
    dsl_code = [ROOT / "codeai_lang" / d for d in ("syntax", "analysis", "fixes")] + [ROOT / "lsp"]
    for path in (p for d in dsl_code for p in d.rglob("*.py")):
        if path.name == "registry.py":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"version_key\(|[<>]=?\s*\(\d+,\s*\d+\)", line):
                offenders.append(f"{path.name}:{i}: {line.strip()}")
    assert offenders == []


def test_reset_words_are_the_grammars_statement_starts() -> None:
    """The lexer's column-0 reset words (unclosed-bracket recovery) are exactly the keywords
    some version's grammar accepts as the first token of a program, plus `@` (a decorator)."""
    starts: set[str] = set()
    for version in VERSIONS:
        tables = REG.tables(version)
        first = tables.states[tables.start]
        starts |= {kw for kw, term in tables.keywords.items() if term in first}
        assert "AT" in first, f"DSL {version}: a decorator no longer starts a statement"
    assert starts == RESET_WORDS


def test_every_keyword_is_documented_for_hover() -> None:
    assert keywords.all_keywords() - set(keywords.DOCS) == set()


def _copy_grammar_dir(target: Path) -> Path:
    target.mkdir(exist_ok=True)
    for f in REG.grammar_dir.iterdir():
        if f.is_file():  # not __pycache__
            (target / f.name).write_bytes(f.read_bytes())
    return target


def test_keywords_come_from_the_grammar(tmp_path: Path) -> None:
    """A keyword added to a grammar's declarations is a keyword — no list to update."""
    _copy_grammar_dir(tmp_path)
    grammar = tmp_path / "cai_2_1.lark"
    text = grammar.read_text().replace("%declare AND OR NOT", "%declare UNLESS AND OR NOT")
    text = text.replace("?c_not: c_cmp | NOT c_not -> unary", "?c_not: c_cmp | NOT c_not -> unary | UNLESS c_not -> unary")
    grammar.write_text(text)
    reg = Registry(tmp_path)
    assert reg.keywords("2.1")["unless"] == "UNLESS"
    assert "unless" not in reg.keywords("2.0")
    assert reg.tables("2.1").keywords["unless"] == "UNLESS"



def test_the_manifest_is_read_from_its_cache_and_an_edit_is_seen(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsed versions.toml is cached (start-up); the cache is keyed by the whole text, so
    an edited manifest is parsed again, and a corrupt entry only costs a parse."""
    import tomllib

    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    grammar = _copy_grammar_dir(tmp_path / "grammar")
    assert Registry(grammar).names == VERSIONS
    assert len(list((cache / "codeai").glob("manifest-*.pickle"))) == 1

    def no_parse(text: str) -> None:
        raise AssertionError("parsed again although cached")

    with monkeypatch.context() as patched:
        patched.setattr(tomllib, "loads", no_parse)
        assert Registry(grammar).latest == REG.latest  # from the cache

    manifest = grammar / "versions.toml"
    manifest.write_text(manifest.read_text().replace(f'latest = "{REG.latest}"', 'latest = "2.0"'))
    assert Registry(grammar).latest == "2.0"  # the edit is seen
    for entry in (cache / "codeai").glob("manifest-*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert Registry(grammar).latest == "2.0"  # a corrupt entry is ignored
