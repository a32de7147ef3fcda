"""Bad input never crashes: clear messages with file:line:col, the right exit code, no traceback."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from cli_runner import run_codeai
from hypothesis import given, settings
from hypothesis import strategies as st

from codeai_lang.analysis.validator import validate

LOCATION = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (error|warning|info)\[CAI\d{3}\] ", re.M)


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


def test_megabyte_of_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.cai"
    path.write_bytes(random.Random(1).randbytes(1_000_000))
    result = run_codeai("validate", str(path))
    _no_traceback(result.stderr)
    assert result.returncode == 1
    assert "not valid UTF-8" in result.stdout
    match = LOCATION.search(result.stdout)
    assert match and match["path"] == str(path)


def test_megabyte_of_random_text(tmp_path: Path) -> None:
    rng = random.Random(2)
    alphabet = 'abc{}()[]"/*\n #$=,:.@0123456789\t'
    path = tmp_path / "noise.cai"
    path.write_text("".join(rng.choice(alphabet) for _ in range(1_000_000)))
    result = run_codeai("validate", "--output", "json", str(path))
    _no_traceback(result.stderr)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["summary"]["errors"] >= 1


def test_empty_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "empty.cai"
    path.write_text("")
    result = run_codeai("validate", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 valid" in result.stdout


def test_nul_bytes_and_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "nul.cai"
    path.write_bytes(b"var a = 1\n\x00\x07var b = a\n")
    result = run_codeai("validate", "--output", "json", str(path))
    _no_traceback(result.stderr)
    assert result.returncode == 1
    diags = json.loads(result.stdout)["files"][0]["diagnostics"]
    # A run of characters that start no token is one error, not one per character.
    assert [(d["code"], d["range"]["start"]["line"], d["range"]["start"]["column"]) for d in diags] \
        == [("CAI001", 2, 1)]
    assert diags[0]["message"] == "unexpected characters '\\x00\\x07'"


def test_only_comments_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "comments.cai"
    path.write_text("// one\n/* two\n   three */\n\n   // four")
    result = run_codeai("validate", "--output", "json", str(path))
    assert result.returncode == 0
    assert json.loads(result.stdout)["files"][0]["diagnostics"] == []


def test_ten_thousand_nested_braces(tmp_path: Path) -> None:
    path = tmp_path / "deep.cai"
    path.write_text("{" * 10_000)
    result = run_codeai("validate", str(path))
    _no_traceback(result.stderr)
    assert result.returncode == 1
    assert f"{path}:1:129: error[CAI001] brackets nested deeper than 128 levels" in result.stdout
    assert len(LOCATION.findall(result.stdout)) <= 2, "one error per problem, not one per level"


def test_ten_thousand_nested_ifs(tmp_path: Path) -> None:
    path = tmp_path / "deep_if.cai"
    path.write_text("var x = true\n" + "if x {\n" * 10_000 + "}\n" * 10_000)
    result = run_codeai("validate", str(path))
    _no_traceback(result.stderr)
    assert result.returncode == 1
    # The braces do close: the cap is the only error, not 128 claims of "unclosed".
    assert LOCATION.findall(result.stdout) == [(str(path), "130", "6", "error")]
    assert "nested deeper than 128 levels" in result.stdout
    parsed = run_codeai("parse", str(path))
    _no_traceback(parsed.stderr)
    assert parsed.returncode == 1
    json.loads(parsed.stdout)


def test_nesting_within_the_limit_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok_deep.cai"
    path.write_text("var x = true\n" + "if x {\n" * 100 + "}\n" * 100)
    result = run_codeai("validate", str(path))
    assert result.returncode == 0, result.stdout
    assert run_codeai("parse", str(path)).returncode == 0


def test_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.cai"
    path.write_bytes(b'var name = "caf\xe9"\n')
    result = run_codeai("validate", str(path))
    assert result.returncode == 1
    assert f"{path}:1:16: error[CAI001] file is not valid UTF-8: invalid byte 0xe9" in result.stdout


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_codeai("validate", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    _no_traceback(result.stderr)


def test_directory_without_cai_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    result = run_codeai("validate", str(tmp_path))
    assert result.returncode == 2
    assert "no .cai files" in result.stderr


def test_stdin(tmp_path: Path) -> None:
    result = run_codeai("validate", "-", input="var x = y\n")
    assert result.returncode == 1
    assert "-:1:9: error[CAI102] undefined variable 'y'" in result.stdout
    ok = run_codeai("validate", "-", input="var x = 1\n")
    assert ok.returncode == 0


def test_unknown_flag_and_version_are_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.cai"
    path.write_text("var x = 1\n")
    assert run_codeai("validate", "--bogus", str(path)).returncode == 2
    bad = run_codeai("validate", "--dsl-version", "7.7", str(path))
    assert bad.returncode == 2
    assert "unknown DSL version '7.7'" in bad.stderr


def test_directories_recurse_and_skip_hidden(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "sub" / "a.cai").write_text("var x = 1\n")
    (tmp_path / ".hidden" / "b.cai").write_text("var x = y\n")
    result = run_codeai("validate", "--output", "json", str(tmp_path))
    assert result.returncode == 0
    paths = [f["path"] for f in json.loads(result.stdout)["files"]]
    assert paths == [str(tmp_path / "sub" / "a.cai")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('var if for in function exec config database model '
                                             'entity on do "{}()[],:=.@/*\n\t$0123456789xyz#version')),
               max_size=400))
def test_validate_never_raises_and_ranges_stay_in_the_text(text: str) -> None:
    result = validate(text)
    for d in result.diagnostics:
        assert 0 <= d.start <= d.end <= len(text), d
        assert d.code.startswith("CAI") and d.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_validate_never_raises_on_any_unicode(text: str) -> None:
    result = validate(text)
    assert all(0 <= d.start <= d.end <= len(text) for d in result.diagnostics)
