"""Loading the projects of the paths a command was given (projects.md §3).

A file argument is checked against its whole project; a directory argument checks every
file of the project(s) under it (files a project leaves out — `.gitignore`d, `exclude`d —
are skipped there, but a file named explicitly is always checked). Files with no
`codeai.yaml` above them are standalone, exactly as before projects existed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import typer

from codeai_lang.analysis.batch import FileOutcome, Group, Job, Settings, analyse_all, default_jobs
from codeai_lang.analysis.project import ProjectAnalysis
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.files.cache import ResultCache
from codeai_lang.files.project import Project, Resolver, project_for, resolved
from codeai_lang.files.sources import STDIN, Source, SourceError, discover, read_source
from codeai_lang.output.formats import FileReport
from codeai_lang.syntax.registry import default_registry


@dataclass
class LoadedProject:
    """A project found for the paths given: its analysis and the files asked for and read."""

    project: Project
    analysis: ProjectAnalysis
    requested: list[str] = field(default_factory=list)  # keys (display paths) asked for
    unreadable: dict[str, SourceError] = field(default_factory=dict)  # requested, not readable
    members: set[Path] = field(default_factory=set)  # the project's files (resolved)
    sources: list[tuple[str, Source]] = field(default_factory=list)  # read, not yet analysed

    @property
    def settings(self) -> Settings:
        """What the analysis of each file depends on besides its text (the cache key)."""
        return Settings(self.analysis.version, self.analysis.config.dsl_version)

    @property
    def label(self) -> str:
        return display(self.project.root)


def display(path: Path) -> str:
    """A path as shown to the user: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith("..") else rel


def requested_files(paths: list[str]) -> list[tuple[str, bool]]:
    """(path, named explicitly) for every file the arguments denote; SourceError if one is
    missing."""
    out: list[tuple[str, bool]] = []
    for raw in paths:
        if raw != STDIN and Path(raw).is_dir():
            out += [(f, False) for f in discover([raw])]
        else:  # a missing file is kept, to be reported with the others (CAI005)
            out += [(f, True) for f in discover([raw], keep_missing=True)]
    return out


def load_projects(paths: list[str], dsl_version: str | None) -> tuple[list[LoadedProject], list[str]]:
    """The projects of `paths`, each with its files read (not yet analysed: see
    `analyse_projects`), and the standalone files (in order)."""
    versions = default_registry().names
    cache: dict[Path, Project] = {}
    by_dir: dict[str, Project] = {}  # a folder's files share its project (found walking up once)
    resolve = Resolver()
    loaded: dict[Path, LoadedProject] = {}
    standalone: list[str] = []
    for path, explicit in requested_files(paths):
        if path == STDIN:
            standalone.append(path)
            continue
        project = by_dir.get(os.path.dirname(path)) or project_for(Path(path), cache, versions)
        if project.standalone:
            standalone.append(path)
            continue
        by_dir[os.path.dirname(path)] = project
        if project.root not in loaded:
            loaded[project.root] = LoadedProject(project, ProjectAnalysis(project.config, version=dsl_version),
                                                 members={resolve(p) for p in project.files()})
        if explicit or resolve(Path(path)) in loaded[project.root].members:
            loaded[project.root].requested.append(path)
    for lp in loaded.values():
        _read_project(lp, resolve)
    return list(loaded.values()), standalone


def _read_project(lp: LoadedProject, resolve: Callable[[Path], Path] = resolved) -> None:
    """Read every file of the project; requested files keep the spelling they were given."""
    keys = {resolve(Path(p)): p for p in lp.requested}
    for full in sorted(lp.members | set(keys)):
        key = keys.get(full) or display(full)
        try:
            lp.sources.append((key, read_source(key)))
        except SourceError as exc:
            if key in lp.requested:
                lp.unreadable[key] = exc
            # else: an unreadable file nobody asked about: it declares nothing


