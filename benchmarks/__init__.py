"""Benchmarks: each prints what it measured (nothing is asserted)."""
