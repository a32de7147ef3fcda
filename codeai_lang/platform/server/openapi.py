"""The OpenAPI 3.1 document of the API (served at ``/openapi.json``), built from the same version
table the router uses, so every mounted version is described and nothing else is."""

from __future__ import annotations

from typing import Any

from codeai_lang import __version__
from codeai_lang.platform.server.repo import STATUSES
from codeai_lang.platform.server.settings import ServerSettings

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERR = _json(_ref("Error"), "Error")


def _errors(*codes: int) -> dict[str, Any]:
    base = {"400": _ERR, "401": _ERR, "403": _ERR, "404": _ERR, "410": _ERR, "503": _ERR}
    return {**base, **{str(c): _ERR for c in codes}}


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": _ref(item)},
                           "next_cursor": {"type": ["string", "null"]}}}


_PAGE_PARAMS = [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
]
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_TS = {"type": "string", "format": "date-time"}
_NULLABLE_TS = {"type": ["string", "null"], "format": "date-time"}


def _schemas(v2: bool) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "type": "object", "required": ["id", "name", "config_id", "status", "revision", "created_at"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "config_id": {"type": "string"},
                       "status": {"type": "string", "enum": list(STATUSES)}, "revision": {"type": "integer"},
                       "created_at": _TS, "updated_at": _NULLABLE_TS}}
    labels: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}, "maxProperties": 64}
    deployment_v2 = {**deployment, "required": [*deployment["required"], "labels", "priority"],
                     "properties": {**deployment["properties"], "labels": labels, "priority": {"type": "integer"}}}
    create_dep: dict[str, Any] = {"type": "object", "required": ["name", "config_id"],
                                  "properties": {"name": {"type": "string", "minLength": 1},
                                                 "config_id": {"type": "string", "minLength": 1}}}
    patch: dict[str, Any] = {"type": "object", "properties": {"status": {"type": "string", "enum": list(STATUSES)}}}
    if v2:
        extra = {"labels": labels, "priority": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}}
        create_dep = {**create_dep, "properties": {**create_dep["properties"], **extra}}
        patch = {"type": "object", "properties": {**patch["properties"], **extra}}
    summary: dict[str, Any] = {"type": "object", "required": ["id", "name", "revision", "dsl_version", "checksum", "created_at"],
               "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "revision": {"type": "integer"},
                              "dsl_version": {"type": "string"}, "version_source": {"type": "string"},
                              "checksum": {"type": "string"}, "created_at": _TS, "updated_at": _NULLABLE_TS}}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}}},
        "ConfigIn": {"type": "object", "required": ["name", "content"],
                     "examples": [{"name": "shop", "content": '#version 2.0\nconfig {\n    app_name: "shop"\n}\n'}],
                     "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                                    "content": {"type": "string", "minLength": 1}}},
        "ConfigCreated": {**summary, "required": [*summary["required"], "warnings"],
                          "properties": {**summary["properties"], "warnings": {"type": "array"}}},
        "ConfigSummary": summary,
        "Config": {**summary, "required": [*summary["required"], "content"],
                   "properties": {**summary["properties"], "content": {"type": "string"},
                                  "warnings": {"type": "array"}}},
        "Revision": {"type": "object", "required": ["revision", "dsl_version", "checksum", "created_at"],
                     "properties": {"revision": {"type": "integer"}, "dsl_version": {"type": "string"},
                                    "version_source": {"type": "string"}, "checksum": {"type": "string"},
                                    "created_by": {"type": ["string", "null"]}, "created_at": _TS}},
        "Migration": {"type": "object", "required": ["from", "to", "changed", "content", "rules_applied", "diff"],
                      "properties": {"from": {"type": "string"}, "to": {"type": "string"},
                                     "changed": {"type": "boolean"}, "content": {"type": "string"},
                                     "rules_applied": {"type": "array", "items": {"type": "string"}},
                                     "diff": {"type": "string"}, "applied": {"type": "boolean"},
                                     "revision": {"type": "integer"}}},
        "DeploymentIn": create_dep, "DeploymentPatch": patch,
        "Deployment": deployment_v2 if v2 else deployment,
        "Execution": {"type": "object", "required": ["id", "deployment_id", "status", "started_at"],
                      "properties": {"id": {"type": "string"}, "deployment_id": {"type": "string"},
                                     "status": {"type": "string"}, "exit_code": {"type": ["integer", "null"]},
                                     "started_at": _TS, "finished_at": _NULLABLE_TS,
                                     "started_by": {"type": ["string", "null"]}}},
        "Features": {"type": "object", "required": ["user", "flags"],
                     "properties": {"user": {"type": ["string", "null"]},
                                    "flags": {"type": "object", "additionalProperties": {"type": "boolean"}}}},
    }


