"""The ASGI application: health probes, the v1/v2 API, version lifecycle headers, request logs.

Handlers are thin: parse, authorise, then run the database work (:mod:`repo`) in the thread
pool inside one transaction. Cross-cutting behaviour (request ids, access logs, the shutdown
gate, Deprecation/Sunset headers and 410 after a sunset) is one pure ASGI middleware, cheaper
than Starlette's BaseHTTPMiddleware on the hot path.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codeai_lang import __version__
from codeai_lang.platform.server import cache, repo
from codeai_lang.platform.server.auth import Authenticator, Principal
from codeai_lang.platform.server.configs import check_config, migrate_config
from codeai_lang.platform.server.errors import ApiError
from codeai_lang.platform.server.features import FeatureFlags
from codeai_lang.platform.server.openapi import openapi_document
from codeai_lang.platform.server.parsing import (
    bool_param,
    check_text,
    page,
    page_params,
    read_json,
    text_field,
)
from codeai_lang.platform.server.settings import ServerSettings, VersionPolicy
from codeai_lang.platform.server.store import Store, StoreError, Tx

log = logging.getLogger("codeai.server")
access = logging.getLogger("codeai.server.access")
OPEN_PATHS = ("/health", "/health/ready")
_VERSION_RE = re.compile(r"^/api/(v\d+)(/.*)?$")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                           r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
INT32 = 2**31


@dataclass
class Services:
    settings: ServerSettings
    store: Store
    flags: FeatureFlags
    known_migrations: set[int]
    auth: Authenticator = field(init=False)
    shutting_down: threading.Event = field(default_factory=threading.Event)
    redis: Any = None
    cache_state: str = "unknown"  # last readiness answer about the cache, to log only changes

    def __post_init__(self) -> None:
        self.auth = Authenticator(self.settings.jwt_secret, self.settings.jwks_url)


def _svc(request: Request) -> Services:
    return request.app.state.services


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- cross-cutting middleware -----------------------------------------------------------------

class ServerMiddleware:
    """Request id, access log, the shutdown gate and the API version lifecycle."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app, self.services = app, services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", rid.encode())]
        status = 500
        # Decided before anything is logged: a signal handler may run between any two lines, and
        # "request started" must mean "past the shutdown gate" (tests and the benchmark rely on it).
        early = self._early_answer(scope, extra)
        if access.isEnabledFor(logging.DEBUG):
            access.debug("request started", extra={"request_id": rid, "method": scope["method"], "path": scope["path"]})

        responded = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            if early is not None:
                await early(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Answered here rather than by Starlette's ServerErrorMiddleware, which re-raises after
            # its response so that uvicorn closes the connection (clients saw a reset, not a 500).
            if responded:
                raise
            await _unexpected(exc, rid)(scope, receive, send_with_headers)
        finally:
            access.info("request", extra={
                "request_id": rid, "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user": state.get("user"), "client": (scope.get("client") or ("", 0))[0]})

    def _early_answer(self, scope: Scope, extra: list[tuple[bytes, bytes]]) -> Response | None:
        path = scope["path"]
        if self.services.shutting_down.is_set() and path not in OPEN_PATHS:
            err = ApiError(503, "shutting_down", "the server is shutting down; retry on another replica")
            return error_response(err, {"Connection": "close", "Retry-After": "1"})
        match = _VERSION_RE.match(path)
        policy = self.services.settings.versions.get(match.group(1)) if match else None
        if policy is None or match is None:
            return None
        rest = match.group(2) or ""
        headers = _lifecycle_headers(policy, rest)
        extra += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if policy.gone(datetime.now(UTC)):
            successor = f"/api/{policy.successor}{rest}" if policy.successor else None
            return error_response(ApiError(
                410, "gone", f"API {policy.name} was sunset on {policy.sunset_http_date()}"
                + (f"; use {policy.successor}" if policy.successor else ""),
                {"version": policy.name, "successor": policy.successor, "successor_path": successor}))
        return None


def _lifecycle_headers(policy: VersionPolicy, rest: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    if policy.status == "deprecated" or policy.sunset is not None:
        headers["Deprecation"] = "true"
    sunset = policy.sunset_http_date()
    if sunset:
        headers["Sunset"] = sunset
    if policy.successor and headers:
        headers["Link"] = f'</api/{policy.successor}{rest}>; rel="successor-version"'
    return headers


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID_RE.match(text):
                return text
    return uuid.uuid4().hex


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.body(), err.status, headers={**err.headers, **(headers or {})})


# --- helpers for handlers ---------------------------------------------------------------------

async def authorise(request: Request, write: bool) -> Principal | None:
    svc = _svc(request)
    header = request.headers.get("authorization")
    if not write and svc.settings.public_reads and not header:
        return None
    auth = svc.auth
    principal = await run_in_threadpool(auth.authenticate, header) if auth.blocking else auth.authenticate(header)
    request.scope["state"]["user"] = principal.sub
    if write and not principal.may_write():
        raise ApiError(403, "forbidden", "this token may not write (needs scope 'codeai:write')")
    return principal


async def in_tx(request: Request, fn: Callable[..., Any], *args: Any, write: bool = False) -> Any:
    store = _svc(request).store

    def work() -> Any:
        with store.tx(write) as tx:
            return fn(tx, *args)

    return await run_in_threadpool(work)


def _user(principal: Principal | None) -> str | None:
    return principal.sub if principal else None


Handler = Callable[[Request, str], Awaitable[Response]]


# --- health -----------------------------------------------------------------------------------

async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "timestamp": _now(), "version": __version__})


