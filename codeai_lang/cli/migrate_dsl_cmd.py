"""`codeai migrate-dsl`: migrate .cai files to a newer DSL version, in place and in parallel.

The work per file is `migrate_file` (read, `rewrite.migrate_text`, write atomically); it never
raises, so one bad file (or a bug) is reported for that file and the others still migrate.
`run_migration` spreads files over worker processes in batches (pickling one path at a time
would cost more than migrating a small file) and is the library entry the benchmark uses.

Projects: a file inside a project (codeai.yaml above it) may use names declared in other
files, so it is migrated in memory first; the migrated files of each project are then
validated against the whole project as it will be after the run, and only then written.

Safety: a file is written only when its migrated text validates under the target, with
`fsutil.atomic_write` (temp file, fsync, rename, permissions kept), so whatever happens to a
run — an exception, a killed worker — every file is either fully old or fully new. Files
already at the target are not written at all.

Ctrl-C: the first SIGINT asks for a stop (workers ignore the signal; they finish the file in
hand, atomically, and skip the rest of their batch; batches not started are cancelled), then the
run reports what was migrated and what was not and exits 130. A second Ctrl-C aborts at once.
Our stale temporary files (from killed runs) are removed from the directories migrated.

Fault injection for tests: `CODEAI_MIGRATE_FAULT=raise:TEXT` makes the worker raise on files
whose path contains TEXT; `exit:TEXT` kills the worker process there.
"""

from __future__ import annotations

import difflib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from codeai_lang.analysis.project import ProjectAnalysis
from codeai_lang.cli import app
from codeai_lang.cli.language_cmds import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    SimpleFormat,
    discover_or_fail,
    fail,
)
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.files.atomic import atomic_write, remove_stale_temp_files, remove_stale_temp_files_in
from codeai_lang.files.project import Project, find_root, project_for, resolved
from codeai_lang.files.sources import STDIN, read_regular_file
from codeai_lang.fixes.rewrite import migrate_text
from codeai_lang.syntax.registry import default_registry

FAULT_ENV = "CODEAI_MIGRATE_FAULT"
TABLE_ROWS = 200  # the summary table lists at most this many changed/failed files
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
NOT_MIGRATED = "interrupted before this file: not migrated"
_POLL = 0.05  # seconds between checks for a stop request while waiting for workers
_IN_FLIGHT_WAIT = 30.0  # a file in hand is finished, however long it takes (up to this)

# Set in worker processes (by the pool initializer) and in this process while a run is going:
# once set, no new file is started.
_STOP: Any = None


@dataclass(frozen=True, slots=True)
class Options:
    """What to do with each migrated file: `write` in place, `check`, `diff`, or `output`."""

    target: str
    mode: str = "write"
    output: str | None = None
    plan: bool = False  # a project's files: return the migrated text, write after the project check


@dataclass(slots=True)
class FileOutcome:
    """One file's result, as reported (and sent back from worker processes)."""

    path: str
    source: str | None
    target: str
    changed: bool = False
    rules_applied: list[str] = field(default_factory=list)
    manual: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    version_source: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    io_error: bool = False
    diff: str = ""
    attempted: bool = True
    migrated: str | None = None  # plan mode: the text to write once the project accepts it

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"], out["to"] = out.pop("source"), out.pop("target")
        del out["diff"], out["io_error"], out["attempted"], out["migrated"]
        return out


# -- one file -------------------------------------------------------------------------------


def migrate_file(path: str, opts: Options) -> FileOutcome:
    """Migrate one file as `opts` says. Never raises: every failure is in the outcome."""
    try:
        return _migrate_file(path, opts)
    except OSError as exc:
        return FileOutcome(path, None, opts.target, error=f"I/O error: {exc.strerror or exc}", io_error=True)
    except Exception as exc:  # a bug must not stop the run; the file is left untouched
        return FileOutcome(path, None, opts.target,
                           error=f"internal error: {type(exc).__name__}: {exc}; file left untouched")


