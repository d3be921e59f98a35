"""Benchmarks of fiveo-sync (``python -m benchmarks.run``); never collected by pytest."""