async def ready(request: Request) -> Response:
    svc = _svc(request)
    body: dict[str, Any] = {"status": "ready", "database": "connected",
                            "cache": "not_configured" if svc.redis is None else "connected"}
    problems: list[str] = []
    if svc.shutting_down.is_set():
        problems.append("shutting_down")
    try:
        await asyncio.wait_for(run_in_threadpool(svc.store.ping, 2.0), 3.0)
        applied = await asyncio.wait_for(run_in_threadpool(svc.store.applied_versions), 3.0)
        pending = sorted(svc.known_migrations - applied)
        if pending:
            body["database"] = "migrations_pending"
            body["pending_migrations"] = [str(v) for v in pending]
            problems.append("migrations_pending")
    except (StoreError, TimeoutError, OSError) as exc:
        body["database"] = "unreachable"
        body["error"] = str(exc)[:300]
        problems.append("database")
    if svc.redis is not None:
        failure = await cache.ping(svc.redis, svc.settings.redis_url)
        _note_cache_state(svc, failure)
        if failure is not None:
            body["cache"] = "unreachable"
            body["cache_error"] = failure
            problems.append("cache")
    if problems:
        body.update(status="not_ready", reasons=problems)
        return JSONResponse(body, 503, headers={"Cache-Control": "no-store"})
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _note_cache_state(svc: Services, failure: str | None) -> None:
    """Log when the cache goes away or comes back (probes run every few seconds: not each one)."""
    state = "unreachable" if failure else "connected"
    if state == svc.cache_state or (svc.cache_state == "unknown" and not failure):
        svc.cache_state = state
        return
    svc.cache_state = state
    where = cache.describe(svc.settings.redis_url)
    if failure:
        log.warning("cache unreachable", extra={"cache": where, "error": failure})
    else:
        log.info("cache connected again", extra={"cache": where})


async def versions(request: Request) -> Response:
    policies = _svc(request).settings.versions
    return JSONResponse({"versions": [policies[k].as_json() for k in sorted(policies)]})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(_svc(request).settings))


# --- configs ----------------------------------------------------------------------------------

async def create_config(request: Request, v: str) -> Response:
    svc = _svc(request)
    principal = await authorise(request, write=True)
    body = await read_json(request, svc.settings.max_body)
    name = text_field(body, "name", 200)
    content = text_field(body, "content", svc.settings.max_body)
    assert name is not None and content is not None
    rev = await validated(check_config, name, content, _user(principal), svc.flags)
    out = await _add_revision(request, rev)
    return JSONResponse(out, 201, headers={"Location": f"/api/{v}/configs/{out['id']}"})


