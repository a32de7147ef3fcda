"""Properties of the migration over generated 1.0 programs with random comments and layout.

The strategy assembles valid 1.0 programs from blocks that use every deprecated form (D1–D6),
then varies what a migration must not disturb: indentation unit (2/4 spaces, tabs), line
endings (LF/CRLF), trailing whitespace, blank lines, line and block comments (own-line and
trailing), a header comment, the directive, and the final newline.
"""

from __future__ import annotations

from collections import Counter

from codeai_testing.generate import program_1_0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Edit, apply_edits
from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.registry import default_registry

Line = tuple[int, str]  # (indent level, text)


def _database_postgres(i: int, fields: list[str]) -> list[Line]:
    return [(0, "database postgres {"), (1, f"model M{i} {{"), (2, "id: uuid, primary_key"),
            *[(2, f) for f in fields], (1, "}"), (1, f"model N{i} {{"), (2, "name: string, not_null"),
            (1, "}"), (0, "}")]


def _database_mongodb(i: int) -> list[Line]:
    return [(0, "database mongodb {"), (1, f"collection C{i} {{"), (2, "sku: string, not_null, unique"),
            (2, "dims: embedded {"), (3, "w: integer, not_null"), (2, "}"), (1, "}"), (0, "}")]


def _config(keys: list[str], with_type: bool) -> list[Line]:
    values = {"db_host": '"localhost"', "db_port": "5432", "db_name": '"app"', "db_user": 'env("U")',
              "app_name": '"svc"', "port": "8080"}
    lines = [(1, f"{k}: {values[k]}") for k in keys]
    if with_type:
        lines.insert(len(lines) // 2, (1, "database_type: postgres"))
    return [(0, "config {"), *lines, (0, "}")]


def _workflow(i: int) -> list[Line]:
    return [(0, f"event e{i}.done {{ schema {{ id string }} }}"), (0, f"workflow w{i} {{"),
            (1, f'trigger event "e{i}.done"'), (1, 'timeout "30s"'), (1, "steps {"),
            (2, 'run { activity "run" }'), (1, "}"), (1, 'retry { max_attempts 3 initial_interval "1s" }'),
            (0, "}"), (0, f'on "e{i}.done" do workflow "w{i}" async')]


def _integration(i: int) -> list[Line]:
    return [(0, f"integration api{i} {{"), (1, "type rest"), (1, 'base_url "https://x.example.com"'),
            (1, 'timeout "10s"'), (1, 'circuit_breaker { threshold 5 timeout "1m" max_concurrent 2 }'),
            (0, "}"), (0, f"job j{i} {{"), (1, 'schedule "0 3 * * *"'), (1, 'task "t"'),
            (1, 'retry { initial_interval "2h" }'), (0, "}")]


def _script(i: int) -> list[Line]:
    return [(0, f"var v{i} = [1, 2]"), (0, f"function f{i}(a) {{"), (1, f"for x in v{i} {{"),
            (2, "log(x)"), (1, "}"), (0, "}"), (0, f"f{i}(1)")]


@st.composite
def blocks(draw: st.DrawFn) -> list[list[Line]]:
    kinds = draw(st.lists(st.sampled_from(["pg", "mongo", "config", "workflow", "integration", "script"]),
                          min_size=1, max_size=6))
    out = []
    for i, kind in enumerate(kinds):
        if kind == "pg":
            extra = draw(st.lists(st.sampled_from(["email: string, unique", "age: integer, default(0)"]),
                                  max_size=2, unique=True))
            out.append(_database_postgres(i, extra))
        elif kind == "mongo":
            out.append(_database_mongodb(i))
        elif kind == "config" and not any(b[0][1] == "config {" for b in out):
            keys = draw(st.lists(st.sampled_from(["db_host", "db_port", "db_name", "db_user", "app_name", "port"]),
                                 min_size=1, max_size=6, unique=True))
            out.append(_config(keys, draw(st.booleans())))
        elif kind == "workflow":
            out.append(_workflow(i))
        elif kind == "integration":
            out.append(_integration(i))
        else:
            out.append(_script(i))
    return out


@st.composite
def programs(draw: st.DrawFn) -> str:
    """A 1.0 program rendered with random layout, comments and line endings."""
    unit = draw(st.sampled_from(["    ", "  ", "\t"]))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    counter = iter(range(10_000))
    out: list[str] = []
    if draw(st.booleans()):
        out.append(f"// header {next(counter)}")
    if draw(st.booleans()):
        out.append("#version 1.0")
    for block in draw(blocks()):
        for level, text in block:
            out.extend(_decorated(draw, unit * level, text, counter))
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(["", " ", "\t"])))
    text = nl.join(out)
    return text + nl if draw(st.booleans()) else text


