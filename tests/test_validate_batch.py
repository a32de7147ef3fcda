"""`codeai validate --jobs N` and the per-file result cache (issue 13).

Output must not depend on the number of jobs or on the cache: every test compares against a
`--jobs 1 --no-cache` run of the same files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runner import CORPUS, run_codeai
from codeai_testing.generate import program_1_0, program_1_1, program_2_0

from codeai_lang.analysis import batch
from codeai_lang.analysis.batch import FileOutcome, Settings, analyse_all
from codeai_lang.files.cache import ResultCache


def _tree(root: Path, count: int = 12, lines: int = 60) -> Path:
    """Valid and invalid files of every version, plus a non-UTF-8 file, in nested folders."""
    gens = (program_1_0, program_1_1, program_2_0)
    for i in range(count):
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:02}.cai").write_text(gens[i % 3](lines, seed=i))
    for src in sorted((CORPUS / "v2.0" / "invalid").glob("*.cai"))[:6]:
        shutil.copy(src, root / "d1" / src.name)
    (root / "d2" / "latin1.cai").write_bytes(b"#version 2.0\nentity Caf\xe9 {}\n")
    return root


def _run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return run_codeai("validate", *args, env={"XDG_CACHE_HOME": str(cache)})


def _entries(cache: Path) -> list[Path]:
    return [p for p in (cache / "codeai" / "results-v1").rglob("*") if p.is_file()]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_jobs_and_cache_do_not_change_output(tmp_path: Path, fmt: str) -> None:
    root = _tree(tmp_path / "src")
    cache = tmp_path / "cache"
    base = _run("--jobs", "1", "--no-cache", "-o", fmt, str(root), cache=cache)
    assert base.returncode == 1 and "CAI001" in base.stdout  # invalid files really checked
    assert _entries(cache) == []  # --no-cache writes nothing
    cold = _run("--jobs", "2", "-o", fmt, str(root), cache=cache)
    assert len(_entries(cache)) == 12 + 6  # every decodable file, once
    warm = _run("--jobs", "2", "-o", fmt, str(root), cache=cache)
    for run in (cold, warm):
        assert (run.stdout, run.returncode) == (base.stdout, base.returncode)


def test_pool_results_equal_in_process_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process pool is really used (no fallback) and returns the same, in order."""
    texts = [program_2_0(40, seed=i) for i in range(9)] + ["entity {", "#version 9.9\n"]
    work = [(t, Settings()) for t in texts] + [(texts[0], Settings("1.0")), (texts[1], Settings(None, "1.1"))]
    alone = analyse_all(work, jobs=1)
    used: list[int] = []
    real = batch._on_pool

    def spy(w: list[Any], jobs: int, scopes: Any, start_method: Any = None) -> list[FileOutcome]:
        used.append(jobs)
        return real(w, jobs, scopes, start_method)

    monkeypatch.setattr(batch, "POOL_MIN_CHARS", 0)
    monkeypatch.setattr(batch, "_on_pool", spy)
    pooled = analyse_all(work, jobs=2)
    assert used == [2]

    def view(o: FileOutcome) -> tuple[object, ...]:
        return (o.diagnostics, o.local, o.version, o.version_source, o.consulted,
                sorted((d.kind, d.name, d.start) for d in o.table.decls))

    assert [view(o) for o in pooled] == [view(o) for o in alone]
    assert alone[-2].version == "1.0" and alone[-2].diagnostics != alone[0].diagnostics  # settings count


def test_an_edited_file_is_checked_again(tmp_path: Path) -> None:
    src = tmp_path / "app.cai"
    src.write_text(program_2_0(40))
    cache = tmp_path / "cache"
    assert _run(str(src), cache=cache).returncode == 0
    src.write_text(program_2_0(40) + "entity Broken {\n")
    again = _run(str(src), cache=cache)
    assert again.returncode == 1 and "CAI003" in again.stdout
    assert again.stdout == _run("--no-cache", str(src), cache=cache).stdout