def _migrate_file(path: str, opts: Options) -> FileOutcome:
    _inject_fault(path)
    data = sys.stdin.buffer.read() if path == STDIN else read_regular_file(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileOutcome(path, None, opts.target, error=f"not valid UTF-8 (byte {exc.start}); file left untouched")
    in_project = opts.plan and path != STDIN and find_root(Path(path)) is not None
    result = migrate_text(text, opts.target, in_project=in_project)
    out = FileOutcome(path, result.source_version, opts.target, result.changed, result.rules_applied,
                      [m._asdict() for m in result.manual], result.error, result.version_source,
                      [p._asdict() for p in result.problems])
    if in_project:
        out.migrated = result.text if result.ok else None  # acted on after the project check
        return out
    if result.ok:
        if opts.mode == "diff" and result.changed:
            out.diff = unified_diff(path, text, result.text)
        elif opts.mode == "write" and (result.changed or path == STDIN):
            _write(path, result.text)  # stdin: the result always goes to stdout
            out.written = result.changed
        elif opts.mode == "output" and opts.output is not None:
            _write_output(path, opts.output, result.text, result.changed)
            out.written = True
    return out


def _write(path: str, text: str) -> None:
    if path == STDIN:
        sys.stdout.write(text)
    else:
        atomic_write(path, text)


def _write_output(path: str, output: str, text: str, changed: bool) -> None:
    """--output: always write the result there (unless it is the input and nothing changed)."""
    same = path != STDIN and os.path.realpath(path) == os.path.realpath(output)
    if same and not changed:
        return
    atomic_write(output, text, mode_from=None if path == STDIN or os.path.exists(output) else path)


def _inject_fault(path: str) -> None:
    spec = os.environ.get(FAULT_ENV, "")
    kind, _, needle = spec.partition(":")
    if needle and needle in path:
        if kind == "exit":
            os._exit(70)
        if kind == "raise":
            raise RuntimeError(f"injected fault on {path}")


def unified_diff(path: str, old: str, new: str) -> str:
    """A git-style unified diff (`a/` and `b/` prefixes, no-newline-at-end markers)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{path.lstrip('/')}", tofile=f"b/{path.lstrip('/')}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# -- many files -----------------------------------------------------------------------------


def migrate_batch(paths: list[str], opts: Options) -> list[FileOutcome]:
    """Worker entry: migrate a batch of files (one task per batch keeps IPC small); after a
    stop request the files not started yet are returned as not attempted."""
    return [_not_migrated(p, opts) if _stopping() else migrate_file(p, opts) for p in paths]


def _stopping() -> bool:
    return _STOP is not None and _STOP.is_set()


def _not_migrated(path: str, opts: Options) -> FileOutcome:
    return FileOutcome(path, None, opts.target, error=NOT_MIGRATED, attempted=False)


def _init_worker(stop: Any) -> None:
    """Workers leave Ctrl-C to the parent, so the file in hand is always finished."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop


def run_migration(files: list[str], opts: Options, jobs: int,
                  advance: Callable[[int], None] | None = None) -> list[FileOutcome]:
    """Migrate `files` with `jobs` worker processes (1: in this process); results in order.

    A Ctrl-C stops the run early (see the module docstring): files not started come back as
    not attempted (`attempted=False`), every other file is old or new, never half-written.
    """
    tick = advance or (lambda _n: None)
    global _STOP
    stop = multiprocessing.get_context().Event()
    previous, _STOP = _STOP, stop
    try:
        with _stop_on_sigint(stop):
            if jobs <= 1 or len(files) <= 1:
                return _run_here(files, opts, tick)
            return _run_pool(files, opts, jobs, tick, stop)
    finally:
        _STOP = previous


def _run_here(files: list[str], opts: Options, tick: Callable[[int], None]) -> list[FileOutcome]:
    outcomes = []
    for path in files:
        outcomes.append(_not_migrated(path, opts) if _stopping() else migrate_file(path, opts))
        tick(1)
    return outcomes


def _run_pool(files: list[str], opts: Options, jobs: int, tick: Callable[[int], None],
              stop: Any) -> list[FileOutcome]:
    _warm_up(opts.target)
    batches = _batches(files, jobs)
    done: dict[int, list[FileOutcome]] = {}
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(batches)), initializer=_init_worker,
                               initargs=(stop,))
    try:
        futures = {pool.submit(migrate_batch, batch, opts): i for i, batch in enumerate(batches)}
        pending = set(futures)
        while pending and not stop.is_set():
            finished, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
            for future in finished:
                done[futures[future]] = _batch_result(future, batches[futures[future]], opts)
                tick(len(batches[futures[future]]))
        if pending:  # stopped: cancel what has not started, let the files in hand finish
            for future in pending:
                future.cancel()
            wait(pending, timeout=_IN_FLIGHT_WAIT)
            for future in pending:
                i = futures[future]
                done[i] = ([_not_migrated(p, opts) for p in batches[i]] if future.cancelled()
                           else _batch_result(future, batches[i], opts))
    finally:
        pool.shutdown(wait=not stop.is_set(), cancel_futures=True)
    return [o for i in range(len(batches)) for o in done[i]]


