"""`codeai version`, `codeai parse`, `codeai validate`."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from typing import Annotated, Any

import typer

from codeai_lang import __version__
from codeai_lang.cli import app
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.files.sources import SourceError, discover, read_source
from codeai_lang.output.formats import RENDERERS, FileReport, diagnostic_json, render_text
from codeai_lang.syntax.registry import default_registry
from codeai_lang.syntax.versioned_parse import parse_document

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"
    junit = "junit"
    github_summary = "github-summary"


class SimpleFormat(str, Enum):
    text = "text"
    json = "json"


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print `codeai: error: …` to stderr and return the Exit to raise."""
    typer.echo(f"codeai: error: {message}", err=True)
    return typer.Exit(code)


# A file that could not be read at all (missing, unreadable, a FIFO or socket): reported as
# that file's only diagnostic, so machine-readable output stays complete.
UNREADABLE = "CAI005"


def discover_or_fail(paths: list[str], *, keep_missing: bool = False) -> list[str]:
    """The .cai files under PATHs; no files at all (or a missing path, unless `keep_missing`:
    then it is listed for the caller to report per file) is a usage error."""
    try:
        files = list(discover(paths, keep_missing=keep_missing))
    except SourceError as exc:
        raise fail(str(exc)) from exc
    if not files:
        raise fail(f"no .cai files found in {', '.join(paths)}")
    return files


def check_dsl_version(version: str | None) -> None:
    if version is not None and default_registry().get(version) is None:
        known = ", ".join(default_registry().names)
        raise fail(f"unknown DSL version '{version}' (known: {known})")


@app.command()
def version(
    output: Annotated[SimpleFormat, typer.Option("--output", "-o", help="text or json")] = SimpleFormat.text,
) -> None:
    """Print the toolchain version and the DSL versions it supports."""
    reg = default_registry()
    if output is SimpleFormat.json:
        typer.echo(json.dumps({"version": __version__, "dsl_versions": reg.names,
                               "latest_dsl": reg.latest}))
        return
    typer.echo(f"codeai {__version__}")
    typer.echo(f"DSL versions: {', '.join(reg.names)} (latest {reg.latest})")


@app.command()
def parse(
    file: Annotated[str, typer.Argument(help="A .cai file, or - for stdin")],
    dsl_version: Annotated[str | None, typer.Option("--dsl-version", help="Parse as this DSL version")] = None,
) -> None:
    """Print the AST of FILE as JSON (node kinds, fields and ranges)."""
    check_dsl_version(dsl_version)
    try:
        source = read_source(file)
    except SourceError as exc:
        raise fail(str(exc)) from exc
    index = LineIndex(source.text)
    if source.decode_error is not None:
        report = FileReport(file, source.text, [source.decode_error], None, None)
        _echo_json({"path": file, "ast": None, "diagnostics": [diagnostic_json(report, source.decode_error)]})
        raise typer.Exit(EXIT_INVALID)
    doc = parse_document(source.text, version=dsl_version)
    report = FileReport(file, source.text, doc.diagnostics, doc.version, doc.version_source)
    _echo_json({
        "path": file, "dsl_version": doc.version, "version_source": doc.version_source,
        "ast": _with_positions(doc.program.to_json(), index),
        "diagnostics": [diagnostic_json(report, d) for d in doc.diagnostics],
    })
    if any(d.is_error for d in doc.diagnostics):
        raise typer.Exit(EXIT_INVALID)


def _with_positions(node: Any, index: LineIndex) -> Any:
    """Replace offset pairs `range: [s, e]` by line/column/offset positions, iteratively.

    Every offset in the JSON becomes a position (a bare character offset would disagree with
    the byte offsets everywhere else as soon as the text has non-ASCII characters).
    """
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            rng = item.get("range")
            if isinstance(rng, list) and len(rng) == 2:
                item["range"] = {"start": _pos(index, rng[0]), "end": _pos(index, rng[1])}
            if isinstance(item.get("shell_start"), int):  # ExecBlock: where the shell text starts
                item["shell_start"] = _pos(index, item["shell_start"])
            stack.extend(v for k, v in item.items() if k != "range")
        elif isinstance(item, list):
            stack.extend(item)
    return node


def _pos(index: LineIndex, offset: int) -> dict[str, int]:
    p = index.position(offset)
    return {"line": p.line, "column": p.column, "offset": p.offset}


def _echo_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")


@app.command()
def validate(
    paths: Annotated[list[str], typer.Argument(help="Files or directories (recursed for *.cai); - for stdin")],
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="text, json, sarif, github, github-summary, gitlab or junit")] = OutputFormat.text,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Version per file, timing, source snippets")] = False,
    dsl_version: Annotated[str | None, typer.Option("--dsl-version", help="Check as this DSL version, overriding #version")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: CPU count)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache")] = False,
) -> None:
    """Check .cai files for syntax errors, semantic errors and deprecations.

    A file inside a project (a directory with codeai.yaml above it) is checked against the
    whole project: declarations in its other files resolve. Each file's own results are cached
    by content in the user cache directory (~/.cache/codeai); files not in the cache are
    checked on --jobs worker processes."""
    check_dsl_version(dsl_version)
    from codeai_lang.cli.project_load import all_reports  # the analysis stack: not for `version`

    discover_or_fail(paths, keep_missing=True)
    reports, unreadable = all_reports(paths, dsl_version, jobs=jobs, use_cache=not no_cache)
    if output is OutputFormat.text:
        sys.stdout.write(render_text(reports, verbose=verbose))
    else:
        # SARIF and GitLab paths are relative to the working directory (the repository root in CI).
        sys.stdout.write(RENDERERS[output.value](reports, dsl_versions=default_registry().names,
                                                 root=os.getcwd(), strict=strict, blob_url=_blob_url()))
    errors = any(not r.valid for r in reports)
    warnings = any(r.diagnostics for r in reports)
    if unreadable:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_INVALID if errors or (strict and warnings) else EXIT_OK)


def _blob_url() -> str | None:
    """Where GitHub shows this commit's files (for links in the job summary), if in Actions."""
    parts = [os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")]
    return f"{parts[0].rstrip('/')}/{parts[1]}/blob/{parts[2]}" if all(parts) else None
