"""The `.cai` formatter: one canonical layout (docs/formatting.md), as pure functions of text."""

from codeai_lang.format.api import FormatError, FormatResult, format_range, format_text
from codeai_lang.format.edits import line_indent, minimal_edits, reindent_edit

__all__ = ["FormatError", "FormatResult", "format_range", "format_text", "line_indent",
           "minimal_edits", "reindent_edit"]