def _batch_result(future: Future[list[FileOutcome]], batch: list[str], opts: Options) -> list[FileOutcome]:
    if not future.done():  # still running past the in-flight wait: its files are old or new
        return [_lost(p, opts, TimeoutError("still running when the run was interrupted")) for p in batch]
    try:
        return future.result()
    except Exception as exc:  # a worker died (BrokenProcessPool) or could not pickle
        return [_lost(p, opts, exc) for p in batch]


@contextmanager
def _stop_on_sigint(stop: Any) -> Iterator[None]:
    """First Ctrl-C: set `stop` (checked between files). Second: abort with KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (e.g. embedded use)
        return

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _batches(files: list[str], jobs: int) -> list[list[str]]:
    size = max(1, min(100, len(files) // (jobs * 8)))
    return [files[i:i + size] for i in range(0, len(files), size)]


def _warm_up(target: str) -> None:
    """Load the grammar tables before forking so every worker inherits them."""
    reg = default_registry()
    for version in reg.names:
        reg.tables(version)


def _lost(path: str, opts: Options, exc: BaseException) -> FileOutcome:
    """A file whose worker died: atomic writes make it old or new; drop any temp file left."""
    if path != STDIN:
        remove_stale_temp_files(path)
    return FileOutcome(path, None, opts.target,
                       error=(f"worker failed ({type(exc).__name__}: {exc}); the file is either "
                              "untouched or fully migrated — run again to finish"))


# -- the command ----------------------------------------------------------------------------


@app.command("migrate-dsl")
def migrate_dsl(
    paths: Annotated[list[str], typer.Argument(help="Files or directories (recursed for *.cai); - for stdin")],
    to: Annotated[str | None, typer.Option("--to", help="Target DSL version (default: newest)")] = None,
    output: Annotated[str | None, typer.Option("--output", help="Write the result here (single input file only)")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Write nothing; print unified diffs")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: CPU count)")] = None,
    report: Annotated[SimpleFormat, typer.Option("--report", help="text (summary table) or json (to stdout)")] = SimpleFormat.text,
) -> None:
    """Migrate .cai files to a newer DSL version, keeping every byte the rewrite does not need."""
    reg = default_registry()
    target = to or reg.latest
    if reg.get(target) is None:
        raise fail(f"unknown DSL version '{target}' (known: {', '.join(reg.names)})")
    if diff and report is SimpleFormat.json:
        raise fail("--diff and --report json both write to stdout; choose one")
    files = _discover(paths)
    if files == [STDIN] and report is SimpleFormat.json and not (check or diff or output):
        raise fail("'-' writes the migrated text to stdout; --report json cannot share it")
    if output is not None and (len(files) != 1 or len(paths) != 1 or Path(paths[0]).is_dir()):
        raise fail("--output needs exactly one input file")
    mode = "check" if check else "diff" if diff else "output" if output is not None else "write"
    plan = any(f != STDIN and find_root(Path(f)) is not None for f in files)
    opts = Options(target, mode, output, plan)
    started = time.perf_counter()
    if mode in ("write", "output"):
        _remove_stale_temp_files(files, output)
    outcomes = _run_with_progress(files, opts, jobs or os.cpu_count() or 1)
    if plan:
        check_against_projects(outcomes, opts)
    elapsed = time.perf_counter() - started
    _emit(outcomes, opts, report, elapsed)
    raise typer.Exit(_exit_code(outcomes, opts))


def _remove_stale_temp_files(files: list[str], output: str | None) -> None:
    """Temp files of killed runs (ours: named with a PID no longer running) in these directories."""
    dirs = {os.path.dirname(os.path.realpath(f)) for f in files if f != STDIN}
    if output is not None:
        dirs.add(os.path.dirname(os.path.realpath(output)))
    for removed in remove_stale_temp_files_in(sorted(dirs)):
        typer.echo(f"codeai: removed a stale temporary file of an interrupted run: {removed}", err=True)


def _discover(paths: list[str]) -> list[str]:
    files = discover_or_fail(paths, keep_missing=True)  # a missing one is reported with the others
    if STDIN in files and len(files) > 1:
        raise fail("'-' (stdin) cannot be combined with other paths")
    return files


def _run_with_progress(files: list[str], opts: Options, jobs: int) -> list[FileOutcome]:
    """A progress bar only when stderr is a terminal and there is more than one file."""
    if not sys.stderr.isatty() or len(files) < 2:
        return run_migration(files, opts, jobs)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("migrating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("migrate", total=len(files))
        return run_migration(files, opts, jobs, lambda k: progress.advance(task, k))


def check_against_projects(outcomes: list[FileOutcome], opts: Options) -> None:
    """Validate the migrated files of each project against the project as it will be after
    the run (migrated texts in place of the originals), then act on the files it accepts."""
    planned = [o for o in outcomes if o.migrated is not None]
    versions = default_registry().names
    cache: dict[Path, Project] = {}
    by_project: dict[Path, list[FileOutcome]] = {}
    for o in planned:
        by_project.setdefault(project_for(Path(o.path), cache, versions).root, []).append(o)
    for root, group in by_project.items():
        analysis = _project_after_run(cache[root], {resolved(Path(o.path)): o for o in group})
        for o in group:
            errors = [d for d in analysis.diagnostics(str(resolved(Path(o.path)))) if d.is_error]
            if errors:
                _reject(o, errors)
            else:
                _act(o, opts)


def _project_after_run(project: Project, migrated: dict[Path, FileOutcome]) -> ProjectAnalysis:
    analysis = ProjectAnalysis(project.config, version=None)
    for path in sorted({resolved(p) for p in project.files()} | set(migrated)):
        outcome = migrated.get(path)
        if outcome is not None and outcome.migrated is not None:
            analysis.add(str(path), outcome.migrated)
            continue
        try:
            analysis.add(str(path), path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # unreadable: it declares nothing; its own run reports it
    analysis.settle()
    return analysis


def _reject(o: FileOutcome, errors: list[Diagnostic]) -> None:
    assert o.migrated is not None
    index = LineIndex(o.migrated)
    first = errors[0]
    pos = index.position(first.start)
    o.error = (f"{len(errors)} error(s) against the project after migration (first: "
               f"{pos.line}:{pos.column} {first.code} {first.message}); file left untouched")
    o.changed, o.rules_applied, o.migrated = False, [], None


def _act(o: FileOutcome, opts: Options) -> None:
    """What `_migrate_file` does with an accepted result, for a project's file."""
    text = o.migrated
    o.migrated = None
    if text is None or not (o.changed or opts.mode == "output"):
        return
    try:
        if opts.mode == "diff":
            o.diff = unified_diff(o.path, Path(o.path).read_text(encoding="utf-8"), text)
        elif opts.mode == "write":
            atomic_write(o.path, text)
            o.written = True
        elif opts.mode == "output" and opts.output is not None:
            _write_output(o.path, opts.output, text, o.changed)
            o.written = True
    except OSError as exc:
        o.error, o.io_error = f"I/O error: {exc.strerror or exc}", True


