"""Layer 0: the one diagnostic model (`model`) and offset conversions (`positions`). Imports nothing of ours."""
