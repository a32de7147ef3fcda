"""The package layout is the architecture: a lower layer never imports a higher one.

Every import counts, including ones inside functions and under ``TYPE_CHECKING``: a lazy
import upward is still an upward dependency. docs/architecture.md explains each layer.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from cli_runner import ROOT

# rank: a package may import packages of a strictly lower rank (and itself).
LAYERS: dict[str, int] = {
    "codeai_lang.diagnostics": 0,
    "codeai_lang.syntax": 1,
    "codeai_lang.files": 1,
    "codeai_lang.analysis": 2,
    "codeai_lang.fixes": 3,
    "codeai_lang.format": 3,
    "codeai_lang.output": 4,
    "codeai_lang.platform": 5,
    "codeai_lsp": 6,
    "codeai_lang.cli": 7,
}
ALWAYS_ALLOWED = {"codeai_lang", "codeai_grammar"}  # the root (``__version__``) and the grammar data
SOURCE_ROOTS = {"codeai_lang": ROOT / "codeai_lang", "codeai_lsp": ROOT / "lsp" / "codeai_lsp"}


def _modules() -> dict[str, Path]:
    found = {}
    for top, base in SOURCE_ROOTS.items():
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((top, *parts))] = path
    return found


def _layer(module: str) -> str | None:
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def _imports(module: str, path: Path) -> list[str]:
    names = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names += [f"{base}.{a.name}" for a in node.names] if base in ALWAYS_ALLOWED else [base]
    return names


def _ours(name: str) -> bool:
    return name.split(".")[0] in {"codeai_lang", "codeai_lsp", "codeai_testing"}


def test_every_module_belongs_to_a_layer() -> None:
    loose = [m for m in _modules() if m not in ALWAYS_ALLOWED and _layer(m) is None]
    assert not loose, f"modules outside any layer (add the package to LAYERS and the docs): {loose}"


def _violations() -> list[str]:
    bad = []
    for module, path in _modules().items():
        mine = _layer(module)
        for name in filter(_ours, _imports(module, path)):
            if name.split(".")[0] == "codeai_testing":
                bad.append(f"{module} imports test-only {name}")
                continue
            theirs = _layer(name)
            if theirs is None or mine is None or theirs == mine:
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                bad.append(f"{module} ({mine}, rank {LAYERS[mine]}) imports {name} ({theirs}, rank {LAYERS[theirs]})")
    return bad


def test_no_layer_imports_upward_or_sideways() -> None:
    assert _violations() == []


def test_the_check_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "codeai_lang"
    (fake / "syntax").mkdir(parents=True)
    (fake / "syntax" / "__init__.py").write_text("")
    (fake / "syntax" / "lexer.py").write_text("from codeai_lang.analysis.validator import validate\n")
    monkeypatch.setitem(SOURCE_ROOTS, "codeai_lang", fake)
    monkeypatch.setitem(SOURCE_ROOTS, "codeai_lsp", tmp_path / "none")
    assert _violations() == ["codeai_lang.syntax.lexer (codeai_lang.syntax, rank 1) imports "
                             "codeai_lang.analysis.validator (codeai_lang.analysis, rank 2)"]


def test_pyproject_lists_every_package() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {m for m, p in _modules().items() if p.name == "__init__.py"} | {"codeai_grammar"}
    assert listed == on_disk
