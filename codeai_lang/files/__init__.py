"""Layer 1 (edge): finding and reading `.cai` files, atomic writes. Knows diagnostics only."""
