"""Analysing many files: cached per-file results, the rest on a pool of worker processes.

Each file's own analysis is a pure function of its text and settings (`analyse_text`), so it
can run in any process and be cached by content (`files.cache.ResultCache`). What comes back
is small and picklable (`FileOutcome`: diagnostics, version, the file's name table, no AST).
Only this per-file part is cached: a project resolves names across its files afresh on every
run (`ProjectAnalysis.add_outcome`), so editing one file changes the others' cross-file
diagnostics as it should. Results are returned in the order of the input whatever the number
of jobs, so output never depends on `--jobs`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from codeai_lang.analysis import semantic
from codeai_lang.analysis.project import UNRESOLVED_SCRIPT
from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.files.cache import ResultCache

# Below this much text (characters, ~0.1 s of work) starting worker processes costs more than
# it saves, so the files are analysed in this process whatever `jobs` says.
POOL_MIN_CHARS = 400_000


@dataclass(slots=True)
class FileOutcome:
    """A file's analysis on its own, as cached and as sent back by a worker."""

    diagnostics: list[Diagnostic]  # as a standalone file
    local: list[Diagnostic]  # without name resolution (a project resolves names itself)
    table: semantic.FileTable  # its declarations and references, without the AST
    version: str | None
    version_source: str | None
    # Its script checks found an unknown name, which another file of a project may declare:
    # a project re-checks such a file in-process (that needs the AST).
    needs_names: bool = False
    elapsed_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything besides the text that a file's own analysis depends on (part of the key)."""

    version: str | None = None  # --dsl-version
    default_version: str | None = None  # the project's dsl_version (for files without #version)

    def parts(self) -> tuple[str | None, ...]:
        return (self.version, self.default_version)


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def analyse_text(text: str, settings: Settings) -> FileOutcome:
    started = time.perf_counter()
    result = validate(text, version=settings.version, default_version=settings.default_version)
    elapsed = (time.perf_counter() - started) * 1000
    doc = result.document
    needs_names = any(d.code in UNRESOLVED_SCRIPT for d in result.local)
    return FileOutcome(result.diagnostics, result.local, result.table.drop_ast(), doc.version,
                       doc.version_source, needs_names, elapsed)


Job = tuple[str, Settings]  # a text and what its analysis depends on besides the text


def _analyse_job(job: Job) -> FileOutcome:
    return analyse_text(*job)


def analyse_all(work: Sequence[Job], *, jobs: int = 1,
                cache: ResultCache | None = None) -> list[FileOutcome]:
    """The outcome of every (text, settings), in order: from `cache` where it has one, else
    computed (on `jobs` worker processes when there is enough work) and stored in `cache`."""
    outcomes: list[FileOutcome | None] = [None] * len(work)
    keys: list[str] = []
    if cache is not None:
        keys = [cache.key(t.encode("utf-8", "surrogatepass"), *s.parts()) for t, s in work]
        for i, key in enumerate(keys):
            hit = cache.load(key)
            if isinstance(hit, FileOutcome):
                hit.elapsed_ms = 0.0  # not analysed in this run
                outcomes[i] = hit
    todo = [i for i, o in enumerate(outcomes) if o is None]
    fresh = _compute([work[i] for i in todo], jobs)
    for i, outcome in zip(todo, fresh, strict=True):
        outcomes[i] = outcome
        if cache is not None:
            cache.store(keys[i], outcome)
    return [o for o in outcomes if o is not None]


def _compute(work: list[Job], jobs: int) -> list[FileOutcome]:
    jobs = min(jobs, len(work))
    if jobs > 1 and sum(len(t) for t, _ in work) >= POOL_MIN_CHARS:
        from concurrent.futures.process import BrokenProcessPool  # only when needed (start-up)

        try:
            return _on_pool(work, jobs)
        except (OSError, BrokenProcessPool):  # no processes here (sandbox, limits): do it here
            pass
    return [analyse_text(t, s) for t, s in work]


def _on_pool(work: list[Job], jobs: int) -> list[FileOutcome]:
    from concurrent.futures import ProcessPoolExecutor

    # Chunks amortise the inter-process round trips; several per worker balance the load.
    chunksize = max(1, len(work) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_analyse_job, work, chunksize=chunksize))
