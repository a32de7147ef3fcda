"""Layer 5: the CodeAI platform: layered configuration and the SQL migration runner (and its embedded migrations)."""
