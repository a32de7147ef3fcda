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
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pathspec
import yaml

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.files.atomic import atomic_write
from codeai_lang.files.sources import SKIPPED_DIRS

PROJECT_FILE = "codeai.yaml"
CONFIG_CODE = "CAI601"
RULE_LEVELS = ("error", "warning", "info", "off")
# `externals` keys (plural, as a user writes them) → the declaration kind they name.
EXTERNAL_KINDS = {
    "events": "event", "integrations": "integration", "workflows": "workflow", "jobs": "job",
    "webhooks": "webhook", "roles": "role", "middleware": "middleware", "auth": "auth",
    "entities": "type", "functions": "function",
}
_VERSION = re.compile(r"[0-9]+\.[0-9]+")
_KEYS = ("dsl_version", "include", "exclude", "externals", "rules")

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
    cfg = ProjectConfig(text=text)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = mark.index if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        cfg.diagnostics.append(_diag(f"{PROJECT_FILE} is not valid YAML: {problem}", at, at + 1, text))
        return cfg
    if root is None:
        return cfg
    if not isinstance(root, yaml.MappingNode):
        cfg.diagnostics.append(_node_diag(root, f"{PROJECT_FILE} must be a mapping of settings "
                                                f"({', '.join(_KEYS)})", text))
        return cfg
    _Reader(cfg, text, versions).mapping(root)
    return cfg


def _diag(message: str, start: int, end: int, text: str) -> Diagnostic:
    start = max(0, min(start, len(text)))
    return Diagnostic(CONFIG_CODE, Severity.ERROR, message, start, max(start, min(end, len(text))))


def _node_diag(node: yaml.Node, message: str, text: str) -> Diagnostic:
    return _diag(message, node.start_mark.index, node.end_mark.index, text)


class _Reader:
    """Typed reading of the composed YAML, one diagnostic per wrong key or value."""

    def __init__(self, cfg: ProjectConfig, text: str, versions: Sequence[str]) -> None:
        self.cfg, self.text, self.versions = cfg, text, versions

    def error(self, node: yaml.Node, message: str) -> None:
        self.cfg.diagnostics.append(_node_diag(node, message, self.text))

    def mapping(self, root: yaml.MappingNode) -> None:
        for key, value in root.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name not in _KEYS:
                self.error(key, f"unknown key '{name}' in {PROJECT_FILE} (expected one of: {', '.join(_KEYS)})")
            elif name == "dsl_version":
                self.dsl_version(value)
            elif name in ("include", "exclude"):
                globs = self.strings(value, name)
                if globs is not None:
                    setattr(self.cfg, name, globs)
            elif name == "externals":
                self.externals(value)
            else:
                self.rules(value)

    def dsl_version(self, node: yaml.Node) -> None:
        names = self.versions
        # `dsl_version: 1.1` is a YAML float: take the text as written, as the user means it.
        ok = isinstance(node, yaml.ScalarNode) and \
            (node.value in names if names else bool(_VERSION.fullmatch(node.value)))
        if not ok:
            shown = node.value if isinstance(node, yaml.ScalarNode) else "a " + type(node).__name__
            self.error(node, f"dsl_version: unknown DSL version '{shown}' "
                       f"(known: {', '.join(names) or 'e.g. 1.1'})")
            return
        self.cfg.dsl_version = node.value

    def strings(self, node: yaml.Node, what: str) -> list[str] | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what}: expected a list of globs, e.g. [\"src/**/*.cai\"]")
            return None
        out = []
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode) or not item.tag.endswith(":str") or not item.value:
                self.error(item, f"{what}: expected a glob string")
            else:
                out.append(item.value)
        return out

    def externals(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, "externals: expected a mapping such as `events: [\"billing.*\"]`")
            return
        for key, value in node.value:
            kind = EXTERNAL_KINDS.get(key.value) if isinstance(key, yaml.ScalarNode) else None
            if kind is None:
                self.error(key, f"externals: unknown kind '{getattr(key, 'value', '?')}' (expected one of: "
                           f"{', '.join(EXTERNAL_KINDS)})")
                continue
            globs = self.strings(value, f"externals.{key.value}")
            if globs is not None:
                self.cfg.externals.setdefault(kind, []).extend(globs)

    def rules(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, "rules: expected a mapping such as `CAI206: off`")
            return
        for key, value in node.value:
            code = key.value if isinstance(key, yaml.ScalarNode) else ""
            if not (len(code) == 6 and code.startswith("CAI") and code[3:].isdigit()):
                self.error(key, f"rules: '{code}' is not a diagnostic code (e.g. CAI206)")
                continue
            # YAML 1.1 reads a bare `off` as false: accept it as the word the user wrote.
            level = "off" if isinstance(value, yaml.ScalarNode) and value.value.lower() in ("off", "false") \
                else getattr(value, "value", None)
            if not isinstance(level, str) or level.lower() not in RULE_LEVELS:
                self.error(value, f"rules.{code}: expected one of: {', '.join(RULE_LEVELS)}")
                continue
            self.cfg.rules[code] = level.lower()


# -- discovery -------------------------------------------------------------------------------------


def _spec(globs: Iterable[str]) -> pathspec.PathSpec:
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
