"""Layer 2: checks over the AST (script, declarations, schemas), the validator and incremental analysis."""

from codeai_lang.syntax import native as _native

_native.select(__path__, "analysis")  # the compiled checks, if built and current
