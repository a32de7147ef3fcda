"""Starting and stopping the server: schema check (or ``--migrate``), bind, serve, drain.

Shutdown (SIGTERM / SIGINT): the shutdown flag is raised first, so ``/health/ready`` answers 503
and requests that arrive on open connections get 503 at once; uvicorn then stops accepting,
lets in-flight requests finish (bounded by ``server.shutdown_timeout``) and the process exits 0.
uvicorn re-raises the captured signal after a graceful stop (exit status 143); we do not, because
a drain that completed is a success for the orchestrator.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from types import FrameType

import uvicorn

from codeai_lang.platform.dbmigrate import Options, Runner, discover, open_backend
from codeai_lang.platform.server.app import Services, create_app
from codeai_lang.platform.server.cache import describe, open_cache
from codeai_lang.platform.server.features import FeatureFlags
from codeai_lang.platform.server.logs import setup_logging
from codeai_lang.platform.server.settings import ServerSettings
from codeai_lang.platform.server.store import open_store

log = logging.getLogger("codeai.server")


class PendingMigrations(Exception):
    """The database is behind this build's schema; the message names the migrations."""


def check_schema(settings: ServerSettings, migrate: bool, timeout: float | None,
                 say: Callable[[str], None]) -> set[int]:
    """Apply (``migrate``) or require an up-to-date schema; the known migration versions."""
    migrations = discover()
    backend = open_backend(settings.target)
    runner = Runner(backend, migrations, Options(timeout=timeout), say=say)
    try:
        backend.connect(runner.deadline, readonly=not migrate)
        if migrate:
            runner.up()  # under the runner's lock: replicas starting together apply once
        pending = [e for e in runner.status() if e.state == "pending"]
    finally:
        backend.close()
    if pending:
        names = "\n".join(f"  {e.version}_{e.name}" for e in pending)
        raise PendingMigrations(f"{settings.target.describe()} has {len(pending)} pending migration(s):\n{names}\n"
                                "run `codeai migrate up` first, or start the server with --migrate")
    return {m.version for m in migrations}


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self.services = services
        self.interrupts = 0
        self.forwarded = services.settings.workers > 1

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.services.shutting_down.is_set():
            log.info("shutdown requested: draining in-flight requests",
                     extra={"signal": signal.Signals(sig).name,
                            "shutdown_timeout_s": self.config.timeout_graceful_shutdown})
        self.services.shutting_down.set()
        # Only a second SIGINT forces the exit: a Ctrl-C reaches pre-forked workers both from the
        # terminal and forwarded by the parent, and must still drain.
        if sig == signal.SIGINT:
            self.interrupts += 1
            self.force_exit = self.interrupts > 2 or (self.interrupts > 1 and not self.forwarded)
        self.should_exit = True


def bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: ServerSettings, known_migrations: set[int]) -> int:
    """Bind, then run one worker here or ``settings.workers`` forked workers; 0 after a clean drain."""
    sock = bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    log.info("listening", extra={"host": host, "port": port, "workers": settings.workers,
                                 "database": settings.target.describe(), "cache": describe(settings.redis_url),
                                 "auth": "jwks" if settings.jwks_url else "hs256" if settings.jwt_secret else "none"})
    _warn_about_auth(settings)
    if settings.workers <= 1:
        return _worker(settings, known_migrations, sock)
    return _supervise(settings, known_migrations, sock)


def _worker(settings: ServerSettings, known_migrations: set[int], sock: socket.socket) -> int:
    # A validation thread holds the GIL for a whole switch interval (5 ms by default) each time
    # it gets it; 1 ms lets the event loop answer cheap requests between those slices.
    sys.setswitchinterval(0.001)
    store = open_store(settings.target, settings.pool_size)
    services = Services(settings, store, FeatureFlags(settings.features_file), known_migrations,
                        redis=open_cache(settings.redis_url))
    config = uvicorn.Config(create_app(services), log_config=None, access_log=False, server_header=False,
                            timeout_graceful_shutdown=int(max(1, settings.shutdown_timeout)),
                            lifespan="on", backlog=2048)
    server = GracefulServer(config, services)
    try:
        server.run(sockets=[sock])
    finally:
        store.close()
        sock.close()
    log.info("stopped")
    return 0


def _supervise(settings: ServerSettings, known_migrations: set[int], sock: socket.socket) -> int:
    """Pre-fork: the workers share the listening socket (the kernel spreads connections) and
    each has its own event loop, pool and GIL. The parent only forwards SIGTERM/SIGINT and waits.
    A worker that dies on its own stops the others and the parent exits 1, so the orchestrator
    restarts the whole pod rather than running it at reduced capacity unnoticed."""
    children: set[int] = set()
    for _ in range(settings.workers):
        pid = os.fork()  # before any thread or event loop exists in this process
        if pid == 0:
            code = 1
            try:
                code = _worker(settings, known_migrations, sock)
            finally:
                os._exit(code)
        children.add(pid)
    sock.close()
    stopping = False

    def forward(sig: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    worst = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        if code != 0 or not stopping:
            worst = 1
        if not stopping:
            log.error("a worker exited on its own; stopping the others", extra={"worker_pid": pid, "exit": code})
            forward(signal.SIGTERM, None)
    log.info("stopped", extra={"workers": settings.workers})
    return worst


def _warn_about_auth(settings: ServerSettings) -> None:
    import warnings

    import jwt

    # PyJWT warns on every decode with a short HMAC key; say it once, at start, in our log.
    warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)
    if not (settings.jwt_secret or settings.jwks_url):
        log.warning("no auth.jwt_secret or auth.jwks_url: every API call will answer 401")
    elif settings.jwt_secret and len(settings.jwt_secret.encode()) < 32:
        log.warning("auth.jwt_secret is shorter than 32 bytes (RFC 7518 §3.2 wants at least 256 bits for HS256)")


def start(settings: ServerSettings, *, migrate: bool, migrate_timeout: float | None) -> int:
    setup_logging(settings.log_format, settings.log_level)
    known = check_schema(settings, migrate, migrate_timeout, lambda m: log.info(m))
    return serve(settings, known)