def test_the_dsl_version_option_is_part_of_the_key(tmp_path: Path) -> None:
    src = tmp_path / "app.cai"
    src.write_text(program_1_0(40))
    cache = tmp_path / "cache"
    as_declared = _run(str(src), cache=cache)
    as_2_0 = _run("--dsl-version", "2.0", str(src), cache=cache)
    assert as_declared.returncode == 0
    assert as_2_0.returncode == 1  # 1.0 forms are removed in 2.0
    assert as_2_0.stdout == _run("--no-cache", "--dsl-version", "2.0", str(src), cache=cache).stdout


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "flipped"])
def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path: Path, damage: str) -> None:
    root = _tree(tmp_path / "src", count=4)
    cache = tmp_path / "cache"
    expected = _run("--no-cache", str(root), cache=cache)
    _run(str(root), cache=cache)
    entries = _entries(cache)
    for entry in entries:
        data = entry.read_bytes()
        entry.write_bytes({"garbage": b"\x80not a pickle", "truncated": data[: len(data) // 2],
                           "empty": b"", "flipped": data[:-1] + bytes([data[-1] ^ 1])}[damage])
    again = _run(str(root), cache=cache)
    assert (again.stdout, again.returncode) == (expected.stdout, expected.returncode)
    assert again.stderr == ""
    store = ResultCache(cache / "codeai" / "results-v1")  # the same tool, so the same keys
    assert all(isinstance(store.load(p.parent.name + p.name), FileOutcome) for p in entries)


def test_concurrent_runs_share_the_cache_safely(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", count=9)
    cache = tmp_path / "cache"
    expected = _run("--no-cache", str(root), cache=cache).stdout
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    cmd = [sys.executable, "-m", "codeai_lang.cli", "validate", "--jobs", "1", str(root)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [o for o, _ in outs] == [expected] * 3
    assert all(e == "" for _, e in outs)
    assert not [p for p in _entries(cache) if p.name.endswith(".tmp")]  # no temp file left
    assert _run(str(root), cache=cache).stdout == expected


def test_an_unwritable_cache_only_costs_the_cache(tmp_path: Path) -> None:
    src = tmp_path / "app.cai"
    src.write_text(program_2_0(40))
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    run = _run(str(src), cache=blocker)
    assert (run.returncode, run.stderr) == (0, "")


def test_store_and_load_round_trip_and_reject_tampering(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, salt="s")
    key = cache.key(b"text", "2.0", None)
    assert key != cache.key(b"text", "2.0", "") != cache.key(b"text", None, None)
    assert key != ResultCache(tmp_path, salt="t").key(b"text", "2.0", None)
    assert cache.load(key) is None
    cache.store(key, {"a": [1, 2]})
    assert cache.load(key) == {"a": [1, 2]}
    path = tmp_path / key[:2] / key[2:]
    data = path.read_bytes()
    path.write_bytes(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:])
    assert cache.load(key) is None


# -- projects: only each file's own part is cached; names are resolved afresh every run ------


DECLS = "#version 1.1\nentity Customer {\n    id: uuid, primary\n}\nfunction shout(text) {\n    print(text)\n}\n"


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "codeai.yaml").write_text("# a project\n")
    (root / "decls.cai").write_text(DECLS)
    (root / "uses.cai").write_text("#version 1.1\nentity Invoice {\n    id: uuid, primary\n"
                                   "    customer: ref(Customer)\n}\nshout(\"hi\")\n")
    return root


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_editing_another_file_of_a_project_changes_cached_results(tmp_path: Path, jobs: str) -> None:
    root = _project(tmp_path / "proj")
    cache = tmp_path / "cache"
    first = _run("--jobs", jobs, str(root), cache=cache)
    assert first.returncode == 0, first.stdout  # uses.cai resolves Customer and shout in decls.cai
    assert len(_entries(cache)) == 2
    # decls.cai loses both names; uses.cai is unchanged, so its own part comes from the cache
    (root / "decls.cai").write_text("#version 1.1\nentity Client {\n    id: uuid, primary\n}\n")
    again = _run("--jobs", jobs, str(root / "uses.cai"), cache=cache)
    fresh = _run("--no-cache", str(root / "uses.cai"), cache=cache)
    assert (again.stdout, again.returncode) == (fresh.stdout, fresh.returncode)
    assert again.returncode == 1
    assert "uses.cai:4:19: error[CAI202]" in again.stdout  # Customer: unresolved now
    assert "CAI102" in again.stdout or "CAI103" in again.stdout  # shout: unknown now
    # and back: the names resolve again
    (root / "decls.cai").write_text(DECLS)
    assert _run("--jobs", jobs, str(root), cache=cache).returncode == 0


def test_the_project_dsl_version_is_part_of_the_key(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "codeai.yaml").write_text("dsl_version: \"1.0\"\n")
    (root / "app.cai").write_text(program_1_0(40).replace("#version 1.0\n", ""))
    cache = tmp_path / "cache"
    as_1_0 = _run(str(root), cache=cache)
    (root / "codeai.yaml").write_text("dsl_version: \"2.0\"\n")
    as_2_0 = _run(str(root), cache=cache)
    assert as_1_0.returncode == 0 and as_2_0.returncode == 1, (as_1_0.stdout, as_2_0.stdout)
    assert as_2_0.stdout == _run("--no-cache", str(root), cache=cache).stdout


# -- a project's script names: speculative analysis, verified --------------------------------

HELPER = "#version 1.1\nfunction helper(a) {\n    print(a)\n}\n"
CALLER = "#version 1.1\nhelper(1)\n"


def _codes(outcome: FileOutcome) -> list[str]:
    return [d.code for d in outcome.local]


def _project_outcomes(texts: dict[str, str], cache: ResultCache | None = None, jobs: int = 1,
                      standalone: tuple[str, ...] = ()) -> dict[str, FileOutcome]:
    keys = sorted(texts)
    work = [(texts[k], Settings()) for k in keys] + [(t, Settings()) for t in standalone]
    group = batch.Group(dict(enumerate(keys)))
    outcomes = analyse_all(work, jobs=jobs, cache=cache, groups=[group])
    return dict(zip(keys + [f"solo{i}" for i in range(len(standalone))], outcomes, strict=True))


def test_a_function_the_quick_scan_misses_is_still_found() -> None:
    """Declared indented, `helper` escapes the regular expression that builds the provisional
    scope: the caller's first analysis says CAI103, the verification redoes it."""
    indented = HELPER.replace("function helper", "  function helper")
    assert "helper" not in batch.semantic.guess_script_names(indented)
    out = _project_outcomes({"a.cai": indented, "b.cai": CALLER})
    assert _codes(out["b.cai"]) == []
    assert out["b.cai"].consulted["helper"] == ("function", 1)


def test_a_function_the_quick_scan_invents_is_not_believed() -> None:
    """A line starting with `function fake(` inside a triple-quoted string fools the scan;
    the real table does not have it, so the caller is analysed again and gets CAI103."""
    fooled = '#version 1.1\nvar doc = """\nfunction fake(a) {\n"""\n'
    assert "fake" in batch.semantic.guess_script_names(fooled)
    out = _project_outcomes({"a.cai": fooled, "b.cai": "#version 1.1\nfake(1)\n"})
    assert _codes(out["b.cai"]) == ["CAI103"]


def test_cached_outcomes_follow_the_other_files(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c")
    assert _codes(_project_outcomes({"a.cai": HELPER, "b.cai": CALLER}, cache)["b.cai"]) == []
    two = HELPER.replace("helper(a)", "helper(a, b)")  # the caller's text and cache entry unchanged
    assert _codes(_project_outcomes({"a.cai": two, "b.cai": CALLER}, cache)["b.cai"]) == ["CAI105"]
    gone = "#version 1.1\nvar other = 1\n"
    assert _codes(_project_outcomes({"a.cai": gone, "b.cai": CALLER}, cache)["b.cai"]) == ["CAI103"]
    # the same caller text as a standalone file in the same run and cache: nothing outside it
    out = _project_outcomes({"a.cai": HELPER, "b.cai": CALLER}, cache, standalone=(CALLER,))
    assert _codes(out["b.cai"]) == [] and _codes(out["solo0"]) == ["CAI103"]


def test_speculation_gives_what_settling_in_process_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a generated project, pooled and speculative outcomes equal ProjectAnalysis.add +
    settle (the in-process reference that re-checks with the real scope)."""
    from codeai_lang.analysis.project import ProjectAnalysis

    texts = {f"f{i}.cai": program_1_1(30, seed=i) + f"function g{i}(a) {{\n    print(a)\n}}\n"
             f"g{(i + 1) % 6}(1)\ng{(i + 2) % 6}(1, 2)\nundefined_{i}()\n" for i in range(6)}
    reference = ProjectAnalysis()
    reference.add_many(texts)
    monkeypatch.setattr(batch, "POOL_MIN_CHARS", 0)
    for jobs in (1, 2):
        out = _project_outcomes(texts, jobs=jobs)
        for key in texts:
            assert out[key].local == reference.files[key].local, key


def test_spawned_workers_get_the_project_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """The language server's way (workers started with "spawn", no fork of a threaded
    process): the provisional scope reaches them through the pool's initializer."""
    monkeypatch.setattr(batch, "POOL_MIN_CHARS", 0)
    used: list[Any] = []
    real = batch._on_pool

    def spy(w: list[Any], jobs: int, scopes: Any, start_method: Any = None) -> list[FileOutcome]:
        used.append(start_method)
        return real(w, jobs, scopes, start_method)

    monkeypatch.setattr(batch, "_on_pool", spy)
    texts = {"a.cai": HELPER, "b.cai": CALLER, "c.cai": "#version 1.1\nhelper(1, 2)\n"}
    keys = sorted(texts)
    group = batch.Group(dict(enumerate(keys)))
    out = analyse_all([(texts[k], Settings(navigation=True)) for k in keys], jobs=2, groups=[group],
                      start_method="spawn")
    assert used == ["spawn"]
    assert [_codes(o) for o in out] == [[], [], ["CAI105"]]
    assert out[1].table.occurrences  # navigation kept the global name occurrences
