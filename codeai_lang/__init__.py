"""codeai-lang: the toolchain for the CodeAI DSL (`.cai` files)."""

__version__ = "0.1.0"
