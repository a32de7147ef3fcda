"""Projects at scale (projects.md §5): a generated project of 2,000 files / 200,000 lines.

Every file declares its own entity, event, workflow and function, refers to its neighbours'
(so nothing validates alone), and the first 100 files refer to `entity Hub` in file 0.

1. `codeai validate ROOT` (the project) vs the same files as standalone files (a copy with
   no codeai.yaml), with --no-cache and with a warm result cache: bar ≤ 1.3× for both
   (cross-file resolution is nearly free).
2. The language server with the project as its workspace folder (pytest-lsp's client over
   stdio, `--debounce-ms 0`):
   - an edit that changes no declared name: didChange → publishDiagnostics p95, against the
     same edits in a standalone file of the same size (bar: p95 ≤ the standalone p95 + 5 ms);
   - renaming `Hub` in its (open) file re-publishes the 100 open files that use it:
     p95 of the time until the last of them arrives ≤ 300 ms;
   - textDocument/rename of `Hub` over the project ≤ 1 s (p95);
   - workspace/symbol ≤ 50 ms (p95);
   - server memory (RSS) with the project loaded ≤ 600 MB.
Prints PASS/FAIL per bar; exit status 1 on any FAIL.

    .venv/bin/python benchmarks/project_scale.py [--files 2000] [--lines-per-file 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

SERVER = [sys.executable, "-m", "codeai_lang.cli", "lsp", "--stdio", "--debounce-ms", "0"]
HUB_USERS = 100


def file_text(k: int, files: int, lines: int) -> str:
    """One file of the project: ~`lines` lines, names unique to file k, neighbours used."""
    prev, nxt = (k - 1) % files, (k + 1) % files
    out = ["#version 1.1", f"// file {k}: generated for benchmarks/project_scale.py",
           f"entity E{k} {{", "    id: uuid, primary, auto", f"    next: ref(E{nxt})"]
    if 0 < k <= HUB_USERS:
        out.append("    hub: ref(Hub)")
    field = 0
    while len(out) < lines - 24:
        field += 1
        out.append(f"    field{field}: string, required")
    out += ["}", "", f"event e{k}.done {{", "    payload {", "        id: uuid, required", "    }", "}", "",
            f"workflow w{k} {{", f"    trigger: e{prev}.done", "    timeout: 30s", "    steps {",
            "        work", "    }", "}", "", f'on "e{prev}.done" {{', f'    workflow "w{k}" async', "}", "",
            f"function f{k}(a) {{", "    print(a)", "}", f"f{prev}({k})"]
    if k == 0:
        out[2:2] = ["entity Hub {", "    id: uuid, primary", "}"]
    return "\n".join(out) + "\n"


def generate(root: Path, files: int, lines: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "codeai.yaml").write_text("# generated project\n")
    paths = []
    for k in range(files):
        path = root / f"part{k // 100:02d}" / f"file{k:04d}.cai"
        path.parent.mkdir(exist_ok=True)
        path.write_text(file_text(k, files, lines))
        paths.append(path)
    return paths


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# -- 1. validate ------------------------------------------------------------------------------


def time_validate(root: Path, cache: Path | None, runs: int = 2) -> float:
    """Best wall time of `codeai validate .` in `root`: with `cache` (its own result cache
    directory, warmed by a first run that is not counted) or with --no-cache."""
    env = dict(os.environ)
    flags = ["--no-cache"]
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
        flags = []
    command = [sys.executable, "-m", "codeai_lang.cli", "validate", "--output", "json", *flags, "."]
    if cache is not None:  # warm it
        subprocess.run(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def validate_ratios(work: Path, root: Path, alone: Path) -> bool:
    """Project vs standalone, without and with the result cache (each tree its own cache, so
    neither run sees the other's entries). True if both ratios meet the bar."""
    ok = True
    for label, caches in (("--no-cache", (None, None)), ("warm cache", (work / "cache-p", work / "cache-s"))):
        t_project, t_alone = time_validate(root, caches[0]), time_validate(alone, caches[1])
        ratio = t_project / t_alone
        ok &= ratio <= 1.3
        print(f"validate ({label}): project {t_project:.2f} s, standalone {t_alone:.2f} s, "
              f"ratio {ratio:.2f} (bar ≤ 1.30)  {verdict(ratio <= 1.3)}")
    return ok


# -- 2. the language server ---------------------------------------------------------------------


class Recorder:
    """Arrival time of each publishDiagnostics, by uri (all of them, in order)."""

    def __init__(self, client: LanguageClient) -> None:
        self.arrived: dict[str, list[tuple[int | None, float, int]]] = {}
        features = client.protocol.fm.features
        original = features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def on_diagnostics(*args: Any) -> None:
            p = args[-1]
            self.arrived.setdefault(p.uri, []).append((p.version, time.perf_counter(), len(p.diagnostics)))
            original(*args)

        features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_diagnostics

    async def wait(self, uri: str, version: int | None = None, after: float = 0.0,
                   count: int | None = None, timeout: float = 600) -> float:
        deadline = time.perf_counter() + timeout
        while True:
            for v, at, n in self.arrived.get(uri, []):
                if at >= after and (version is None or v == version) and (count is None or n == count):
                    return at
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no diagnostics for {uri} version {version}")
            await asyncio.sleep(0.0005)


def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="codeai", version=1, text=text if text is not None else path.read_text())))
    return uri


