"""Benchmarks: each prints its figures and runs its baseline in the same run (`make bench`)."""
