"""Test-only helpers shared by tests/, benchmarks/ and scripts/ (never shipped in the wheel)."""
