"""Layer 3: the rewrite engine that applies deprecation fixes across versions and verifies the result with the validator."""
