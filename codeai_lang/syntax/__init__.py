"""Layer 1: text -> tokens -> AST, per DSL version: lexer, LALR driver, nodes, the version registry, deprecation sites, the version-resolving parse and the reprint check."""

from codeai_lang.syntax import native as _native

_native.select(__path__, "syntax")