def _exit_code(outcomes: list[FileOutcome], opts: Options) -> int:
    if any(not o.attempted for o in outcomes):
        return EXIT_INTERRUPTED
    if any(o.io_error for o in outcomes):
        return EXIT_USAGE
    if any(o.error for o in outcomes):
        return EXIT_INVALID
    if opts.mode == "check" and any(o.changed for o in outcomes):
        return EXIT_INVALID
    return EXIT_OK


def summary(outcomes: list[FileOutcome], opts: Options, elapsed: float) -> dict[str, Any]:
    totals: dict[str, Any] = {
        "files": len(outcomes), "target": opts.target, "mode": opts.mode,
        "changed": sum(1 for o in outcomes if o.changed),
        "unchanged": sum(1 for o in outcomes if not o.changed and not o.error),
        "failed": sum(1 for o in outcomes if o.error),
        "written": sum(1 for o in outcomes if o.written),
        "seconds": round(elapsed, 3),
    }
    skipped = sum(1 for o in outcomes if not o.attempted)
    if skipped:  # only after Ctrl-C, so the usual shape is unchanged
        totals |= {"interrupted": True, "not_attempted": skipped}
    return totals


def _emit(outcomes: list[FileOutcome], opts: Options, report: SimpleFormat, elapsed: float) -> None:
    totals = summary(outcomes, opts, elapsed)
    if report is SimpleFormat.json:
        doc = {"files": [o.to_json() for o in outcomes], "summary": totals}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    elif opts.mode == "diff":
        sys.stdout.write("".join(o.diff for o in outcomes))
    _print_table(outcomes, opts, totals)


