"""Request parsing shared by the handlers: JSON bodies within limits, fields, pagination."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request

from codeai_lang.platform.server.errors import ApiError, bad_request, unprocessable

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


async def read_json(request: Request, max_body: int) -> dict[str, Any]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json",
                       {"content_type": media or None})
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise _too_large(max_body)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise _too_large(max_body)
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except json.JSONDecodeError as exc:
        raise bad_request("malformed_json", f"malformed JSON: {exc.msg}",
                          {"line": exc.lineno, "column": exc.colno}) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad_request("malformed_json", f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise bad_request("invalid_body", "expected a JSON object")
    return data


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"request body over {limit} bytes (server.max_body)", {"limit": limit})


def text_field(body: dict[str, Any], name: str, max_len: int, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise unprocessable("invalid_field", f"'{name}' must be a non-empty string", {"field": name})
    check_text(value, name, max_len)
    return value


def check_text(value: str, name: str, max_len: int) -> None:
    """Text both databases can store: valid Unicode, no NUL (PostgreSQL refuses it)."""
    if len(value) > max_len:
        raise unprocessable("invalid_field", f"'{name}' is longer than {max_len} characters", {"field": name})
    if "\x00" in value:
        raise unprocessable("invalid_field", f"'{name}' contains a NUL character", {"field": name})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise unprocessable("invalid_field", f"'{name}' is not valid Unicode text", {"field": name}) from exc


def page_params(request: Request) -> tuple[int, str | None]:
    raw = request.query_params.get("limit")
    limit = DEFAULT_LIMIT
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise bad_request("invalid_parameter", f"limit must be an integer 1-{MAX_LIMIT}", {"parameter": "limit"})
        limit = int(raw)
    cursor = request.query_params.get("cursor")
    return limit, decode_cursor(cursor) if cursor else None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = (cursor + "=" * (-len(cursor) % 4)).encode("ascii")
        key = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise bad_request("invalid_cursor", "cursor is not one this server issued", {"parameter": "cursor"}) from exc
    if not key:
        raise bad_request("invalid_cursor", "cursor is not one this server issued", {"parameter": "cursor"})
    check_text(key, "cursor", 200)
    return key


def page(items: list[dict[str, Any]], limit: int, key: str) -> dict[str, Any]:
    """Handlers fetch ``limit + 1`` rows: the extra one tells whether there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(str(items[-1][key])) if more and items else None}


def bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise bad_request("invalid_parameter", f"{name} must be true or false", {"parameter": name})
    return raw in ("true", "1")