async def validated(fn: Callable[..., Any], *args: Any) -> Any:
    """Validation is CPU-bound Python: more threads doing it at once only take the GIL from the
    event loop in 5 ms slices (every other request waits behind them), so they queue here."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=_validation_limiter())


_LIMITER: list[anyio.CapacityLimiter] = []


def _validation_limiter() -> anyio.CapacityLimiter:
    if not _LIMITER:  # created lazily: a limiter belongs to the running event loop
        _LIMITER.append(anyio.CapacityLimiter(2))
    return _LIMITER[0]


async def _add_revision(request: Request, rev: repo.NewRevision) -> dict[str, Any]:
    return await in_tx(request, repo.add_revision, rev, write=True)


async def list_configs(request: Request, v: str) -> Response:
    await authorise(request, write=False)
    limit, after = page_params(request)
    items = await in_tx(request, repo.list_configs, limit + 1, after)
    return JSONResponse(page(items, limit, "id"))


async def get_config(request: Request, v: str) -> Response:
    await authorise(request, write=False)
    out = await in_tx(request, repo.get_config, request.path_params["id"])
    return JSONResponse(out)


async def list_revisions(request: Request, v: str) -> Response:
    await authorise(request, write=False)
    limit, after = page_params(request)
    if after is not None and not after.isdigit():
        raise ApiError(400, "invalid_cursor", "cursor is not one this server issued", {"parameter": "cursor"})
    items = await in_tx(request, repo.list_revisions, request.path_params["id"], limit + 1, int(after or 0))
    return JSONResponse(page(items, limit, "revision"))


async def migrate(request: Request, v: str) -> Response:
    svc = _svc(request)
    apply = bool_param(request, "apply")
    principal = await authorise(request, write=True)
    target = request.query_params.get("to") or None
    if target is not None:
        check_text(target, "to", 20)
    config = await in_tx(request, repo.get_config, request.path_params["id"])
    result, body = await validated(migrate_config, config["name"], config["content"], target,
                                   _user(principal), svc.flags)
    body.update(config_id=config["id"], revision=config["revision"], applied=False)
    if apply and result.changed:
        rev = await validated(check_config, config["name"], result.text, _user(principal), svc.flags)
        stored = await _add_revision(request, rev)
        body.update(applied=True, revision=stored["revision"], checksum=stored["checksum"])
    return JSONResponse(body)


# --- deployments --------------------------------------------------------------------------------

def _project(dep: dict[str, Any], v: str) -> dict[str, Any]:
    """v1 does not show the v2 fields; every v1 field stays in v2 (field stability)."""
    if v == "v1":
        return {k: val for k, val in dep.items() if k not in ("labels", "priority")}
    return dep


def _etag(dep: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{dep["revision"]}"'}


def _labels(body: dict[str, Any]) -> dict[str, str] | None:
    labels = body.get("labels")
    if labels is None:
        return None
    if not isinstance(labels, dict) or len(labels) > 64:
        raise ApiError(422, "invalid_field", "'labels' must be an object of at most 64 string labels",
                       {"field": "labels"})
    for key, value in labels.items():
        if not _LABEL_KEY_RE.match(key) or len(key) > 253:
            raise ApiError(422, "invalid_field", f"invalid label key {key!r} (DNS-style: [prefix/]name, "
                           "alphanumerics, '-', '_', '.', at most 63 characters)", {"field": f"labels.{key}"})
        if not isinstance(value, str) or len(value) > 63 or "\x00" in value:
            raise ApiError(422, "invalid_field", f"label {key!r} must be a string of at most 63 characters",
                           {"field": f"labels.{key}"})
        check_text(value, f"labels.{key}", 63)
    return dict(labels)


def _priority(body: dict[str, Any]) -> int | None:
    value = body.get("priority")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -INT32 <= value < INT32:
        raise ApiError(422, "invalid_field", "'priority' must be a 32-bit integer", {"field": "priority"})
    return value


async def create_deployment(request: Request, v: str) -> Response:
    svc = _svc(request)
    await authorise(request, write=True)
    body = await read_json(request, svc.settings.max_body)
    name = text_field(body, "name", 200)
    config_id = text_field(body, "config_id", 100)
    labels, priority = (_labels(body), _priority(body)) if v != "v1" else (None, None)
    dep = await in_tx(request, repo.create_deployment, name, config_id, labels or {}, priority or 0, write=True)
    return JSONResponse(_project(dep, v), 201,
                        headers={"Location": f"/api/{v}/deployments/{dep['id']}", **_etag(dep)})


async def list_deployments(request: Request, v: str) -> Response:
    await authorise(request, write=False)
    limit, after = page_params(request)
    items = await in_tx(request, repo.list_deployments, limit + 1, after)
    out = page(items, limit, "id")
    out["items"] = [_project(d, v) for d in out["items"]]
    return JSONResponse(out)


async def get_deployment(request: Request, v: str) -> Response:
    await authorise(request, write=False)
    dep = await in_tx(request, repo.get_deployment, request.path_params["id"])
    return JSONResponse(_project(dep, v), headers=_etag(dep))


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ApiError(412, "precondition_failed", "If-Match must be an ETag this server issued", {"if_match": raw})
    return int(text)


async def patch_deployment(request: Request, v: str) -> Response:
    svc = _svc(request)
    principal = await authorise(request, write=True)
    body = await read_json(request, svc.settings.max_body)
    status = body.get("status")
    if status is not None and status not in repo.STATUSES:
        raise ApiError(422, "invalid_field", f"'status' must be one of {', '.join(repo.STATUSES)}",
                       {"field": "status"})
    change = repo.Change(status, *((_labels(body), _priority(body)) if v != "v1" else (None, None)))
    if change == repo.Change():
        fields = "status" if v == "v1" else "status, labels or priority"
        raise ApiError(422, "invalid_field", f"nothing to change: send {fields}", {"field": "status"})
    dep = await in_tx(request, repo.update_deployment, request.path_params["id"], change, _if_match(request),
                      _user(principal), write=True)
    return JSONResponse(_project(dep, v), headers=_etag(dep))


async def list_executions(request: Request, v: str) -> Response:
    await authorise(request, write=False)
    limit, after = page_params(request)
    items = await in_tx(request, repo.list_executions, request.path_params["id"], limit + 1, after)
    return JSONResponse(page(items, limit, "id"))


# --- features ---------------------------------------------------------------------------------

async def features(request: Request, v: str) -> Response:
    principal = await authorise(request, write=False)
    user = request.query_params.get("user") or _user(principal)
    if user is not None:
        check_text(user, "user", 200)
    flags = _svc(request).flags.current()
    return JSONResponse({"user": user, "flags": {name: f.is_enabled(user) for name, f in sorted(flags.items())}})


# --- errors and assembly -------------------------------------------------------------------------

async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(ApiError(exc.status_code, code, str(exc.detail)), dict(exc.headers or {}))


async def on_store_error(request: Request, exc: Exception) -> Response:
    log.error("database unavailable", extra={"request_id": request.state.request_id, "error": str(exc)})
    return error_response(ApiError(503, "database_unavailable", "the database is unavailable; retry"),
                          {"Retry-After": "1"})


def _unexpected(exc: Exception, rid: str) -> Response:
    if _is_busy(exc):
        log.error("database busy", extra={"request_id": rid, "error": str(exc)})
        return error_response(ApiError(503, "database_unavailable", "the database is busy; retry"),
                              {"Retry-After": "1"})
    log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
    return error_response(ApiError(500, "internal_error", "internal server error", {"request_id": rid}))


def _is_busy(exc: Exception) -> bool:
    import sqlite3

    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


async def _watch_flags(flags: FeatureFlags) -> None:
    """Notice a changed flags file without traffic too, so a bad edit is logged when it is made."""
    while True:
        await asyncio.sleep(flags.interval)
        await run_in_threadpool(flags.current)


def _bind(fn: Handler, v: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await fn(request, v)
    endpoint.__name__ = f"{fn.__name__}_{v}"
    return endpoint


def api_routes(v: str) -> list[Route]:
    base = f"/api/{v}"
    table: list[tuple[str, Handler, list[str]]] = [
        ("/configs", create_config, ["POST"]), ("/configs", list_configs, ["GET"]),
        ("/configs/{id}", get_config, ["GET"]), ("/configs/{id}/revisions", list_revisions, ["GET"]),
        ("/configs/{id}/migrate", migrate, ["POST"]),
        ("/deployments", create_deployment, ["POST"]), ("/deployments", list_deployments, ["GET"]),
        ("/deployments/{id}", get_deployment, ["GET"]), ("/deployments/{id}", patch_deployment, ["PATCH"]),
        ("/deployments/{id}/executions", list_executions, ["GET"]),
        ("/features", features, ["GET"]),
    ]
    return [Route(base + path, _bind(fn, v), methods=methods) for path, fn, methods in table]


def create_app(services: Services) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        watcher = asyncio.create_task(_watch_flags(services.flags))
        yield
        watcher.cancel()
        if services.redis is not None:
            await services.redis.aclose()

    routes = [Route("/health", health), Route("/health/ready", ready), Route("/api/versions", versions),
              Route("/openapi.json", openapi)]
    for v in sorted(services.settings.versions):
        routes += api_routes(v)
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ApiError: on_api_error, HTTPException: on_http_error, StoreError: on_store_error})
    app.state.services = services
    app.add_middleware(ServerMiddleware, services=services)
    return app


__all__ = ["Services", "Tx", "create_app"]
