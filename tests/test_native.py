"""The compiled parser modules (mypyc, codeai_lang/syntax/native.py): same results as pure
Python on every corpus file and on generated programs, used only when built and current,
never when CODEAI_PURE_PYTHON=1, and built by `make setup` (scripts/build_native.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import CORPUS, ROOT
from codeai_testing.parity import digest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_dsl_2_1 import programs_2_1
from test_lossless import programs

from codeai_lang.syntax import native

CORPUS_FILES = sorted(CORPUS.rglob("*.cai"))
PURE = {**os.environ, native.PURE_ENV: "1"}
_PROBE = ("import json, codeai_lang.syntax.lexer as l, codeai_lang.format.layout as f\n"
          "from codeai_lang.syntax import native\n"
          "print(json.dumps([l.__file__, f.__file__, native.reason, native.active()]))\n")
requires_native = pytest.mark.skipif(
    bool(native.reason), reason=f"compiled modules not in use here: {native.reason}")


def _probe(env: dict[str, str], cwd: Path = ROOT) -> tuple[str, str, str, bool]:
    """Which lexer and layout modules a fresh interpreter imports, and why."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         env=env, cwd=cwd, check=True)
    lexer, layout, reason, active = json.loads(out.stdout)
    return lexer, layout, reason, active


class Oracle:
    """A pure-Python interpreter answering `digest(text)` for each text sent."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "codeai_testing.parity"], env=PURE,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def digest(self, text: str) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(text) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    pure = Oracle()
    yield pure
    pure.close()


def _same(oracle: Oracle, text: str) -> None:
    ours = json.loads(json.dumps(digest(text)))  # tuples become lists, as in the oracle's
    theirs = oracle.digest(text)
    assert isinstance(theirs, dict)
    for part in ours:  # one part at a time: a readable failure
        assert ours[part] == theirs[part], f"compiled and pure differ in {part}"


def test_this_process_uses_the_compiled_modules_unless_told_not_to() -> None:
    """`make setup` built them (where a C compiler exists), and they are current."""
    if os.environ.get(native.PURE_ENV, "") not in ("", "0"):
        assert native.reason and not native.active()
        return
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler: the build falls back to pure Python")
    assert native.reason == "", f"compiled parser modules not in use: {native.reason}"
    assert native.active()


def test_pure_python_env_forces_the_pure_modules() -> None:
    lexer, layout, reason, active = _probe(PURE)
    assert lexer.endswith("syntax/lexer.py") and layout.endswith("format/layout.py")
    assert reason == f"{native.PURE_ENV} is set" and not active


@requires_native
def test_compiled_modules_are_the_ones_imported_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    lexer, layout, reason, active = _probe(env)
    assert not lexer.endswith(".py") and not layout.endswith(".py")
    assert reason == "" and active


@requires_native
def test_an_edited_source_falls_back_to_pure_python(tmp_path: Path) -> None:
    """A copy of the package with its build: used as is, then one source edited (stale)."""
    shutil.copytree(ROOT / "codeai_lang", tmp_path / "codeai_lang",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**{k: v for k, v in os.environ.items() if k != native.PURE_ENV},
           "PYTHONPATH": str(tmp_path)}
    lexer, _, reason, active = _probe(env, cwd=tmp_path)
    assert lexer.startswith(str(tmp_path)) and active and reason == ""
    for edited in ("syntax/parser.py", "syntax/nodes.py"):  # a compiled module, a dependency
        source = tmp_path / "codeai_lang" / edited
        original = source.read_text()
        source.write_text(original + "\n# edited\n")
        lexer, layout, reason, active = _probe(env, cwd=tmp_path)
        assert lexer == str(tmp_path / "codeai_lang/syntax/lexer.py")
        assert layout == str(tmp_path / "codeai_lang/format/layout.py")
        assert reason.startswith("stale") and not active
        source.write_text(original)


def test_the_guard_reads_the_manifest(tmp_path: Path) -> None:
    """No build, a build for another interpreter, a stale build, a current one."""
    root = ROOT / "codeai_lang"
    env_pure = os.environ.pop(native.PURE_ENV, None)
    try:
        assert native.why_not_native(tmp_path, root) == "not built"
        sources = native.source_hashes(root)
        native.write_manifest(tmp_path, sources)
        assert native.why_not_native(tmp_path, root) == ""
        lines = (tmp_path / native.MANIFEST).read_text().splitlines()
        (tmp_path / native.MANIFEST).write_text("\n".join(["cpython-27 .so", *lines[1:]]))
        assert native.why_not_native(tmp_path, root) == "built for another interpreter"
        native.write_manifest(tmp_path, {**sources, "syntax/lexer.py": "0-00000000-00000000"})
        assert native.why_not_native(tmp_path, root).startswith("stale")
        native.write_manifest(tmp_path, {k: v for k, v in sources.items() if k != "syntax/nodes.py"})
        assert native.why_not_native(tmp_path, root).startswith("stale")
    finally:
        if env_pure is not None:
            os.environ[native.PURE_ENV] = env_pure


def test_build_artefacts_are_never_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert not [p for p in tracked if p.endswith(".so") or p.startswith("codeai_lang/_native/")]
    for artefact in ("codeai_lang/_native/manifest.txt", "codeai_lang/_native/syntax/lexer.so",
                     "build/temp/lexer.o"):
        assert subprocess.run(["git", "check-ignore", "-q", artefact], cwd=ROOT).returncode == 0


def test_make_rebuilds_when_any_checked_source_changes() -> None:
    """The Makefile's NATIVE_SRC (what makes `make setup` rebuild) names every source the guard
    checksums: one it missed would leave an edited module running pure Python until a clean."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = makefile.split("NATIVE_SRC :=", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    prefixed = block.split("$(addprefix codeai_lang/syntax/,", 1)[1]
    in_syntax, rest = prefixed.split(")", 1)
    listed = {f"syntax/{name}" for name in in_syntax.split()}
    listed |= {word.removeprefix("codeai_lang/") for word in rest.split() if word.startswith("codeai_lang/")}
    assert set(native.HASHED) <= listed, sorted(set(native.HASHED) - listed)


def test_a_fresh_build_compiles_and_is_selected(tmp_path: Path) -> None:
    """What `make setup` runs on a fresh clone: the build script, here into a copy."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    pytest.importorskip("mypyc")
    shutil.copytree(ROOT / "codeai_lang", tmp_path / "codeai_lang",
                    ignore=shutil.ignore_patterns("__pycache__", "_native"))
    out = tmp_path / "codeai_lang" / "_native"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_native.py"), "--strict",
                    "--out", str(out)], check=True, capture_output=True, timeout=280)
    assert (out / native.MANIFEST).is_file()
    env = {**{k: v for k, v in os.environ.items() if k != native.PURE_ENV},
           "PYTHONPATH": str(tmp_path)}
    lexer, layout, reason, active = _probe(env, cwd=tmp_path)
    assert lexer.startswith(str(out)) and layout.startswith(str(out)) and active, reason


@requires_native
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_files_give_the_same_results(oracle: Oracle, path: Path) -> None:
    _same(oracle, path.read_text(encoding="utf-8"))


GENERATED = settings(max_examples=80, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def damaged(draw: st.DrawFn) -> str:
    """A generated program (1.x or 2.1) with a few characters deleted, replaced or inserted:
    syntax errors, recovery and lexer diagnostics take the same paths both ways."""
    text, _ = draw(programs() | programs_2_1())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from(["", "{", "}", "(", ")", ",", "\"", "@", "=", "\n", "/*", "$"]))
        cut = draw(st.integers(0, 2))
        text = text[:at] + junk + text[at + cut:]
    return text


@requires_native
@GENERATED
@given(damaged())
def test_generated_programs_give_the_same_results(oracle: Oracle, text: str) -> None:
    _same(oracle, text)
