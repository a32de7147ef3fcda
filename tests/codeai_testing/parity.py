"""What the compiled and the pure-Python parser modules must agree on, as plain JSON.

`digest(text)` is everything a caller can observe of lexing, parsing, validating and
formatting `text`: tokens (kind, text, start, end), comments, directives, lexer and parser
diagnostics, units, the AST (`to_json`, with every node's range), the validation diagnostics
and the formatter's output. `python -m codeai_testing.parity` answers one JSON text per input
line with its digest; tests run it with CODEAI_PURE_PYTHON=1 as the pure-Python oracle.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import Diagnostic
from codeai_lang.format import FormatError, format_text
from codeai_lang.syntax.lexer import lex
from codeai_lang.syntax.versioned_parse import parse_document


def _diag(d: Diagnostic) -> list[Any]:
    return [d.code, str(d.severity), d.message, d.start, d.end, d.rule_id, list(d.tags)]


def _tokens(tokens: Any) -> list[list[Any]]:
    return [[t.kind, t.text, t.start, t.end] for t in tokens]


def digest(text: str) -> dict[str, Any]:
    lexed = lex(text)
    doc = parse_document(text)
    try:
        formatted: str | None = format_text(text).text
    except FormatError as exc:
        formatted = f"FormatError: {exc}"
    return {
        "tokens": _tokens(lexed.tokens),
        "directives": _tokens(lexed.directives),
        "comments": [[c.text, c.start, c.end] for c in lexed.comments],
        "unclosed": _tokens(lexed.unclosed),
        "lex_diagnostics": [_diag(d) for d in lexed.diagnostics],
        "version": [doc.version, doc.version_source, doc.declared],
        "parse_diagnostics": [_diag(d) for d in doc.diagnostics],
        "ast": doc.program.to_json(),
        "validate": [_diag(d) for d in validate(text).diagnostics],
        "format": formatted,
    }


def main() -> None:
    for line in sys.stdin:
        print(json.dumps(digest(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
