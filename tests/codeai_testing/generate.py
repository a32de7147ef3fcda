"""Deterministic generators of realistic CodeAI programs, for benchmarks and property tests."""

from __future__ import annotations

import random


def program_1_0(lines: int, seed: int = 0) -> str:
    """A valid DSL 1.0 program of about `lines` lines mixing every construct, names unique."""
    rng = random.Random(seed)
    out: list[str] = ["#version 1.0", "// generated program", *_PRELUDE]
    i = 0
    while len(out) < lines:
        i += 1
        out.extend(_chunk(rng, i))
    return "\n".join(out) + "\n"


_PRELUDE = [
    "database postgres {", "    model User {", "        id: uuid, primary_key", "    }", "}",
    "middleware auth { type jwt }", "role admin { permissions [\"all\"] }",
    "event user.created { schema { id string } }",
    "workflow fulfil {", "    trigger manual", "    steps { ship { activity \"ship\" } }", "}", "",
]


def _chunk(rng: random.Random, i: int) -> list[str]:
    kind = rng.randrange(8)
    if kind == 0:
        return [f"var items{i} = [1, 2, {i}]", f"function step{i}(a, b) {{",
                f"    var total{i} = a", f"    for item in items{i} {{",
                f"        total{i} = item", "    }", f"    if b {{ log(total{i}) }} else {{",
                f"        log(\"none {i}\")", "    }", "}", f"step{i}(1, true)", ""]
    if kind == 1:
        return ["database postgres {", f"    model User{i} {{",
                "        description: \"A user\"", "        id: uuid, primary_key",
                "        email: string, not_null, unique", "        name: string",
                "        age: integer, default(0)", "        created_at: timestamp, default(now())",
                "        index: [email] unique", "    }", "}", ""]
    if kind == 2:
        return [f"endpoint GET \"/users{i}/:id\" {{", "    middleware auth",
                "    require_role \"admin\"", "    request User from path",
                "    response User status 200", "    do {",
                "        user = fetch(id) where \"active\"", "        audit(user)", "    }", "}", ""]
    if kind == 3:
        return [f"workflow flow{i} {{", "    trigger event \"user.created\"",
                "    timeout \"30s\"", "    steps {", "        validate {",
                "            activity \"check\"", "            input { id: \"user.id\" }",
                "        }", "    }", "    retry { max_attempts 3 initial_interval \"1s\" }",
                "}", ""]
    if kind == 4:
        return [f"integration api{i} {{", "    type rest", "    base_url \"https://api.example.com\"",
                "    auth bearer { token: env(\"TOKEN\") }", "    timeout \"10s\"",
                "    circuit_breaker { threshold 5 timeout \"30s\" max_concurrent 10 }", "}", ""]
    if kind == 5:
        return ["config {", f"    app_name: \"svc{i}\"", "    port: 8080", "}",
                f"event order{i}.paid {{ schema {{ id string }} }}",
                f"on \"order{i}.paid\" do workflow \"fulfil\" async", ""]
    if kind == 6:
        return [f"job cleanup{i} {{", "    schedule \"0 3 * * *\"", "    task \"purge\"",
                "    queue \"low\"", "}", f"role admin{i} {{ permissions [\"read\", \"write\"] }}", ""]
    return [f"var count{i} = {i}", f"count{i} = {i + 1}", f"exec {{ echo $count{i} }}",
            f"auth jwt{i} {{", "    method jwt", "    issuer \"https://id.example.com\"", "}", ""]


def program_1_1(lines: int, seed: int = 0) -> str:
    """A valid DSL 1.1 program in the business style (§5), about `lines` lines long.

    About one chunk in eight still uses a deprecated 1.x form (D1, D4, D5, D6), as real 1.1
    files do: they parse only under 1.1, so inference has to fall back from 2.0.
    """
    return _business_program("1.1", lines, seed, deprecated=True)


def program_2_0(lines: int, seed: int = 0) -> str:
    """A valid DSL 2.0 program: the 1.1 business style with no deprecated form."""
    return _business_program("2.0", lines, seed, deprecated=False)


