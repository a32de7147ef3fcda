"""`codeai fmt`'s cache of formatted texts and its worker pool (issue 15, speed bar 2).

A text that formats to itself is marked in the result cache (`files/cache.py`) under a key of
its content, the tool fingerprint and `--dsl-version`; a later run skips the parse for it.
These tests fail if a hit is trusted for other content or another version, if a corrupt entry
is believed, if `--no-cache` touches the cache, or if the pool gives other results.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_codeai
from fmt_samples import BROKEN, CLEAN, MESSY, write

import codeai_lang.format
from codeai_lang.cli import fmt_cmd
from codeai_lang.files.cache import ResultCache
from codeai_lang.format.known import FormattedCache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh user cache directory for this process (and the CLI subprocesses it starts)."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    fmt_cmd._known.cache_clear()
    yield home / "codeai" / "results-v1"
    fmt_cmd._known.cache_clear()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts `format_text` is called on in this process."""
    seen: list[str] = []
    real = codeai_lang.format.format_text

    def spy(text: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(codeai_lang.format, "format_text", spy)
    return seen


def entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def check(files: list[Path], version: str | None = None, **kw: Any) -> list[fmt_cmd.Outcome]:
    return fmt_cmd.run_fmt([str(p) for p in files], "check", version, 1, **kw)


def test_a_formatted_file_is_not_parsed_again(tmp_path: Path, cache_dir: Path, calls: list[str]) -> None:
    clean, messy = write(tmp_path / "c.cai", CLEAN), write(tmp_path / "m.cai", MESSY)
    first = check([clean, messy])
    assert [o.changed for o in first] == [False, True] and len(calls) == 2
    assert len(entries(cache_dir)) == 1  # only the formatted text is marked
    second = check([clean, messy])
    assert [o.changed for o in second] == [False, True]
    assert calls[2:] == [MESSY]  # the formatted file came from the cache


def test_the_key_is_the_content(tmp_path: Path, cache_dir: Path, calls: list[str]) -> None:
    path = write(tmp_path / "a.cai", CLEAN)
    check([path])
    write(path, MESSY)  # same path, same size class, other content
    assert check([path])[0].changed
    assert calls == [CLEAN, MESSY]


def test_the_key_includes_the_dsl_version(tmp_path: Path, cache_dir: Path, calls: list[str]) -> None:
    text = "var a = 1\n"
    path = write(tmp_path / "a.cai", text)
    check([path])
    check([path], "1.0")
    check([path], "1.0")
    assert calls == [text, text]  # once per version
    cache = ResultCache(cache_dir)
    assert FormattedCache(None, cache).key(text) != FormattedCache("1.0", cache).key(text)


def test_a_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path: Path, cache_dir: Path, calls: list[str]) -> None:
    path = write(tmp_path / "a.cai", CLEAN)
    check([path])
    (entry,) = entries(cache_dir)
    good = entry.read_bytes()
    for bad in (b"", good[:-1], good[:-1] + bytes([good[-1] ^ 1]), b"garbage" * 10):
        entry.write_bytes(bad)
        assert not check([path])[0].changed
        assert entry.read_bytes() == good  # recomputed and stored again
    assert len(calls) == 5


def test_a_mark_is_never_trusted_for_an_unformatted_text(tmp_path: Path, cache_dir: Path) -> None:
    """Only `format_text`'s verdict marks a text: an entry holding anything else is ignored."""
    path = write(tmp_path / "m.cai", MESSY)
    known = FormattedCache(None, ResultCache(cache_dir))
    known.cache.store(known.key(MESSY), ("codeai-fmt", "something else"))
    assert check([path])[0].changed


def test_writing_marks_the_new_text(tmp_path: Path, cache_dir: Path, calls: list[str]) -> None:
    path = write(tmp_path / "m.cai", MESSY)
    (out,) = fmt_cmd.run_fmt([str(path)], "write", None, 1)
    assert out.changed and path.read_text() == CLEAN
    assert not check([path])[0].changed
    assert calls == [MESSY]  # the check found the written text marked


def test_files_with_errors_are_never_marked(tmp_path: Path, cache_dir: Path, calls: list[str]) -> None:
    path = write(tmp_path / "b.cai", BROKEN)
    assert check([path])[0].errors and check([path])[0].errors
    assert entries(cache_dir) == [] and len(calls) == 2


def test_no_cache_reads_and_writes_nothing(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "app"
    write(root / "c.cai", CLEAN)
    write(root / "m.cai", MESSY)
    result = run_codeai("fmt", "--check", "--no-cache", str(root))
    assert result.returncode == 1 and "would reformat" in result.stderr
    assert entries(cache_dir) == []
    assert run_codeai("fmt", "--check", str(root)).returncode == 1
    assert len(entries(cache_dir)) == 1
    # a planted wrong mark for the messy file is not read under --no-cache
    known = FormattedCache(None, ResultCache(cache_dir))
    known.mark(known.key(MESSY))
    assert run_codeai("fmt", "--check", str(root)).returncode == 0  # the cache is trusted…
    assert run_codeai("fmt", "--check", "--no-cache", str(root)).returncode == 1  # …unless not


def test_concurrent_runs_share_the_cache_safely(tmp_path: Path, cache_dir: Path) -> None:
    root = tmp_path / "app"
    for i in range(40):
        write(root / f"f{i:02}.cai", CLEAN.replace("[1, 2]", f"[{i}, 2]"))
    write(root / "messy.cai", MESSY)
    cmd = [sys.executable, "-m", "codeai_lang.cli", "fmt", "--check", "-j", "1", str(root)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1 and err.count("would reformat") == 1, err
    assert len(entries(cache_dir)) == 40  # no temporary files left, one entry per text
    again = run_codeai("fmt", "--check", str(root))
    assert again.returncode == 1 and again.stderr.count("would reformat") == 1


def test_pool_results_equal_in_process_results(tmp_path: Path, cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The process pool is really used (no fallback) and returns the same, in order."""
    files = [write(tmp_path / f"f{i:02}.cai", (CLEAN, MESSY, BROKEN)[i % 3]) for i in range(30)]
    alone = fmt_cmd.run_fmt([str(p) for p in files], "check-diff", None, 1, use_cache=False)
    used: list[int] = []
    real = fmt_cmd._on_pool

    def spy(work: list[fmt_cmd.Job], *args: Any) -> list[fmt_cmd.Outcome]:
        used.append(len(work))
        return real(work, *args)

    monkeypatch.setattr(fmt_cmd, "POOL_MIN_CHARS", 0)
    monkeypatch.setattr(fmt_cmd, "_on_pool", spy)
    pooled = fmt_cmd.run_fmt([str(p) for p in files], "check-diff", None, 2, use_cache=False)
    assert used == [30]
    assert pooled == alone
    assert [o.changed for o in pooled] == [i % 3 == 1 for i in range(30)]
    # the workers mark the formatted texts in the cache too
    warm = fmt_cmd.run_fmt([str(p) for p in files], "check", None, 2)
    assert len(entries(cache_dir)) == 1 and [o.changed for o in warm] == [i % 3 == 1 for i in range(30)]