def _decorated(draw: st.DrawFn, indent: str, text: str, counter: object) -> list[str]:
    """One line, maybe preceded by a comment line, maybe with a trailing comment or blanks."""
    assert hasattr(counter, "__next__")
    lines = []
    before = draw(st.sampled_from(["", "", "", "line", "block", "multiline"]))
    if before == "line":
        lines.append(f"{indent}// note {next(counter)}")
    elif before == "block":
        lines.append(f"{indent}/* note {next(counter)} */")
    elif before == "multiline":
        lines.append(f"{indent}/* note {next(counter)}")
        lines.append(f"{indent}   continued */")
    after = draw(st.sampled_from(["", "", "", " ", "\t ", "line", "block"]))
    if after == "line":
        text += f"   // trailing {next(counter)}"
    elif after == "block":
        text += f" /* trailing {next(counter)} */"
    else:
        text += after
    lines.append(indent + text)
    return lines


def comments(text: str) -> Counter[str]:
    """Comment texts; a line comment's text ends before the line ending (CRLF's "\\r" too)."""
    return Counter(c.text.removesuffix("\r") for c in lex(text).comments)


def outside_edits(original: str, migrated: str, edits: list[Edit]) -> list[str]:
    """Original lines no edit touches that are not found, unchanged, where the edits put them.

    Each untouched line's place in the migrated text is exact: its original offset shifted by
    the length change of every edit before it. (This replaced a difflib alignment, which paired
    repeated `}` lines ambiguously and reported a line as lost that was in its place.)
    """
    lines = original.splitlines(keepends=True)
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    lost, start, shift, i = [], 0, 0, 0
    for line in lines:
        end = start + len(line)
        while i < len(ordered) and ordered[i].end <= start and not _touches(ordered[i], start, end):
            shift += len(ordered[i].new_text) - (ordered[i].end - ordered[i].start)
            i += 1
        touched = any(_touches(e, start, end) for e in ordered[i:] if e.start <= end)
        if end == len(original) and any(e.start == len(original) for e in edits):
            touched = True
        if not touched and migrated[start + shift:end + shift] != line:
            lost.append(line)
        start = end
    return lost


def _touches(edit: Edit, start: int, end: int) -> bool:
    """Does the edit change line [start, end)? (A deletion ending where it starts does not.)"""
    if edit.start == edit.end:
        return start <= edit.start < end
    return edit.start < end and edit.end > start



PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(programs())
def test_migration_properties(text: str) -> None:
    assert validate(text).errors == 0, "the generator made an invalid 1.x program"
    result = migrate_text(text, "2.0")
    assert result.ok, (result.error, result.problems)
    out = result.text
    checked = validate(out)
    # An unchanged, undeclared program is inferred as the newest version that accepts it.
    expected_version = "2.0" if "#version" in out else default_registry().latest
    assert checked.document.version == expected_version and checked.errors == 0
    assert not [d for d in checked.diagnostics if d.code in ("CAI301", "CAI302")]
    again = migrate_text(out, "2.0")
    assert again.ok and not again.changed and again.text == out
    assert comments(out) == comments(text)
    assert apply_edits(text, result.edits) == out
    assert outside_edits(text, out, result.edits) == []
    assert ("\r\n" in text) == ("\r\n" in out) and text.endswith("\n") == out.endswith("\n")


@settings(max_examples=15, deadline=None)
@given(st.integers(20, 120), st.integers(0, 10_000))
def test_generated_1_0_programs_migrate(lines: int, seed: int) -> None:
    text = program_1_0(lines, seed)
    result = migrate_text(text)
    assert result.ok and result.changed
    assert outside_edits(text, result.text, result.edits) == []
    assert migrate_text(result.text).text == result.text


def test_the_checker_catches_changes_outside_edits() -> None:
    text = program_1_0(60, 3)
    result = migrate_text(text, "2.0")
    assert outside_edits(text, result.text, result.edits) == []
    spaced = result.text.replace("middleware auth { type jwt }", "middleware auth {  type jwt }")
    assert outside_edits(text, spaced, result.edits)
    dropped = result.text.replace('    require_role "admin"\n', "", 1)
    assert outside_edits(text, dropped, result.edits)


REPEATED_BRACES = (
    'config {\n    db_host: "localhost"\n}\n'
    "database mongodb {\n    collection C1 {\n        sku: string, not_null, unique\n"
    "        dims: embedded {\n            w: integer, not_null\n        }\n    }\n}\n"
    "database mongodb {\n    collection C2 {\n        sku: string, not_null, unique\n"
    "        dims: embedded {\n            w: integer, not_null\n        }\n    } \n}\n"
    "var v3 = [1, 2]\nfunction f3(a) {\n    for x in v3 {\n        log(x)\n    }\n}\nf3(1)"
)


def test_outside_edits_is_exact_with_repeated_lines() -> None:
    """A Hypothesis counterexample of the old difflib alignment: many `}` lines made it report
    config's untouched `}` as lost. The exact check accepts it and still sees a changed line."""
    result = migrate_text(REPEATED_BRACES, "2.0")
    assert result.ok and outside_edits(REPEATED_BRACES, result.text, result.edits) == []
    tampered = result.text.replace("var v3 = [1, 2]", "var v3 = [1, 3]")
    assert outside_edits(REPEATED_BRACES, tampered, result.edits) == ["var v3 = [1, 2]\n"]