def _business_program(version: str, lines: int, seed: int, *, deprecated: bool) -> str:
    rng = random.Random(seed)
    out: list[str] = [f"#version {version}", "// generated business-style program",
                      *_BUSINESS_PRELUDE]
    i = 0
    while len(out) < lines:
        i += 1
        kind = rng.randrange(8)
        if deprecated and kind == 7:
            out.extend(_deprecated_chunk(rng, i))
        else:
            out.extend(_BUSINESS_CHUNKS[kind % 7](i))
    return "\n".join(out) + "\n"


_BUSINESS_PRELUDE = [
    "config {", '    app_name: "shop"', "    port: 8080",
    "    database: postgres {", '        host: env("DB_HOST")', "        pool_size: 20", "    }",
    "}", "",
    "entity Customer {", "    id: uuid, primary, auto", "    email: string, required, unique",
    "    created_at: timestamp, auto", "}", "",
    "event order.placed {", "    payload {", "        order_id: uuid, required", "    }", "}", "",
    "middleware auth { type jwt }", "role admin { permissions [\"all\"] }",
    "workflow legacy_flow {", "    trigger: manual", "    steps { run }", "}", "",
]


def _entity_chunk(i: int) -> list[str]:
    return [f"entity Order{i} {{", "    id: uuid, primary, auto",
            "    customer: ref(Customer), required", "    total: decimal(12, 2), default(0)",
            "    status: enum(pending, paid, shipped), default(pending)",
            "    tags: list(string), optional", "    notes: text, searchable",
            "    updated_at: timestamp, auto_update", "    index: [customer, status]", "}", ""]


def _event_chunk(i: int) -> list[str]:
    return [f"event invoice{i}.sent {{", '    description: "An invoice was sent"',
            "    payload {", "        invoice_id: uuid, required", "        amount: decimal(10, 2)",
            "    }", "}", ""]


def _integration_chunk(i: int) -> list[str]:
    return [f"integration payments{i} {{", "    type: rest",
            '    base_url: "https://api.example.com"', "    auth: bearer(env(PAY_KEY))",
            "    timeout: 30s", "    retry: 3 times with exponential_backoff",
            "    circuit_breaker: 5 failures in 1m", "    operation charge {",
            "        method: POST", '        path: "/v1/charges"', "    }", "}", ""]


def _endpoint_chunk(i: int) -> list[str]:
    return [f"endpoint POST /orders{i}/:id {{", "    middleware auth", "    require_role admin",
            "    body {", "        total: decimal(12, 2), required", "        note: text, optional",
            "    }", "    query {", "        dry_run: boolean, default(false)", "    }",
            "    returns {", "        id: uuid", "    }", "    status: 201", "}", ""]


def _workflow_chunk(i: int) -> list[str]:
    return [f"workflow fulfil{i} {{", "    trigger: order.placed", "    timeout: 1h",
            "    steps {", "        reserve_stock", "        charge_card", "        ship {",
            '            activity "ship"', "        }", "    }", "}", ""]


def _job_chunk(i: int) -> list[str]:
    return [f"job cleanup{i} {{", '    schedule: "0 3 * * *"', "    timeout: 10m",
            "    retry: 2 times", '    queue: "low"', "}", ""]


_BUSINESS_CHUNKS = [_entity_chunk, _event_chunk, _integration_chunk, _endpoint_chunk,
                    _workflow_chunk, _job_chunk, _event_chunk]


def _deprecated_chunk(rng: random.Random, i: int) -> list[str]:
    kind = rng.randrange(3)
    if kind == 0:
        return ["database postgres {", f"    model Legacy{i} {{", "        id: uuid, primary_key",
                "        name: string, not_null", "    }", "}", ""]
    if kind == 1:
        return [f"workflow legacy{i} {{", "    trigger manual", '    timeout "30s"',
                '    steps { run { activity "run" } }', "}", ""]
    return [f"event legacy{i}.done {{ }}", f'on "legacy{i}.done" do workflow "legacy_flow" async',
            ""]


def program_2_1(lines: int, seed: int = 0) -> str:
    """A valid DSL 2.1 program in the full 2.1 style (§8): expressions, queries, records,
    colon forms, triple-quoted strings, hyphenated keys and statements inside step bodies."""
    rng = random.Random(seed)
    out: list[str] = ["#version 2.1", "// generated 2.1 program", *_PRELUDE_2_1]
    i = 0
    while len(out) < lines:
        i += 1
        out.extend(_CHUNKS_2_1[rng.randrange(len(_CHUNKS_2_1))](i))
    return "\n".join(out) + "\n"


