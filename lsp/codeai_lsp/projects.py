"""Projects in the language server (projects.md §4).

Each directory holding a `codeai.yaml`, and each workspace folder, is a project; a file open
outside any is standalone (a project of one file). A project's files are keyed by URI in one
`semantic.ProjectIndex`: open documents contribute the table of their live analysis, the
others the table of their text on disk (kept compact: names and spans, no AST). An edit
rebuilds one table; the open files whose diagnostics that can change are the index's
`dependents` of the names whose declarations changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from codeai_lang.analysis import semantic
from codeai_lang.analysis.batch import Group, Settings, analyse_all, default_jobs
from codeai_lang.analysis.validator import Result, validate
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.diagnostics.positions import LineIndex
from codeai_lang.files.cache import ResultCache
from codeai_lang.files.project import (
    PROJECT_FILE,
    Project,
    ProjectConfig,
    discover_project_files,
    find_root,
    load_config,
)
from codeai_lang.syntax.registry import Registry


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


@dataclass
class ClosedFile:
    """A project file not open in the editor: its text and its own (local) diagnostics."""

    text: str
    local: list[Diagnostic]
    lines: LineIndex | None = None

    def line_index(self) -> LineIndex:
        if self.lines is None:
            self.lines = LineIndex(self.text)
        return self.lines


@dataclass
class LspProject:
    root: Path | None  # None: a standalone file
    config: ProjectConfig
    reg: Registry
    index: semantic.ProjectIndex = field(init=False)
    closed: dict[str, ClosedFile] = field(default_factory=dict)
    config_error: bool = False

    def __post_init__(self) -> None:
        self.index = semantic.ProjectIndex(semantic.Externals(
            {semantic.namespace_of(k): list(v) for k, v in self.config.externals.items()}))
        self.config_error = bool(self.config.diagnostics)

    # -- files not open ---------------------------------------------------------------------
    def load(self, open_texts: Mapping[str, str]) -> None:
        """Analyse every file of the project from disk except the open ones (`open_texts`:
        uri → the editor's text, which counts for the names the others see) the way
        `codeai validate` does: cached results, the rest on worker processes."""
        if self.root is None:
            return
        closed: list[tuple[str, str]] = []
        for path in sorted(discover_project_files(self.root, self.config)):
            uri = path.as_uri()
            if uri in open_texts:
                continue
            text = _read(path)
            if text is not None:
                closed.append((uri, text))
        texts = closed + [(u, t) for u, t in open_texts.items() if (p := uri_to_path(u)) and self.contains(p)]
        settings = Settings(None, self.config.dsl_version, navigation=True)
        group = Group({i: uri for i, (uri, _) in enumerate(texts)}, self.index.externals)
        outcomes = analyse_all([(text, settings) for _, text in texts], jobs=default_jobs(),
                               cache=ResultCache(), groups=[group], start_method="spawn")
        for (uri, text), outcome in zip(closed, outcomes, strict=False):
            self.closed[uri] = ClosedFile(text, outcome.local)
            self.index.set_file(uri, outcome.table)

    def read_closed(self, uri: str, path: Path) -> bool:
        """(Re)analyse a file from disk; False if it cannot be read (then it is dropped)."""
        text = _read(path)
        if text is None:
            self.drop(uri)
            return False
        result = validate(text, registry=self.reg, default_version=self.config.dsl_version,
                          external=self.index.script_scope(uri))
        self.closed[uri] = ClosedFile(text, result.local)
        self.index.set_file(uri, result.table.compact())
        return True

    def drop(self, uri: str) -> None:
        self.closed.pop(uri, None)
        self.index.remove_file(uri)

    def contains(self, path: Path) -> bool:
        """Whether a file on disk belongs here (below the root, not in a nested project)."""
        if self.root is None:
            return False
        return Project(self.root, self.config, self.root / PROJECT_FILE).contains(path)

    # -- results -------------------------------------------------------------------------------
    def set_open(self, uri: str, result: Result) -> frozenset[str]:
        """Enter an open document's analysis; the URIs of the other files that may see a
        different project because of it (its declared names changed)."""
        self.closed.pop(uri, None)
        # The new table keeps the records of the declarations an edit did not touch: what
        # other files can see differently comes from the ones that went and came alone.
        gone, fresh = self.index.set_file(uri, result.table)
        if not gone and not fresh:
            return frozenset()
        old = frozenset(d.key for d in gone)
        new = frozenset(d.key for d in fresh)
        typed_before = {(d.key, d.fields) for d in gone if d.fields is not None}
        typed_now = {(d.key, d.fields) for d in fresh if d.fields is not None}
        retyped = frozenset(key[1] for key, _ in typed_before ^ typed_now if key in old and key in new)
        if old == new and not retyped:
            return frozenset()
        return frozenset(self.index.dependents(uri, old, new, retyped))

    def external(self, uri: str) -> tuple[semantic.ScriptScope | None, object]:
        """The other files' top-level script names, and a token that changes with them."""
        if len(self.index.tables) <= 1 and not self.config.externals.get("function"):
            return None, ()
        return self.index.script_scope(uri), (self.index.script_token(), uri)

    def diagnostics(self, uri: str, local: list[Diagnostic]) -> list[Diagnostic]:
        diags = list(local)
        if uri in self.index.tables:
            diags += semantic.resolve_file(self.index, uri)
        diags.sort(key=Diagnostic.sort_key)
        return semantic.apply_rules(diags, self.config.rules)


def result_id(items: Iterable[object]) -> str:
    """A stable id of a diagnostics report (equal reports, equal ids)."""
    return hashlib.sha1(repr(list(items)).encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Projects:
    """Every project the server knows, found from workspace folders and `codeai.yaml` files."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.folders: list[Path] = []
        self.by_root: dict[Path, LspProject] = {}
        self.standalone: dict[str, LspProject] = {}
        self.on_load: Callable[[Path, ProjectConfig], None] | None = None  # a project was (re)loaded

    def root_for(self, uri: str) -> Path | None:
        path = uri_to_path(uri)
        if path is None:
            return None
        root = find_root(path.parent)
        if root is not None:
            return root
        folders = [f for f in self.folders if f == path.parent or f in path.parents]
        return max(folders, key=lambda f: len(f.parts)) if folders else None

    def project_for(self, uri: str, open_texts: Callable[[], Mapping[str, str]]) -> LspProject:
        """The project of `uri`, loaded on first use (`open_texts`: the open documents)."""
        root = self.root_for(uri)
        if root is None:
            project = self.standalone.get(uri)
            if project is None:
                project = self.standalone[uri] = LspProject(None, ProjectConfig(), self.reg)
            return project
        project = self.by_root.get(root)
        if project is None:
            config = self.config_at(root)
            project = self.by_root[root] = LspProject(root, config, self.reg)
            project.load(open_texts())
            if self.on_load is not None:
                self.on_load(root, config)
        return project

    def all(self) -> list[LspProject]:
        return [*self.by_root.values(), *self.standalone.values()]

    def config_at(self, root: Path) -> ProjectConfig:
        """The configuration in `root` as it is on disk now (empty if there is none)."""
        path = root / PROJECT_FILE
        return load_config(path, self.reg.names) if path.is_file() else ProjectConfig()

    def forget(self, root: Path) -> LspProject | None:
        """Drop a project (its codeai.yaml changed): it is rebuilt when next needed."""
        return self.by_root.pop(root, None)
