"""Loading the projects of the paths a command was given (projects.md §3).

A file argument is checked against its whole project; a directory argument checks every
file of the project(s) under it (files a project leaves out — `.gitignore`d, `exclude`d —
are skipped there, but a file named explicitly is always checked). Files with no
`codeai.yaml` above them are standalone, exactly as before projects existed.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import typer

from codeai_lang.analysis.project import ProjectAnalysis
from codeai_lang.analysis.validator import validate as validate_text
from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.files.project import Project, project_for, resolved
from codeai_lang.files.sources import STDIN, SourceError, discover, read_source
from codeai_lang.output.formats import FileReport
from codeai_lang.syntax.registry import default_registry


@dataclass
class LoadedProject:
    project: Project
    analysis: ProjectAnalysis
    requested: list[str] = field(default_factory=list)  # keys (display paths) asked for
    unreadable: dict[str, SourceError] = field(default_factory=dict)  # requested, not readable

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
    """The projects of `paths`, each analysed in full, and the standalone files (in order)."""
    versions = default_registry().names
    cache: dict[Path, Project] = {}
    loaded: dict[Path, LoadedProject] = {}
    members: dict[Path, set[Path]] = {}
    standalone: list[str] = []
    for path, explicit in requested_files(paths):
        if path == STDIN:
            standalone.append(path)
            continue
        project = project_for(Path(path), cache, versions)
        if project.standalone:
            standalone.append(path)
            continue
        if project.root not in loaded:
            members[project.root] = {resolved(p) for p in project.files()}
            loaded[project.root] = LoadedProject(project, ProjectAnalysis(project.config, version=dsl_version))
        if explicit or resolved(Path(path)) in members[project.root]:
            loaded[project.root].requested.append(path)
    for root, lp in loaded.items():
        _read_project(lp, members[root])
    return list(loaded.values()), standalone


def _read_project(lp: LoadedProject, members: set[Path]) -> None:
    """Analyse every file of the project; requested files keep the spelling they were given.

    The cyclic garbage collector is paused meanwhile: until `settle`, the ASTs of the files
    that use other files' functions stay alive, and its full passes over them (again and
    again, as the heap grows) cost more than the analysis itself on a 2,000-file project."""
    gc.disable()
    try:
        _read_all(lp, members)
    finally:
        gc.enable()


def _read_all(lp: LoadedProject, members: set[Path]) -> None:
    keys = {resolved(Path(p)): p for p in lp.requested}
    for full in sorted(members | set(keys)):
        key = keys.get(full) or display(full)
        try:
            source = read_source(key)
        except SourceError as exc:
            if key in lp.requested:
                lp.unreadable[key] = exc
            continue  # an unreadable file nobody asked about: it declares nothing
        if source.decode_error is not None:
            lp.analysis.add(key, source.text, source.decode_error)
        else:
            lp.analysis.add(key, source.text)
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


def standalone_report(path: str, dsl_version: str | None) -> FileReport:
    """Read and validate one file on its own (a decoding problem is its only diagnostic)."""
    source = read_source(path)
    if source.decode_error is not None:
        return FileReport(path, source.text, [source.decode_error], None, None)
    started = time.perf_counter()
    result = validate_text(source.text, version=dsl_version)
    elapsed = (time.perf_counter() - started) * 1000
    doc = result.document
    return FileReport(path, source.text, result.diagnostics, doc.version, doc.version_source, elapsed)


def unreadable_report(path: str, exc: SourceError) -> FileReport:
    """A file that cannot be read: reported in its place (CAI005), the run goes on."""
    typer.echo(f"codeai: error: {exc}", err=True)
    reason = str(exc).removeprefix(f"{path}: ")
    diag = Diagnostic("CAI005", Severity.ERROR, f"cannot read this file: {reason}", 0, 0)
    return FileReport(path, "", [diag], None, None)


def all_reports(paths: list[str], dsl_version: str | None) -> tuple[list[FileReport], int]:
    """Reports for every requested file, in the order the files were found, and how many
    could not be read; a project's codeai.yaml (when it has problems) comes just before the
    project's first file."""
    projects, standalone = load_projects(paths, dsl_version)
    reports: dict[str, FileReport] = {}
    before: dict[str, FileReport] = {}
    unreadable = 0
    for lp in projects:
        reports.update(project_reports(lp))
        unreadable += len(lp.unreadable)
        cfg = config_report(lp)
        if cfg is not None and lp.requested:
            before[lp.requested[0]] = cfg
    for path in standalone:
        if path not in reports:
            try:
                reports[path] = standalone_report(path, dsl_version)
            except SourceError as exc:
                reports[path] = unreadable_report(path, exc)
                unreadable += 1
    out: list[FileReport] = []
    for path, _ in requested_files(paths):
        if path in before:
            out.append(before.pop(path))
        if path in reports:
            out.append(reports.pop(path))
    return out, unreadable
