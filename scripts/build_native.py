"""Compile the hot modules (parser, layout, checks) with mypyc into codeai_lang/_native/ (optional).

Run by `make setup`. Never required and never fails the caller: without mypyc or a C compiler,
or on any build error, it prints one line and exits 0, and the pure-Python modules are used
(see codeai_lang/syntax/native.py, which also explains the manifest and the staleness guard).

    python scripts/build_native.py [--out DIR] [--strict]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codeai_lang.syntax import native  # noqa: E402 - after the path set-up above

# Runs in a child interpreter, in a scratch directory (mypyc writes its C files to ./build).
_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
setup(name="codeai-native", script_args=["build_ext", "--build-lib", sys.argv[1]],
      ext_modules=mypycify(sys.argv[2:], opt_level="3", group_name={group!r}))
"""


def build(out: Path) -> None:
    """Compile into `out` (replaced whole; the manifest is written last)."""
    sources = [str(ROOT / "codeai_lang" / rel) for rel in native.COMPILED]
    hashes = native.source_hashes(ROOT / "codeai_lang")
    with tempfile.TemporaryDirectory(prefix="codeai-native-") as tmp:
        lib = Path(tmp) / "lib"
        proc = subprocess.run(
            [sys.executable, "-c", _SETUP.format(group=native.GROUP), str(lib), *sources],
            cwd=tmp, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "MYPY_CACHE_DIR": str(Path(tmp) / "cache")})
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-12:] or ["no output"]
            raise RuntimeError(f"mypyc failed: {tail[-1][:160]}\n" + "\n".join(tail))
        if native.source_hashes(ROOT / "codeai_lang") != hashes:
            raise RuntimeError("a source changed during the build")
        staged = Path(tmp) / "staged"
        staged.mkdir()
        for so in (lib / "codeai_lang").rglob("*" + native.abi_tag().split(" ", 1)[1]):
            target = staged / so.relative_to(lib / "codeai_lang")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(so, target)
        native.write_manifest(staged, hashes)
        _install(staged, out)


def _install(staged: Path, out: Path) -> None:
    """Swap the new build in: no manifest (so nothing selects the build) while files change;
    each file is replaced by a rename, never rewritten (a running process may have it mapped)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / native.MANIFEST).unlink(missing_ok=True)
    for old in sorted(out.rglob("*"), reverse=True):  # files before their folders
        if old.is_dir():
            old.rmdir()
        else:
            old.unlink()
    for new in sorted(staged.rglob("*"), key=lambda p: p.name == native.MANIFEST):  # manifest last
        if new.is_dir():
            continue
        target = out / new.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(new, target.with_name(target.name + ".tmp"))
        os.replace(target.with_name(target.name + ".tmp"), target)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=native.NATIVE_DIR)
    ap.add_argument("--strict", action="store_true", help="exit 1 if the build fails")
    args = ap.parse_args()
    try:
        build(args.out)
    except Exception as exc:  # any failure: the pure modules stay in use
        first, _, rest = str(exc).partition("\n")
        print(f"note: compiled parser not built ({first}); using pure Python", file=sys.stderr)
        if rest and args.strict:
            print(rest, file=sys.stderr)
        return 1 if args.strict else 0
    print(f"compiled parser modules built in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
