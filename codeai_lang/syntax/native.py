"""Compiled hot modules (mypyc), used only when built and current; pure Python otherwise.

`scripts/build_native.py` (run by `make setup`) compiles `COMPILED` into codeai_lang/_native/
(one folder per package: `_native/syntax/`, `_native/format/`), with a manifest of a checksum
(length, CRC-32, Adler-32) of every source the build read (`HASHED`: the compiled modules and the plain modules whose
classes they use). `select()` runs when `codeai_lang.syntax` (or `.format`) is imported, before
any of its modules: it puts the package's native folder first on the package's path only if
the manifest matches this interpreter and every source hash still matches, so an edited `.py`
is never shadowed by a stale build. `CODEAI_PURE_PYTHON=1` forces
the pure modules. Nothing here is required: no build, a failed build or a stale one all mean
the same pure-Python modules, with the same results.
"""

from __future__ import annotations

import os
import sys
import zlib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # codeai_lang/
NATIVE_DIR = PACKAGE_DIR / "_native"
MANIFEST = "manifest.txt"
GROUP = "codeai_lang.syntax._native"  # mypyc's shared library: `codeai_lang.syntax._native__mypyc`
# Compiled modules, relative to codeai_lang/: the lexer, the LALR driver and its AST builders,
# the formatter's layout engine, and the checks `validate` runs over every statement.
COMPILED = ("syntax/lexer.py", "syntax/parser.py", "syntax/ast_builder.py", "format/layout.py",
            "analysis/decl_checks.py", "analysis/expression_checks.py", "analysis/script_checks.py")
# Sources whose content the compiled code depends on: the compiled modules, and the plain
# modules whose names and classes they use with compiled-in types.
HASHED = (*COMPILED, "syntax/tokens.py", "syntax/nodes.py", "syntax/registry.py",
          "syntax/versioned_parse.py", "syntax/deprecations.py", "diagnostics/model.py",
          "analysis/schema.py", "analysis/semantic.py")
PURE_ENV = "CODEAI_PURE_PYTHON"

# Why the pure modules are in use ("" when the compiled ones are): set by the first `select()`.
reason: str | None = None


def abi_tag() -> str:
    """What a build must match: interpreter version and extension suffix."""
    return f"{sys.implementation.cache_tag} {EXTENSION_SUFFIXES[0]}"


def checksum(data: bytes) -> str:
    """Length, CRC-32 and Adler-32: detects any edit (this guards against staleness, not
    tampering), without importing hashlib (OpenSSL: ~3.7 MB resident in every process)."""
    return f"{len(data)}-{zlib.crc32(data):08x}-{zlib.adler32(data):08x}"


def source_hashes(root: Path | None = None) -> dict[str, str]:
    """The checksum of each `HASHED` source under `root` (default: this codeai_lang/)."""
    base = root if root is not None else PACKAGE_DIR
    return {rel: checksum((base / rel).read_bytes()) for rel in HASHED}


def write_manifest(native_dir: Path, sources: dict[str, str]) -> None:
    """The manifest: the ABI tag on the first line, then one `checksum path` line per source."""
    lines = [abi_tag(), *(f"{value} {rel}" for rel, value in sources.items())]
    (native_dir / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_manifest(native_dir: Path) -> tuple[str, dict[str, str]]:
    """(ABI tag, {path: checksum}); OSError or ValueError when missing or malformed."""
    abi, *rest = (native_dir / MANIFEST).read_text(encoding="utf-8").splitlines()
    sources = {}
    for line in rest:
        value, rel = line.split(" ", 1)
        sources[rel] = value
    return abi, sources


def why_not_native(native_dir: Path = NATIVE_DIR, root: Path | None = None) -> str:
    """"" if the build in `native_dir` may be used, else why not (one line)."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return f"{PURE_ENV} is set"
    try:
        abi, built = read_manifest(native_dir)
    except (OSError, ValueError):
        return "not built"
    if abi != abi_tag():
        return "built for another interpreter"
    try:
        current = source_hashes(root)
    except OSError:
        return "sources unreadable"
    if built != current:
        return "stale: a source changed since the build"
    return ""


def select(package_path: list[str], package: str) -> None:
    """Put the compiled modules of `package` (`syntax`, `format`, `analysis`) first on its path
    when usable.

    Decided once per process, so the packages never mix compiled and pure modules."""
    global reason
    if reason is None:
        reason = why_not_native()
    if not reason:
        package_path.insert(0, str(NATIVE_DIR / package))


def describe() -> str:
    """One line for benchmarks and reports: which modules run, and why."""
    if active():
        return "compiled (mypyc)"
    return f"pure Python ({reason or 'compiled modules not imported'})"


def active() -> bool:
    """Are the compiled modules the ones imported?"""
    lexer = sys.modules.get("codeai_lang.syntax.lexer")
    return lexer is not None and not str(getattr(lexer, "__file__", "")).endswith(".py")
