"""`codeai init` (a commented codeai.yaml) and `codeai symbols` (a project's declarations)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from codeai_lang.analysis.project import ProjectAnalysis
from codeai_lang.cli import app
from codeai_lang.cli.language_cmds import EXIT_INVALID, SimpleFormat, fail
from codeai_lang.cli.project_load import display
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.files.project import PROJECT_FILE, project_for, write_template
from codeai_lang.files.sources import SourceError, read_source
from codeai_lang.syntax.registry import default_registry


@app.command()
def init(
    directory: Annotated[str, typer.Argument(help="Where to write codeai.yaml")] = ".",
) -> None:
    """Write a commented codeai.yaml, making DIRECTORY a project (never overwrites one)."""
    target = Path(directory)
    if not target.is_dir():
        raise fail(f"{directory}: not a directory")
    try:
        written = write_template(target, default_registry().latest)
    except FileExistsError:
        raise fail(f"{display(target / PROJECT_FILE)} already exists; not overwritten", EXIT_INVALID) from None
    except OSError as exc:
        raise fail(f"{display(target / PROJECT_FILE)}: {exc.strerror or exc}") from exc
    typer.echo(f"wrote {display(written)}")


@app.command()
def symbols(
    path: Annotated[str, typer.Argument(help="A file or directory of the project")] = ".",
    output: Annotated[SimpleFormat, typer.Option("--output", "-o", help="text or json")] = SimpleFormat.text,
) -> None:
    """List the declarations of PATH's project: kind, name, file and range."""
    where = Path(path)
    if not where.exists():
        raise fail(f"{path}: no such file or directory")
    project = project_for(where, versions=default_registry().names)
    analysis = ProjectAnalysis(project.config)
    for file in project.files():
        try:
            source = read_source(display(file))
        except SourceError as exc:
            raise fail(str(exc)) from exc
        analysis.add(source.path, source.text, source.decode_error)
    rows = [_row(analysis, d.path, d.kind, d.name, d.start, d.end) for d in analysis.index.declarations()]
    if output is SimpleFormat.json:
        sys.stdout.write(json.dumps({"project": display(project.root) if not project.standalone else None,
                                     "symbols": rows}, ensure_ascii=False) + "\n")
        return
    for r in rows:
        start = r["range"]["start"]
        typer.echo(f"{r['kind']:<12} {r['name']}  {r['path']}:{start['line']}:{start['column']}")


def _row(analysis: ProjectAnalysis, path: str, kind: str, name: str, start: int, end: int) -> dict[str, Any]:
    index = _index(analysis, path)
    s, e = index.position(start), index.position(end)
    return {"kind": kind, "name": name, "path": path,
            "range": {"start": {"line": s.line, "column": s.column, "offset": s.offset},
                      "end": {"line": e.line, "column": e.column, "offset": e.offset}}}


_INDEXES: dict[str, LineIndex] = {}


def _index(analysis: ProjectAnalysis, path: str) -> LineIndex:
    if path not in _INDEXES:
        _INDEXES[path] = LineIndex(analysis.files[path].text)
    return _INDEXES[path]
