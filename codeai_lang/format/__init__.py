"""The `.cai` formatter: one canonical layout (docs/formatting.md), as pure functions of text."""

from codeai_lang.syntax import native as _native

_native.select(__path__, "format")  # the compiled layout engine, if built and current

from codeai_lang.format.api import FormatError, FormatResult, format_range, format_text  # noqa: E402 - after select()
from codeai_lang.format.edits import line_indent, minimal_edits, reindent_edit  # noqa: E402

__all__ = ["FormatError", "FormatResult", "format_range", "format_text", "line_indent",
           "minimal_edits", "reindent_edit"]
