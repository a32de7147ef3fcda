"""Bounded HTTP load on `codeai server` (spec server.md §6), on SQLite and on PostgreSQL.

For each backend: start a throwaway database (PostgreSQL: a local server of its own), start the
real server process on 127.0.0.1 (never another host), then run ``--clients`` concurrent clients
for ``--seconds`` (and at most ``--max-requests``): GET /health 50 %, GET /api/v1/configs/{id}
30 %, POST /api/v1/configs 20 % with a ~200-line DSL program. Afterwards every config that was
answered 201 is read back and its checksum compared with the answer and with SHA-256 of what was
sent (a lost or torn write fails the run).

Baseline in the same run: a /health-only load of the same clients for a quarter of the time,
the server's ceiling on this machine. Bars: ≥ 300 requests/s and p99 ≤ 250 ms for the mix,
0 errors, 0 lost writes. Prints PASS/FAIL per bar; exit status 1 on any FAIL.

    .venv/bin/python benchmarks/server_load.py [--clients 50] [--seconds 20] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import jwt
from codeai_testing.generate import program_2_0
from codeai_testing.pgserver import PgServer

SECRET = "benchmark-secret-of-at-least-32-bytes!!"
RATE_BAR, P99_BAR_MS = 300.0, 250.0


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created: list[tuple[str, str]] = field(default_factory=list)  # (id, checksum answered)
    sent: dict[str, str] = field(default_factory=dict)  # id -> sha256 of the content sent
    elapsed: float = 0.0
    due: float = 0.0  # when the request being sent was due (paced runs); set just before sending
    failed: dict[str, str] = field(default_factory=dict)  # request id -> client-side exception
    statuses: list[int] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # "GET health" / "GET" / "POST"

    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


def start_server(database_url: str, workdir: Path, workers: int,
                 level: str = "info") -> tuple[subprocess.Popen[bytes], str, Any]:
    config = workdir / "config.yaml"
    config.write_text(json.dumps({"database": {"url": database_url}, "auth": {"jwt_secret": SECRET},
                                  "log": {"level": level, "format": "json"},
                                  "features": {"file": str(workdir / "features.yaml")}}))
    log = open(workdir / "server.log", "w+b")  # noqa: SIM115 (closed by the caller; a file, not a pipe: the log never backs up into the server)
    cmd = [sys.executable, "-m", "codeai_lang.cli", "server", "--host", "127.0.0.1", "--port", "0",
           "--config", str(config), "--migrate", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, cwd=workdir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in (workdir / "server.log").read_text(errors="replace").splitlines():
            if '"msg": "listening"' in line:
                base = f"http://127.0.0.1:{json.loads(line)['port']}"
                if _healthy(base):
                    return proc, base, log
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(workdir / 'server.log').read_text()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


async def load(base: str, clients: int, seconds: float, max_requests: int, mix: bool, seed: int,
               rate: float | None = None) -> Run:
    """``clients`` concurrent connections; with ``rate``, request k is due at ``k / rate`` seconds and
    its latency counts from then (a server that falls behind is charged for the wait: no
    coordinated omission); without, every client sends as fast as it is answered.

    aiohttp is the client: httpx spent ~5 ms of client CPU per request here, more than the server,
    so it measured itself; aiohttp's C parser keeps the client cheap."""
    programs = [program_2_0(200, seed=i) for i in range(16)]
    run = Run()
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, headers=_auth(), connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        seeded = [await _write(http, run, programs[i], f"seed-{seed}-{i}") for i in range(10)] if mix else []
        ids = [i for i in seeded if i]
        run.latencies.clear()
        counter = iter(range(max_requests))
        stop_at = time.perf_counter() + seconds
        rng = random.Random(seed)

        async def client(n: int) -> None:
            for i in counter:
                due = started + i / rate if rate else time.perf_counter()
                if due >= stop_at:
                    return
                if rate and due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
                run.due = due
                roll = rng.random() if mix else 0.0
                rid = {"X-Request-Id": f"{seed}-{i}"}
                if roll < 0.5:
                    await _timed(run, http.get("/health", headers=rid), rid)
                elif roll < 0.8:
                    await _timed(run, http.get(f"/api/v1/configs/{rng.choice(ids)}", headers=rid), rid)
                else:
                    # A unique comment makes every upload new content: no cache could answer it.
                    content = programs[i % len(programs)] + f"// upload {seed}-{n}-{i}\n"
                    new = await _write(http, run, content, f"load-{seed}-{n}-{i}", rid)
                    if new:
                        ids.append(new)

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        run.elapsed = time.perf_counter() - started
    return run


