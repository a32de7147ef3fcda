"""The optional cache (``redis.url``): checked at start, pinged by ``/health/ready``.

The client (redis-py's asyncio one) connects lazily and reconnects by itself on the next command
after Redis went away, so a Redis restart needs no server restart. Every readiness PING is bounded
by :data:`PING_TIMEOUT` (connect, read and the whole call), so a frozen Redis makes the probe
answer 503 instead of hanging it. The URL's password is never logged or answered: everything
shown passes through the configuration's masking.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from codeai_lang.platform.config import ConfigError, mask_any_url, mask_secrets, url_secrets

PING_TIMEOUT = 2.0  # seconds, for one readiness PING (below a probe's usual 3-5 s timeout)
SCHEMES = ("redis", "rediss", "unix")


def describe(url: str) -> str:
    """The URL as it may be logged (password masked), or ``not_configured``."""
    return mask_any_url(url, url_secrets(url)) if url else "not_configured"


def check_redis_url(url: str) -> str:
    """Refuse a URL redis-py cannot use, at start (exit 2) rather than at the first probe."""
    if not url:
        return url
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise ConfigError(f"redis.url: unsupported URL {describe(url)!r}; expected redis://[:password@]host"
                          "[:port][/db], rediss://… (TLS) or unix:///path/to/redis.sock")
    database = urlsplit(url).path.strip("/") if scheme != "unix" else "0"
    if not (database == "" or database.isdigit()):  # redis-py would quietly use database 0
        raise ConfigError(f"redis.url: {describe(url)!r}: the path must be a database number (/0)")
    from redis.asyncio import ConnectionPool

    try:
        ConnectionPool.from_url(url)  # parses only; nothing connects here
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"redis.url: malformed URL {describe(url)!r}: "
                          f"{mask_secrets(str(exc), url_secrets(url))}") from exc
    return url


def open_cache(url: str) -> Any:
    """A client for ``url`` with bounded socket timeouts, or None when no cache is configured."""
    if not url:
        return None
    import redis.asyncio as aioredis

    return aioredis.from_url(url, socket_timeout=PING_TIMEOUT, socket_connect_timeout=PING_TIMEOUT)


async def ping(client: Any, url: str) -> str | None:
    """None when Redis answered PING within the bound, else why not (password masked)."""
    from redis.exceptions import TimeoutError as SocketTimeout

    try:
        await asyncio.wait_for(client.ping(), PING_TIMEOUT)
    except (TimeoutError, SocketTimeout):  # whichever bound fires first: the same answer
        return f"no answer to PING within {PING_TIMEOUT:g}s"
    except Exception as exc:  # any failure of the cache means "not ready", with its reason
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return mask_secrets(reason, url_secrets(url))[:300]
    return None
