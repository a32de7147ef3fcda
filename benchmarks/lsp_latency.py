"""Language-server latency through a real LSP client over stdio (pytest-lsp's client).

For a 20,000-line and a 1,000-line program (codeai_testing.generate.program_1_0): 200
single-character edits each (type an `x` at a random place, then delete it again, like a
typo being fixed), timing didChange → the publishDiagnostics for that document version;
then 200 hovers and 200 completions at random places. On the largest program it also types
a new block while its `{` is still unclosed (the first keystrokes of a function), timing
each keystroke the same way ("unclosed {"; an information figure, no bar).

The server runs with `--debounce-ms 0`: the bar measures analysis, not the deliberate delay
an editor session adds (100 ms by default); the server's own 20 ms floor, which lets a burst
of edits be analysed once, is included. Bars (issue 13): edit→diagnostics p95 ≤ 50 ms on 20k
lines, and ≤ 3× the 1k-line p95 of the same run; completion and hover p95 ≤ 30 ms. The older
bar (edit p95 ≤ 100 ms) is printed for comparison. Prints PASS/FAIL per bar; exit status 1
on any FAIL.

    .venv/bin/python benchmarks/lsp_latency.py [--edits 200] [--lines 20000 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from codeai_testing.generate import program_1_0
from lsprotocol import types as t
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

SERVER = [sys.executable, "-m", "codeai_lang.cli", "lsp", "--stdio", "--debounce-ms", "0"]
EDIT_BAR_MS = 50.0  # issue 13: p95 on 20k lines …
EDIT_RATIO_BAR = 3.0  # … and at most this many times the 1k-line p95
OLD_EDIT_BAR_MS = 100.0  # the bar before issue 13, printed for comparison
QUERY_BAR_MS = 30.0
UNCLOSED_KEYSTROKES = 24


class Recorder:
    """Arrival time of each publishDiagnostics, by (uri, version)."""

    def __init__(self, client: LanguageClient) -> None:
        self.arrived: dict[tuple[str, int | None], float] = {}
        features = client.protocol.fm.features
        original = features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def on_diagnostics(*args: Any) -> None:
            params = args[-1]
            self.arrived[(params.uri, params.version)] = time.perf_counter()
            original(*args)

        features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_diagnostics

    async def wait(self, uri: str, version: int, timeout: float = 120) -> float:
        deadline = time.perf_counter() + timeout
        while (uri, version) not in self.arrived:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no diagnostics for version {version}")
            await asyncio.sleep(0.0005)
        return self.arrived[(uri, version)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(client: LanguageClient, rec: Recorder, lines: int, edits: int, seed: int,
                  unclosed: bool = False) -> dict[str, list[float]]:
    text = program_1_0(lines, seed=seed)
    rows = text.split("\n")
    uri = Path(f"/tmp/bench_{lines}.cai").as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="codeai", version=1, text=text)))
    await rec.wait(uri, 1)
    rng = random.Random(seed)
    edit_ms: list[float] = []
    version = 1
    for i in range(edits):
        if i % 2 == 0:
            line = rng.randrange(len(rows) - 1)
            col = rng.randrange(len(rows[line]) + 1)
            rng_ = t.Range(start=t.Position(line=line, character=col), end=t.Position(line=line, character=col))
            new = "x"
        else:  # delete the `x` typed by the previous edit
            rng_ = t.Range(start=t.Position(line=line, character=col), end=t.Position(line=line, character=col + 1))
            new = ""
        version += 1
        start = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[t.TextDocumentContentChangePartial(range=rng_, text=new)]))
        edit_ms.append((await rec.wait(uri, version) - start) * 1000)
    hover_ms, completion_ms = [], []
    doc = t.TextDocumentIdentifier(uri=uri)
    for _ in range(200):
        line = rng.randrange(len(rows) - 1)
        p = t.Position(line=line, character=rng.randrange(len(rows[line]) + 1))
        start = time.perf_counter()
        await client.text_document_hover_async(t.HoverParams(text_document=doc, position=p))
        hover_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        await client.text_document_completion_async(t.CompletionParams(text_document=doc, position=p))
        completion_ms.append((time.perf_counter() - start) * 1000)
    results = {"edit→diagnostics": edit_ms, "hover": hover_ms, "completion": completion_ms}
    if unclosed:
        results["unclosed {"] = await type_unclosed_block(client, rec, uri, rows, version)
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=doc))
    return results


async def type_unclosed_block(client: LanguageClient, rec: Recorder, uri: str, rows: list[str],
                              version: int) -> list[float]:
    """Open `function pending(a) {` on a blank line between two statements (40% into the
    file), type a body into it one key at a time while the `{` is unclosed, then close it."""
    line = next(i for i in range(len(rows) * 2 // 5, len(rows)) if not rows[i])
    keys = list("\n    log(a)") + [" "] * (UNCLOSED_KEYSTROKES - 11)
    at = t.Position(line=line, character=0)
    typed = "function pending(a) {"
    changes = [(at, typed)]
    col, row = len(typed), line
    for key in keys:
        changes.append((t.Position(line=row, character=col), key))
        row, col = (row + 1, 0) if key == "\n" else (row, col + 1)
    timings: list[float] = []
    for i, (pos, text) in enumerate([*changes, (t.Position(line=row, character=col), "\n}")]):
        version += 1
        start = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[t.TextDocumentContentChangePartial(range=t.Range(start=pos, end=pos), text=text)]))
        elapsed = (await rec.wait(uri, version) - start) * 1000
        if 0 < i <= len(keys):  # the keystrokes typed while the `{` is open
            timings.append(elapsed)
    return timings


async def main_async(args: argparse.Namespace) -> int:
    client = make_test_lsp_client()
    rec = Recorder(client)
    await client.start_io(*SERVER)
    await client.initialize_session(t.InitializeParams(capabilities=t.ClientCapabilities()))
    failed = False
    print("debounce: 0 ms (--debounce-ms 0); times include JSON-RPC over stdio")
    biggest = max(args.lines)
    edit_p95: dict[int, float] = {}
    for lines in args.lines:
        results = await measure(client, rec, lines, args.edits, seed=lines, unclosed=lines == biggest)
        for name, values in results.items():
            p50, p95 = pct(values, 0.5), pct(values, 0.95)
            checked = (lines >= 20_000 or lines == biggest) and name != "unclosed {"
            bar = QUERY_BAR_MS
            if name == "edit→diagnostics":
                edit_p95[lines] = p95
                bar = EDIT_BAR_MS
            verdict = ("PASS" if p95 <= bar else "FAIL") if checked else "info"
            failed |= verdict == "FAIL"
            shown = f"bar p95≤{bar:.0f} ms" if checked else ""
            print(f"{lines:>6} lines  {name:<17} n={len(values):<4} p50={p50:7.1f} ms  p95={p95:7.1f} ms  "
                  f"mean={statistics.fmean(values):7.1f} ms  {shown:<15} {verdict}")
    failed |= report_edit_bars(edit_p95, biggest)
    await client.shutdown_session()
    return 1 if failed else 0


def report_edit_bars(edit_p95: dict[int, float], biggest: int) -> bool:
    """The issue's second edit bar (growth with file size) and the old bar; True on FAIL."""
    small = min(edit_p95)
    big, base = edit_p95[biggest], edit_p95[small]
    failed = False
    if small != biggest:
        ratio = big / base if base else float("inf")
        verdict = "PASS" if ratio <= EDIT_RATIO_BAR else "FAIL"
        failed = verdict == "FAIL"
        print(f"edit→diagnostics p95 {biggest} lines / {small} lines: {ratio:.2f}×  "
              f"bar ≤{EDIT_RATIO_BAR:.0f}×  {verdict}")
    old = "PASS" if big <= OLD_EDIT_BAR_MS else "FAIL"
    print(f"edit→diagnostics p95 {biggest} lines vs the pre-issue-13 bar ≤{OLD_EDIT_BAR_MS:.0f} ms: {old} (info)")
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--lines", type=int, nargs="+", default=[20_000, 1_000])
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
