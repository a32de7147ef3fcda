"""Analysing many files: cached per-file results, the rest on a pool of worker processes.

Each file's own analysis is a pure function of its text and settings (`analyse_text`), so it
can run in any process and be cached by content (`files.cache.ResultCache`). What comes back
is small and picklable (`FileOutcome`: diagnostics, version, the file's name table, no AST).
Results are returned in the order of the input whatever the number of jobs, so output never
depends on `--jobs`.

A project's files see each other's top-level functions and variables, which a file's own
analysis cannot know. So a project file is analysed against a *provisional* scope of those
names (exact for the files the cache knows, read with a regular expression for the others)
and records every name it looked up outside itself with the answer it got
(`FileOutcome.consulted`). Once every file's table is in, the real scope is known: an
outcome whose answers all still hold is exactly what an analysis against the real scope
gives (which names are looked up does not depend on the answers); the few others are
analysed again. A cached outcome goes through the same check, so editing one file changes
the others' results as it should. Everything else about names (declarations, references)
is resolved afterwards by `ProjectAnalysis` from the tables.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from codeai_lang.analysis import semantic
from codeai_lang.analysis.script_checks import Consulted
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
    consulted: Consulted = field(default_factory=dict)  # names looked up outside the file → answers
    elapsed_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything besides the text that a file's own analysis depends on (part of the key)."""

    version: str | None = None  # --dsl-version
    default_version: str | None = None  # the project's dsl_version (for files without #version)
    # Keep the table's global name occurrences (for the language server's references and
    # rename over files not open); validation alone lets them go.
    navigation: bool = False

    def parts(self) -> tuple[str | None, ...]:
        return (self.version, self.default_version, "navigation" if self.navigation else None)


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class Group:
    """The files of one project: which job is which file (its key in the project) and the
    names provided outside the project (codeai.yaml `externals`)."""

    members: dict[int, str]  # job index → file key
    externals: semantic.Externals = field(default_factory=semantic.Externals)


@dataclass(frozen=True, slots=True)
class Scopes:
    """Per group, the merged script names of its files (sent once to each worker)."""

    tables: tuple[semantic.ScopeTable, ...]
    externals: tuple[semantic.Externals, ...]

    def scope(self, group: int, key: str) -> semantic.ScriptScope:
        return semantic.ScriptScope(self.tables[group], key, self.externals[group])


Job = tuple[str, Settings]  # a text and what its analysis depends on besides the text
Where = tuple[int, str] | None  # (group, file key) of a project file; None for a standalone file


def analyse_text(text: str, settings: Settings,
                 external: semantic.ScriptScope | None = None) -> FileOutcome:
    """A file's own analysis; `external`: the other files' script names (a project file)."""
    started = time.perf_counter()
    result = validate(text, version=settings.version, default_version=settings.default_version,
                      external=external)
    elapsed = (time.perf_counter() - started) * 1000
    doc = result.document
    table = result.table.compact() if settings.navigation else result.table.drop_ast()
    return FileOutcome(result.diagnostics, result.local, table, doc.version,
                       doc.version_source, result.consulted, elapsed)


def still_holds(outcome: FileOutcome, scope: semantic.ScriptScope | None) -> bool:
    """Whether every name the analysis looked up outside the file gets the same answer from
    `scope` (None: a standalone file, where nothing is found outside)."""
    if scope is None:
        return all(answer is None for answer in outcome.consulted.values())
    return all(scope.get(name) == answer for name, answer in outcome.consulted.items())


