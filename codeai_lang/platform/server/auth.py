"""Bearer-token authentication: HS256 with ``auth.jwt_secret`` or keys from ``auth.jwks_url``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from codeai_lang.platform.server.errors import ApiError

ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
WRITE_SCOPE = "codeai:write"


@dataclass(frozen=True)
class Principal:
    sub: str
    scopes: frozenset[str] | None  # None: the token carries no scope claim (full access)

    def may_write(self) -> bool:
        return self.scopes is None or WRITE_SCOPE in self.scopes


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, None, {"WWW-Authenticate": 'Bearer realm="codeai"'})


class Authenticator:
    def __init__(self, secret: str, jwks_url: str, leeway: float = 30.0) -> None:
        self.secret, self.jwks_url, self.leeway = secret, jwks_url, leeway
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None

    @property
    def configured(self) -> bool:
        return bool(self.secret or self._jwks)

    @property
    def blocking(self) -> bool:
        """Verifying may fetch the JWKS over the network: run it off the event loop."""
        return self._jwks is not None

    def authenticate(self, header: str | None) -> Principal:
        if not self.configured:
            raise unauthorized("authentication is not configured on this server "
                               "(set auth.jwt_secret or auth.jwks_url)")
        if not header:
            raise unauthorized("missing Authorization: Bearer <token>")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("expected Authorization: Bearer <token>")
        claims = self._decode(token.strip())
        scope = claims.get("scope", claims.get("scp"))
        scopes = None if scope is None else frozenset(scope.split() if isinstance(scope, str) else map(str, scope))
        return Principal(str(claims["sub"]), scopes)

    def _decode(self, token: str) -> dict[str, Any]:
        options: Any = {"require": ["exp", "sub"]}
        try:
            if self._jwks is not None and not (self.secret and _alg(token) == "HS256"):
                key = self._jwks.get_signing_key_from_jwt(token).key
                return jwt.decode(token, key, algorithms=ASYMMETRIC, options=options, leeway=self.leeway)
            return jwt.decode(token, self.secret, algorithms=["HS256"], options=options, leeway=self.leeway)
        except jwt.PyJWKClientError as exc:
            raise unauthorized(f"cannot verify the token against the JWKS: {exc}") from exc
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"invalid token: {exc}") from exc


def _alg(token: str) -> str | None:
    try:
        return str(jwt.get_unverified_header(token).get("alg"))
    except jwt.InvalidTokenError:
        return None


def make_token(secret: str, sub: str, ttl_seconds: int, scopes: list[str] | None = None) -> str:
    """An HS256 token for operators and tests (`codeai server token`)."""
    import time

    claims: dict[str, Any] = {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + ttl_seconds}
    if scopes:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, secret, algorithm="HS256")
