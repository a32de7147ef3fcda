"""`codeai fmt`: rewrite .cai files in the canonical layout (docs/formatting.md).

In place with the atomic write of `migrate-dsl`; `--check` writes nothing and lists the files
that would change; `--diff` prints unified diffs; `-` reads stdin and writes stdout. A file
with syntax errors is never touched: its errors are printed and the exit code is 1. Texts
already known to be formatted (a mark in the result cache, `format/known.py`) are not parsed
again; the rest are formatted on worker processes when there is enough text. The formatter is
imported on first use so that other commands do not pay for it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer

from codeai_lang.cli import app
from codeai_lang.cli.language_cmds import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    check_dsl_version,
    discover_or_fail,
    fail,
)
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.files.atomic import atomic_write
from codeai_lang.files.sources import STDIN, SourceError, read_source

if TYPE_CHECKING:
    from codeai_lang.format.known import FormattedCache


@dataclass(slots=True)
class Outcome:
    """What happened to one file."""

    path: str  # as shown to the user
    changed: bool = False
    errors: list[str] = field(default_factory=list)  # file:line:col lines; the file was left alone
    io_error: bool = False
    output: str = ""  # what goes to stdout: the diff, or the formatted text of stdin


@app.command("fmt")
def fmt(
    paths: Annotated[list[str], typer.Argument(help="Files or directories (recursed for *.cai); - for stdin")],
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Write nothing; print unified diffs")] = False,
    stdin_filename: Annotated[str | None, typer.Option("--stdin-filename", help="Name of the file read from stdin (for messages and diffs)")] = None,
    dsl_version: Annotated[str | None, typer.Option("--dsl-version", help="Parse as this DSL version, overriding #version")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: CPU count)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache of formatted files")] = False,
) -> None:
    """Format .cai files in the one canonical layout (like gofmt): in place, or --check/--diff.
    Files already known to be formatted (by content, in the user cache directory) are not
    parsed again; the others are formatted on --jobs worker processes."""
    check_dsl_version(dsl_version)
    files = discover_or_fail(paths)
    if STDIN in files and len(files) > 1:
        raise fail("'-' (stdin) cannot be combined with other paths")
    if stdin_filename is not None and files != [STDIN]:
        raise fail("--stdin-filename needs '-' as the only path")
    # `--check --diff` prints the diffs and still fails (terraform fmt -check -diff)
    mode = "check-diff" if check and diff else "check" if check else "diff" if diff else "write"
    outcomes = run_fmt(files, mode, dsl_version, jobs or _default_jobs(), stdin_filename,
                       use_cache=not no_cache)
    for o in outcomes:
        sys.stdout.write(o.output)
    _report(outcomes, mode)
    raise typer.Exit(exit_code(outcomes, mode))


# Below this much text to format (characters, ~0.1 s of work) starting worker processes
# (each imports the parser and loads the grammar tables) costs more than it saves.
POOL_MIN_CHARS = 400_000


@dataclass(slots=True)
class Job:
    """One file to format: read by the main process, formatted here or in a worker."""

    path: str
    shown: str
    text: str
    key: str | None  # its key in the cache of formatted texts (None: --no-cache)


def run_fmt(files: list[str], mode: str, version: str | None, jobs: int,
            stdin_name: str | None = None, *, use_cache: bool = True) -> list[Outcome]:
    """Format `files`: those the cache knows to be formatted are done at once, the others are
    formatted (in `jobs` worker processes when there is enough text); results in order."""
    known = _known(version) if use_cache else None
    outcomes: list[Outcome | None] = [None] * len(files)
    todo: list[tuple[int, Job]] = []
    for i, path in enumerate(files):
        shown = stdin_name or path
        try:
            source = read_source(path)
        except SourceError as exc:
            outcomes[i] = Outcome(shown, errors=[str(exc)], io_error=True)
            continue
        if source.decode_error is not None:
            outcomes[i] = Outcome(shown, errors=_located(shown, source.text, [source.decode_error]))
            continue
        key = known.key(source.text) if known is not None else None
        if known is not None and key is not None and known.is_formatted(key):
            outcomes[i] = Outcome(shown, output=source.text if path == STDIN and mode == "write" else "")
            continue
        todo.append((i, Job(path, shown, source.text, key)))
    for (i, _), outcome in zip(todo, _format_jobs([j for _, j in todo], mode, version, jobs),
                               strict=True):
        outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def _format_jobs(work: list[Job], mode: str, version: str | None, jobs: int) -> list[Outcome]:
    jobs = min(jobs, len(work))
    if jobs > 1 and sum(len(j.text) for j in work) >= POOL_MIN_CHARS:
        from concurrent.futures.process import BrokenProcessPool  # only for large trees

        try:
            return _on_pool(work, mode, version, jobs)
        except (OSError, BrokenProcessPool):  # no processes here (sandbox, limits): do it here
            pass
    return format_batch(work, mode, version)


def _on_pool(work: list[Job], mode: str, version: str | None, jobs: int) -> list[Outcome]:
    from concurrent.futures import ProcessPoolExecutor

    # Batches amortise the inter-process round trips; several per worker balance the load.
    size = max(1, min(100, len(work) // (jobs * 8)))
    batches = [work[i:i + size] for i in range(0, len(work), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        done = pool.map(format_batch, batches, [mode] * len(batches), [version] * len(batches))
        return [o for batch in done for o in batch]


def format_batch(work: list[Job], mode: str, version: str | None) -> list[Outcome]:
    """Worker entry: one task per batch keeps the pickling small."""
    return [format_job(job, mode, version) for job in work]


def format_job(job: Job, mode: str, version: str | None) -> Outcome:
    """Format one file's text as `mode` says (write, check, diff, check-diff); never raises.
    A text found formatted (or written formatted) is marked in the cache."""
    from codeai_lang.format import FormatError, format_text

    shown, text = job.shown, job.text
    try:
        result = format_text(text, version)
    except FormatError as exc:
        return Outcome(shown, errors=[f"{shown}: {exc}"])
    except Exception as exc:  # a bug must not stop the run; the file is left untouched
        return Outcome(shown, errors=[f"{shown}: internal error: {type(exc).__name__}: {exc}; "
                                      "file left untouched"])
    if not result.ok:
        passed = text if job.path == STDIN and mode == "write" else ""  # a filter passes it on
        return Outcome(shown, errors=_located(shown, text, result.diagnostics), output=passed)
    outcome = Outcome(shown, result.changed)
    if mode in ("diff", "check-diff") and result.changed:
        outcome.output = _unified_diff(shown, text, result.text)
    elif mode == "write" and job.path == STDIN:
        outcome.output = result.text
    elif mode == "write" and result.changed:
        try:
            atomic_write(job.path, result.text)
        except OSError as exc:
            return Outcome(shown, errors=[f"{shown}: {exc.strerror or exc}"], io_error=True)
    if job.key is not None:
        known = _known(version)
        if not result.changed:
            known.mark(job.key)
        elif mode == "write" and job.path != STDIN:
            known.mark(known.key(result.text))  # formatting is idempotent: the new text is formatted
    return outcome


@cache
def _known(version: str | None) -> FormattedCache:
    """One cache handle per process and version (the tool fingerprint is computed once)."""
    from codeai_lang.format.known import FormattedCache

    return FormattedCache(version)


def _default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _located(path: str, text: str, diagnostics: list[Diagnostic]) -> list[str]:
    index = LineIndex(text)
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        pos = index.position(d.start)
        out.append(f"{path}:{pos.line}:{pos.column}: {d.severity.value}[{d.code}] {d.message}")
    return out


def _unified_diff(path: str, old: str, new: str) -> str:
    from codeai_lang.cli.migrate_dsl_cmd import unified_diff

    return unified_diff(path, old, new)


def exit_code(outcomes: list[Outcome], mode: str) -> int:
    if any(o.io_error for o in outcomes):
        return EXIT_USAGE
    if any(o.errors for o in outcomes):
        return EXIT_INVALID
    if mode.startswith("check") and any(o.changed for o in outcomes):
        return EXIT_INVALID
    return EXIT_OK


def _report(outcomes: list[Outcome], mode: str) -> None:
    """Errors and the files that (would) change on stderr, so stdout stays the formatted text
    or the diff; then one summary line."""
    err = sys.stderr
    for o in outcomes:
        for line in o.errors:
            err.write(line + "\n")
        if o.changed and not o.errors and o.path != STDIN:
            err.write(f"{'would reformat' if mode != 'write' else 'reformatted'} {o.path}\n")
    changed = sum(1 for o in outcomes if o.changed)
    failed = sum(1 for o in outcomes if o.errors)
    verb = "would be reformatted" if mode != "write" else "reformatted"
    if len(outcomes) > 1 or failed or mode != "write" or outcomes[0].path != STDIN:
        err.write(f"{len(outcomes)} file(s): {changed} {verb}, "
                  f"{len(outcomes) - changed - failed} already formatted, {failed} not formatted "
                  f"(errors)\n")