def _auth() -> dict[str, str]:
    token = jwt.encode({"sub": "bench", "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


async def _timed(run: Run, request: Any, rid: dict[str, str] | None = None) -> tuple[int, Any] | None:
    """(status, JSON body) of one request; its latency (from when it was due) counts whatever the outcome."""
    started = min(run.due, time.perf_counter()) if run.due else time.perf_counter()
    try:
        async with request as response:
            body = await response.read()
            status = response.status
            label = f"{response.method} {response.url.path}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        run.errors.append(f"{type(exc).__name__}: {exc}")
        run.failed[(rid or {}).get("X-Request-Id", "")] = type(exc).__name__
        return None
    run.latencies.append(time.perf_counter() - started)
    run.by_kind.setdefault(label.split(" ")[0] + (" health" if label.endswith("/health") else ""),
                           []).append(run.latencies[-1])
    run.statuses.append(status)
    if status >= 400:
        run.errors.append(f"{label}: {status}")
    return status, body


async def _write(http: aiohttp.ClientSession, run: Run, content: str, name: str,
                 rid: dict[str, str] | None = None) -> str | None:
    answer = await _timed(run, http.post("/api/v1/configs", json={"name": name, "content": content}, headers=rid),
                          rid)
    if answer is None or answer[0] != 201:
        return None
    body = json.loads(answer[1])
    run.created.append((body["id"], body["checksum"]))
    run.sent[body["id"]] = hashlib.sha256(content.encode()).hexdigest()
    return str(body["id"])


async def verify(base: str, run: Run) -> list[str]:
    """Every 201 is readable with the checksum it was answered with, which is that of what was sent."""
    lost: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=_auth(), timeout=30) as http:
        sem = asyncio.Semaphore(16)

        async def one(config_id: str, answered: str) -> None:
            async with sem:
                r = await http.get(f"/api/v1/configs/{config_id}")
            if r.status_code != 200 or r.json()["checksum"] != answered or answered != run.sent[config_id]:
                lost.append(config_id)

        await asyncio.gather(*(one(i, c) for i, c in run.created))
    return lost


@dataclass
class Drain:
    accepted: int  # requests the server had started handling (its `request started` log lines)
    unfinished: list[str]  # accepted but never answered
    cut: list[str]  # answered by the server, but the client saw a reset instead
    refused: int  # new connections refused after the listener closed (never accepted)
    after_signal_503: int
    exit_code: int


def sigterm_under_load(url: str, workdir: Path, args: argparse.Namespace) -> Drain:
    """The mixed load at the same rate; SIGTERM halfway; every accepted request must be answered."""
    proc, base, log = start_server(url, workdir, args.workers, level="debug")
    seconds = max(4.0, args.seconds / 2)

    async def phase() -> Run:
        task = asyncio.create_task(load(base, args.clients, seconds, args.max_requests, True, 3, args.rate))
        await asyncio.sleep(seconds / 2)  # the load runs meanwhile; this is when the signal is due
        proc.send_signal(signal.SIGTERM)
        return await task

    run = asyncio.run(phase())
    code = proc.wait(120)
    log.close()
    started, finished = set(), {}
    for line in (workdir / "server.log").read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("msg") == "request started":
            started.add(event["request_id"])
        elif event.get("msg") == "request":
            finished[event["request_id"]] = event["status"]
    refused = sum(1 for e in run.failed.values() if e == "ClientConnectorError")
    cut = [rid for rid, e in run.failed.items() if rid in finished and e != "ClientConnectorError"]
    return Drain(len(started), sorted(started - set(finished)), cut, refused,
                 sum(1 for s in finished.values() if s == 503), code)


def bench_backend(kind: str, args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix=f"codeai-load-{kind}-") as tmp:
        workdir = Path(tmp)
        pg = PgServer().start() if kind == "postgres" else None
        try:
            url = pg.create_database("load") if pg else f"sqlite:{workdir / 'load.db'}"
            proc, base, log = start_server(url, workdir, args.workers)
            try:
                baseline = asyncio.run(load(base, args.clients, args.seconds / 4, args.max_requests, False, 1))
                mixed = asyncio.run(load(base, args.clients, args.seconds, args.max_requests, True, 2, args.rate))
                lost = asyncio.run(verify(base, mixed))
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(60)
                log.close()
            drain = sigterm_under_load(url, workdir, args) if args.sigterm else None
        finally:
            if pg:
                pg.stop()
    return report(kind, baseline, mixed, lost, code) & report_drain(drain)


def report_drain(drain: Drain | None) -> bool:
    if drain is None:
        return True
    print(f"SIGTERM under load     : {drain.accepted} requests accepted, {len(drain.unfinished)} unanswered, "
          f"{len(drain.cut)} cut off, {drain.after_signal_503} answered 503 while draining, "
          f"{drain.refused} new connections refused after the listener closed, exit {drain.exit_code}")
    bars = [("every accepted request answered", not drain.unfinished and not drain.cut),
            (f"exit 0 after draining (got {drain.exit_code})", drain.exit_code == 0)]
    for label, ok in bars:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return all(ok for _, ok in bars)


def report(kind: str, baseline: Run, mixed: Run, lost: list[str], exit_code: int) -> bool:
    print(f"\n== {kind} ==")
    print(f"baseline /health only : {baseline.rate():7.1f} req/s  p50 {baseline.pct(50):6.1f} ms  "
          f"p99 {baseline.pct(99):6.1f} ms  ({len(baseline.latencies)} requests)")
    print(f"mixed 50/30/20        : {mixed.rate():7.1f} req/s  p50 {mixed.pct(50):6.1f} ms  "
          f"p95 {mixed.pct(95):6.1f} ms  p99 {mixed.pct(99):6.1f} ms  ({len(mixed.latencies)} requests, "
          f"{len(mixed.created)} configs written, {mixed.rate() / max(baseline.rate(), 1e-9):.0%} of baseline)")
    kinds = {"GET health": "health", "GET": "config reads", "POST": "config writes"}
    print("  p99 by kind: " + ", ".join(
        f"{name} {statistics.quantiles(mixed.by_kind[k], n=100, method='inclusive')[98] * 1000:.1f} ms"
        for k, name in kinds.items() if len(mixed.by_kind.get(k, [])) > 1))
    bars = [(f"throughput ≥ {RATE_BAR:.0f} req/s", mixed.rate() >= RATE_BAR),
            (f"p99 ≤ {P99_BAR_MS:.0f} ms", mixed.pct(99) <= P99_BAR_MS),
            (f"0 errors (got {len(mixed.errors) + len(baseline.errors)})", not mixed.errors and not baseline.errors),
            (f"0 lost writes (got {len(lost)} of {len(mixed.created)})", not lost),
            (f"clean exit after SIGTERM (got {exit_code})", exit_code == 0)]
    for label, ok in bars:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    for err in (mixed.errors + baseline.errors)[:5]:
        print(f"  error: {err}")
    return all(ok for _, ok in bars)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=50_000, help="hard bound per phase")
    parser.add_argument("--no-sigterm", dest="sigterm", action="store_false",
                        help="skip the SIGTERM-under-load phase")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (one per core here)")
    parser.add_argument("--rate", type=float, default=400.0,
                        help="offered requests/s of the mixed run (0: as fast as answered)")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    args = parser.parse_args()
    print(f"codeai server load: {args.clients} clients, {args.seconds:g} s mixed at {args.rate:g} req/s offered "
          f"(+{args.seconds / 4:g} s unpaced /health baseline) per backend, {args.workers} server workers, 127.0.0.1 only, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    args.rate = args.rate or None
    results = [bench_backend(kind, args) for kind in args.backends]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