def analyse_projects(projects: list[LoadedProject], standalone: dict[str, Source], dsl_version: str | None,
                     *, jobs: int | None = None, use_cache: bool = True) -> dict[str, FileOutcome]:
    """Analyse every file read, all at once (cache, then worker processes); settle each
    project (names resolved across its files). Returns the standalone files' outcomes."""
    solo = Settings(dsl_version)
    work: list[Job] = []
    groups: list[Group] = []
    for lp in projects:
        members: dict[int, str] = {}
        for key, src in lp.sources:
            if src.decode_error is None:
                members[len(work)] = key
                work.append((src.text, lp.settings))
        groups.append(Group(members, lp.analysis.index.externals))
    work += [(src.text, solo) for src in standalone.values() if src.decode_error is None]
    outcomes = iter(analyse_all(work, jobs=jobs or default_jobs(),
                                cache=ResultCache() if use_cache else None, groups=groups))
    # The cyclic garbage collector is paused meanwhile: until `settle`, the ASTs of the files
    # that use other files' functions stay alive, and its full passes over them (again and
    # again, as the heap grows) cost more than the analysis itself on a 2,000-file project.
    gc.disable()
    try:
        _enter_outcomes(projects, outcomes)
    finally:
        gc.enable()
    return {path: next(outcomes) for path, src in standalone.items() if src.decode_error is None}


def _enter_outcomes(projects: list[LoadedProject], outcomes: Iterator[FileOutcome]) -> None:
    for lp in projects:
        for key, src in lp.sources:
            if src.decode_error is not None:
                lp.analysis.add(key, src.text, src.decode_error)
            else:
                lp.analysis.add_outcome(key, src.text, next(outcomes))
        lp.sources = []
        lp.analysis.settle()


def config_report(lp: LoadedProject) -> FileReport | None:
    """A report for the project's codeai.yaml when it has problems."""
    cfg = lp.project.config
    if not cfg.diagnostics or lp.project.config_path is None:
        return None
    return FileReport(display(lp.project.config_path), cfg.text, list(cfg.diagnostics), None, None,
                      project=lp.label)


def project_reports(lp: LoadedProject) -> dict[str, FileReport]:
    """The reports of a project's requested files, by path."""
    analysis = lp.analysis

    def text_of(path: str) -> str | None:
        fa = analysis.files.get(path)
        return fa.text if fa is not None else None

    out: dict[str, FileReport] = {}
    for key in lp.requested:
        if key in lp.unreadable:
            out[key] = unreadable_report(key, lp.unreadable[key])
            continue
        fa = analysis.files[key]
        out[key] = FileReport(key, fa.text, analysis.diagnostics(key), fa.version,
                              fa.version_source, fa.elapsed_ms, project=lp.label,
                              text_of=text_of)
    return out


def standalone_report(path: str, source: Source, outcome: FileOutcome | None) -> FileReport:
    """One file on its own (a decoding problem is its only diagnostic)."""
    if source.decode_error is not None or outcome is None:
        return FileReport(path, source.text, [source.decode_error] if source.decode_error else [], None, None)
    return FileReport(path, source.text, outcome.diagnostics, outcome.version, outcome.version_source,
                      outcome.elapsed_ms)


def unreadable_report(path: str, exc: SourceError) -> FileReport:
    """A file that cannot be read: reported in its place (CAI005), the run goes on."""
    typer.echo(f"codeai: error: {exc}", err=True)
    reason = str(exc).removeprefix(f"{path}: ")
    diag = Diagnostic("CAI005", Severity.ERROR, f"cannot read this file: {reason}", 0, 0)
    return FileReport(path, "", [diag], None, None)


def all_reports(paths: list[str], dsl_version: str | None, *, jobs: int | None = None,
                use_cache: bool = True) -> tuple[list[FileReport], int]:
    """Reports for every requested file, in the order the files were found, and how many
    could not be read; a project's codeai.yaml (when it has problems) comes just before the
    project's first file. `jobs`/`use_cache`: see `analyse_projects`."""
    projects, standalone = load_projects(paths, dsl_version)
    in_projects = {p for lp in projects for p in lp.requested}
    reports: dict[str, FileReport] = {}
    solo: dict[str, Source] = {}
    unreadable = 0
    for path in standalone:
        if path in in_projects or path in solo or path in reports:
            continue
        try:
            solo[path] = read_source(path)
        except SourceError as exc:
            reports[path] = unreadable_report(path, exc)
            unreadable += 1
    outcomes = analyse_projects(projects, solo, dsl_version, jobs=jobs, use_cache=use_cache)
    before: dict[str, FileReport] = {}
    for lp in projects:
        reports.update(project_reports(lp))
        unreadable += len(lp.unreadable)
        cfg = config_report(lp)
        if cfg is not None and lp.requested:
            before[lp.requested[0]] = cfg
    for path, src in solo.items():
        reports[path] = standalone_report(path, src, outcomes.get(path))
    out: list[FileReport] = []
    for path, _ in requested_files(paths):
        if path in before:
            out.append(before.pop(path))
        if path in reports:
            out.append(reports.pop(path))
    return out, unreadable
