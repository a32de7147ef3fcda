"""Projects: a directory holding `codeai.yaml`, and the `.cai` files below it (projects.md §1).

A file's project is found by walking up from the file to the nearest `codeai.yaml`; a file
with none above it is standalone (its own project). Files are discovered below the root,
skipping hidden directories, build directories, `.gitignore`d paths (matched with `pathspec`,
git's own rules), `exclude` globs, and directories that hold their own `codeai.yaml` (nested
projects, like a Terraform module or a Cargo workspace member).

A malformed `codeai.yaml` never raises: each problem is a CAI601 diagnostic with its place
in the file, and the valid parts of the file still apply.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.files.atomic import atomic_write
from codeai_lang.files.sources import SKIPPED_DIRS

if TYPE_CHECKING:  # pathspec is imported where a project's files are discovered
    import pathspec

PROJECT_FILE = "codeai.yaml"
CONFIG_CODE = "CAI601"
RULE_LEVELS = ("error", "warning", "info", "off")
# `externals` keys (plural, as a user writes them) → the declaration kind they name.
EXTERNAL_KINDS = {
    "events": "event", "integrations": "integration", "workflows": "workflow", "jobs": "job",
    "webhooks": "webhook", "roles": "role", "middleware": "middleware", "auth": "auth",
    "entities": "type", "functions": "function",
}

TEMPLATE = """\
# codeai.yaml: this directory is a CodeAI project. Every *.cai file below it shares one
# namespace: a declaration in one file can be used from any other (see docs/projects.md).
# Every key is optional.

# DSL version for files without a #version directive (default: inferred per file).
# dsl_version: "{latest}"

# Which files belong to the project (globs relative to this directory).
# Default: every *.cai file below it; .gitignore'd paths and hidden directories are skipped.
# include: ["src/**/*.cai"]
# exclude: ["**/fixtures/**"]

# Names provided outside this project, so that references to them resolve (globs).
# externals:
#   events: ["billing.*"]
#   integrations: ["analytics"]
#   workflows: []

# Per-code severity: error | warning | info | off
# rules:
#   CAI206: off
"""


@dataclass(slots=True)
class ProjectConfig:
    """The settings of `codeai.yaml` (all optional) and the problems found reading it."""

    dsl_version: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    externals: dict[str, list[str]] = field(default_factory=dict)  # declaration kind → globs
    rules: dict[str, str] = field(default_factory=dict)  # code → error | warning | info | off
    text: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class Project:
    """A project root and its configuration; `config_path` is None for a standalone file."""

    root: Path
    config: ProjectConfig
    config_path: Path | None = None
    standalone_file: Path | None = None

    @property
    def standalone(self) -> bool:
        return self.config_path is None

    def files(self) -> list[Path]:
        """The project's `.cai` files, in path order (the order "second declaration" uses)."""
        if self.standalone_file is not None:
            return [self.standalone_file]
        return sorted(discover_project_files(self.root, self.config))

    @cached_property
    def _include(self) -> pathspec.PathSpec | None:
        return _spec(self.config.include) if self.config.include else None

    def contains(self, path: Path) -> bool:
        """Whether `path` (a .cai file below the root) is one of the project's files."""
        if self.standalone_file is not None:
            return resolved(path) == resolved(self.standalone_file)
        try:
            rel = resolved(path).relative_to(resolved(self.root))
        except ValueError:
            return False
        nearest = find_root(path.parent)
        if nearest is not None and nearest != resolved(self.root):
            return False  # a nested project's file
        return _selected(rel.as_posix(), self._include, _spec(self.config.exclude)) and \
            not _ignored(self.root, resolved(path))


# -- finding and loading ------------------------------------------------------------------------


def resolved(path: Path) -> Path:
    """`path` made absolute, symlinks resolved where possible (a symlink loop or an unreadable
    link must not raise here: reading the file reports it)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


class Resolver:
    """`resolved` for many files: each directory is resolved once, and a file only when it is
    a symlink itself (one `lstat` instead of one per path component)."""

    def __init__(self) -> None:
        self._dirs: dict[str, Path] = {}
        self._done: dict[str, Path] = {}

    def __call__(self, path: Path) -> Path:
        spelled = str(path)
        done = self._done.get(spelled)
        if done is None:
            parent = os.path.dirname(spelled)
            folder = self._dirs.get(parent)
            if folder is None:
                folder = self._dirs[parent] = resolved(Path(parent or "."))
            full = folder / path.name
            done = self._done[spelled] = resolved(full) if os.path.islink(full) else full
        return done


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds a `codeai.yaml`."""
    here = resolved(start)
    if here.is_file() or here.suffix == ".cai":
        here = here.parent
    for d in (here, *here.parents):
        if (d / PROJECT_FILE).is_file():
            return d
    return None


