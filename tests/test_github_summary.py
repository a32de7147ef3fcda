"""`--output github-summary`: counts, links, escaping and the annotation overflow note."""

from __future__ import annotations

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.output.github_summary import hidden_annotations, render_github_summary
from codeai_lang.output.report import FileReport


def _diag(severity: Severity, message: str = "m", code: str = "CAI102") -> Diagnostic:
    return Diagnostic(code, severity, message, 0, 1)


def test_overflow_is_counted_per_level() -> None:
    diags = [_diag(Severity.ERROR)] * 10 + [_diag(Severity.WARNING)] * 13 + [_diag(Severity.INFO)] * 11
    assert hidden_annotations(diags) == {"warning": 3, "notice": 1}
    text = render_github_summary([FileReport("a.cai", "x\n", diags, "2.0", "inferred")])
    assert "1 more notice, 3 more warnings are not annotated" in text
    assert "more error" not in text


def test_messages_cannot_break_the_table_or_inject_html() -> None:
    diag = _diag(Severity.ERROR, "a | b\nc <script>")
    text = render_github_summary([FileReport("dir/my file.cai", "x\n", [diag], "2.0", "inferred")],
                                 blob_url="https://github.com/o/r/blob/s")
    row = next(line for line in text.splitlines() if "CAI102 |" in line and "a \\| b" in line)
    assert "c &lt;script&gt;" in row and "<script>" not in text
    assert "(https://github.com/o/r/blob/s/dir/my%20file.cai#L1)" in row


def test_unregistered_codes_are_listed_without_a_link() -> None:
    text = render_github_summary([FileReport("a.cai", "x\n", [_diag(Severity.ERROR, code="CAI999")],
                                             None, None)])
    assert "| CAI999 | CAI999 | 1 |" in text


def test_no_links_outside_actions() -> None:
    text = render_github_summary([FileReport("a.cai", "x\n", [_diag(Severity.ERROR)], "2.0", "inferred")])
    assert "| a.cai:1 | error | CAI102 | m |" in text


def test_summary_stays_bounded_for_many_files() -> None:
    reports = [FileReport(f"f{i:03}.cai", "x\n", [_diag(Severity.ERROR)], "2.0", "inferred") for i in range(300)]
    text = render_github_summary(reports)
    assert "| … and 250 more files | | |" in text
    assert text.count("| error | CAI102 |") == 20
    assert "290 more errors are not annotated" in text
    assert len(text) < 20_000