def _version_paths(v: str) -> dict[str, Any]:
    base = f"/api/{v}"
    s = f"{v}_"
    r = lambda name: _ref(s + name)  # noqa: E731
    body = lambda name: {"required": True, "content": {"application/json": {"schema": r(name)}}}  # noqa: E731
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        f"{base}/configs": {
            "post": {"operationId": f"{v}_create_config", "requestBody": body("ConfigIn"), "security": secured,
                     "responses": {"201": _links(_json(r("ConfigCreated"), "Created"), v, [
                         "get_config", "list_revisions", "migrate_config"]), **_errors(409, 413, 415, 422)}},
            "get": {"operationId": f"{v}_list_configs", "parameters": _PAGE_PARAMS, "security": secured,
                    "responses": {"200": _json(_page_ref(s, "ConfigSummary")), **_errors()}}},
        f"{base}/configs/{{id}}": {
            "get": {"operationId": f"{v}_get_config", "parameters": [_ID], "security": secured,
                    "responses": {"200": _json(r("Config")), **_errors()}}},
        f"{base}/configs/{{id}}/revisions": {
            "get": {"operationId": f"{v}_list_revisions", "parameters": [_ID, *_PAGE_PARAMS], "security": secured,
                    "responses": {"200": _json(_page_ref(s, "Revision")), **_errors()}}},
        f"{base}/configs/{{id}}/migrate": {
            "post": {"operationId": f"{v}_migrate_config", "security": secured, "parameters": [
                _ID, {"name": "to", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "apply", "in": "query", "required": False, "schema": {"type": "boolean"}}],
                "responses": {"200": _json(r("Migration")), **_errors(422)}}},
        f"{base}/deployments": {
            "post": {"operationId": f"{v}_create_deployment", "requestBody": body("DeploymentIn"),
                     "security": secured,
                     "responses": {"201": _links(_json(r("Deployment"), "Created"), v, [
                         "get_deployment", "patch_deployment", "list_executions"]), **_errors(413, 415, 422)}},
            "get": {"operationId": f"{v}_list_deployments", "parameters": _PAGE_PARAMS, "security": secured,
                    "responses": {"200": _json(_page_ref(s, "Deployment")), **_errors()}}},
        f"{base}/deployments/{{id}}": {
            "get": {"operationId": f"{v}_get_deployment", "parameters": [_ID], "security": secured,
                    "responses": {"200": _json(r("Deployment")), **_errors()}},
            "patch": {"operationId": f"{v}_patch_deployment", "security": secured, "parameters": [
                _ID, {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}}],
                "requestBody": body("DeploymentPatch"),
                "responses": {"200": _json(r("Deployment")), **_errors(409, 412, 413, 415, 422)}}},
        f"{base}/deployments/{{id}}/executions": {
            "get": {"operationId": f"{v}_list_executions", "parameters": [_ID, *_PAGE_PARAMS], "security": secured,
                    "responses": {"200": _json(_page_ref(s, "Execution")), **_errors()}}},
        f"{base}/features": {
            "get": {"operationId": f"{v}_features", "security": secured, "parameters": [
                {"name": "user", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": {"200": _json(r("Features")), **_errors()}}},
    }


def _links(response: dict[str, Any], v: str, operations: list[str]) -> dict[str, Any]:
    """OpenAPI links: the created resource's id feeds the operations on it (stateful fuzzing uses them)."""
    response["links"] = {op: {"operationId": f"{v}_{op}", "parameters": {"id": "$response.body#/id"}}
                         for op in operations}
    return response


def _page_ref(prefix: str, item: str) -> dict[str, Any]:
    page = _page(prefix + item)
    return page


def openapi_document(settings: ServerSettings) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/health": {"get": {"operationId": "health", "security": [], "responses": {"200": _json({
            "type": "object", "required": ["status", "timestamp", "version"],
            "properties": {"status": {"const": "ok"}, "timestamp": _TS, "version": {"type": "string"}}})}}},
        "/health/ready": {"get": {"operationId": "ready", "security": [], "responses": {
            "200": _json({"type": "object", "required": ["status", "database", "cache"]}),
            "503": _json({"type": "object", "required": ["status"]}, "Not ready")}}},
        "/api/versions": {"get": {"operationId": "versions", "security": [],
                                  "responses": {"200": _json({"type": "object", "required": ["versions"]})}}},
    }
    schemas: dict[str, Any] = {}
    for v in sorted(settings.versions):
        paths.update(_version_paths(v))
        schemas.update({f"{v}_{k}": val for k, val in _schemas(v != "v1").items()})
    schemas = _rebase_refs(schemas)
    schemas["Error"] = schemas["v1_Error"]  # the paths' error responses refer to it unprefixed
    return {"openapi": "3.1.0",
            "info": {"title": "codeai server", "version": __version__,
                     "description": "Stores DSL configurations and deployments; see docs/server.md."},
            "paths": paths,
            "components": {"schemas": schemas,
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}]}


def _rebase_refs(schemas: dict[str, Any]) -> dict[str, Any]:
    """Schemas refer to siblings by bare name; prefix them with their version like their keys."""
    out = {}
    for key, schema in schemas.items():
        prefix = key.split("_", 1)[0] + "_"
        out[key] = _walk(schema, prefix)
    return out


def _walk(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {k: (_REF + prefix + v[len(_REF):] if k == "$ref" and not v[len(_REF):].startswith(prefix) else
                    _walk(v, prefix)) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(x, prefix) for x in node]
    return node
