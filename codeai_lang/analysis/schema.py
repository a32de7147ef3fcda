"""What each declaration kind may contain: known entry keys, field types and modifiers.

Bodies are parsed generically (`Entry` lines); this table gives them meaning. Unknown keys
are warnings (CAI206), unknown field types or modifiers errors (CAI201). Keep it data.
"""

from __future__ import annotations

# Keys each declaration kind (and nested block) knows. `None`: free-form keys (config).
KNOWN_KEYS: dict[str, frozenset[str] | None] = {
    "config": None,
    "database": frozenset({"model", "collection"}),
    "auth": frozenset({"method", "jwks_url", "issuer", "audience", "provider", "secret",
                       "expiry", "expires_in", "header", "token_url", "client_id", "scopes",
                       "description", "algorithm"}),
    "role": frozenset({"permissions", "description", "inherits"}),
    "middleware": frozenset({"type", "config", "description", "order", "limit", "window",
                             "requests", "rate", "burst", "origins", "methods", "headers",
                             "handler"}),
    "event": frozenset({"schema", "payload", "description", "version", "source", "topic",
                        "publish_to", "retention", "partition_key"}),
    "integration": frozenset({"type", "base_url", "auth", "timeout", "circuit_breaker", "retry",
                              "rate_limit", "headers", "operation", "description", "url",
                              "endpoint", "version", "cache"}),
    "webhook": frozenset({"event", "url", "method", "headers", "retry", "initial_interval",
                          "backoff", "secret", "timeout", "description", "payload"}),
    "endpoint": frozenset({"middleware", "require_role", "request", "response", "do", "auth",
                           "description", "query", "body", "params", "path", "returns",
                           "rate_limit", "cache", "handler", "validate", "emit", "status",
                           "roles", "timeout", "tags", "errors", "headers"}),
    "workflow": frozenset({"trigger", "timeout", "steps", "retry", "description", "on_failure",
                           "on_success", "compensate", "input", "output", "schedule", "version",
                           "concurrency"}),
    "job": frozenset({"schedule", "task", "queue", "retry", "timeout", "description",
                      "concurrency", "handler", "steps", "priority", "input", "enabled",
                      "on_failure", "emit"}),
    "entity": None,  # fields are free names; checked as fields
    "collection": None,
}

# Nested blocks with a known key set, by the key that opens them.
NESTED_KEYS: dict[str, frozenset[str]] = {
    "circuit_breaker": frozenset({"threshold", "timeout", "max_concurrent", "reset_after",
                                  "half_open_requests"}),
    "retry": frozenset({"max_attempts", "initial_interval", "backoff_multiplier", "backoff",
                        "max_interval", "attempts", "on"}),
    "operation": frozenset({"method", "path", "body", "query", "returns", "headers", "timeout",
                            "retry", "description", "idempotent", "params", "variables"}),
}

# 1.1 (§5): kinds whose bodies may be property-style (`key: value`); before 1.1 that is CAI403.
PROPERTY_STYLE_KINDS = frozenset({"event", "integration", "job", "workflow", "endpoint"})
# Blocks whose lines are fields (`name: type, modifier…`), in the kinds that may hold them.
FIELD_BLOCKS = frozenset({"payload", "body", "query", "returns", "params"})
FIELD_BLOCK_KINDS = frozenset({"event", "endpoint", "integration", "webhook"})
# Property-style keys whose value must be one duration literal (CAI203 otherwise).
DURATION_KEYS = frozenset({"timeout", "initial_interval", "max_interval", "interval",
                           "reset_after", "ttl", "delay"})
# `trigger: X` words that are not event names.
TRIGGER_WORDS = frozenset({"manual", "schedule", "event", "webhook", "api"})

FIELD_CONTAINERS = frozenset({"model", "collection", "entity", "embedded", "payload", "body",
                              "query", "returns", "schema", "params", "path", "input", "output"})
TYPE_DECLARING_KINDS = frozenset({"entity", "collection"})

FIELD_TYPES = frozenset({
    "uuid", "string", "text", "integer", "int", "bigint", "float", "double", "decimal",
    "boolean", "bool", "timestamp", "datetime", "date", "time", "json", "jsonb", "list",
    "array", "ref", "enum", "objectid", "embedded", "binary", "bytes", "email", "url",
    "number", "object", "money", "duration",
})
PARAMETRISED_TYPES = frozenset({"decimal", "list", "array", "ref", "enum", "string"})
FIELD_MODIFIERS = frozenset({
    "primary", "auto", "auto_update", "required", "optional", "unique", "searchable",
    "soft_delete", "default", "index", "indexed", "nullable", "immutable", "sensitive",
    "primary_key", "not_null",  # deprecated (D5), still known
    "min", "max", "length", "pattern", "references", "on_delete",
})
# Keys that are not fields inside field containers.
NON_FIELD_KEYS = frozenset({"description", "index", "indexes", "table", "timestamps"})

PRIMITIVE_TYPES = FIELD_TYPES
