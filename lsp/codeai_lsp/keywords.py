"""Keyword documentation (hover) and keyword sets per DSL version (completion)."""

from __future__ import annotations

from functools import cache

from codeai_lang.syntax.registry import Registry, default_registry

DOCS: dict[str, str] = {
    "var": "`var name = expr` — declares a variable in the current scope (visible after this line).",
    "if": "`if expr { … } [else { … }]` — conditional; each block opens a scope.",
    "else": "`else { … }` or `else if …` — the alternative branch of an `if`.",
    "for": "`for name in expr { … }` — loops over an array; `name` lives in the body's scope.",
    "in": "`for name in expr` — the array a `for` loop iterates over.",
    "function": "`function name(a, b) { … }` — declares a function; call it after its declaration.",
    "exec": "`exec { shell text }` — runs shell text; `$name` interpolates a variable.",
    "config": "`config { key: value … }` — application configuration (nested values from DSL 1.1).",
    "database": "`database postgres|mongodb { model|collection X { … } }` — deprecated in 1.1 (D1/D2), "
                "removed in 2.0: use top-level `entity` / `collection`.",
    "model": "`model Name { field: type, modifier … }` — a PostgreSQL table inside `database postgres` "
             "(deprecated: D1).",
    "entity": "`entity Name { field: type {, modifier} … }` — a data type (DSL 1.1+). Types: uuid, string, "
              "text, integer, decimal(p,s), boolean, timestamp, date, time, json, list(T), ref(E), enum(…).",
    "collection": "`collection Name { … }` — a MongoDB collection (top level from DSL 1.1).",
    "auth": "`auth Name { method jwt|oauth2|apikey|basic … }` — an authentication scheme.",
    "role": "`role Name { permissions [\"…\"] }` — a role referenced by `require_role`.",
    "middleware": "`middleware Name { type kind [config { … }] }` — request middleware for endpoints.",
    "event": "`event dotted.name { schema { field type … } }` — an event that handlers and triggers name.",
    "on": "`on \"event\" { workflow \"w\" async }` — runs an action when an event fires "
          "(`on \"e\" do workflow \"w\"` is deprecated: D6).",
    "do": "`on \"e\" do action \"target\"` — the 1.x handler form (deprecated: D6).",
    "async": "`async` — run the handler's action asynchronously.",
    "integration": "`integration name { type rest|graphql|grpc|webhook base_url \"…\" … }` — an external API.",
    "webhook": "`webhook name { event \"…\" url \"…\" method POST|PUT … }` — an outgoing webhook.",
    "endpoint": "`endpoint METHOD \"/path/:param\" { … }` — an HTTP endpoint: middleware, require_role, "
                "request, response, do { … }.",
    "workflow": "`workflow name { trigger … steps { … } retry { … } }` — a multi-step workflow.",
    "job": "`job name { schedule \"cron\" task \"…\" }` — a scheduled background job.",
    "and": "`a and b` — true when both are (DSL 2.1 expressions).",
    "or": "`a or b` — true when either is (DSL 2.1 expressions).",
    "not": "`not a` — negation (DSL 2.1 expressions).",
    "select": "`select expr [as name], … from Entity [where cond] [group by …] [order by f [asc|desc]] "
              "[limit n]` — a query as a property value (DSL 2.1); continues on lines starting with a "
              "query word.",
    "from": "`from Entity` — the entity a `select` (or `delete from`) reads; it must be declared.",
    "where": "`where cond` — the rows a query applies to; `=` compares here. Field names must be "
             "fields of the query's entity.",
    "group": "`group by expr, …` — groups a `select`'s rows (DSL 2.1).",
    "order": "`order by expr [asc|desc], …` — sorts a `select`'s rows (DSL 2.1).",
    "by": "`group by` / `order by` — see `group` and `order`.",
    "limit": "`limit n` — at most n rows (DSL 2.1 queries).",
    "as": "`expr as name` — names a selected column (DSL 2.1 queries).",
    "asc": "`order by f asc` — ascending order (the default).",
    "desc": "`order by f desc` — descending order.",
    "update": "`update Entity set f = expr … [where cond]` — an update query as a property value (DSL 2.1).",
    "set": "`set field = expr` — a field an `update` query assigns; it must be a field of the entity.",
    "delete": "`delete [from] Entity [where cond]` — a delete query as a property value (DSL 2.1).",
    "true": "Boolean literal.",
    "false": "Boolean literal.",
    "#version": "`#version X.Y` — selects the DSL version; once, before any statement.",
}

MODIFIER_DOCS = {
    "primary": "Primary key.", "auto": "Generated on insert.", "auto_update": "Updated on every write.",
    "required": "Must be present (NOT NULL).", "optional": "May be absent.", "unique": "Unique values.",
    "searchable": "Indexed for search.", "soft_delete": "Deletion marks instead of removing.",
    "default": "`default(value)` — the value when none is given.",
    "primary_key": "Deprecated (D5): use `primary`.", "not_null": "Deprecated (D5): use `required`.",
}


def all_keywords(reg: Registry | None = None) -> frozenset[str]:
    """Every keyword of every DSL version, derived from the grammars' declarations."""
    reg = reg or default_registry()
    return frozenset(kw for v in reg.ordered for kw in reg.keywords(v.name))


@cache
def _statement_keywords(reg_id: int, version: str, reg: Registry) -> tuple[str, ...]:
    tables = reg.tables(version)
    start = tables.states[tables.start]
    by_terminal = {term: text for text, term in tables.keywords.items()}
    return tuple(sorted(by_terminal[k] for k in start if k in by_terminal))


def statement_keywords(reg: Registry, version: str) -> tuple[str, ...]:
    """Keywords that can start a statement in `version` (`entity` only from 1.1, …)."""
    return _statement_keywords(id(reg), version, reg)
