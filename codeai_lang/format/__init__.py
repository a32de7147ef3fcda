"""The `.cai` formatter: one canonical layout (docs/formatting.md), as pure functions of text."""

from codeai_lang.format.api import FormatError, FormatResult, format_range, format_text

__all__ = ["FormatError", "FormatResult", "format_range", "format_text"]
