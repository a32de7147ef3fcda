"""DSL 2.1 (spec §8): every construct parses into its AST node and reprints byte for byte,
2.1 programs validate cleanly, 2.1 constructs under `#version 2.0` get CAI403 naming them,
inference picks 2.1, the §8.4 checks, and the D7/D8 rewrites with the 1.0 → 2.1 chain."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import run_codeai
from codeai_testing.generate import program_1_0, program_2_0, program_2_1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lossless import INDENT, INLINE, LINE_BREAK, Snippet, assert_tokens_and_gaps_reprint, snippet

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import apply_edits
from codeai_lang.fixes.rewrite import migrate_text, migration_fix
from codeai_lang.syntax import nodes as n
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.reprint import gaps, print_tree
from codeai_lang.syntax.versioned_parse import parse_document

MIGRATIONS = Path(__file__).resolve().parent.parent / "corpus" / "migrations" / "2.1"
PAIRS = sorted(MIGRATIONS.glob("*/*.before.cai"))

# Snippets in the lossless-test format: tokens separated by spaces, `␣` is a space inside a
# token. A `key:` token keeps its colon attached (that is what makes it a key).
SNIPPETS_2_1: list[Snippet] = [
    snippet("entity Order{n} {", "id: uuid , primary", "status: string", "total: decimal ( 12 , 2 )",
            "created_at: timestamp", "}"),
    snippet("event Shipped{n} {", "payload {", "order_id: uuid", "}", "}"),
    snippet("auth a{n} { method: jwt  issuer: \"https://id\" }"),
    snippet("role r{n} {", "permissions: [ \"read\" , \"write\" ]", "}"),
    snippet("middleware m{n} { type: rate_limit  requests: 100 }"),
    snippet("webhook w{n} {", "event: \"order.paid\"", "url: \"https://h\"", "method: POST",
            "headers { Content-Type: \"application/json\"  X-Request-Id: uuid ( ) }",
            "retry { max_attempts: 3  initial_interval: 1s  backoff_multiplier: 2.0 }", "}"),
    snippet("integration g{n} {", "type: graphql", "headers {", "Content-Type: \"application/json\"", "}",
            "operation stars {", 'query: """query␣{␣viewer␣{␣login␣}␣}"""',
            "variables: { first: 10 , order: { field: STARGAZERS , direction: DESC } }",
            "returns: list ( { id: integer  name: string  tags: list ( string ) } )", "}", "}"),
    snippet("workflow f{n} {", "trigger: order.placed", "steps {", "reserve {",
            "var items = trigger.order.items", "for item in items {",
            "hold: reserve ( item.sku , item.qty , trigger.order.id )", "}",
            "if trigger.order.total > 100 and not trigger.order.vip {",
            "note: log_info ( \"big\" , { count: len ( items ) } )", "}", "else {",
            "note: log_info ( \"small\" )", "}", "as: reservation", "}", "notify {",
            "emit: emit ( Shipped0 { order_id: trigger.order.id  carrier: \"ups\" } )",
            "retry: retry ( max: 3 , backoff: exponential )", "mark: update ( order.status = \"shipped\" )",
            "pick: reservation.ok ? rates [ 0 ] .id : - 1", "delays: [ 1m , 5m , 30m , 2h ]",
            "pct: ( total % 7 ) * 2 / 3 != 0", "}", "}", "}"),
    snippet("job j{n} {", 'schedule: "0␣6␣*␣*␣*"', "steps {", "compute {",
            "query: select sum ( total ) as revenue , count ( * ) as orders",
            "from Order0", 'where status = "completed" and created_at >= last_month.start',
            "order by created_at desc", "limit 100",
            "send: email ( config.reports.recipients ) { template: \"daily\"  subject: \"Sales␣\" + today ( ) }",
            "action: update Order0", 'set status = "retrying"', "set total = order.total + 1",
            "where id = order.id", "cleanup: delete Order0 where created_at < now ( )", "}", "}", "}"),
    snippet("var x{n} = a ? [ 1 , 2 ] [ 0 ] : { k: 1 }"),
    snippet("if not done and ( n % 2 == 0 or n >= 10 ) { log ( n ) }"),
]


@st.composite
def programs_2_1(draw: st.DrawFn) -> tuple[str, int]:
    chosen = draw(st.lists(st.sampled_from(SNIPPETS_2_1), min_size=1, max_size=6))
    out = ["#version 2.1\n"]
    for i, snip in enumerate(chosen):
        for line in snip.lines:
            out.append(draw(INDENT))
            for j, token in enumerate(line):
                if j:
                    out.append(draw(INLINE))
                out.append(token.replace("{n}", str(i)))
            out.append(draw(LINE_BREAK))
    return "".join(out), sum(s.statements for s in chosen)


GENERATED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(programs_2_1())
def test_2_1_programs_reprint_byte_for_byte(program: tuple[str, int]) -> None:
    text, count = program
    assert_tokens_and_gaps_reprint(text)
    doc = parse_document(text)
    assert print_tree(doc) == text
    assert [d for d in doc.diagnostics if d.is_error] == [], [
        (d.message, text[d.start:d.end]) for d in doc.diagnostics]
    assert len(doc.statements) == count
    for start, end in gaps(doc):
        assert not lex(text[start:end]).tokens


@pytest.mark.parametrize("seed", range(4))
def test_generated_2_1_program_is_clean_and_inferred(seed: int) -> None:
    text = program_2_1(400, seed)
    result = validate(text)
    assert result.diagnostics == [], [(d.code, d.message) for d in result.diagnostics[:5]]
    assert print_tree(result.document) == text
    bare = validate(text.split("\n", 1)[1])
    assert (bare.document.version, bare.document.version_source) == ("2.1", "inferred")


def _first(text: str, kind: type[n.Node]) -> n.Node:
    doc = parse_document("#version 2.1\n" + text)
    assert not doc.diagnostics, [(d.message) for d in doc.diagnostics]
    found = [node for s in doc.statements for node in s.walk() if isinstance(node, kind)]
    assert found, f"no {kind.__name__}"
    return found[0]


def _src(text: str, node: n.Node) -> str:
    return ("#version 2.1\n" + text)[node.start:node.end]


J = "job j {{\n    x: {}\n}}\n"


@pytest.mark.parametrize(("value", "kind", "shown"), [
    ("trigger.order.items", n.DottedName, "trigger.order.items"),
    ("rates[0].id", n.Member, "rates[0].id"),
    ("rates[0]", n.Index, "rates[0]"),
    ("reserve(item.sku, item.qty)", n.Call, "reserve(item.sku, item.qty)"),
    ("retry(max: 3, backoff: exponential)", n.NamedArg, "max: 3"),
    ("count(*)", n.StarArg, "*"),
    ("a + b * c", n.BinaryOp, "a + b * c"),
    ("a % 2", n.BinaryOp, "a % 2"),
    ("a == 1 and b != 2 or not c", n.UnaryOp, "not c"),
    ("c ? a : b", n.Ternary, "c ? a : b"),
    ("(a + b) * 2", n.Paren, "(a + b)"),
    ("f({ field: STARGAZERS, direction: DESC })", n.ObjectLit, "{ field: STARGAZERS, direction: DESC }"),
    ('emit(Shipped { order_id: order.id  carrier: "ups" })', n.Record,
     'Shipped { order_id: order.id  carrier: "ups" }'),
    ('"""\n  query { a }\n"""', n.TripleStringLit, '"""\n  query { a }\n"""'),
    ("select * from Order", n.SelectQuery, "select * from Order"),
    ("delete Session where expires_at < now()", n.DeleteQuery, "delete Session where expires_at < now()"),
])
def test_each_expression_form_parses_into_its_node(value: str, kind: type[n.Node], shown: str) -> None:
    text = J.format(value)
    assert _src(text, _first(text, kind)) == shown


def test_precedence_and_query_structure() -> None:
    text = J.format("a + b * c > 1 and d")
    top = _first(text, n.BinaryOp)
    assert isinstance(top, n.BinaryOp) and top.op == "and"
    assert isinstance(top.left, n.BinaryOp) and top.left.op == ">"
    text = ("job j {\n    q: select sum(total) as revenue, count(*) as orders\n        from Order\n"
            '        where status = "completed"\n        group by day\n        order by revenue desc, day\n'
            "        limit 10\n    next: 1\n}\n")
    q = _first(text, n.SelectQuery)
    assert isinstance(q, n.SelectQuery) and q.source is not None and q.source.name == "Order"
    assert [i.alias.name for i in q.items if isinstance(i, n.SelectItem) and i.alias] == ["revenue", "orders"]
    assert isinstance(q.where, n.BinaryOp) and q.where.op == "="
    assert len(q.group_by) == 1 and [o.descending for o in q.order_by] == [True, False]
    assert isinstance(q.limit, n.NumberLit)
    body = parse_document("#version 2.1\n" + text).statements[0]
    assert isinstance(body, n.Declaration) and [e.key_name for e in body.body.entries] == ["q", "next"]
    text = ("job j {\n    a: update Delivery\n        set status = \"retrying\"\n"
            "        set attempts = delivery.attempts + 1, note = \"x\"\n        where id = delivery.id\n}\n")
    u = _first(text, n.UpdateQuery)
    assert isinstance(u, n.UpdateQuery) and [s.field.name for s in u.sets] == ["status", "attempts", "note"]
    assert u.where is not None


def test_statements_in_bodies_and_several_properties_per_line() -> None:
    text = ("workflow w {\n    steps {\n        s {\n            var n = 1\n"
            "            for x in items { a: x }\n            if n > 1 { b: 2 }\n            else if n { c: 3 }\n"
            '            else { d: 4 }\n            if "legacy"\n        }\n    }\n}\n')
    doc = parse_document("#version 2.1\n" + text)
    assert not doc.diagnostics
    step = [e for e in doc.statements[0].walk() if isinstance(e, n.Entry) and e.key_name == "s"][0]
    assert step.body is not None
    kinds = [type(e).__name__ for e in step.body.entries]
    assert kinds == ["LocalVar", "ForEntry", "IfEntry", "Entry"]  # `if "legacy"`: the 1.0 clause
    if_entry = step.body.entries[2]
    assert isinstance(if_entry, n.IfEntry) and isinstance(if_entry.orelse, n.IfEntry)
    props = _first('auth a { method: jwt  issuer: "x"  audience: "y" }\n', n.Body)
    assert isinstance(props, n.Body) and [e.key_name for e in props.entries] == ["method", "issuer", "audience"]
    hyphen = _first('webhook w {\n    headers { Content-Type: "a"  X-Id: uuid() }\n}\n', n.Body)
    assert isinstance(hyphen, n.Body)
    nested = hyphen.entries[0].body
    assert nested is not None and [e.key_name for e in nested.entries] == ["Content-Type", "X-Id"]


def test_words_that_are_keywords_in_2_1_stay_names_where_they_were() -> None:
    """Contextual keywords: `update`/`select` at the end of a line, `set:` as a key, `order`
    as a field: every valid 2.0 file is a valid 2.1 file (§1)."""
    text = ("#version 2.1\nentity Item {\n    order: integer\n    select: string\n}\n"
            "job j {\n    mode: update\n    set: 1\n    on_conflict: delete\n"
            "    a: update existing rows\n    b: delete old records\n    c: select the best\n}\n")
    assert _located(text) == []
    values = [e.value[0] for s in parse_document(text).statements for e in s.walk()
              if isinstance(e, n.Entry) and e.key_name in ("a", "b", "c")]
    assert [type(v).__name__ for v in values] == ["Ident", "Ident", "Ident"]  # phrases, as in 2.0
    q = "job j {\n    a: delete from Order where id = 2\n    b: update Order set x = 1\n}\n"
    assert type(_first(q, n.DeleteQuery)).__name__ == "DeleteQuery"
    assert type(_first(q, n.UpdateQuery)).__name__ == "UpdateQuery"


@pytest.mark.parametrize(("body", "what"), [
    ("job j {\n    steps {\n        s {\n            q: select count(*) from Order\n        }\n    }\n}\n", "queries"),
    ("job j {\n    q: update Order set a = 1\n}\n", "queries"),
    ('integration g {\n    type: graphql\n    query: """\n x\n """\n}\n', "triple-quoted strings"),
    ('webhook w {\n    headers { Content-Type: "a" }\n}\n', "hyphenated keys"),
    ("job j {\n    x: a ? b : c\n}\n", "conditional expressions"),
    ("job j {\n    steps {\n        s {\n            var x = 1\n        }\n    }\n}\n", "`var`/`if`/`for`"),
    ("job j {\n    steps {\n        s {\n            for x in y {\n                a: 1\n            }\n"
     "        }\n    }\n}\n", "`var`/`if`/`for`"),
    ("job j {\n    r: retry(max: 3)\n}\n", "named arguments"),
    ("job j {\n    e: emit(Done { a: 1 })\n}\n", "record literals"),
    ('auth a {\n    method: jwt\n}\n', "colon forms"),
    ('auth a {\n    method: jwt  issuer: "x"\n}\n', "several `key: value` on one line"),
    ("job j {\n    x: rates[0].id\n}\n", "member access"),
    ("job j {\n    x: a % 2\n}\n", "`%`"),
    ("job j {\n    x: [1m, 5m]\n}\n", "durations in arrays"),
    ("job j {\n    x: f({ a: 1 })\n}\n", "object literals"),
])
def test_2_1_construct_under_2_0_is_cai403_naming_it(body: str, what: str) -> None:
    result = validate("#version 2.0\n" + body)
    cai403 = [d for d in result.diagnostics if d.code == "CAI403"]
    assert any(what in d.message and "2.1" in d.message for d in cai403), \
        [(d.code, d.message) for d in result.diagnostics]
    assert not [d for d in result.diagnostics if d.code == "CAI001"]
    inferred = parse_document(body)
    assert (inferred.version, inferred.version_source) == ("2.1", "inferred")


# -- §8.4 checks ----------------------------------------------------------------------------

ENTITY = "#version 2.1\nentity Order {\n    id: uuid, primary\n    status: string\n    total: decimal\n}\n"


def _located(text: str) -> list[tuple[str, str, str]]:
    """Diagnostics other than CAI206 (the tests use ad-hoc property names)."""
    return [(d.code, text[d.start:d.end], d.message) for d in validate(text).diagnostics
            if d.code != "CAI206"]


def test_queries_resolve_their_entity_and_fields() -> None:
    text = ENTITY + ("job j {\n    a: update Order set stauts = \"x\" where id = order.id and totl > 1\n"
                     "    b: delete Ordr where id = 1\n    c: select count(*) from Customer\n"
                     "    d: select total from Order where status = null\n}\n")
    found = _located(text)
    assert [(c, s) for c, s, _ in found] == [("CAI202", "stauts"), ("CAI202", "totl"),
                                             ("CAI202", "Ordr"), ("CAI202", "Customer")]
    assert "did you mean 'status'?" in found[0][2] and "did you mean 'total'?" in found[1][2]


def test_record_names_must_be_declared_events_or_entities() -> None:
    text = ENTITY + ("event OrderShipped {\n    payload {\n        id: uuid\n    }\n}\n"
                     "job j {\n    a: emit(OrderShipped { id: 1 })\n    b: f(Order { id: 1 })\n"
                     "    c: emit(Unknown { id: 1 })\n}\n")
    assert [(c, s) for c, s, _ in _located(text)] == [("CAI202", "Unknown")]


def test_unknown_functions_in_values_are_runtime_actions() -> None:
    text = "#version 2.1\njob j {\n    a: log_info(\"x\", now(), whatever(1, 2))\n    b: whatever(1)\n}\n"
    assert _located(text) == []


# -- D7 / D8 and migration to 2.1 -------------------------------------------------------------


def test_d7_d8_are_warnings_in_2_1_with_fixes() -> None:
    text = ('#version 2.1\nauth a {\n    method jwt\n}\nevent e.x {\n    schema {\n        id string\n'
            "    }\n}\n")
    diags = validate(text).diagnostics
    assert [(d.code, text[d.start:d.end]) for d in diags] == [("CAI301", "method"), ("CAI301", "schema")]
    assert "D7" in diags[0].message and "D8" in diags[1].message
    fixed = apply_edits(text, [e for d in diags if d.fix for e in d.fix.edits])
    assert "method: jwt" in fixed and "payload {\n        id: string" in fixed
    assert validate(fixed).diagnostics == []
    assert not [d for d in validate(text.replace("2.1", "2.0", 1)).diagnostics if d.code == "CAI301"]


@pytest.mark.parametrize("before", PAIRS, ids=[f"{p.parent.name}/{p.name}" for p in PAIRS])
def test_pair_2_1(before: Path) -> None:
    text = before.read_bytes().decode()
    expected = before.with_name(before.name.replace(".before.", ".after.")).read_bytes().decode()
    result = migrate_text(text, "2.1")
    assert result.ok, (result.error, result.problems)
    assert result.text == expected
    assert apply_edits(text, result.edits) == expected
    again = migrate_text(expected, "2.1")
    assert again.ok and not again.changed
    after = validate(expected)
    assert after.document.version == "2.1" and after.diagnostics == []
    assert _comments(expected) == _comments(text)


def _comments(text: str) -> list[str]:
    return [c.text for c in lex(text).comments]


@pytest.mark.parametrize("seed", range(5))
def test_generated_1_0_programs_migrate_to_2_1_in_one_run(seed: int) -> None:
    text = program_1_0(150, seed)
    result = migrate_text(text)
    assert result.ok and result.target == "2.1", (result.error, result.problems)
    assert {"D7", "D8"} <= set(result.rules_applied) and "D1" in result.rules_applied
    checked = validate(result.text)
    assert checked.document.version == "2.1"
    assert not [d for d in checked.diagnostics if d.code in ("CAI301", "CAI302") or d.is_error]
    assert _comments(result.text) == _comments(text)
    assert migrate_text(result.text).changed is False


def test_migrate_dsl_cli_chains_1_0_to_2_1(tmp_path: Path) -> None:
    src = MIGRATIONS / "chain" / "app_1_0.before.cai"
    target = tmp_path / "app.cai"
    target.write_bytes(src.read_bytes())
    check = run_codeai("migrate-dsl", "--check", str(target))
    assert check.returncode == 1 and target.read_bytes() == src.read_bytes()
    diff = run_codeai("migrate-dsl", "--diff", str(target))
    assert diff.returncode == 0 and "+#version 2.1" in diff.stdout and "+auth web { method: jwt" in diff.stdout
    proc = run_codeai("migrate-dsl", "--report", "json", str(target))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"]["target"] == "2.1"
    assert report["files"][0]["rules_applied"] == ["D1", "D3", "D4", "D5", "D6", "D7", "D8"]
    assert target.read_bytes() == src.with_name("app_1_0.after.cai").read_bytes()
    assert run_codeai("migrate-dsl", "--check", str(target)).returncode == 0


def test_language_server_fix_migrates_to_2_1() -> None:
    text = (MIGRATIONS / "chain" / "app_1_0.before.cai").read_text()
    fix = migration_fix(text)
    assert fix is not None and fix.description == "Migrate file to DSL 2.1"
    assert apply_edits(text, fix.edits) == (MIGRATIONS / "chain" / "app_1_0.after.cai").read_text()


def test_cli_validate_reports_2_1(tmp_path: Path) -> None:
    path = tmp_path / "app.cai"
    path.write_text(program_2_1(120, 3).split("\n", 1)[1])
    proc = run_codeai("validate", "--output", "json", str(path))
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(proc.stdout)
    assert doc["files"][0]["dsl_version"] == "2.1" and doc["files"][0]["version_source"] == "inferred"
    bad = path.read_text().replace("from Order", "from Ordr", 1)
    path.write_text("#version 2.1\n" + bad)
    proc = run_codeai("validate", str(path))
    assert proc.returncode == 1 and re.search(r":\d+:\d+: error\[CAI202\] query on undeclared entity 'Ordr'",
                                              proc.stdout)


V2_0_VALID = sorted((Path(__file__).resolve().parent.parent / "corpus" / "v2.0" / "valid").glob("*.cai"))


@pytest.mark.parametrize("text", [p.read_text() for p in V2_0_VALID] + [program_2_0(400, s) for s in range(3)])
def test_every_valid_2_0_file_is_a_valid_2_1_file(text: str) -> None:
    """§1: 2.1 is additive. Checked as 2.1, a valid 2.0 file has no errors (it may get the
    D7/D8 warnings 2.1 introduces) and the same AST shape for its declarations."""
    as_2_0, as_2_1 = validate(text, version="2.0"), validate(text, version="2.1")
    assert as_2_0.errors == 0
    assert [d for d in as_2_1.diagnostics if d.is_error] == []
    assert {d.code for d in as_2_1.diagnostics} <= {"CAI301", "CAI206"}
    kinds = [type(s).__name__ for s in as_2_0.document.statements]
    assert kinds == [type(s).__name__ for s in as_2_1.document.statements]


def test_scoping_of_statements_in_step_bodies() -> None:
    """§8.2: trigger/input/config/env, earlier steps' `as:` names (same steps block, later
    steps only), the body's own vars and loop variables; params/body/query in `do`."""
    text = ("#version 2.1\nvar limit = 10\nworkflow w {\n    trigger: manual\n    steps {\n"
            "        a {\n            var n = trigger.count + limit\n            for x in input.items {\n"
            "                if x.ok and n > 0 { mark: x }\n            }\n            if later.ok { b: 1 }\n"
            "            as: first\n        }\n        b {\n            var m = first.total + y\n"
            "            if x { c: 1 }\n        }\n    }\n}\n"
            "endpoint POST /o {\n    do {\n        var k = body.total + params.id + query.q + nope.z\n"
            "        if count(*) > 0 and f(named: k) { d: 1 }\n    }\n}\n")
    found = [(c, s) for c, s, _ in _located(text)]
    assert found == [("CAI102", "later"), ("CAI102", "y"), ("CAI102", "x"), ("CAI102", "nope")]


def test_records_and_queries_are_found_in_every_nesting() -> None:
    """The checks reach records and queries inside else-if branches, loops, nested calls,
    arrays, objects, ternaries and method calls."""
    text = ("#version 2.1\njob j {\n    steps {\n        s {\n            if a { x: 1 } else if b {\n"
            "                y: f([g({ k: h ? Nope1 {} : 0 })])\n            } else {\n"
            "                z: q.m(Nope2 { a: -(Nope3 { }) })\n            }\n"
            "            for i in input.items { w: delete Nope4 }\n        }\n    }\n}\n")
    assert [s for c, s, _ in _located(text) if c == "CAI202"] == ["Nope1", "Nope2", "Nope3", "Nope4"]
