"""Benchmarks: standalone scripts with printed numbers; nothing imports bench."""
