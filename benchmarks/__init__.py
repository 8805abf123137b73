"""Measurements behind `make bench-*`; each runs as `python -m benchmarks.<name>` from the repository root."""
