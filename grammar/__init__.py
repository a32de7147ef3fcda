"""Grammar files (one per DSL version) and the version manifest, shipped as package data."""

from pathlib import Path

GRAMMAR_DIR = Path(__file__).resolve().parent
