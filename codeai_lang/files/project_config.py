"""Reading `codeai.yaml` (projects.md §1): its own module so that YAML is imported only by
runs that meet a project file, never by `codeai validate` of a standalone file."""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.files.project import CONFIG_CODE, EXTERNAL_KINDS, PROJECT_FILE, RULE_LEVELS, ProjectConfig

_VERSION = re.compile(r"[0-9]+\.[0-9]+")
_KEYS = ("dsl_version", "include", "exclude", "externals", "rules")


def read_config(text: str, versions: Sequence[str] = ()) -> ProjectConfig:
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
