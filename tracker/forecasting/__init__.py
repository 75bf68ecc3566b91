"""Forecast runs: the lease, each run's life, the results kept as vintages, and their accuracy."""