def edit(client: LanguageClient, uri: str, version: int, line: int, start: int, end: int, new: str) -> None:
    rng = t.Range(start=t.Position(line=line, character=start), end=t.Position(line=line, character=end))
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[t.TextDocumentContentChangePartial(range=rng, text=new)]))


async def edits_without_name_change(client: LanguageClient, rec: Recorder, uri: str, text: str,
                                    count: int) -> list[float]:
    """Type and delete an `x` in field names (no declared name changes)."""
    rows = text.split("\n")
    fields = [i for i, r in enumerate(rows) if r.strip().startswith("field")]
    rng = random.Random(7)
    out, version, line = [], 1, fields[0]
    for i in range(count):
        if i % 2 == 0:
            line = fields[rng.randrange(len(fields))]
        version += 1
        start = time.perf_counter()
        if i % 2 == 0:
            edit(client, uri, version, line, 9, 9, "x")
        else:
            edit(client, uri, version, line, 9, 10, "")
        out.append((await rec.wait(uri, version) - start) * 1000)
    return out


def server_rss_mb() -> float:
    """RSS of this process's child processes (the server), from /proc."""
    total = 0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children = (task / "children").read_text().split()
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


async def lsp_measures(root: Path, paths: list[Path], args: argparse.Namespace) -> dict[str, Any]:
    client = make_test_lsp_client()
    rec = Recorder(client)
    await client.start_io(*SERVER)
    folder = t.WorkspaceFolder(uri=root.as_uri(), name="bench")
    await client.initialize_session(t.InitializeParams(capabilities=t.ClientCapabilities(), workspace_folders=[folder]))
    res: dict[str, Any] = {}
    start = time.perf_counter()
    first = open_doc(client, paths[HUB_USERS + 1])
    await rec.wait(first, 1)
    res["load_s"] = time.perf_counter() - start
    # a) an edit that changes no name: in the project, and in a standalone copy
    text = paths[HUB_USERS + 1].read_text()
    res["edit_project"] = await edits_without_name_change(client, rec, first, text, args.edits)
    alone_dir = Path(tempfile.mkdtemp(prefix="codeai-alone-"))
    alone = open_doc(client, alone_dir / "alone.cai", text)
    await rec.wait(alone, 1)
    res["edit_standalone"] = await edits_without_name_change(client, rec, alone, text, args.edits)
    shutil.rmtree(alone_dir)
    # b) rename `Hub` by editing its declaration: the 100 open files that use it follow
    hub_file = open_doc(client, paths[0])
    await rec.wait(hub_file, 1)
    users = [open_doc(client, p) for p in paths[1:HUB_USERS + 1]]
    for u in users:
        await rec.wait(u, 1)
    hub_line = paths[0].read_text().split("\n").index("entity Hub {")
    republish, version, name = [], 1, "Hub"
    for _ in range(args.renames):
        new = "Hub2" if name == "Hub" else "Hub"
        version += 1
        start = time.perf_counter()
        edit(client, hub_file, version, hub_line, 7, 7 + len(name), new)
        expected = 1 if new == "Hub2" else 0  # each user file: one CAI202, then none
        last = 0.0
        for u in users:
            last = max(last, await rec.wait(u, None, after=start, count=expected))
        republish.append((last - start) * 1000)
        name = new
    res["republish"] = republish
    # c) rename over the project (WorkspaceEdit over every file)
    rename_ms = []
    for _ in range(5):
        start = time.perf_counter()
        ws = await client.text_document_rename_async(t.RenameParams(
            text_document=t.TextDocumentIdentifier(uri=hub_file),
            position=t.Position(line=hub_line, character=8), new_name="Centre"))
        rename_ms.append((time.perf_counter() - start) * 1000)
        res["rename_files"] = len(ws.changes or {}) if ws else 0
    res["rename"] = rename_ms
    # d) workspace/symbol
    sym_ms = []
    for q in ["E12", "e4.done", "w19", "hub", "f1", "zzz", "E", "work"] * 5:
        start = time.perf_counter()
        await client.workspace_symbol_async(t.WorkspaceSymbolParams(query=q))
        sym_ms.append((time.perf_counter() - start) * 1000)
    res["symbol"] = sym_ms
    res["rss_mb"] = server_rss_mb()
    await client.shutdown_session()
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--lines-per-file", type=int, default=100)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--renames", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codeai-project-scale-"))
    try:
        sys.exit(run(work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> int:
    root = work / "project"
    paths = generate(root, args.files, args.lines_per_file)
    total = sum(p.read_text().count("\n") for p in paths)
    print(f"project: {len(paths)} files, {total} lines ({root})")
    alone = work / "standalone"
    shutil.copytree(root, alone)
    (alone / "codeai.yaml").unlink()
    failed = not validate_ratios(work, root, alone)
    res = asyncio.run(lsp_measures(root, paths, args))
    print(f"server: project loaded and first diagnostics in {res['load_s']:.1f} s")
    p_proj, p_alone = pct(res["edit_project"], 0.95), pct(res["edit_standalone"], 0.95)
    ok = p_proj <= p_alone + 5.0
    failed |= not ok
    print(f"edit (no name change): project p50={pct(res['edit_project'], 0.5):.1f} p95={p_proj:.1f} ms; "
          f"standalone p50={pct(res['edit_standalone'], 0.5):.1f} p95={p_alone:.1f} ms "
          f"(bar: project p95 ≤ standalone p95 + 5 ms)  {verdict(ok)}")
    rows = [("rename Hub → 100 files re-published", res["republish"], 300.0),
            (f"textDocument/rename ({res['rename_files']} files)", res["rename"], 1000.0),
            ("workspace/symbol", res["symbol"], 50.0)]
    for name, values, bar in rows:
        p95 = pct(values, 0.95)
        failed |= p95 > bar
        print(f"{name}: n={len(values)} p50={pct(values, 0.5):.1f} p95={p95:.1f} "
              f"mean={statistics.fmean(values):.1f} ms (bar p95 ≤ {bar:.0f} ms)  {verdict(p95 <= bar)}")
    mem_ok = res["rss_mb"] <= 600
    failed |= not mem_ok
    print(f"server memory: {res['rss_mb']:.0f} MB RSS (bar ≤ 600 MB)  {verdict(mem_ok)}")
    return 1 if failed else 0


if __name__ == "__main__":
    main()