_PRELUDE_2_1 = [
    "config {", '    app_name: "shop"', "    reports: {", '        recipients: ["ops@example.com"]',
    "    }", "}", "",
    "entity Order {", "    id: uuid, primary, auto", "    status: string, required",
    "    total: decimal(12, 2), default(0)", "    attempts: integer, default(0)",
    "    created_at: timestamp, auto", "}", "",
    "event order.placed {", "    payload {", "        order_id: uuid, required", "    }", "}", "",
    "event OrderShipped {", "    payload {", "        order_id: uuid", "        carrier: string",
    "    }", "}", "",
    "auth api_auth { method: jwt  issuer: \"https://id.example.com\" }",
    "role admin { permissions: [\"all\"] }",
    "middleware throttle { type: rate_limit  requests: 100 }", "",
]


def _workflow_2_1(i: int) -> list[str]:
    return [f"workflow ship{i} {{", "    trigger: order.placed", "    timeout: 1h", "    steps {",
            "        reserve {", "            var items = trigger.order.items",
            "            for item in items {",
            "                hold: reserve(item.sku, item.qty, trigger.order.id)", "            }",
            "            if trigger.order.total > 100 and not trigger.order.vip {",
            '                note: log_info("large order", { count: len(items), total: trigger.order.total })',
            "            } else {", "                note: log_info(\"small order\")", "            }",
            "            as: reservation", "        }", "        notify {",
            '            emit: emit(OrderShipped { order_id: trigger.order.id  carrier: "ups" })',
            "            retry: retry(max: 3, backoff: exponential)",
            "            pick: reservation.ok ? rates[0].id : 0",
            "            delays: [1m, 5m, 30m, 2h]", "        }", "    }", "}", ""]


def _job_2_1(i: int) -> list[str]:
    return [f"job report{i} {{", '    schedule: "0 6 * * *"', "    steps {", "        compute {",
            "            query: select sum(total) as revenue, count(*) as orders",
            "                from Order",
            '                where status = "completed" and created_at >= last_month.start',
            "                order by created_at desc", "                limit 100",
            "            send: email(config.reports.recipients) { template: \"daily\"  subject: \"Sales \" + today() }",
            "        }", "        retry_failed {", "            action: update Order",
            '                set status = "retrying"', "                set attempts = order.attempts + 1",
            "                where id = order.id", "            cleanup: delete Order where created_at < now()",
            "        }", "    }", "}", ""]


def _integration_2_1(i: int) -> list[str]:
    return [f"integration github{i} {{", "    type: graphql", '    base_url: "https://api.github.com/graphql"',
            "    timeout: 30s",
            '    headers { Content-Type: "application/json"  X-Request-Id: uuid() }',
            "    operation stars {", '        query: """', "            query Stars($first: Int!) {",
            "              viewer { starredRepositories(first: $first) { nodes { id name } } }",
            "            }", '        """',
            "        variables: { first: 10, order: { field: STARGAZERS, direction: DESC } }",
            "        returns: list({ id: integer  name: string  tags: list(string) })", "    }", "}", ""]


def _webhook_2_1(i: int) -> list[str]:
    return [f"webhook notify{i} {{", '    event: "order.placed"', '    url: "https://hooks.example.com/orders"',
            "    method: POST", '    headers { Content-Type: "application/json" }',
            "    retry { max_attempts: 3  initial_interval: 1s  backoff_multiplier: 2.0 }", "}", ""]


def _endpoint_2_1(i: int) -> list[str]:
    return [f"endpoint POST /orders{i}/:id {{", "    middleware throttle", "    require_role admin",
            "    body {", "        total: decimal(12, 2), required", "        max-keys: integer, default(1000)",
            "    }", "    do {", "        var discount = body.total > 500 ? body.total * 0.05 : 0",
            "        if discount > 0 {", "            apply: update Order set total = body.total - discount where id = params.id",
            "        }", "        status: 201", "    }", "}", ""]


_CHUNKS_2_1 = [_workflow_2_1, _job_2_1, _integration_2_1, _webhook_2_1, _endpoint_2_1]
