"""Layer 2: checks over the AST (script, declarations, schemas), the validator and incremental analysis."""
