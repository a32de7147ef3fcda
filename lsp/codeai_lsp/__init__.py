"""The CodeAI language server (`codeai lsp`). Importing this package imports pygls."""

from codeai_lsp.server import CodeAIServer, create_server, main, serve

__all__ = ["CodeAIServer", "create_server", "main", "serve"]