def project_for(path: Path, cache: dict[Path, Project] | None = None,
                versions: Sequence[str] = ()) -> Project:
    """The project of a file or directory: the nearest `codeai.yaml` above it, else the
    file alone (a directory without one is a project of its own files, config-less)."""
    root = find_root(path)
    if root is None:
        if path.is_dir():
            return Project(resolved(path), ProjectConfig())
        return Project(resolved(path).parent, ProjectConfig(), standalone_file=path)
    if cache is not None and root in cache:
        return cache[root]
    project = Project(root, load_config(root / PROJECT_FILE, versions), root / PROJECT_FILE)
    if cache is not None:
        cache[root] = project
    return project


def load_config(path: Path, versions: Sequence[str] = ()) -> ProjectConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        cfg = ProjectConfig()
        cfg.diagnostics.append(Diagnostic(CONFIG_CODE, Severity.ERROR, f"cannot read {PROJECT_FILE}: {exc}", 0, 0))
        return cfg
    return parse_config(text, versions)


def parse_config(text: str, versions: Sequence[str] = ()) -> ProjectConfig:
    """Read `codeai.yaml` text; every problem is a CAI601 diagnostic at its place."""
    from codeai_lang.files.project_config import read_config  # YAML only where a project has one

    return read_config(text, versions)



# -- discovery -------------------------------------------------------------------------------------


def _spec(globs: Iterable[str]) -> pathspec.PathSpec:
    import pathspec

    return pathspec.PathSpec.from_lines("gitignore", globs)


def _selected(rel: str, include: pathspec.PathSpec | None, exclude: pathspec.PathSpec) -> bool:
    if include is not None and not include.match_file(rel):
        return False
    return not exclude.match_file(rel)


def discover_project_files(root: Path, config: ProjectConfig) -> Iterator[Path]:
    """`.cai` files of the project at `root` (any order; callers sort)."""
    include = _spec(config.include) if config.include else None
    exclude = _spec(config.exclude)
    root = resolved(root)
    ignores = _GitIgnores(root)
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        ignores.enter(here)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if d.startswith(".") or d in SKIPPED_DIRS or (sub / PROJECT_FILE).is_file():
                continue  # hidden, build output, or a nested project of its own
            if ignores.ignored(sub, is_dir=True) or exclude.match_file(sub.relative_to(root).as_posix() + "/"):
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if not name.endswith(".cai") or name.startswith("."):
                continue
            path = here / name
            if _selected(path.relative_to(root).as_posix(), include, exclude) and \
                    not ignores.ignored(path, is_dir=False):
                yield path


class _GitIgnores:
    """`.gitignore` files of the repository that apply below a root: those of the root's
    ancestors up to the repository top, and those met while walking down."""

    def __init__(self, root: Path) -> None:
        self.specs: dict[Path, pathspec.GitIgnoreSpec] = {}
        for d in _repo_ancestors(root):
            self._load(d)

    def _load(self, d: Path) -> None:
        file = d / ".gitignore"
        if d not in self.specs and file.is_file():
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            import pathspec

            self.specs[d] = pathspec.GitIgnoreSpec.from_lines(lines)

    def enter(self, d: Path) -> None:
        self._load(d)

    def ignored(self, path: Path, *, is_dir: bool) -> bool:
        for base, spec in self.specs.items():
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(rel + "/" if is_dir else rel):
                return True
        return False


def _repo_ancestors(root: Path) -> list[Path]:
    """`root` and its ancestors up to the enclosing git repository's top (just `root`
    outside a repository)."""
    chain: list[Path] = []
    for d in (root, *root.parents):
        chain.append(d)
        if (d / ".git").exists():
            return chain
    return [root]


def _ignored(root: Path, path: Path) -> bool:
    ignores = _GitIgnores(root)
    for d in reversed(path.parents):
        if d == root or root in d.parents:
            ignores.enter(d)
    return ignores.ignored(path, is_dir=False) or any(
        ignores.ignored(d, is_dir=True) for d in path.parents if root in d.parents)


def write_template(directory: Path, latest: str) -> Path:
    """Write a commented `codeai.yaml` into `directory`; FileExistsError if there is one."""
    target = directory / PROJECT_FILE
    if target.exists():
        raise FileExistsError(str(target))
    atomic_write(target, TEMPLATE.format(latest=latest))
    return target
