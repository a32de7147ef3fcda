"""Layer 4: renderers (text, JSON, SARIF, GitHub) of diagnostics they are handed; they never reach into the registry."""