def analyse_all(work: Sequence[Job], *, jobs: int = 1, cache: ResultCache | None = None,
                groups: Sequence[Group] = (), start_method: str | None = None) -> list[FileOutcome]:
    """The outcome of every (text, settings), in order: from `cache` where it has one, else
    computed (on `jobs` worker processes when there is enough work) and stored in `cache`.
    `groups`: the projects among the jobs (the other jobs are standalone files).
    `start_method`: how workers start (a process with threads, such as the language server,
    must not fork: "spawn"); None: the platform's default."""
    where: list[Where] = [None] * len(work)
    for g, group in enumerate(groups):
        for i, key in group.members.items():
            where[i] = (g, key)
    outcomes: list[FileOutcome | None] = [None] * len(work)
    keys: list[str] = []
    if cache is not None:
        keys = [cache.key(t.encode("utf-8", "surrogatepass"), *s.parts()) for t, s in work]
        for i, key in enumerate(keys):
            hit = cache.load(key)
            if isinstance(hit, FileOutcome):
                hit.elapsed_ms = 0.0  # not analysed in this run
                outcomes[i] = hit
    fresh: set[int] = set()
    provisional = _scopes(groups, lambda i: (outcomes[i].table.script_names  # type: ignore[union-attr]
                                             if outcomes[i] is not None
                                             else semantic.guess_script_names(work[i][0])))
    pool = _Pool(jobs, start_method)
    _fill(work, where, outcomes, [i for i, o in enumerate(outcomes) if o is None], provisional, pool, fresh)
    actual = _scopes(groups, lambda i: outcomes[i].table.script_names)  # type: ignore[union-attr]
    stale = [i for i, o in enumerate(outcomes)
             if o is not None and not still_holds(o, _scope_of(actual, where[i]))]
    _fill(work, where, outcomes, stale, actual, pool, fresh)
    if cache is not None:
        for i in sorted(fresh):
            cache.store(keys[i], outcomes[i])
    return [o for o in outcomes if o is not None]


def _scopes(groups: Sequence[Group], names_of: Callable[[int], dict[str, tuple[str, int]]]) -> Scopes:
    tables = tuple(semantic.scope_table((key, names_of(i)) for i, key in g.members.items()) for g in groups)
    return Scopes(tables, tuple(g.externals for g in groups))


def _scope_of(scopes: Scopes, where: Where) -> semantic.ScriptScope | None:
    return None if where is None else scopes.scope(*where)


@dataclass(frozen=True, slots=True)
class _Pool:
    """How outcomes are computed: at most `jobs` worker processes, started by `start_method`."""

    jobs: int
    start_method: str | None = None


def _fill(work: Sequence[Job], where: list[Where], outcomes: list[FileOutcome | None], todo: list[int],
          scopes: Scopes, pool: _Pool, fresh: set[int]) -> None:
    """Analyse the jobs `todo` against `scopes` into `outcomes`."""
    if not todo:
        return
    results = _compute([(work[i][0], work[i][1], where[i]) for i in todo], pool, scopes)
    for i, outcome in zip(todo, results, strict=True):
        outcomes[i] = outcome
        fresh.add(i)


_Task = tuple[str, Settings, Where]
_WORKER_SCOPES: Scopes | None = None  # a worker process's copy, set by `_start_worker`


def _start_worker(scopes: Scopes) -> None:
    global _WORKER_SCOPES
    _WORKER_SCOPES = scopes


def _run_task(task: _Task, scopes: Scopes | None = None) -> FileOutcome:
    text, settings, where = task
    scopes = scopes or _WORKER_SCOPES
    assert scopes is not None or where is None
    return analyse_text(text, settings, None if where is None or scopes is None else scopes.scope(*where))


def _compute(tasks: list[_Task], pool: _Pool, scopes: Scopes) -> list[FileOutcome]:
    jobs = min(pool.jobs, len(tasks))
    if jobs > 1 and sum(len(t) for t, _, _ in tasks) >= POOL_MIN_CHARS:
        from concurrent.futures.process import BrokenProcessPool  # only when needed (start-up)

        try:
            return _on_pool(tasks, jobs, scopes, pool.start_method)
        except (OSError, BrokenProcessPool):  # no processes here (sandbox, limits): do it here
            pass
    return [_run_task(task, scopes) for task in tasks]


def _on_pool(tasks: list[_Task], jobs: int, scopes: Scopes, start_method: str | None = None) -> list[FileOutcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Chunks amortise the inter-process round trips; several per worker balance the load.
    chunksize = max(1, len(tasks) // (jobs * 8))
    context = multiprocessing.get_context(start_method)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                             initargs=(scopes,)) as pool:
        return list(pool.map(_run_task, tasks, chunksize=chunksize))
