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