def _print_table(outcomes: list[FileOutcome], opts: Options, totals: dict[str, Any]) -> None:
    """Changed and failed files (the others are only counted), then the totals, to stderr."""
    console = Console(stderr=True, highlight=False, soft_wrap=False)
    shown = [o for o in outcomes if o.error and o.attempted] + [o for o in outcomes if o.changed and not o.error]
    if shown:
        table = Table(title=f"migrate-dsl → {opts.target}", title_justify="left")
        for column in ("file", "from", "status", "rules", "notes"):
            table.add_column(column, overflow="fold")
        for o in shown[:TABLE_ROWS]:
            table.add_row(o.path, o.source or "?", _status(o, opts), ", ".join(o.rules_applied), _notes(o))
        console.print(table)
        if len(shown) > TABLE_ROWS:
            console.print(f"… and {len(shown) - TABLE_ROWS} more (use --report json for all)")
    verb = "would change" if opts.mode in ("check", "diff") else "migrated"
    if totals.get("interrupted"):
        _print_interrupted(console, outcomes, totals, verb)
        return
    console.print(f"{totals['files']} file(s): {totals['changed']} {verb}, {totals['unchanged']} "
                  f"already at {opts.target}, {totals['failed']} failed ({totals['seconds']:.2f} s)")


def _print_interrupted(console: Console, outcomes: list[FileOutcome], totals: dict[str, Any], verb: str) -> None:
    """After Ctrl-C: what was done and what was not, so the user knows where things stand."""
    skipped = [o.path for o in outcomes if not o.attempted]
    failed = totals["failed"] - len(skipped)
    console.print(f"interrupted: {totals['files'] - len(skipped)} of {totals['files']} file(s) processed "
                  f"({totals['changed']} {verb}, {totals['unchanged']} already at target, {failed} failed); "
                  f"{len(skipped)} not migrated. Every file is either untouched or fully migrated; "
                  "run the same command again to finish.")
    for path in skipped[:TABLE_ROWS]:
        console.print(f"  not migrated: {path}")
    if len(skipped) > TABLE_ROWS:
        console.print(f"  … and {len(skipped) - TABLE_ROWS} more (use --report json for all)")


def _status(o: FileOutcome, opts: Options) -> str:
    if o.error:
        return "failed"
    return "migrated" if o.written else "would change"


def _notes(o: FileOutcome) -> str:
    notes = [o.error] if o.error else []
    notes += [f"line {m['line']}: {m['rule']} needs a human: {m['message']}" for m in o.manual]
    return "\n".join(n for n in notes if n)
