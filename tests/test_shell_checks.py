"""CAI204: shell syntax of `exec { … }` text, checked with tree-sitter-bash, reported at the
position inside the shell text; shell-defined variables are not DSL interpolations."""

from __future__ import annotations

from codeai_lang.analysis.validator import validate


def _located(text: str) -> list[tuple[str, str]]:
    return [(d.code, text[d.start:d.end]) for d in validate(text).diagnostics]


def test_valid_shell_has_no_warning() -> None:
    text = ('var dir = "/tmp"\nexec {\n  for f in $dir/*.log; do gzip "$f"; done\n'
            '  if [ -d "$dir" ]; then echo ok | tee -a out.txt; fi\n  x=$(date +%s) && echo "$x"\n}\n')
    assert _located(text) == []


def test_syntax_error_is_a_warning_inside_the_shell_text() -> None:
    text = 'exec { echo "héllo wörld" ; if then fi }\nvar after = 1\n'
    diags = validate(text).diagnostics
    assert [d.code for d in diags] == ["CAI204"]
    assert diags[0].severity.value == "warning" and diags[0].fix is None
    assert text[diags[0].start:diags[0].end] == "if"  # offsets past non-ASCII text are right
    assert "shell syntax error in exec" in diags[0].message
    assert validate(text).valid


def test_unterminated_quote_and_nested_blocks() -> None:
    text = 'function f() {\n  exec { echo "unclosed }\n}\n'
    assert _located(text) == [("CAI204", '"')]  # the quote that never closes


def test_shell_variables_are_not_dsl_interpolations() -> None:
    text = "exec { for f in *.txt; do cat $f $missing; done; y=2; echo $y }\n"
    assert _located(text) == [("CAI102", "$missing")]


def test_valid_bash_that_tree_sitter_rejects_is_not_reported() -> None:
    """tree-sitter-bash rejects `then { …; } fi`; bash accepts it, and `bash -n` decides."""
    text = 'var t = 1\nexec { if [ -n "$t" ]; then { echo ok; } fi }\n'
    assert _located(text) == []
